//! Calls end to end: Twilio webhooks (signed), TwiML, attribution statuses, repeat
//! callers, the call log (filters, pages, CSV) and signed post-call webhooks with
//! retries across a restart.

mod common;

use common::{TestServer, TOKEN};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const TWILIO_TOKEN: &str = "twilio-test-auth-token";
const PUBLIC: &str = "https://dnid.example.com";

async fn server() -> TestServer {
    TestServer::start_with(|c| {
        c.public_url = Some(PUBLIC.into());
        c.twilio_auth_token = Some(dnid::config::Secret(TWILIO_TOKEN.into()));
    })
    .await
}

fn form(params: &[(&str, &str)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        s.append_pair(k, v);
    }
    s.finish()
}

/// POSTs a Twilio webhook signed as Twilio would sign it (or with `signature`).
async fn twilio(
    s: &TestServer,
    path: &str,
    params: &[(&str, &str)],
    signature: Option<&str>,
) -> common::Reply {
    let owned: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let sig = signature.map(str::to_string).unwrap_or_else(|| {
        dnid::calls::twilio::signature(TWILIO_TOKEN, &format!("{PUBLIC}{path}"), &owned)
    });
    s.raw(
        "POST",
        path,
        &[
            ("content-type", "application/x-www-form-urlencoded"),
            ("x-twilio-signature", &sig),
        ],
        form(params),
    )
    .await
}

async fn voice(s: &TestServer, to: &str, from: &str, sid: &str) -> common::Reply {
    twilio(
        s,
        "/api/v1/telephony/twilio/voice",
        &[
            ("CallSid", sid),
            ("To", to),
            ("From", from),
            ("CallStatus", "ringing"),
            ("AccountSid", "AC1"),
        ],
        None,
    )
    .await
}

async fn calls(s: &TestServer, query: &str) -> Value {
    let r = s.admin("GET", &format!("/api/v1/calls{query}"), None).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    r.json()
}

/// The attributes of the first element named `tag`, and its text.
fn xml_element(xml: &str, tag: &str) -> Option<(Vec<(String, String)>, String)> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut found: Option<(Vec<(String, String)>, String)> = None;
    loop {
        match reader.read_event().expect("TwiML parses as XML") {
            Event::Start(e) | Event::Empty(e)
                if found.is_none() && e.name().as_ref() == tag.as_bytes() =>
            {
                let attrs = e
                    .attributes()
                    .map(|a| {
                        let a = a.unwrap();
                        (
                            String::from_utf8(a.key.as_ref().to_vec()).unwrap(),
                            a.unescape_value().unwrap().into_owned(),
                        )
                    })
                    .collect();
                found = Some((attrs, String::new()));
            }
            Event::Text(t) => {
                if let Some((_, text)) = found.as_mut() {
                    if text.is_empty() {
                        *text = t.decode().unwrap().into_owned();
                    }
                }
            }
            Event::Eof => return found,
            _ => {}
        }
    }
}

fn attr<'a>(attrs: &'a [(String, String)], name: &str) -> &'a str {
    attrs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_default()
}

async fn flow_and_pool(s: &TestServer, policy: &str) -> (String, String) {
    let f = s
        .admin(
            "POST",
            "/api/v1/call-flows",
            Some(json!({"name": "Sales", "forward_to": "(415) 555-0199", "ring_timeout_secs": 25, "record": true})),
        )
        .await;
    assert_eq!(f.status, 201, "{}", String::from_utf8_lossy(&f.body));
    let flow = f.json()["id"].as_str().unwrap().to_string();
    let pool = s
        .create_pool(
            &["+15550001001", "+15550001002"],
            json!({"call_flow_id": flow, "exhaustion_policy": policy}),
        )
        .await;
    (flow, pool)
}

#[tokio::test]
async fn a_signed_twilio_call_is_attributed_with_every_field_and_dialled_by_the_flow() {
    let s = server().await;
    let (_, pool) = flow_and_pool(&s, "fallback").await;
    let landing = "https://shop.example/spring?utm_source=google&utm_medium=cpc&utm_campaign=spring&utm_term=boots&utm_content=ad2&gclid=GCLID1&fbclid=FB1&msclkid=MS1";
    let session = s
        .public(
            "POST",
            "/api/v1/tracking/sessions",
            json!({"pool_id": pool, "page_url": landing, "referrer": "https://www.google.com/"}),
        )
        .await
        .json();
    let number = session["number"].as_str().unwrap().to_string();
    s.clock.advance(120);
    s.page_view(session["session_id"].as_str().unwrap()).await;
    s.clock.advance(30);

    let r = voice(&s, &number, "+14155550123", "CA0001").await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert!(r.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/xml"));
    let xml = String::from_utf8(r.body.to_vec()).unwrap();
    let (dial, _) = xml_element(&xml, "Dial").expect("a Dial");
    assert_eq!(attr(&dial, "timeout"), "25");
    assert_eq!(attr(&dial, "record"), "record-from-answer");
    assert_eq!(
        attr(&dial, "action"),
        format!("{PUBLIC}/api/v1/telephony/twilio/status")
    );
    let (_, to) = xml_element(&xml, "Number").expect("a Number");
    assert_eq!(to, "+14155550199");

    let log = calls(&s, "").await;
    let c = &log["calls"][0];
    assert_eq!(c["status"], "attributed");
    assert_eq!(c["provider"], "twilio");
    assert_eq!(c["provider_call_id"], "CA0001");
    assert_eq!(c["pool_id"], pool.as_str());
    assert_eq!(c["tracking_number"], number.as_str());
    assert_eq!(c["caller_number"], "+14155550123");
    assert_eq!(c["first_call"], true);
    assert_eq!(c["prior_calls"], 0);
    assert_eq!(c["forwarded_to"], "+14155550199");
    let sess = &c["session"];
    assert_eq!(sess["session_id"], session["session_id"]);
    assert_eq!(sess["pages_viewed"], 2);
    assert_eq!(sess["duration_secs"], 120);
    let a = &sess["attribution"];
    for (k, v) in [
        ("utm_source", "google"),
        ("utm_medium", "cpc"),
        ("utm_campaign", "spring"),
        ("utm_term", "boots"),
        ("utm_content", "ad2"),
        ("gclid", "GCLID1"),
        ("fbclid", "FB1"),
        ("msclkid", "MS1"),
        ("landing_page", landing),
        ("referrer", "https://www.google.com/"),
        ("ip", "127.0.0.1"),
        ("user_agent", common::BROWSER_UA),
    ] {
        assert_eq!(a[k], v, "{k}");
    }

    // Twilio reports the outcome.
    let st = twilio(
        &s,
        "/api/v1/telephony/twilio/status",
        &[
            ("CallSid", "CA0001"),
            ("DialCallStatus", "completed"),
            ("DialCallDuration", "42"),
        ],
        None,
    )
    .await;
    assert_eq!(st.status, 200);
    assert!(xml_element(std::str::from_utf8(&st.body).unwrap(), "Hangup").is_some());
    let c = &calls(&s, "").await["calls"][0];
    assert_eq!(c["call_status"], "completed");
    assert_eq!(c["duration_secs"], 42);

    // A second call from the same caller.
    voice(&s, &number, "+14155550123", "CA0002").await;
    let c = &calls(&s, "").await["calls"][0];
    assert_eq!(c["provider_call_id"], "CA0002");
    assert_eq!(c["prior_calls"], 1);
    assert_eq!(c["first_call"], false);
    // Twilio retrying the same webhook does not log the call twice.
    voice(&s, &number, "+14155550123", "CA0002").await;
    assert_eq!(calls(&s, "").await["calls"].as_array().unwrap().len(), 2);
    s.shutdown().await;
}

#[tokio::test]
async fn bad_signatures_unknown_numbers_and_bad_forms_record_nothing() {
    let s = server().await;
    let (_, _pool) = flow_and_pool(&s, "fallback").await;
    let params = [
        ("CallSid", "CA9"),
        ("To", "+15550001001"),
        ("From", "+14155550123"),
    ];
    let r = twilio(
        &s,
        "/api/v1/telephony/twilio/voice",
        &params,
        Some("bm90IGEgc2lnbmF0dXJl"),
    )
    .await;
    assert_eq!((r.status, r.code().as_str()), (403, "invalid_signature"));
    // A signature over other parameters.
    let other: Vec<(String, String)> = [
        ("CallSid", "CA9"),
        ("To", "+15550001002"),
        ("From", "+14155550123"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let sig = dnid::calls::twilio::signature(
        TWILIO_TOKEN,
        &format!("{PUBLIC}/api/v1/telephony/twilio/voice"),
        &other,
    );
    let r = twilio(&s, "/api/v1/telephony/twilio/voice", &params, Some(&sig)).await;
    assert_eq!(r.status, 403);
    let r = s
        .raw(
            "POST",
            "/api/v1/telephony/twilio/voice",
            &[("content-type", "application/x-www-form-urlencoded")],
            form(&params),
        )
        .await;
    assert_eq!(r.status, 403, "no signature");
    // Unknown number: polite TwiML, nothing recorded.
    let r = voice(&s, "+19995550000", "+14155550123", "CA10").await;
    assert_eq!(r.status, 200);
    let xml = String::from_utf8(r.body.to_vec()).unwrap();
    assert!(
        xml_element(&xml, "Say").is_some() && xml_element(&xml, "Hangup").is_some(),
        "{xml}"
    );
    // Malformed forms.
    let r = twilio(
        &s,
        "/api/v1/telephony/twilio/voice",
        &[("CallSid", "CA11"), ("From", "+1415")],
        None,
    )
    .await;
    assert_eq!((r.status, r.code().as_str()), (400, "missing_field"));
    let r = twilio(
        &s,
        "/api/v1/telephony/twilio/voice",
        &[("CallSid", "CA12"), ("To", "not a number"), ("From", "x")],
        None,
    )
    .await;
    assert_eq!((r.status, r.code().as_str()), (400, "invalid_number"));
    let r = s
        .raw(
            "POST",
            "/api/v1/telephony/twilio/voice",
            &[("content-type", "application/json")],
            "{}",
        )
        .await;
    assert_eq!(r.status, 415);
    assert_eq!(calls(&s, "").await["calls"], json!([]));
    s.shutdown().await;
}

#[tokio::test]
async fn late_unattributed_ambiguous_and_fallback_calls() {
    let s = server().await;
    let pool = s
        .create_pool(
            &["+15550001001"],
            json!({"exhaustion_policy": "recycle_oldest", "attribution_window_secs": 3600}),
        )
        .await;
    let a = s
        .new_session(&pool, None, "https://shop.example/?utm_source=a")
        .await;
    // The lease expires; a call 10 minutes later is late.
    s.clock.advance(1800 + 600);
    let late = s
        .admin(
            "POST",
            "/api/v1/calls",
            Some(json!({"tracking_number": "+15550001001", "caller_number": "+14155550001"})),
        )
        .await;
    assert_eq!(late.status, 201, "{}", String::from_utf8_lossy(&late.body));
    assert_eq!(late.json()["status"], "late");
    assert_eq!(late.json()["session"]["session_id"], a["session_id"]);
    // After the window: unattributed.
    s.clock.advance(3600);
    let none = s
        .admin(
            "POST",
            "/api/v1/calls",
            Some(json!({"tracking_number": "+15550001001", "caller_number": "+14155550002"})),
        )
        .await
        .json();
    assert_eq!(none["status"], "unattributed");
    assert_eq!(none["session"], Value::Null);
    // Recycled: b holds it, c takes it from b; a call now has two candidates.
    let b = s
        .new_session(&pool, None, "https://shop.example/?utm_source=b")
        .await;
    s.clock.advance(5);
    let c = s
        .new_session(&pool, None, "https://shop.example/?utm_source=c")
        .await;
    assert_eq!(c["result"], "recycled");
    let amb = s
        .admin(
            "POST",
            "/api/v1/calls",
            Some(json!({"tracking_number": "+15550001001", "caller_number": "+14155550003"})),
        )
        .await
        .json();
    assert_eq!(amb["status"], "ambiguous");
    assert_eq!(amb["session"]["session_id"], c["session_id"]);
    assert_eq!(amb["other_session"]["session_id"], b["session_id"]);
    // The pool's fallback number.
    let fb = s
        .admin(
            "POST",
            "/api/v1/calls",
            Some(json!({"tracking_number": "+18005550100", "caller_number": "+14155550004"})),
        )
        .await
        .json();
    assert_eq!(fb["status"], "fallback");
    assert_eq!(fb["pool_id"], pool.as_str());
    // Unknown number through the API: 404, nothing recorded.
    let r = s
        .admin(
            "POST",
            "/api/v1/calls",
            Some(json!({"tracking_number": "+19995550000", "caller_number": "+14155550004"})),
        )
        .await;
    assert_eq!((r.status, r.code().as_str()), (404, "number_not_found"));
    let r = s
        .admin(
            "POST",
            "/api/v1/calls",
            Some(json!({"tracking_number": "+15550001001", "caller_number": "nobody"})),
        )
        .await;
    assert_eq!((r.status, r.code().as_str()), (400, "invalid_number"));
    // Filters and pages.
    assert_eq!(calls(&s, "").await["calls"].as_array().unwrap().len(), 4);
    assert_eq!(
        calls(&s, "?status=late").await["calls"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        calls(&s, "?caller=%2B14155550004").await["calls"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let page1 = calls(&s, "?limit=3").await;
    assert_eq!(page1["calls"].as_array().unwrap().len(), 3);
    assert_eq!(page1["calls"][0]["status"], "fallback", "newest first");
    let cursor = page1["next_cursor"].as_str().unwrap();
    let page2 = calls(&s, &format!("?limit=3&cursor={cursor}")).await;
    assert_eq!(page2["calls"].as_array().unwrap().len(), 1);
    assert_eq!(page2["calls"][0]["status"], "late");
    assert_eq!(page2["next_cursor"], Value::Null);
    let r = s.admin("GET", "/api/v1/calls?status=maybe", None).await;
    assert_eq!((r.status, r.code().as_str()), (400, "invalid_query"));
    s.shutdown().await;
}

#[tokio::test]
async fn csv_export_round_trips_commas_quotes_and_newlines() {
    let s = server().await;
    let pool = s.create_pool(&["+15550001001"], json!({})).await;
    let campaign = "spring, \"big\" sale\nline two";
    let landing = format!(
        "https://shop.example/?utm_source=news,letter&utm_campaign={}",
        url::form_urlencoded::byte_serialize(campaign.as_bytes()).collect::<String>()
    );
    s.new_session(&pool, None, &landing).await;
    s.admin("POST", "/api/v1/calls", Some(json!({"tracking_number": "+15550001001", "caller_number": "+14155550001", "duration_secs": 61})))
        .await;
    let r = s.admin("GET", "/api/v1/calls?format=csv", None).await;
    assert_eq!(r.status, 200);
    assert!(r.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let mut rd = csv::Reader::from_reader(&r.body[..]);
    let headers = rd.headers().unwrap().clone();
    assert_eq!(
        headers.iter().collect::<Vec<_>>(),
        dnid::calls::export::columns()
    );
    assert_eq!(
        headers.len(),
        34,
        "14 call, 14 attribution, 6 session columns"
    );
    assert!(headers.iter().any(|h| h == "visitor_ip"));
    let rows: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 1);
    let col = |name: &str| rows[0][headers.iter().position(|h| h == name).unwrap()].to_string();
    assert_eq!(col("utm_campaign"), campaign);
    assert_eq!(col("utm_source"), "news,letter");
    assert_eq!(col("landing_page"), landing);
    assert_eq!(col("attribution_status"), "attributed");
    assert_eq!(col("duration_secs"), "61");
    assert_eq!(col("user_agent"), common::BROWSER_UA);
    s.shutdown().await;
}

#[tokio::test]
async fn call_flows_are_validated_and_cannot_be_deleted_while_used() {
    let s = server().await;
    let (flow, pool) = flow_and_pool(&s, "fallback").await;
    let r = s
        .admin("DELETE", &format!("/api/v1/call-flows/{flow}"), None)
        .await;
    assert_eq!((r.status, r.code().as_str()), (409, "call_flow_in_use"));
    assert!(r.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains(&pool));
    for (body, code) in [
        (json!({"name": "x", "forward_to": "nope"}), "invalid_number"),
        (
            json!({"name": "", "forward_to": "+14155550199"}),
            "invalid_setting",
        ),
        (
            json!({"name": "x", "forward_to": "+14155550199", "ring_timeout_secs": 1}),
            "invalid_setting",
        ),
        (json!({"forward_to": "+14155550199"}), "missing_field"),
        (
            json!({"name": "x", "forward_to": "+14155550199", "colour": "red"}),
            "invalid_request",
        ),
    ] {
        let r = s
            .admin("POST", "/api/v1/call-flows", Some(body.clone()))
            .await;
        assert_eq!((r.status, r.code().as_str()), (400, code), "{body}");
    }
    let r = s
        .admin(
            "PATCH",
            &format!("/api/v1/call-flows/{flow}"),
            Some(json!({"ring_timeout_secs": 40})),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["ring_timeout_secs"], 40);
    assert_eq!(r.json()["forward_to"], "+14155550199");
    // Once no pool uses it, it can go.
    s.admin(
        "PATCH",
        &format!("/api/v1/pools/{pool}"),
        Some(json!({"call_flow_id": null})),
    )
    .await;
    assert_eq!(
        s.admin("DELETE", &format!("/api/v1/call-flows/{flow}"), None)
            .await
            .status,
        204
    );
    assert_eq!(
        s.admin("GET", &format!("/api/v1/call-flows/{flow}"), None)
            .await
            .status,
        404
    );
    let r = s
        .admin(
            "POST",
            "/api/v1/webhooks",
            Some(json!({"pool_id": pool, "url": "ftp://hooks.example/"})),
        )
        .await;
    assert_eq!((r.status, r.code().as_str()), (400, "invalid_url"));
    s.shutdown().await;
}

/// A webhook receiver: fails the first `fail` deliveries with 500, then accepts.
struct Receiver {
    url: String,
    hits: Arc<AtomicUsize>,
    accepted: Arc<Mutex<Vec<(String, String)>>>,
}

async fn receiver(fail: usize) -> Receiver {
    use http_body_util::BodyExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let accepted: Arc<Mutex<Vec<(String, String)>>> = Default::default();
    let (h, a) = (hits.clone(), accepted.clone());
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let (h, a) = (h.clone(), a.clone());
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(
                    move |req: hyper::Request<hyper::body::Incoming>| {
                        let (h, a) = (h.clone(), a.clone());
                        async move {
                            let sig = req.headers()["x-dnid-signature"]
                                .to_str()
                                .unwrap()
                                .to_string();
                            let body = req.into_body().collect().await.unwrap().to_bytes();
                            let n = h.fetch_add(1, Ordering::SeqCst);
                            let status = if n < fail {
                                500
                            } else {
                                a.lock()
                                    .unwrap()
                                    .push((sig, String::from_utf8(body.to_vec()).unwrap()));
                                200
                            };
                            Ok::<_, std::convert::Infallible>(
                                hyper::Response::builder()
                                    .status(status)
                                    .body(http_body_util::Full::new(bytes::Bytes::new()))
                                    .unwrap(),
                            )
                        }
                    },
                );
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    Receiver {
        url,
        hits,
        accepted,
    }
}

/// Waits (bounded) until the receiver has seen `n` requests.
async fn wait_hits(r: &Receiver, n: usize) {
    for _ in 0..400 {
        if r.hits.load(Ordering::SeqCst) >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!(
        "the receiver saw {} requests, not {n}",
        r.hits.load(Ordering::SeqCst)
    );
}

async fn delivery(s: &TestServer) -> Value {
    s.admin("GET", "/api/v1/webhooks/deliveries", None)
        .await
        .json()["deliveries"][0]
        .clone()
}

/// Waits until the delivery log shows `attempts` attempts.
async fn wait_attempts(s: &TestServer, attempts: u64) -> Value {
    for _ in 0..400 {
        let d = delivery(s).await;
        if d["attempts"].as_u64() == Some(attempts) {
            return d;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!(
        "delivery never reached {attempts} attempts: {}",
        delivery(s).await
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_are_signed_retried_across_a_restart_and_delivered_once() {
    let recv = receiver(2).await;
    let s = server().await;
    let pool = s.create_pool(&["+15550001001"], json!({})).await;
    let hook = s
        .admin(
            "POST",
            "/api/v1/webhooks",
            Some(json!({"pool_id": pool, "url": recv.url})),
        )
        .await;
    assert_eq!(hook.status, 201, "{}", String::from_utf8_lossy(&hook.body));
    let secret = hook.json()["secret"].as_str().unwrap().to_string();
    let listed = s.admin("GET", "/api/v1/webhooks", None).await.json();
    assert_eq!(
        listed["webhooks"][0]["secret"],
        Value::Null,
        "the secret is shown once"
    );

    s.new_session(&pool, None, "https://shop.example/?utm_source=hook")
        .await;
    let call = s
        .admin(
            "POST",
            "/api/v1/calls",
            Some(json!({"tracking_number": "+15550001001", "caller_number": "+14155550001"})),
        )
        .await
        .json();
    // First attempt at once: fails.
    wait_hits(&recv, 1).await;
    let d = wait_attempts(&s, 1).await;
    assert_eq!(d["state"], "pending");
    assert_eq!(d["last_status"], 500);
    // The retry comes when its time has come (manual clock), not before.
    s.clock.advance(30);
    wait_hits(&recv, 2).await;
    let d = wait_attempts(&s, 2).await;
    assert_eq!(d["state"], "pending");

    // Restart: the pending delivery survives.
    let s = s
        .restart_with(|c| {
            c.public_url = Some(PUBLIC.into());
            c.twilio_auth_token = Some(dnid::config::Secret(TWILIO_TOKEN.into()));
        })
        .await;
    assert_eq!(delivery(&s).await["state"], "pending");
    s.clock.advance(120);
    wait_hits(&recv, 3).await;
    let d = wait_attempts(&s, 3).await;
    assert_eq!(d["state"], "delivered");
    assert_eq!(d["last_status"], 200);

    // Delivered exactly once, even as time goes on.
    s.clock.advance(7200);
    s.admin("GET", "/api/v1/webhooks/deliveries", None).await;
    assert_eq!(recv.hits.load(Ordering::SeqCst), 3);
    let accepted = recv.accepted.lock().unwrap().clone();
    assert_eq!(accepted.len(), 1);
    let (sig, body) = &accepted[0];
    // Verify as a receiver would: t=…,v1=HMAC-SHA256(secret, "t.body").
    let t: u64 = sig
        .split(',')
        .next()
        .unwrap()
        .trim_start_matches("t=")
        .parse()
        .unwrap();
    assert_eq!(
        sig,
        &dnid::calls::webhook::sign(&secret, t, body.as_bytes())
    );
    let payload: Value = serde_json::from_str(body).unwrap();
    assert_eq!(payload["event"], "call.completed");
    assert_eq!(payload["call"]["id"], call["id"]);
    assert_eq!(
        payload["call"]["session"]["attribution"]["utm_source"],
        "hook"
    );
    s.shutdown().await;
    let _ = TOKEN;
}

#[tokio::test]
async fn a_pool_cannot_name_a_call_flow_that_does_not_exist() {
    let s = server().await;
    let r = s
        .admin(
            "POST",
            "/api/v1/pools",
            Some(json!({"name": "P", "website_url": "https://p.example", "target_number": "+12345678900", "call_flow_id": "0123456789abcdef"})),
        )
        .await;
    assert_eq!((r.status, r.code().as_str()), (400, "call_flow_not_found"));
    assert_eq!(r.json()["error"]["field"], "call_flow_id");
    let pool = s.create_pool(&["+15550001001"], json!({})).await;
    let r = s
        .admin(
            "PATCH",
            &format!("/api/v1/pools/{pool}"),
            Some(json!({"call_flow_id": "nope"})),
        )
        .await;
    assert_eq!((r.status, r.code().as_str()), (400, "call_flow_not_found"));
    assert_eq!(
        s.admin("GET", "/api/v1/pools", None).await.json()["pools"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    s.shutdown().await;
}
