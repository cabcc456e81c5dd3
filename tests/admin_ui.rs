//! The web admin at `/admin`, end to end in headless Chromium driven through
//! chromedriver (see `tests/admin_ui/driver.rs`): a new user signs in, creates a pool,
//! installs the snippet on a website served by the test, watches the visit arrive,
//! records a call and downloads the call log, all from the browser.
//!
//! Screenshots of the main pages are saved under `target/admin-ui-screenshots/`.
//! Without chromedriver or Chromium, the browser tests print `SKIPPED (...)` and pass,
//! unless `CI` is set: then they fail.

mod common;

#[path = "admin_ui/driver.rs"]
mod driver;

// The browser tests' page builder and test website.
#[allow(dead_code)]
#[path = "browser/chrome.rs"]
mod chrome;
#[allow(dead_code)]
#[path = "browser/stub.rs"]
mod stub;

use common::{TestServer, TOKEN};
use fantoccini::key::Key;
use serde_json::{json, Value};
use stub::Site;

/// The number printed on the website (the README's example target).
const TARGET: &str = "+12345678900";

macro_rules! browser_or_skip {
    ($name:expr) => {
        match driver::start($name).await {
            Some(b) => b,
            None => return,
        }
    };
}

/// The install tag exactly as README.md ("Tracking snippet") gives it, for this dnid,
/// pool and target.
fn documented_snippet(base: &str, pool: &str, target: &str) -> String {
    let readme = include_str!("../README.md");
    let section = &readme[readme
        .find("## Tracking snippet")
        .expect("README.md has a Tracking snippet section")..];
    let start = section.find("```html\n").expect("an html block") + "```html\n".len();
    let end = start + section[start..].find("```").expect("the block ends");
    let doc = section[start..end].trim_end();
    assert!(
        doc.contains("https://dnid.example.com") && doc.contains("POOL_ID"),
        "{doc}"
    );
    doc.replace("https://dnid.example.com", base)
        .replace("POOL_ID", pool)
        .replace("+12345678900", target)
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

async fn pool_json(dnid: &TestServer, id: &str) -> Value {
    let r = dnid
        .admin("GET", &format!("/api/v1/pools/{id}"), None)
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    r.json()
}

/// Signs in on the page that is open (the sign-in form has the focus), by keyboard.
async fn sign_in(ui: &driver::Browser, token: &str) {
    ui.find("#signin-form input[type=password]").await;
    ui.keys(&format!("{token}{}", Key::Enter)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_is_embedded_and_served_with_a_strict_policy() {
    let dnid = TestServer::start().await;
    for (path, ty) in [
        ("/admin", "text/html; charset=utf-8"),
        ("/admin/", "text/html; charset=utf-8"),
        ("/admin/app.js", "text/javascript; charset=utf-8"),
        ("/admin/app.css", "text/css; charset=utf-8"),
        ("/admin/favicon.svg", "image/svg+xml"),
    ] {
        // No token needed to load the page: its data comes from the API.
        let r = dnid.raw("GET", path, &[], "").await;
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.headers["content-type"], ty, "{path}");
        assert_eq!(r.headers["cache-control"], "no-cache", "{path}");
        assert_eq!(r.headers["x-content-type-options"], "nosniff");
        let csp = r.headers["content-security-policy"].to_str().unwrap();
        assert!(csp.starts_with("default-src 'self';"), "{csp}");
        assert!(
            csp.contains("script-src 'self';") && !csp.contains("unsafe"),
            "{csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(!r.body.is_empty());

        let head = dnid.raw("HEAD", path, &[], "").await;
        assert_eq!(head.status, 200, "HEAD {path}");
        assert!(head.body.is_empty());
        let tag = r.headers["etag"].to_str().unwrap();
        let again = dnid.raw("GET", path, &[("if-none-match", tag)], "").await;
        assert_eq!(again.status, 304, "{path} revalidates");
    }
    let page = dnid.raw("GET", "/admin", &[], "").await;
    let html = String::from_utf8_lossy(&page.body);
    assert!(html.contains(r#"<script src="/admin/app.js" defer></script>"#));
    assert!(!html.contains(TOKEN));
    assert_eq!(dnid.raw("POST", "/admin", &[], "").await.status, 405);
    let missing = dnid.raw("GET", "/admin/nope.js", &[], "").await;
    assert_eq!(
        (missing.status, missing.code().as_str()),
        (404, "not_found")
    );
    dnid.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_user_runs_a_pool_from_the_browser() {
    let ui = browser_or_skip!("a_new_user_runs_a_pool_from_the_browser");
    let dnid = TestServer::start().await;
    let site = Site::start().await;
    let admin = format!("{}/admin", dnid.base);

    // Sign in: a wrong token is refused; the right one is kept in sessionStorage only.
    ui.goto(&admin).await;
    ui.wait_heading("Sign in to dnid").await;
    ui.screenshot("01-sign-in").await;
    sign_in(&ui, "not-the-token").await;
    let token_field = "#signin-form input[type=password]";
    let err = ui.field_error(token_field).await;
    assert!(err.contains("not accepted"), "{err}");
    ui.fill(token_field, TOKEN).await;
    ui.keys(&Key::Enter.to_string()).await;
    ui.wait_heading("Number Pools").await;
    ui.wait_text("#pools", |t| t.contains("No pools yet")).await;
    let url = ui.client.current_url().await.unwrap().to_string();
    assert!(
        url.ends_with("/admin#/pools") && !url.contains(TOKEN),
        "{url}"
    );
    let stored = ui
        .js(
            "return [sessionStorage.getItem('dnid_admin_token'), localStorage.length]",
            vec![],
        )
        .await;
    assert_eq!(stored, json!([TOKEN, 0]));

    // Create a pool: a bad number is refused by the server, next to its field.
    ui.click("#create-pool").await;
    ui.wait_heading("Create Pool").await;
    assert_eq!(ui.unlabelled_controls().await, Vec::<String>::new());
    let form = "#pool-form";
    let name = ui.field(form, "Name").await;
    let website = ui.field(form, "Website URL").await;
    let target = ui.field(form, "Target number").await;
    let numbers = ui.field(form, "Tracking numbers").await;
    let fallback = ui.field(form, "Fallback number (optional)").await;
    let timeout = ui.field(form, "Session timeout (seconds)").await;
    let timeout_value = ui.find(&timeout).await.prop("value").await.unwrap();
    assert_eq!(
        timeout_value.as_deref(),
        Some("1800"),
        "the default timeout"
    );
    ui.fill(&name, "Shop").await;
    ui.fill(&website, site.base()).await;
    ui.fill(&target, "(234) 567-8900").await;
    ui.fill(&numbers, "+15550001001\n555-000-1002\n555-01")
        .await;
    ui.fill(&fallback, "+18005550100").await;
    ui.click("#pool-form button[type=submit]").await;
    let err = ui.field_error(&numbers).await;
    assert!(
        err.contains("555-01"),
        "the error names the bad number: {err}"
    );
    ui.screenshot("02-create-pool-validation").await;
    let none = dnid.admin("GET", "/api/v1/pools", None).await.json();
    assert_eq!(none["pools"], json!([]), "nothing was created");

    ui.fill(&numbers, "+15550001001\n555-000-1002").await;
    ui.click("#pool-form button[type=submit]").await;
    ui.wait_heading("Shop").await;
    let pool = ui
        .fragment()
        .await
        .strip_prefix("/pools/")
        .expect("the pool's page")
        .to_string();
    let created = pool_json(&dnid, &pool).await;
    assert_eq!(created["website_url"], site.base());
    assert_eq!(created["target_number"], TARGET, "normalised to E.164");
    assert_eq!(created["fallback_number"], "+18005550100");
    assert_eq!(created["session_timeout_secs"], 1800);
    assert_eq!(created["numbers_total"], 2);
    // So far, only the refused token and the refused number failed.
    ui.assert_console_clean(&[400, 403]).await;

    // The snippet, copied with its button, is the one the docs give.
    ui.cdp(
        "Browser.grantPermissions",
        json!({"origin": dnid.base, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]}),
    )
    .await;
    ui.click("#copy-snippet").await;
    ui.wait_text("#copy-status", |t| t == "Copied to the clipboard.")
        .await;
    let copied = ui
        .js_async("navigator.clipboard.readText().then(arguments[arguments.length - 1])")
        .await;
    let copied = copied.as_str().expect("clipboard text").to_string();
    assert_eq!(copied, documented_snippet(&dnid.base, &pool, TARGET));
    assert_eq!(
        collapse(&copied),
        collapse(&chrome::snippet_tag(
            &chrome::snippet_src(&dnid.base),
            &pool,
            TARGET
        ))
    );

    // Number Pools shows no visitor yet.
    ui.click("a[data-nav=pools]").await;
    ui.wait_heading("Number Pools").await;
    let row = format!("tr[data-pool-id='{pool}']");
    ui.wait_text(&format!("{row} .active-sessions"), |t| t == "0")
        .await;
    assert_eq!(ui.unlabelled_controls().await, Vec::<String>::new());

    // A visitor opens the website, with the copied snippet installed, in another tab.
    site.page(
        "/landing",
        chrome::page(
            &copied,
            r#"<h1>Shop</h1><p>Call us: <span id="phone" data-t>(234) 567-8900</span></p>"#,
        ),
    );
    site.route(
        "/favicon.ico",
        stub::Action::Reply(stub::Reply::new(204, "image/x-icon", "")),
    );
    let admin_tab = ui.client.window().await.unwrap();
    let tab = ui.client.new_window(true).await.unwrap().handle;
    ui.client.switch_to_window(tab).await.unwrap();
    ui.goto(
        &site.url(
            "/landing?utm_source=newsletter&utm_medium=email&utm_campaign=spring&gclid=click-42",
        ),
    )
    .await;
    ui.wait_text("#phone", |t| t == "(555) 000-1001").await;
    ui.screenshot("03-website-with-snippet").await;
    ui.assert_console_clean(&[]).await;

    // ... and Number Pools counts them.
    ui.client.switch_to_window(admin_tab).await.unwrap();
    ui.wait_text(&format!("{row} .active-sessions"), |t| t == "1")
        .await;
    ui.wait_text(&format!("{row} .numbers-total"), |t| t.contains("1 free"))
        .await;
    ui.screenshot("04-number-pools").await;

    // The pool's page shows the live session with its attribution, and the number leased.
    ui.click(&format!("{row} a")).await;
    ui.wait_heading("Shop").await;
    let session = "#sessions-table tbody tr";
    ui.wait_text(&format!("{session} .utm-source"), |t| t == "newsletter")
        .await;
    let landing = ui.wait_text(&format!("{session} .landing"), |_| true).await;
    assert!(
        landing.contains("/landing?utm_source=newsletter"),
        "{landing}"
    );
    ui.wait_text(&format!("{session} .click-id"), |t| t == "gclid: click-42")
        .await;
    ui.find("#numbers-table tr[data-number='+15550001001'][data-state=leased]")
        .await;
    ui.find("#numbers-table tr[data-number='+15550001002'][data-state=free]")
        .await;
    ui.wait_text("#stat-active", |t| t == "1").await;
    ui.find("#pool-chart svg path.active").await;
    let chart_note = ui.wait_text("#chart-section", |_| true).await;
    assert!(
        chart_note.contains("dnid keeps no history of active sessions"),
        "the chart says where its data comes from: {chart_note}"
    );
    assert_eq!(ui.unlabelled_controls().await, Vec::<String>::new());

    // The chart's samples are kept in sessionStorage, so a reload keeps them. Give it
    // the history of a page open for the last two and a half hours.
    let kept = ui
        .js(
            "return JSON.parse(sessionStorage.getItem('dnid_admin_samples'))[arguments[0]]",
            vec![json!(pool)],
        )
        .await;
    let newest = kept.as_array().and_then(|a| a.last()).cloned();
    assert_eq!(
        newest.map(|s| (s[1].clone(), s[2].clone())),
        Some((json!(1), json!(2))),
        "the newest sample: 1 active of 2 numbers; {kept}"
    );
    ui.js(
        "var all = JSON.parse(sessionStorage.getItem('dnid_admin_samples'));
         var now = Date.now(), past = [], levels = [0, 1, 2, 1, 0, 1, 2, 2, 1, 0, 1, 1, 2, 1, 0];
         levels.forEach(function (a, i) {
           var t = now - (151 - i * 10) * 60000;
           past.push([t, a, 2], [t + 599000, a, 2]);
         });
         all[arguments[0]] = past.concat(all[arguments[0]]);
         sessionStorage.setItem('dnid_admin_samples', JSON.stringify(all));",
        vec![json!(pool)],
    )
    .await;
    ui.client.refresh().await.unwrap();
    ui.wait_heading("Shop").await;
    ui.wait_text("#chart-since", |t| {
        t.starts_with("Sampled by this page since")
    })
    .await;
    let title = ui
        .js(
            "var t = document.querySelector('#pool-chart svg title'); return t && t.textContent",
            vec![],
        )
        .await;
    assert!(
        title
            .as_str()
            .is_some_and(|t| t.contains("1 of 2 numbers now; at most 2")),
        "{title}"
    );
    ui.screenshot("05-pool").await;

    // The call comes in: recorded on the Calls page, matched to the visitor.
    ui.click("a[data-nav=calls]").await;
    ui.wait_heading("Calls").await;
    let record = "#record-call-form";
    let called = ui.field(record, "Tracking number called").await;
    ui.fill(&called, "+15550001001").await;
    let caller = ui.field(record, "Caller number").await;
    ui.fill(&caller, "+14155550123").await;
    let secs = ui.field(record, "Duration (seconds, optional)").await;
    ui.fill(&secs, "95").await;
    ui.click("#record-call-form button[type=submit]").await;
    let result = ui.wait_text("#record-result", |t| !t.is_empty()).await;
    assert_eq!(
        result,
        "Recorded: attributed, source newsletter, campaign spring."
    );
    ui.wait_text("#calls tbody tr .caller", |t| t == "+14155550123")
        .await;
    assert_eq!(ui.unlabelled_controls().await, Vec::<String>::new());
    ui.screenshot("06-calls").await;

    // ... and it is in the pool's calls, with its source.
    ui.goto(&format!("{admin}#/pools/{pool}")).await;
    ui.wait_heading("Shop").await;
    let call = "#pool-calls tbody tr[data-call-id]";
    ui.wait_text(&format!("{call} .caller"), |t| t == "+14155550123")
        .await;
    ui.wait_text(&format!("{call} .utm-source"), |t| t == "newsletter")
        .await;
    ui.wait_text(&format!("{call} .status"), |t| t == "attributed")
        .await;

    // The CSV download is the call log's CSV.
    ui.click("#download-csv").await;
    ui.wait_text("#csv-status", |t| {
        t.starts_with("Downloaded dnid-calls-shop.csv")
    })
    .await;
    let csv = ui.downloaded("dnid-calls-shop.csv").await;
    let api_csv = dnid
        .admin(
            "GET",
            &format!("/api/v1/calls?pool_id={pool}&format=csv"),
            None,
        )
        .await;
    assert_eq!(csv, api_csv.body.to_vec());
    let mut reader = csv::Reader::from_reader(csv.as_slice());
    let header = reader.headers().unwrap().clone();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 1, "one call");
    let col = |name: &str| &rows[0][header.iter().position(|h| h == name).unwrap()];
    assert_eq!(col("caller_number"), "+14155550123");
    assert_eq!(col("utm_source"), "newsletter");
    assert_eq!(col("gclid"), "click-42");
    assert_eq!(col("attribution_status"), "attributed");
    ui.screenshot("07-pool-with-call").await;

    ui.assert_console_clean(&[]).await;
    ui.close().await;
    dnid.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pools_numbers_flows_and_webhooks_by_keyboard_and_at_phone_width() {
    let ui = browser_or_skip!("pools_numbers_flows_and_webhooks_by_keyboard_and_at_phone_width");
    let dnid = TestServer::start().await;
    let admin = format!("{}/admin", dnid.base);
    ui.goto(&format!("{admin}#/call-flows")).await;
    ui.wait_heading("Sign in to dnid").await;
    assert_eq!(ui.unlabelled_controls().await, Vec::<String>::new());
    sign_in(&ui, TOKEN).await;

    // A call flow; the server's errors show next to their fields.
    ui.wait_heading("Call Flows").await;
    let form = "#flow-form";
    let (name, to, ring) = (
        ui.field(form, "Name").await,
        ui.field(form, "Forward to").await,
        ui.field(form, "Ring timeout (seconds)").await,
    );
    ui.fill(&name, "Sales line").await;
    ui.fill(&to, "call me").await;
    ui.fill(&ring, "700").await;
    ui.click("#flow-form button[type=submit]").await;
    assert!(ui.field_error(&ring).await.contains("between 5 and 600"));
    ui.fill(&ring, "45").await;
    ui.click("#flow-form button[type=submit]").await;
    let err = ui.field_error(&to).await;
    assert!(!err.is_empty());
    ui.fill(&to, "+14155550100").await;
    ui.click("#flow-form button[type=submit]").await;
    ui.wait_text("#flows-table tbody", |t| {
        t.contains("Sales line") && t.contains("+14155550100") && t.contains("45 s")
    })
    .await;
    assert_eq!(ui.unlabelled_controls().await, Vec::<String>::new());
    ui.screenshot("10-call-flows").await;

    // Create a pool with the keyboard only: Tab to "Create Pool", Enter, type, Enter.
    ui.click("a[data-nav=pools]").await;
    ui.wait_heading("Number Pools").await;
    ui.keys(&Key::Tab.to_string()).await;
    let focused = ui
        .js("return document.activeElement.textContent", vec![])
        .await;
    assert_eq!(focused, "Create Pool");
    ui.keys(&Key::Enter.to_string()).await;
    ui.wait_heading("Create Pool").await;
    ui.find("#pool-form").await;
    let tab = Key::Tab.to_string();
    ui.keys(&format!(
        "{tab}Keyboard Shop{tab}https://shop.example{tab}+12345678900{tab}+15550002001{tab}Sales{tab}{tab}"
    ))
    .await;
    // The focus is on the session timeout: Enter submits.
    let focused = ui.js("return document.activeElement.name", vec![]).await;
    assert_eq!(focused, "session_timeout_secs");
    ui.keys(&Key::Enter.to_string()).await;
    ui.wait_heading("Keyboard Shop").await;
    let pool = ui.fragment().await.replace("/pools/", "");
    let p = pool_json(&dnid, &pool).await;
    assert!(
        p["call_flow_id"].is_string(),
        "the call flow was chosen: {p}"
    );
    assert_eq!(p["numbers_total"], 1);
    ui.wait_text("#settings-section", |t| {
        t.contains("Sales line (forwards to +14155550100)")
    })
    .await;

    // Add several numbers at once; duplicates and bad numbers are refused at the field.
    let add = ui.field("#add-numbers-form", "Add numbers").await;
    ui.fill(&add, "+15550002002, +15550002003\n+15550002004")
        .await;
    ui.click("#add-numbers-form button[type=submit]").await;
    ui.wait_text("#numbers-msg", |t| t == "Added 3 numbers; the pool has 4.")
        .await;
    ui.find("#numbers-table tr[data-number='+15550002004']")
        .await;
    ui.fill(&add, "+15550002002").await;
    ui.click("#add-numbers-form button[type=submit]").await;
    assert!(ui.field_error(&add).await.contains("+15550002002"));
    ui.fill(&add, "555").await;
    ui.click("#add-numbers-form button[type=submit]").await;
    assert!(ui.field_error(&add).await.contains("555"));

    // A visitor holds a number: removing it drains it; "Remove now" forces it out.
    let visit = dnid
        .new_session(
            &pool,
            None,
            "https://shop.example/?utm_source=google&utm_medium=cpc&gclid=g-1",
        )
        .await;
    let leased = visit["number"].as_str().unwrap().to_string();
    assert_eq!(leased, "+15550002001");
    ui.wait_text("#sessions-table tbody tr .utm-source", |t| t == "google")
        .await;
    let leased_row = format!("#numbers-table tr[data-number='{leased}']");
    ui.find(&format!("{leased_row}[data-state=leased]")).await;
    ui.click(&format!("{leased_row} button")).await;
    ui.wait_text("#numbers-msg", |t| t.contains("is leased"))
        .await;
    ui.find(&format!("{leased_row}[data-state=draining]")).await;
    ui.click(&format!("{leased_row} button")).await;
    ui.wait_gone(&leased_row).await;
    ui.click("#numbers-table tr[data-number='+15550002004'] button")
        .await;
    ui.wait_gone("#numbers-table tr[data-number='+15550002004']")
        .await;

    // End a live session from its row.
    dnid.new_session(&pool, None, "https://shop.example/?utm_source=bing")
        .await;
    ui.wait_text("#sessions-table tbody tr .utm-source", |t| t == "bing")
        .await;
    ui.click("#sessions-table tbody tr button").await;
    ui.wait_text("#pool-sessions", |t| t.contains("No live sessions"))
        .await;

    // Edit the settings: an out-of-range timeout is refused next to its field.
    ui.click("#edit-pool").await;
    ui.wait_heading("Edit pool").await;
    let timeout = ui.field("#pool-form", "Session timeout (seconds)").await;
    ui.fill(&timeout, "30").await;
    ui.click("#pool-form button[type=submit]").await;
    assert!(ui.field_error(&timeout).await.contains("30"));
    ui.fill(&timeout, "600").await;
    ui.click("#pool-form button[type=submit]").await;
    ui.wait_heading("Keyboard Shop").await;
    ui.wait_text("#settings-section", |t| t.contains("600 s (10 min 00 s)"))
        .await;

    // Two numbers left; three visitors: the pool needs more numbers, and says so.
    for i in 0..3 {
        dnid.new_session(&pool, None, &format!("https://shop.example/?v={i}"))
            .await;
    }
    ui.wait_text("#pool-warning", |t| {
        t.contains("This pool needs more numbers")
    })
    .await;
    ui.wait_text("#stat-exhausted", |t| t == "1").await;
    ui.screenshot("11-pool-needs-more-numbers").await;
    ui.click("a[data-nav=pools]").await;
    let row = format!("tr[data-pool-id='{pool}']");
    ui.wait_text(&format!("{row} .sizing"), |t| {
        t.starts_with("Needs more numbers (recommended")
    })
    .await;
    ui.wait_text(&format!("{row} .exhausted"), |t| t == "1")
        .await;

    // Phone width: nothing wider than the screen but the tables, which scroll.
    ui.client.set_window_size(390, 844).await.unwrap();
    for (page, shot) in [
        (format!("{admin}#/pools"), "12-phone-number-pools"),
        (format!("{admin}#/pools/{pool}"), "13-phone-pool"),
    ] {
        ui.goto(&page).await;
        ui.find("main table").await;
        let fits = ui
            .js(
                "return document.documentElement.scrollWidth <= window.innerWidth",
                vec![],
            )
            .await;
        assert_eq!(fits, json!(true), "{page} fits a phone screen");
        ui.screenshot(shot).await;
    }
    ui.client.set_window_size(1280, 900).await.unwrap();

    // Webhooks: the secret is shown once.
    ui.goto(&format!("{admin}#/webhooks")).await;
    ui.wait_heading("Webhooks").await;
    let url = ui.field("#webhook-form", "URL").await;
    ui.fill(&url, "https://crm.example/hooks/dnid").await;
    ui.click("#webhook-form button[type=submit]").await;
    ui.wait_text("#webhook-secret", |t| {
        t.contains("Secret for https://crm.example/hooks/dnid")
    })
    .await;
    ui.wait_text("#webhooks tbody", |t| t.contains("Keyboard Shop"))
        .await;
    assert_eq!(ui.unlabelled_controls().await, Vec::<String>::new());
    ui.screenshot("14-webhooks").await;
    let hooks = dnid.admin("GET", "/api/v1/webhooks", None).await.json();
    assert_eq!(hooks["webhooks"][0]["pool_id"], pool.as_str());

    // System: a snapshot on demand.
    ui.click("a[data-nav=system]").await;
    ui.click("#take-snapshot").await;
    ui.wait_text("#snapshot-status", |t| t.starts_with("Snapshot "))
        .await;
    ui.find("#snapshots tbody tr").await;

    // Delete the pool, after saying yes.
    ui.goto(&format!("{admin}#/pools/{pool}")).await;
    ui.wait_heading("Keyboard Shop").await;
    ui.click("[data-key=delete-pool]").await;
    ui.click("[data-key='delete-pool:yes']").await;
    ui.wait_heading("Number Pools").await;
    ui.wait_text("#pools", |t| t.contains("No pools yet")).await;

    // Signing out forgets the token.
    ui.click("#signout").await;
    ui.wait_heading("Sign in to dnid").await;
    let token = ui
        .js("return sessionStorage.getItem('dnid_admin_token')", vec![])
        .await;
    assert_eq!(token, Value::Null);

    ui.assert_console_clean(&[400, 409]).await;
    ui.close().await;
    dnid.shutdown().await;
}
