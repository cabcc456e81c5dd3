//! The tracking snippet in a real browser: headless Chromium loads pages served by the
//! test from 127.0.0.1 (the pool's website), with the snippet installed from a real
//! dnid on another port, exactly as a site installs it. How Chromium is driven: see
//! `tests/browser/chrome.rs`.
//!
//! Without Chromium at /usr/bin/chromium (or `DNID_CHROMIUM`), each test prints
//! `SKIPPED (...)` and passes, unless `CI` is set: then it fails.

mod common;

#[path = "browser/chrome.rs"]
mod chrome;
#[path = "browser/stub.rs"]
mod stub;

use chrome::{page, snippet_src, snippet_tag, Agent, Budget, Chrome, Load, Profile};
use common::TestServer;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use stub::{forward, http_client, Action, Reply, Seen, Site, Stub};

/// The number printed on the test pages (the pools' target).
const TARGET: &str = "+12345678900";
const FIRST: &str = "+15550001001";
const SECOND: &str = "+15550001002";
const FALLBACK: &str = "+18005550100";

/// The snippet as dnid serves it, for the stand-in servers.
const SNIPPET: &str = include_str!("../assets/snippet.min.js");

/// Virtual time for a page load: plenty, and free (see chrome.rs).
const SETTLE: Budget = Budget::Virtual(3_000);

macro_rules! browser_or_skip {
    ($name:expr) => {
        match chrome::find($name) {
            Some(c) => c,
            None => return,
        }
    };
}

/// Writes the digits of `written` (a form of the target, 234-567-8900) as the North
/// American number `national` (10 digits), keeping a leading country code 1.
fn restyle(written: &str, national: &str) -> String {
    let count = written.chars().filter(char::is_ascii_digit).count();
    assert!(count == 10 || count == 11, "{written}");
    let mut skip = count - 10;
    let mut new = national.chars();
    written
        .chars()
        .map(|c| {
            if !c.is_ascii_digit() {
                c
            } else if skip > 0 {
                skip -= 1;
                c
            } else {
                new.next().unwrap()
            }
        })
        .collect()
}

/// Every way the target is written on the pages: (id, text).
const FORMATS: &[(&str, &str)] = &[
    ("f_intl_spaces", "+1 234 567 8900"),
    ("f_parens", "(234) 567-8900"),
    ("f_dashes", "234-567-8900"),
    ("f_dots", "234.567.8900"),
    ("f_digits", "2345678900"),
    ("f_e164", "+12345678900"),
    ("f_one_dashes", "1-234-567-8900"),
    ("f_one_parens", "1 (234) 567-8900"),
    ("f_intl_parens", "+1 (234) 567-8900"),
    ("f_nbsp", "+1\u{a0}234\u{a0}567\u{a0}8900"),
    ("f_nbsp_parens", "(234)\u{a0}567-8900"),
    ("f_endash", "234\u{2013}567\u{2013}8900"),
    ("f_nbsp_endash", "1\u{a0}(234)\u{a0}567\u{2013}8900"),
    ("f_in_sentence", "Call us at 234-567-8900!"),
];

/// Numbers that look like the target but are not it: never changed.
const LOOKALIKES: &[(&str, &str)] = &[
    ("n_other", "234-567-8901"),
    ("n_digit_before", "92345678900"),
    ("n_digit_after", "23456789001"),
    ("n_short", "567-8900"),
    ("n_other_area", "(235) 567-8900"),
];

/// tel: links to the target in any format: (id, href); all become tel:+E164.
const TEL_LINKS: &[(&str, &str)] = &[
    ("l_e164", "tel:+12345678900"),
    ("l_national", "tel:2345678900"),
    ("l_dashes", "tel:+1-234-567-8900"),
    ("l_encoded", "tel:(234)%20567-8900"),
    ("l_dots", "tel:1.234.567.8900"),
    ("l_upper", "TEL:+12345678900"),
];

fn spans(items: &[(&str, &str)]) -> String {
    items
        .iter()
        .map(|(id, text)| format!("<p><span id=\"{id}\" data-t>{text}</span></p>\n"))
        .collect()
}

fn links(items: &[(&str, &str)]) -> String {
    items
        .iter()
        .map(|(id, href)| format!("<p><a id=\"{id}\" href=\"{href}\">Call us</a></p>\n"))
        .collect()
}

/// A dnid, a website, and a pool of `numbers` for that website.
async fn setup(numbers: &[&str], extra: Value) -> (TestServer, Site, String) {
    let dnid = TestServer::start().await;
    let site = Site::start().await;
    let mut fields = json!({ "website_url": site.base() });
    if let (Some(f), Some(e)) = (fields.as_object_mut(), extra.as_object()) {
        f.extend(e.clone());
    }
    let pool = dnid.create_pool(numbers, fields).await;
    (dnid, site, pool)
}

/// The live sessions of a pool, from the admin API.
async fn sessions(dnid: &TestServer, pool: &str) -> Vec<Value> {
    let r = dnid
        .admin("GET", &format!("/api/v1/pools/{pool}/sessions"), None)
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    r.json()["sessions"].as_array().cloned().unwrap_or_default()
}

/// Asserts that every number on the page is still the target.
fn assert_untouched(load: &Load) {
    for (id, text) in FORMATS {
        assert_eq!(load.text(id), *text, "#{id} must keep the target");
    }
    for (id, href) in TEL_LINKS {
        assert_eq!(load.href(id), *href, "#{id} must keep the target");
    }
    assert_eq!(load.report["title"], "Shop - call 234-567-8900");
}

fn standard_body() -> String {
    format!("{}{}", spans(FORMATS), links(TEL_LINKS))
}

/// Loads one page of the site with a fresh profile and a desktop user agent.
async fn load_once(chrome: &Chrome, url: &str) -> Load {
    chrome
        .load(&Profile::new(), url, SETTLE, Agent::Desktop)
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_format_of_the_target_is_swapped_in_the_same_style() {
    let chrome = browser_or_skip!("every_format_of_the_target_is_swapped_in_the_same_style");
    let (dnid, site, pool) = setup(&[FIRST], json!({})).await;
    let body = format!(
        "{}{}{}
        <p><a id=\"l_ext\" href=\"tel:+12345678900;ext=12\">ext</a></p>
        <p><a id=\"l_text\" data-t href=\"tel:+12345678900\">+1 (234) 567-8900</a></p>
        <p><a id=\"l_other\" href=\"tel:+12345678901\">other</a></p>
        <p><a id=\"l_page\" href=\"/contact\">contact</a></p>
        <p id=\"p_two\" data-t>Sales 234-567-8900, support +1&nbsp;234&nbsp;567&nbsp;8900.</p>",
        spans(FORMATS),
        spans(LOOKALIKES),
        links(TEL_LINKS),
    );
    let tag = snippet_tag(&snippet_src(&dnid.base), &pool, TARGET);
    site.page("/", page(&tag, &body));

    let load = load_once(&chrome, &site.url("/")).await;
    load.assert_quiet();

    let answer = load.answer();
    assert_eq!(answer["number"], FIRST, "{}", load.report);
    assert_eq!(answer["leased"], true);
    assert_eq!(answer["result"], "new");
    assert_eq!(load.report["events"], json!(["new"]));
    for (id, text) in FORMATS {
        assert_eq!(
            load.text(id),
            restyle(text, "5550001001"),
            "#{id}: {text:?}"
        );
    }
    for (id, text) in LOOKALIKES {
        assert_eq!(load.text(id), *text, "#{id} is not the target");
    }
    for (id, href) in TEL_LINKS {
        assert_eq!(load.href(id), "tel:+15550001001", "#{id}: {href}");
    }
    assert_eq!(load.href("l_ext"), "tel:+15550001001;ext=12");
    assert_eq!(load.href("l_text"), "tel:+15550001001");
    assert_eq!(load.text("l_text"), "+1 (555) 000-1001");
    assert_eq!(load.href("l_other"), "tel:+12345678901");
    assert_eq!(load.href("l_page"), "/contact");
    assert_eq!(
        load.text("p_two"),
        "Sales 555-000-1001, support +1\u{a0}555\u{a0}000\u{a0}1001."
    );
    assert_eq!(load.report["title"], "Shop - call 555-000-1001");

    // The session holds the number shown, and counted this page.
    let sessions = sessions(&dnid, &pool).await;
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    assert_eq!(sessions[0]["number"], FIRST);
    assert_eq!(sessions[0]["pages_viewed"], 1);
    assert_eq!(sessions[0]["session_id"], answer["session_id"]);
    assert_eq!(load.cookie_sid().as_deref(), answer["session_id"].as_str());
    assert_eq!(load.stored_sid().as_deref(), answer["session_id"].as_str());
    dnid.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn code_form_fields_and_noswap_areas_are_left_alone() {
    let chrome = browser_or_skip!("code_form_fields_and_noswap_areas_are_left_alone");
    let (dnid, site, pool) = setup(&[FIRST], json!({})).await;
    let body = r#"
        <script type="text/plain" id="c_script" data-t>call 234-567-8900</script>
        <script id="c_script_js" data-t>var phone = "234-567-8900";</script>
        <style id="c_style" data-t>.x::after { content: "234-567-8900"; }</style>
        <textarea id="c_textarea" data-t>234-567-8900</textarea>
        <input id="c_input" data-t value="234-567-8900">
        <div data-dni-noswap>
          <p id="c_noswap" data-t>Call <b>234-567-8900</b></p>
          <a id="c_noswap_link" href="tel:+12345678900">call</a>
        </div>
        <p id="c_noswap_self" data-dni-noswap data-t>234-567-8900</p>
        <a id="c_noswap_self_link" data-dni-noswap href="tel:+12345678900">call</a>
        <p id="c_control" data-t>234-567-8900</p>
        <a id="c_control_link" href="tel:+12345678900">call</a>
    "#;
    let tag = snippet_tag(&snippet_src(&dnid.base), &pool, TARGET);
    site.page("/", page(&tag, body));

    let load = load_once(&chrome, &site.url("/")).await;
    load.assert_quiet();
    assert_eq!(load.answer()["number"], FIRST, "{}", load.report);
    assert_eq!(load.text("c_control"), "555-000-1001");
    assert_eq!(load.href("c_control_link"), "tel:+15550001001");
    assert_eq!(load.text("c_script"), "call 234-567-8900");
    assert_eq!(load.text("c_script_js"), "var phone = \"234-567-8900\";");
    assert_eq!(
        load.text("c_style"),
        ".x::after { content: \"234-567-8900\"; }"
    );
    assert_eq!(load.text("c_textarea"), "234-567-8900");
    assert_eq!(load.text("c_input"), "234-567-8900");
    assert_eq!(load.text("c_noswap"), "Call 234-567-8900");
    assert_eq!(load.href("c_noswap_link"), "tel:+12345678900");
    assert_eq!(load.text("c_noswap_self"), "234-567-8900");
    assert_eq!(load.href("c_noswap_self_link"), "tel:+12345678900");
    dnid.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_added_after_the_answer_is_swapped() {
    let chrome = browser_or_skip!("content_added_after_the_answer_is_swapped");
    let (dnid, site, pool) = setup(&[FIRST], json!({})).await;
    let body = r#"
        <div id="box"></div>
        <p id="late_chardata" data-t>Call nobody</p>
        <p id="late_text" data-t>Or call </p>
        <a id="late_href" href="/contact">call</a>
        <div id="noswap_box" data-dni-noswap></div>
        <script>
          document.addEventListener('dnid', function () {
            setTimeout(function () {
              document.getElementById('box').innerHTML =
                '<p id="late_inner" data-t>Call (234) 567-8900</p>' +
                '<a id="late_link" href="tel:2345678900">call</a>';
              var p = document.createElement('p');
              p.id = 'late_append';
              p.setAttribute('data-t', '');
              p.appendChild(document.createTextNode('1-234-567-8900'));
              document.body.appendChild(p);
              document.getElementById('noswap_box').innerHTML =
                '<p id="late_noswap" data-t>234-567-8900</p>';
            }, 100);
            setTimeout(function () {
              document.getElementById('late_chardata').firstChild.data = 'Call 234.567.8900';
              document.getElementById('late_text')
                .appendChild(document.createTextNode('+1 234 567 8900'));
              document.getElementById('late_href').setAttribute('href', 'tel:+1 234 567 8900');
            }, 400);
          });
        </script>
    "#;
    let tag = snippet_tag(&snippet_src(&dnid.base), &pool, TARGET);
    site.page("/", page(&tag, body));

    let load = load_once(&chrome, &site.url("/")).await;
    load.assert_quiet();
    assert_eq!(load.answer()["number"], FIRST, "{}", load.report);
    assert_eq!(load.text("late_inner"), "Call (555) 000-1001");
    assert_eq!(load.href("late_link"), "tel:+15550001001");
    assert_eq!(load.text("late_append"), "1-555-000-1001");
    assert_eq!(load.text("late_noswap"), "234-567-8900");
    assert_eq!(load.text("late_chardata"), "Call 555.000.1001");
    assert_eq!(load.text("late_text"), "Or call +1 555 000 1001");
    assert_eq!(load.href("late_href"), "tel:+15550001001");
    dnid.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_page_view_keeps_the_same_number() {
    let chrome = browser_or_skip!("a_second_page_view_keeps_the_same_number");
    let (dnid, site, pool) = setup(&[FIRST, SECOND], json!({})).await;
    let tag = snippet_tag(&snippet_src(&dnid.base), &pool, TARGET);
    site.page("/", page(&tag, &standard_body()));
    site.page("/pricing", page(&tag, &standard_body()));

    let visitor = Profile::new();
    let first = chrome
        .load(&visitor, &site.url("/"), SETTLE, Agent::Desktop)
        .await;
    first.assert_quiet();
    assert_eq!(first.answer()["number"], FIRST, "{}", first.report);
    assert_eq!(first.answer()["result"], "new");
    let sid = first.cookie_sid().expect("the session id is in a cookie");
    assert_eq!(first.stored_sid().as_deref(), Some(sid.as_str()));

    // The same visitor (same cookies and localStorage), another page.
    let second = chrome
        .load(&visitor, &site.url("/pricing"), SETTLE, Agent::Desktop)
        .await;
    second.assert_quiet();
    assert_eq!(second.answer()["number"], FIRST, "{}", second.report);
    assert_eq!(second.answer()["result"], "sticky");
    assert_eq!(second.answer()["session_id"], sid.as_str());
    assert_eq!(second.text("f_parens"), "(555) 000-1001");

    // Another visitor gets the other number.
    let other = chrome
        .load(&Profile::new(), &site.url("/"), SETTLE, Agent::Desktop)
        .await;
    other.assert_quiet();
    assert_eq!(other.answer()["number"], SECOND, "{}", other.report);
    assert_eq!(other.text("f_parens"), "(555) 000-1002");

    let sessions = sessions(&dnid, &pool).await;
    assert_eq!(sessions.len(), 2, "{sessions:?}");
    let mine = sessions
        .iter()
        .find(|s| s["session_id"] == sid.as_str())
        .expect("the first visitor's session");
    assert_eq!(mine["number"], FIRST);
    assert_eq!(mine["pages_viewed"], 2);
    dnid.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn utm_and_gclid_of_the_landing_page_reach_the_session() {
    let chrome = browser_or_skip!("utm_and_gclid_of_the_landing_page_reach_the_session");
    let (dnid, site, pool) = setup(&[FIRST], json!({})).await;
    let landing = "/landing?utm_source=google&utm_medium=cpc&utm_campaign=spring_sale\
                   &utm_term=emergency%20plumber&utm_content=ad-1&gclid=TeSt-gclid_123";
    // The visitor arrives from another page of the site: that is the referrer.
    site.page(
        "/from",
        page(
            "",
            &format!("<script>location.href = '{landing}';</script>"),
        ),
    );
    let tag = snippet_tag(&snippet_src(&dnid.base), &pool, TARGET);
    site.page("/landing", page(&tag, &standard_body()));

    let load = load_once(&chrome, &site.url("/from")).await;
    load.assert_quiet();
    assert_eq!(load.report["url"], site.url(landing), "{}", load.report);
    assert_eq!(load.answer()["number"], FIRST, "{}", load.report);

    let sessions = sessions(&dnid, &pool).await;
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    let a = &sessions[0]["attribution"];
    assert_eq!(a["utm_source"], "google", "{a}");
    assert_eq!(a["utm_medium"], "cpc");
    assert_eq!(a["utm_campaign"], "spring_sale");
    assert_eq!(a["utm_term"], "emergency plumber");
    assert_eq!(a["utm_content"], "ad-1");
    assert_eq!(a["gclid"], "TeSt-gclid_123");
    assert_eq!(a["landing_page"], site.url(landing));
    assert_eq!(a["referrer"], site.url("/from"));
    assert_eq!(a["user_agent"], common::BROWSER_UA);
    dnid.shutdown().await;
}

/// A pool whose only number is taken, with this exhaustion policy.
async fn exhausted(policy: &str) -> (TestServer, Site, String) {
    let (dnid, site, pool) = setup(&[FIRST], json!({ "exhaustion_policy": policy })).await;
    let taken = dnid
        .new_session(&pool, None, "https://elsewhere.example/")
        .await;
    assert_eq!(taken["number"], FIRST);
    (dnid, site, pool)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exhausted_pool_with_policy_fallback_shows_the_fallback_number() {
    let chrome =
        browser_or_skip!("an_exhausted_pool_with_policy_fallback_shows_the_fallback_number");
    let (dnid, site, pool) = exhausted("fallback").await;
    let tag = snippet_tag(&snippet_src(&dnid.base), &pool, TARGET);
    site.page("/", page(&tag, &standard_body()));

    let load = load_once(&chrome, &site.url("/")).await;
    load.assert_quiet();
    let answer = load.answer();
    assert_eq!(answer["number"], FALLBACK, "{}", load.report);
    assert_eq!(answer["leased"], false);
    assert_eq!(answer["reason"], "exhausted");
    assert_eq!(answer["result"], "fallback");
    for (id, text) in FORMATS {
        assert_eq!(
            load.text(id),
            restyle(text, "8005550100"),
            "#{id}: {text:?}"
        );
    }
    for (id, _) in TEL_LINKS {
        assert_eq!(load.href(id), "tel:+18005550100", "#{id}");
    }
    dnid.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exhausted_pool_with_policy_no_swap_leaves_the_page_alone() {
    let chrome = browser_or_skip!("an_exhausted_pool_with_policy_no_swap_leaves_the_page_alone");
    let (dnid, site, pool) = exhausted("no_swap").await;
    let tag = snippet_tag(&snippet_src(&dnid.base), &pool, TARGET);
    site.page("/", page(&tag, &standard_body()));

    let load = load_once(&chrome, &site.url("/")).await;
    load.assert_quiet();
    let answer = load.answer();
    assert_eq!(answer["result"], "no_swap", "{}", load.report);
    assert_eq!(answer["number"], Value::Null);
    assert_eq!(answer["leased"], false);
    assert_untouched(&load);
    dnid.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bot_gets_the_page_unchanged_and_takes_no_number() {
    let chrome = browser_or_skip!("a_bot_gets_the_page_unchanged_and_takes_no_number");
    let (dnid, site, pool) = setup(&[FIRST], json!({})).await;
    let tag = snippet_tag(&snippet_src(&dnid.base), &pool, TARGET);
    site.page("/", page(&tag, &standard_body()));

    let load = chrome
        .load(&Profile::new(), &site.url("/"), SETTLE, Agent::Headless)
        .await;
    load.assert_quiet();
    assert!(
        load.report["ua"]
            .as_str()
            .unwrap_or_default()
            .contains("HeadlessChrome"),
        "{}",
        load.report
    );
    let answer = load.answer();
    assert_eq!(answer["result"], "bot", "{}", load.report);
    assert_eq!(answer["reason"], "bot");
    assert_eq!(answer["leased"], false);
    assert_untouched(&load);
    assert!(sessions(&dnid, &pool).await.is_empty());
    dnid.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_site_that_is_not_the_pools_website_is_refused_quietly() {
    let chrome = browser_or_skip!("a_site_that_is_not_the_pools_website_is_refused_quietly");
    let (dnid, site, pool) =
        setup(&[FIRST], json!({ "website_url": "https://shop.example" })).await;
    let tag = snippet_tag(&snippet_src(&dnid.base), &pool, TARGET);
    site.page("/", page(&tag, &standard_body()));

    let load = load_once(&chrome, &site.url("/")).await;
    load.assert_quiet();
    assert_eq!(load.report["has_dnid"], true, "{}", load.report);
    assert_eq!(*load.answer(), Value::Null);
    assert_untouched(&load);
    assert!(sessions(&dnid, &pool).await.is_empty());
    dnid.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_server_leaves_the_original_number() {
    let chrome = browser_or_skip!("a_stopped_server_leaves_the_original_number");
    let site = Site::start().await;
    // A port nobody listens on.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let tag = snippet_tag(
        &snippet_src(&format!("http://{closed}")),
        "0123456789abcdef",
        TARGET,
    );
    site.page("/", page(&tag, &standard_body()));

    let load = load_once(&chrome, &site.url("/")).await;
    load.assert_quiet();
    assert_eq!(load.report["has_dnid"], false, "{}", load.report);
    assert_untouched(&load);
}

/// A stand-in for dnid that serves the snippet and does `api` with every API call.
async fn snippet_server(api: Action) -> Stub {
    Stub::start(move |s: Seen| {
        let action = if s.method == "GET" && s.path.ends_with("/snippet.js") {
            Action::Reply(Reply::new(200, "application/javascript", SNIPPET))
        } else {
            api.clone()
        };
        async move { action }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_dies_after_serving_the_snippet_leaves_the_original_number() {
    let chrome =
        browser_or_skip!("a_server_that_dies_after_serving_the_snippet_leaves_the_original_number");
    let site = Site::start().await;
    let api = snippet_server(Action::Close).await;
    let tag = snippet_tag(&snippet_src(&api.base), "0123456789abcdef", TARGET);
    site.page("/", page(&tag, &standard_body()));

    let load = load_once(&chrome, &site.url("/")).await;
    load.assert_quiet();
    assert_eq!(load.report["has_dnid"], true, "{}", load.report);
    assert_eq!(*load.answer(), Value::Null);
    assert_untouched(&load);
    assert!(
        !api.seen_under("/api/v1/tracking/sessions").is_empty(),
        "the snippet asked: {:?}",
        api.seen()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_error_leaves_the_original_number() {
    let chrome = browser_or_skip!("a_server_error_leaves_the_original_number");
    let site = Site::start().await;
    let error = Reply::new(503, "text/html", "<h1>Bad gateway</h1>")
        .header("access-control-allow-origin", "*");
    let api = snippet_server(Action::Reply(error)).await;
    let tag = snippet_tag(&snippet_src(&api.base), "0123456789abcdef", TARGET);
    site.page("/", page(&tag, &standard_body()));

    let load = load_once(&chrome, &site.url("/")).await;
    load.assert_quiet();
    assert_eq!(load.report["has_dnid"], true, "{}", load.report);
    assert_untouched(&load);
    assert_eq!(api.seen_under("/api/v1/tracking/sessions").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_server_is_given_up_after_3_seconds() {
    let chrome = browser_or_skip!("a_slow_server_is_given_up_after_3_seconds");
    let site = Site::start().await;
    let api = snippet_server(Action::Hang).await;
    let tag = snippet_tag(&snippet_src(&api.base), "0123456789abcdef", TARGET);
    // The image holds the load event (and so the dump) for 6 s of real time.
    let hold = Duration::from_secs(6);
    site.route(
        "/slow.gif",
        Action::Delay(hold, Reply::new(200, "image/gif", "GIF89a")),
    );
    let body = format!("{}<img src=\"/slow.gif\" alt=\"\">", standard_body());
    site.page("/", page(&tag, &body));

    let load = chrome
        .load(
            &Profile::new(),
            &site.url("/"),
            Budget::UntilLoad,
            Agent::Desktop,
        )
        .await;
    load.assert_quiet();
    assert_eq!(load.report["has_dnid"], true, "{}", load.report);
    assert_eq!(*load.answer(), Value::Null);
    assert_untouched(&load);
    assert_eq!(api.seen_under("/api/v1/tracking/sessions").len(), 1);
    // The browser hung up on the request at the snippet's timeout, long before the
    // page finished loading (a missing timeout would hang up when Chromium exits).
    let abandoned = api.abandoned();
    assert_eq!(abandoned.len(), 1, "{abandoned:?}");
    assert!(
        abandoned[0] >= Duration::from_secs(2) && abandoned[0] < hold - Duration::from_millis(500),
        "the request was given up after {:?}",
        abandoned[0]
    );
}

/// A proxy in front of dnid that records what the snippet sends, and answers the
/// `fail_pageview`-th page view (0-based) with 404 session_not_found.
async fn recording_proxy(dnid: &TestServer, fail_pageview: Option<usize>) -> Stub {
    let client = http_client();
    let base = dnid.base.clone();
    let pageviews = Arc::new(AtomicUsize::new(0));
    Stub::start(move |s: Seen| {
        let (client, base, pageviews) = (client.clone(), base.clone(), pageviews.clone());
        async move {
            if s.path.ends_with("/pageviews")
                && Some(pageviews.fetch_add(1, Ordering::SeqCst)) == fail_pageview
            {
                let origin = s.header("origin").to_string();
                return Action::Reply(
                    Reply::json(
                        404,
                        json!({"error": {"code": "session_not_found", "message": "session not found"}}),
                    )
                    .header("access-control-allow-origin", &origin),
                );
            }
            Action::Reply(forward(&client, &base, &s).await)
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeats_renew_and_a_lost_session_starts_a_new_one() {
    let chrome = browser_or_skip!("heartbeats_renew_and_a_lost_session_starts_a_new_one");
    let (dnid, site, pool) = setup(&[FIRST, SECOND], json!({})).await;
    let proxy = recording_proxy(&dnid, Some(1)).await;
    let tag = snippet_tag(&snippet_src(&proxy.base), &pool, TARGET);
    site.page("/", page(&tag, &standard_body()));

    // 130 s of virtual time: heartbeats at 60 s and 120 s.
    let load = chrome
        .load(
            &Profile::new(),
            &site.url("/"),
            Budget::Virtual(130_000),
            Agent::Desktop,
        )
        .await;
    load.assert_quiet();

    let api: Vec<Seen> = proxy
        .seen()
        .into_iter()
        .filter(|s| !s.path.ends_with("/snippet.js"))
        .collect();
    let summary: Vec<String> = api
        .iter()
        .map(|s| {
            format!(
                "{} {} {}",
                s.method,
                s.path,
                String::from_utf8_lossy(&s.body)
            )
        })
        .collect();
    assert_eq!(api.len(), 4, "{summary:#?}");
    for s in &api {
        assert_eq!(s.method, "POST", "no CORS preflight: {summary:#?}");
        assert!(
            s.header("content-type").starts_with("text/plain"),
            "{summary:#?}"
        );
        assert_eq!(s.header("origin"), site.base());
    }
    // 1. The page load starts a session.
    let start = api[0].json();
    assert_eq!(api[0].path, "/api/v1/tracking/sessions");
    assert_eq!(start["pool_id"], pool.as_str());
    assert_eq!(start["page_url"], site.url("/"));
    assert_eq!(start["referrer"], "");
    assert!(
        start["session_id"].as_str().unwrap_or_default().is_empty(),
        "{start}"
    );
    let sessions_now = sessions(&dnid, &pool).await;
    let first_sid = sessions_now
        .iter()
        .find(|s| s["number"] == FIRST)
        .expect("the first session")["session_id"]
        .as_str()
        .unwrap()
        .to_string();
    // 2. A heartbeat a minute later.
    assert_eq!(
        api[1].path,
        format!("/api/v1/tracking/sessions/{first_sid}/pageviews")
    );
    assert_eq!(api[1].json(), json!({"heartbeat": true}));
    // 3. The next one is answered 404 ...
    assert_eq!(api[2].path, api[1].path);
    // 4. ... so the snippet starts a new session, without the lost id.
    assert_eq!(api[3].path, "/api/v1/tracking/sessions");
    assert!(api[3].json()["session_id"]
        .as_str()
        .unwrap_or_default()
        .is_empty());

    // The page now shows the new session's number (the first is still leased to the
    // lost session), in the page's styles, and keeps the new id.
    let answer = load.answer();
    assert_eq!(answer["number"], SECOND, "{}", load.report);
    assert_eq!(answer["result"], "new");
    assert_ne!(answer["session_id"], first_sid.as_str());
    assert_eq!(load.cookie_sid().as_deref(), answer["session_id"].as_str());
    assert_eq!(load.report["events"].as_array().map(Vec::len), Some(3));
    for (id, text) in FORMATS {
        assert_eq!(
            load.text(id),
            restyle(text, "5550001002"),
            "#{id}: {text:?}"
        );
    }
    for (id, _) in TEL_LINKS {
        assert_eq!(load.href(id), "tel:+15550001002", "#{id}");
    }
    assert_eq!(load.report["title"], "Shop - call 555-000-1002");
    dnid.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_stored_session_id_is_dropped() {
    let chrome = browser_or_skip!("a_malformed_stored_session_id_is_dropped");
    let (dnid, site, pool) = setup(&[FIRST], json!({})).await;
    let proxy = recording_proxy(&dnid, None).await;
    let tag = snippet_tag(&snippet_src(&proxy.base), &pool, TARGET);
    let head =
        format!("<script>document.cookie = 'dnid_sid=not-a-session-id; path=/';</script>{tag}");
    site.page("/", page(&head, &standard_body()));

    let load = load_once(&chrome, &site.url("/")).await;
    load.assert_quiet();
    let asks = proxy.seen_under("/api/v1/tracking/sessions");
    assert_eq!(asks.len(), 2, "{asks:#?}");
    assert_eq!(asks[0].json()["session_id"], "not-a-session-id");
    assert!(asks[1].json()["session_id"]
        .as_str()
        .unwrap_or_default()
        .is_empty());
    let answer = load.answer();
    assert_eq!(answer["number"], FIRST, "{}", load.report);
    assert_eq!(answer["result"], "new");
    assert_eq!(load.cookie_sid().as_deref(), answer["session_id"].as_str());
    assert_eq!(load.text("f_dashes"), "555-000-1001");
    dnid.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dnid_swap_swaps_what_the_page_renders_itself() {
    let chrome = browser_or_skip!("dnid_swap_swaps_what_the_page_renders_itself");
    let (dnid, site, pool) = setup(&[FIRST], json!({})).await;
    // A shadow root and a detached element: the snippet's observer sees neither.
    let body = r#"
        <div id="host"></div>
        <p id="shadow_before" data-t data-dni-noswap></p>
        <p id="shadow_after" data-t data-dni-noswap></p>
        <p id="detached_after" data-t data-dni-noswap></p>
        <p id="text_after" data-t data-dni-noswap></p>
        <script>
          var shadow = document.getElementById('host').attachShadow({ mode: 'open' });
          shadow.innerHTML = '<p>Call (234) 567-8900</p><a href="tel:2345678900">call</a>';
          function show(id, v) { document.getElementById(id).textContent = v; }
          function dump(root) {
            return root.querySelector('p').textContent + ' ' +
              root.querySelector('a').getAttribute('href');
          }
          document.addEventListener('dnid', function () {
            setTimeout(function () {
              show('shadow_before', dump(shadow));
              window.dnid.swap(shadow);
              show('shadow_after', dump(shadow));
              var el = document.createElement('div');
              el.innerHTML = '<p>Call 234.567.8900</p><a href="tel:+12345678900">call</a>';
              window.dnid.swap(el);
              show('detached_after', dump(el));
              var t = document.createTextNode('+1 234 567 8900');
              window.dnid.swap(t);
              show('text_after', t.data);
            }, 100);
          });
        </script>
    "#;
    let tag = snippet_tag(&snippet_src(&dnid.base), &pool, TARGET);
    site.page("/", page(&tag, body));

    let load = load_once(&chrome, &site.url("/")).await;
    load.assert_quiet();
    assert_eq!(load.answer()["number"], FIRST, "{}", load.report);
    assert_eq!(
        load.text("shadow_before"),
        "Call (234) 567-8900 tel:2345678900"
    );
    assert_eq!(
        load.text("shadow_after"),
        "Call (555) 000-1001 tel:+15550001001"
    );
    assert_eq!(
        load.text("detached_after"),
        "Call 555.000.1001 tel:+15550001001"
    );
    assert_eq!(load.text("text_after"), "+1 555 000 1001");
    dnid.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_page_swaps_the_number_for_a_new_user() {
    let chrome = browser_or_skip!("the_demo_page_swaps_the_number_for_a_new_user");
    let dnid = TestServer::start_with(|c| c.demo = true).await;
    let url = format!("{}/demo", dnid.base);
    let visitor = Profile::new();
    let (dom, stderr) = chrome.dump(&visitor, &url, SETTLE, Agent::Desktop).await;
    assert!(
        dom.contains(r#"<span class="phone">(202) 555-0101</span>"#),
        "the first demo number is shown in the page's style:\n{dom}\n{stderr}"
    );
    assert!(dom.contains("tel:+12025550101"), "{dom}");
    assert!(
        dom.contains("Our printed flyer says (202) 555-0100"),
        "the no-swap line keeps the original: {dom}"
    );
    assert!(
        dom.contains("Your tracking number: +1 (202) 555-0101"),
        "{dom}"
    );
    // Reloading keeps the number.
    let (again, _) = chrome.dump(&visitor, &url, SETTLE, Agent::Desktop).await;
    assert!(again.contains("(202) 555-0101</span>"), "{again}");
    assert!(again.contains("session sticky"), "{again}");
    // The demo pool survives a restart without being created twice.
    let dnid = dnid.restart_with(|c| c.demo = true).await;
    let pools = dnid.admin("GET", "/api/v1/pools", None).await.json();
    assert_eq!(pools["pools"].as_array().unwrap().len(), 1, "{pools}");
    dnid.shutdown().await;
}
