//! Drives headless Chromium through chromedriver (WebDriver) with fantoccini, for the
//! admin UI tests: clicks, typing, tabs, the clipboard, downloads and screenshots.
//!
//! - One chromedriver per test, on a port it picks itself (`--port=0`), with one
//!   Chromium session (`--headless=new`, the desktop user agent of the other browser
//!   tests, a download folder of its own).
//! - Chromium's console is read back through chromedriver's log endpoint, so a test can
//!   fail on script errors and Content-Security-Policy violations.
//! - Chrome DevTools commands (clipboard permission, full-page screenshots) go through
//!   chromedriver's `goog/cdp/execute`.
//!
//! Without chromedriver at /usr/bin/chromedriver (or `DNID_CHROMEDRIVER`) or Chromium at
//! /usr/bin/chromium (or `DNID_CHROMIUM`), a test prints `SKIPPED (...)` and passes,
//! unless `CI` is set: then it fails.

use fantoccini::elements::Element;
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, BufReader};

pub const DEFAULT_CHROMEDRIVER: &str = "/usr/bin/chromedriver";
pub const DEFAULT_CHROMIUM: &str = "/usr/bin/chromium";

/// How long a test waits for the page to show something before it fails.
pub const WAIT: Duration = Duration::from_secs(15);

pub struct Browser {
    pub client: Client,
    driver: tokio::process::Child,
    /// Where Chromium saves downloads.
    pub downloads: tempfile::TempDir,
    shots: PathBuf,
    /// Prefix of the screenshot files of this test.
    test: String,
}

fn tool(env: &str, default: &str) -> PathBuf {
    std::env::var_os(env)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(default))
}

/// Where screenshots go: `target/admin-ui-screenshots/` (or under `CARGO_TARGET_DIR`).
pub fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("admin-ui-screenshots")
}

/// A WebDriver request the client has no method for.
#[derive(Debug)]
struct Raw {
    method: hyper::Method,
    /// Under `session/{id}/`.
    path: &'static str,
    body: Value,
}

impl WebDriverCompatibleCommand for Raw {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/{}",
            session_id.unwrap_or_default(),
            self.path
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (hyper::Method, Option<String>) {
        (self.method.clone(), Some(self.body.to_string()))
    }
}

/// Starts chromedriver and a Chromium session, or `None` after saying why the test does
/// not run. With `CI` set, missing tools fail the test instead.
pub async fn start(test: &str) -> Option<Browser> {
    let driver_path = tool("DNID_CHROMEDRIVER", DEFAULT_CHROMEDRIVER);
    let chromium = tool("DNID_CHROMIUM", DEFAULT_CHROMIUM);
    for (what, path) in [("chromedriver", &driver_path), ("chromium", &chromium)] {
        if path.is_file() {
            continue;
        }
        if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
            panic!(
                "{test}: no {what} at {} and CI is set, so the admin UI tests must run: \
                 apt-get install -y chromium chromium-driver (or set DNID_CHROMEDRIVER / \
                 DNID_CHROMIUM)",
                path.display()
            );
        }
        let line = format!("SKIPPED (no {what} at {}): {test}\n", path.display());
        let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
        return None;
    }

    let mut driver = tokio::process::Command::new(&driver_path)
        .arg("--port=0")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start chromedriver");
    let mut lines = BufReader::new(driver.stdout.take().unwrap()).lines();
    let port = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(line) = lines.next_line().await.expect("chromedriver output") {
            if let Some(rest) = line.split("started successfully on port ").nth(1) {
                return rest.trim_end_matches('.').trim().parse::<u16>().ok();
            }
        }
        None
    })
    .await
    .expect("chromedriver starts within 20 s")
    .expect("chromedriver says its port");
    // Keep reading what it prints, so it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });

    let downloads = tempfile::tempdir().expect("download dir");
    let caps = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": chromium,
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-features=Translate,MediaRouter",
                "--password-store=basic",
                "--window-size=1280,900",
                format!("--user-agent={}", crate::common::BROWSER_UA),
            ],
            "prefs": {
                "download.default_directory": downloads.path(),
                "download.prompt_for_download": false,
                "download.directory_upgrade": true,
            },
        },
        "goog:loggingPrefs": {"browser": "ALL"},
    });
    let client = ClientBuilder::new(HttpConnector::new())
        .capabilities(caps.as_object().unwrap().clone())
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a Chromium session through chromedriver");
    let shots = screenshot_dir();
    std::fs::create_dir_all(&shots).expect("screenshot dir");
    let b = Browser {
        client,
        driver,
        downloads,
        shots,
        test: test.to_string(),
    };
    b.cdp(
        "Browser.setDownloadBehavior",
        json!({"behavior": "allow", "downloadPath": b.downloads.path()}),
    )
    .await;
    Some(b)
}

impl Browser {
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill().await;
    }

    async fn raw(&self, method: hyper::Method, path: &'static str, body: Value) -> Value {
        self.client
            .issue_cmd(Raw { method, path, body })
            .await
            .unwrap_or_else(|e| panic!("webdriver {path}: {e}"))
    }

    /// A Chrome DevTools command on the current tab.
    pub async fn cdp(&self, cmd: &str, params: Value) -> Value {
        self.raw(
            hyper::Method::POST,
            "goog/cdp/execute",
            json!({"cmd": cmd, "params": params}),
        )
        .await
    }

    /// Chromium's console messages since the last call: (level, message).
    pub async fn console(&self) -> Vec<(String, String)> {
        let v = self
            .raw(hyper::Method::POST, "se/log", json!({"type": "browser"}))
            .await;
        v.as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|e| {
                (
                    e["level"].as_str().unwrap_or_default().to_string(),
                    e["message"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect()
    }

    /// Fails on any console error or warning other than the failed requests (HTTP 4xx
    /// answers the test provoked on purpose) whose status is in `expected`.
    pub async fn assert_console_clean(&self, expected: &[u16]) {
        let bad: Vec<_> = self
            .console()
            .await
            .into_iter()
            .filter(|(level, _)| level == "SEVERE" || level == "WARNING")
            .filter(|(_, m)| {
                !expected
                    .iter()
                    .any(|s| m.contains(&format!("the server responded with a status of {s}")))
            })
            .collect();
        assert!(bad.is_empty(), "the console has errors: {bad:#?}");
    }

    pub async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("open {url}: {e}"));
    }

    /// The URL fragment of the current page, without `#`.
    pub async fn fragment(&self) -> String {
        self.client
            .current_url()
            .await
            .expect("current url")
            .fragment()
            .unwrap_or_default()
            .to_string()
    }

    pub async fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.client
            .execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Runs an async script: it calls `arguments[arguments.length - 1]` with the result.
    pub async fn js_async(&self, script: &str) -> Value {
        self.client
            .execute_async(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("async script failed: {e}\n{script}"))
    }

    /// The text the page shows in its main area, for failure messages.
    async fn page_text(&self) -> String {
        match self
            .client
            .execute(
                "return document.body ? document.body.innerText : ''",
                vec![],
            )
            .await
        {
            Ok(Value::String(s)) => s,
            other => format!("{other:?}"),
        }
    }

    async fn fail(&self, what: &str) -> ! {
        let name = format!("FAILED-{}", self.test);
        self.screenshot(&name).await;
        let text = self.page_text().await;
        let url = self
            .client
            .current_url()
            .await
            .map(|u| u.to_string())
            .unwrap_or_default();
        panic!(
            "{what}\n--- at {url}; screenshot {}/{name}.png; the page shows:\n{text}",
            self.shots.display()
        );
    }

    /// The first element matching `css`, once there is one.
    pub async fn find(&self, css: &str) -> Element {
        let started = Instant::now();
        loop {
            if let Ok(e) = self.client.find(Locator::Css(css)).await {
                return e;
            }
            if started.elapsed() > WAIT {
                self.fail(&format!("no element {css:?} within {WAIT:?}"))
                    .await;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the text of the first element matching `css` passes `ok`; returns it.
    pub async fn wait_text(&self, css: &str, ok: impl Fn(&str) -> bool) -> String {
        let started = Instant::now();
        let mut last = None;
        loop {
            if let Ok(e) = self.client.find(Locator::Css(css)).await {
                if let Ok(t) = e.text().await {
                    if ok(&t) {
                        return t;
                    }
                    last = Some(t);
                }
            }
            if started.elapsed() > WAIT {
                self.fail(&format!(
                    "the text of {css:?} is not as expected within {WAIT:?}; last seen: {last:?}"
                ))
                .await;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits for the page's `<h1>` to read `title`.
    pub async fn wait_heading(&self, title: &str) {
        self.wait_text("main h1", |t| t == title).await;
    }

    /// Waits until no element matches `css`.
    pub async fn wait_gone(&self, css: &str) {
        let started = Instant::now();
        while self.client.find(Locator::Css(css)).await.is_ok() {
            if started.elapsed() > WAIT {
                self.fail(&format!("{css:?} is still there after {WAIT:?}"))
                    .await;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn click(&self, css: &str) {
        let e = self.find(css).await;
        if let Err(err) = e.click().await {
            self.fail(&format!("click {css:?}: {err}")).await;
        }
    }

    /// Clears a field and types `text` into it.
    pub async fn fill(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        e.clear()
            .await
            .unwrap_or_else(|err| panic!("clear {css}: {err}"));
        e.send_keys(text)
            .await
            .unwrap_or_else(|err| panic!("type into {css}: {err}"));
    }

    /// Types into whatever has the focus (keys such as Tab and Enter included).
    pub async fn keys(&self, text: &str) {
        let e = self.client.active_element().await.expect("focused element");
        e.send_keys(text).await.expect("type");
    }

    /// The field labelled `label` inside `scope` (a CSS selector), found as a person
    /// finds it: by the text of its `<label>`.
    pub async fn field(&self, scope: &str, label: &str) -> String {
        let started = Instant::now();
        loop {
            let found = self
                .js(
                    "var scope = document.querySelector(arguments[0]); if (!scope) return null;
                     var want = arguments[1];
                     var ls = scope.querySelectorAll('label');
                     for (var i = 0; i < ls.length; i++) {
                       if (ls[i].textContent.trim() === want && ls[i].control) return ls[i].control.id;
                     }
                     return null;",
                    vec![json!(scope), json!(label)],
                )
                .await;
            if let Value::String(id) = found {
                return format!("#{id}");
            }
            if started.elapsed() > WAIT {
                self.fail(&format!("no field labelled {label:?} in {scope:?}"))
                    .await;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The error shown next to a field (the element its `aria-describedby` names that has
    /// the class `field-error`), once there is one.
    pub async fn field_error(&self, field_css: &str) -> String {
        let started = Instant::now();
        loop {
            let v = self
                .js(
                    "var f = document.querySelector(arguments[0]); if (!f) return null;
                     var ids = (f.getAttribute('aria-describedby') || '').split(' ');
                     for (var i = 0; i < ids.length; i++) {
                       var e = document.getElementById(ids[i]);
                       if (e && e.classList.contains('field-error') && e.textContent)
                         return [e.textContent, f.getAttribute('aria-invalid')];
                     }
                     return null;",
                    vec![json!(field_css)],
                )
                .await;
            if let Value::Array(a) = &v {
                assert_eq!(
                    a[1], "true",
                    "a field with an error is marked aria-invalid: {field_css}"
                );
                return a[0].as_str().unwrap_or_default().to_string();
            }
            if started.elapsed() > WAIT {
                self.fail(&format!("no error next to {field_css:?}")).await;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Every form control of the page that has no label (by `<label>` or `aria-label`).
    pub async fn unlabelled_controls(&self) -> Vec<String> {
        let v = self
            .js(
                "return [].filter.call(document.querySelectorAll('input, select, textarea'), function (e) {
                   return e.type !== 'hidden' && !(e.labels && e.labels.length) && !e.getAttribute('aria-label');
                 }).map(function (e) { return e.outerHTML; });",
                vec![],
            )
            .await;
        serde_json::from_value(v).unwrap_or_default()
    }

    /// Saves a PNG of the whole page (not only the viewport) as `<name>.png`.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let metrics = self.cdp("Page.getLayoutMetrics", json!({})).await;
        let size = &metrics["cssContentSize"];
        let (w, h) = (
            size["width"].as_f64().unwrap_or(1280.0),
            size["height"].as_f64().unwrap_or(900.0).min(6000.0),
        );
        let shot = self
            .cdp(
                "Page.captureScreenshot",
                json!({
                    "format": "png",
                    "captureBeyondViewport": true,
                    "clip": {"x": 0, "y": 0, "width": w, "height": h, "scale": 1},
                }),
            )
            .await;
        use base64::Engine;
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().expect("screenshot data"))
            .expect("base64 png");
        let path = self.shots.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write screenshot");
        path
    }

    /// Waits for a finished download called `name`; returns its bytes.
    pub async fn downloaded(&self, name: &str) -> Vec<u8> {
        let path = self.downloads.path().join(name);
        let started = Instant::now();
        loop {
            let partial = std::fs::read_dir(self.downloads.path())
                .map(|d| {
                    d.flatten()
                        .any(|e| e.file_name().to_string_lossy().ends_with(".crdownload"))
                })
                .unwrap_or(false);
            if !partial {
                if let Ok(bytes) = std::fs::read(&path) {
                    return bytes;
                }
            }
            if started.elapsed() > WAIT {
                let have: Vec<_> = std::fs::read_dir(self.downloads.path())
                    .map(|d| d.flatten().map(|e| e.file_name()).collect())
                    .unwrap_or_default();
                self.fail(&format!("no download {name}; the folder has {have:?}"))
                    .await;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
