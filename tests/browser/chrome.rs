//! Drives headless Chromium for the browser tests, with no extra dependency: each page
//! load is one `chromium --headless --dump-dom URL` process.
//!
//! - Under `--virtual-time-budget`, timers run as fast as the page lets them, but
//!   virtual time stops while a network request is pending, so the snippet's requests
//!   to the local servers always complete before the budget runs out. A 60 s heartbeat
//!   costs no real time. Tests that need the snippet's real-time 3 s timeout load
//!   without a budget: the DOM is then dumped at the load event, which the page holds
//!   back with a slow image.
//! - The page's own harness (see [`page`]) records uncaught errors, unhandled promise
//!   rejections, `console.error`/`console.warn` calls, the texts and links to check,
//!   the snippet's last answer, the cookie and localStorage, into a JSON report inside
//!   the page, refreshed every 50 ms; the test reads it back from the dumped DOM.
//!   Chromium's own console log (`--enable-logging=stderr`) is checked as well.
//! - Cookies and localStorage live in `--user-data-dir`: two loads with the same
//!   [`Profile`] are two page views of the same visitor.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where Chromium is looked for; `DNID_CHROMIUM` overrides it.
pub const DEFAULT_CHROMIUM: &str = "/usr/bin/chromium";

/// The longest one page load may take before the test fails.
const LOAD_TIMEOUT: Duration = Duration::from_secs(60);

pub struct Chrome {
    path: PathBuf,
}

/// The browser, or `None` after telling why the test does not run. With `CI` set, a
/// missing browser fails the test instead.
pub fn find(test: &str) -> Option<Chrome> {
    let path = std::env::var_os("DNID_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_CHROMIUM));
    if path.is_file() {
        return Some(Chrome { path });
    }
    if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
        panic!(
            "{test}: no Chromium at {} and CI is set, so the browser tests must run: \
             install it (apt-get install -y chromium) or point DNID_CHROMIUM at it",
            path.display()
        );
    }
    // Straight to the process's stderr: the test harness captures `eprintln!`.
    let line = format!("SKIPPED (no chromium at {}): {test}\n", path.display());
    let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
    None
}

/// A browser profile: cookies and localStorage of one visitor.
pub struct Profile(tempfile::TempDir);

impl Profile {
    pub fn new() -> Profile {
        Profile(tempfile::tempdir().expect("profile dir"))
    }

    pub fn path(&self) -> &Path {
        self.0.path()
    }
}

/// How long the page runs before its DOM is dumped.
#[derive(Clone, Copy, Debug)]
pub enum Budget {
    /// This many milliseconds of virtual time.
    Virtual(u64),
    /// Real time, until the load event.
    UntilLoad,
}

/// The user agent to send.
#[derive(Clone, Copy, Debug)]
pub enum Agent {
    /// A desktop browser ([`crate::common::BROWSER_UA`]).
    Desktop,
    /// Chromium's own headless user agent, which dnid treats as a bot.
    Headless,
}

pub struct Load {
    pub stderr: String,
    /// The page's report (see [`page`]).
    pub report: Value,
}

impl Load {
    /// The text of the element with this id (an element with `data-t`).
    pub fn text(&self, id: &str) -> String {
        match &self.report["texts"][id] {
            Value::String(s) => s.clone(),
            other => panic!(
                "no text #{id} in the report ({other}); report: {}",
                self.report
            ),
        }
    }

    /// The href of the link with this id.
    pub fn href(&self, id: &str) -> String {
        match &self.report["hrefs"][id] {
            Value::String(s) => s.clone(),
            other => panic!(
                "no link #{id} in the report ({other}); report: {}",
                self.report
            ),
        }
    }

    /// The snippet's last answer from the server (`null` when there was none).
    pub fn answer(&self) -> &Value {
        &self.report["answer"]
    }

    /// The session id the snippet keeps in its cookie.
    pub fn cookie_sid(&self) -> Option<String> {
        self.report["cookie"].as_str().and_then(|c| {
            c.split(';')
                .map(str::trim)
                .find_map(|kv| kv.strip_prefix("dnid_sid="))
                .map(str::to_string)
        })
    }

    /// The session id the snippet keeps in localStorage.
    pub fn stored_sid(&self) -> Option<String> {
        self.report["stored"].as_str().map(str::to_string)
    }

    /// Fails the test if the page saw an uncaught error, an unhandled rejection or a
    /// console error/warning, or if Chromium logged any console message.
    pub fn assert_quiet(&self) {
        let errors = self.report["errors"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(errors.is_empty(), "the page logged errors: {errors:?}");
        let console: Vec<&str> = self
            .stderr
            .lines()
            .filter(|l| l.contains(":CONSOLE"))
            .collect();
        assert!(
            console.is_empty(),
            "Chromium logged console messages: {console:#?}"
        );
    }
}

impl Chrome {
    /// Loads `url` in a fresh Chromium with `profile`; returns the report read from the
    /// dumped DOM, and what Chromium logged.
    pub async fn load(&self, profile: &Profile, url: &str, budget: Budget, agent: Agent) -> Load {
        let (dom, stderr) = self.dump(profile, url, budget, agent).await;
        let report = extract_report(&dom).unwrap_or_else(|| {
            panic!("no report in the page dumped from {url}:\n{dom}\n--- stderr:\n{stderr}")
        });
        Load { stderr, report }
    }

    /// Loads `url` and returns the DOM as Chromium serialises it, and its log.
    pub async fn dump(
        &self,
        profile: &Profile,
        url: &str,
        budget: Budget,
        agent: Agent,
    ) -> (String, String) {
        let mut cmd = tokio::process::Command::new(&self.path);
        cmd.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
        ]);
        cmd.arg(format!("--user-data-dir={}", profile.path().display()));
        if let Agent::Desktop = agent {
            cmd.arg(format!("--user-agent={}", crate::common::BROWSER_UA));
        }
        if let Budget::Virtual(ms) = budget {
            cmd.arg(format!("--virtual-time-budget={ms}"));
        }
        cmd.arg("--dump-dom").arg(url);
        cmd.stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        let child = cmd.spawn().expect("start chromium");
        let out = tokio::time::timeout(LOAD_TIMEOUT, child.wait_with_output())
            .await
            .unwrap_or_else(|_| panic!("chromium did not finish loading {url} in {LOAD_TIMEOUT:?}"))
            .expect("chromium runs");
        let dom = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(
            out.status.success(),
            "chromium failed on {url}: {}\n{stderr}",
            out.status
        );
        (dom, stderr)
    }
}

fn extract_report(dom: &str) -> Option<Value> {
    let at = dom.find("id=\"dnid-test-report\"")?;
    let start = at + dom[at..].find('>')? + 1;
    let end = start + dom[start..].find("</script>")?;
    serde_json::from_str(&dom[start..end]).ok()
}

/// The tag that installs the snippet, as the install instructions give it.
pub fn snippet_tag(src: &str, pool: &str, target: &str) -> String {
    format!(r#"<script src="{src}" data-pool-id="{pool}" data-target="{target}" async></script>"#)
}

/// The snippet's address on a dnid (or a stand-in) at `base`.
pub fn snippet_src(base: &str) -> String {
    format!("{base}/api/v1/tracking/snippet.js")
}

/// A test page: the harness first (it must see everything), then `head` (the snippet
/// tag, usually), then `body`.
///
/// The report lists the text of every element with a `data-t` attribute (the value of
/// form fields) by id, the href of every link with an id, `document.title`, the
/// snippet's last answer, the `dnid` events seen, the cookie and localStorage, the
/// user agent, and the errors seen.
pub fn page(head: &str, body: &str) -> String {
    format!(
        r#"<!doctype html>
<html><head><meta charset="utf-8"><title>Shop - call 234-567-8900</title>
<script type="application/json" id="dnid-test-report" data-dni-noswap>{{}}</script>
<script data-dni-noswap>{HARNESS}</script>
{head}
</head><body>
{body}
</body></html>"#
    )
}

const HARNESS: &str = r#"
(function () {
  var errors = [], events = [];
  window.addEventListener('error', function (e) {
    errors.push('uncaught: ' + e.message + ' at ' + e.filename + ':' + e.lineno);
  });
  window.addEventListener('unhandledrejection', function (e) {
    errors.push('unhandled rejection: ' + e.reason);
  });
  ['error', 'warn'].forEach(function (k) {
    var orig = console[k];
    console[k] = function () {
      errors.push('console.' + k + ': ' + [].join.call(arguments, ' '));
      orig.apply(console, arguments);
    };
  });
  document.addEventListener('dnid', function (e) { events.push(e.detail.result); });
  function report() {
    var r = {
      errors: errors, events: events, title: document.title, url: location.href,
      ua: navigator.userAgent, cookie: document.cookie, stored: null,
      has_dnid: !!window.dnid,
      answer: (window.dnid && window.dnid.answer) || null,
      texts: {}, hrefs: {}
    };
    try { r.stored = localStorage.getItem('dnid_sid'); } catch (e) {}
    [].forEach.call(document.querySelectorAll('[data-t]'), function (el) {
      r.texts[el.id] = /^(INPUT|TEXTAREA)$/.test(el.tagName) ? el.value : el.textContent;
    });
    [].forEach.call(document.querySelectorAll('a[id]'), function (el) {
      r.hrefs[el.id] = el.getAttribute('href');
    });
    document.getElementById('dnid-test-report').textContent =
      JSON.stringify(r).replace(/</g, '\\u003c');
  }
  setInterval(report, 50);
  document.addEventListener('DOMContentLoaded', report);
  window.addEventListener('load', report);
})();
"#;
