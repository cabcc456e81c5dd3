//! Crash test: the real binary under concurrent load, killed with SIGKILL at random
//! moments and restarted. Every acknowledged lease must come back with the same number
//! and session, and no number may be held by two sessions.
//!
//! `cargo test --test crash` runs 10 kill/restart cycles; set `DNID_CRASH_CYCLES` for a
//! longer run (the figures in README.md come from 200).

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use rand::Rng;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const TOKEN: &str = "crash-test-token";
const UA: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36";

type Http = Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>;

/// Starts `dnid serve` on a free port with `--fsync mode`; returns the child and its
/// address.
async fn start(data: &Path, mode: &str) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dnid"))
        .args(["serve", "--listen", "127.0.0.1:0", "--fsync", mode])
        .arg("--data-dir")
        .arg(data)
        .arg("--snapshot-dir")
        .arg(data.join("snapshots"))
        .args(["--snapshot-cron", "*/2 * * * * *"])
        // All load comes from 127.0.0.1.
        .args(["--session-rate-per-ip", "0"])
        .env("DNID_ADMIN_TOKEN", TOKEN)
        .env("DNID_LOG", "info")
        .env("NO_COLOR", "1")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("dnid starts");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = loop {
        let line = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
            .await
            .expect("dnid reports its address in time")
            .unwrap()
            .unwrap_or_else(|| panic!("dnid exited before listening"));
        if let Some(i) = line.find("127.0.0.1:") {
            if line.contains("listening") {
                let rest = &line[i..];
                let end = rest
                    .char_indices()
                    .skip("127.0.0.1:".len())
                    .find(|(_, c)| !c.is_ascii_digit())
                    .map_or(rest.len(), |(j, _)| j);
                break rest[..end].to_string();
            }
        }
    };
    // Keep draining stderr so the child never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, format!("http://{addr}"))
}

async fn call(http: &Http, method: &str, url: String, body: Value) -> Option<(u16, Value)> {
    let req = hyper::Request::builder()
        .method(method)
        .uri(url)
        .header("authorization", format!("Bearer {TOKEN}"))
        .header("user-agent", UA)
        .body(Full::new(Bytes::from(body.to_string())))
        .ok()?;
    let resp = tokio::time::timeout(Duration::from_secs(10), http.request(req))
        .await
        .ok()?
        .ok()?;
    let status = resp.status().as_u16();
    let bytes = resp.into_body().collect().await.ok()?.to_bytes();
    Some((
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    ))
}

/// session id → number, for every lease the server acknowledged.
type Acked = Arc<Mutex<HashMap<String, String>>>;

async fn client_loop(base: String, pool: String, acked: Acked) {
    let http: Http = Client::builder(TokioExecutor::new()).build_http();
    loop {
        let known: Option<String> = {
            let a = acked.lock().unwrap();
            let mut rng = rand::rng();
            (rng.random_bool(0.3) && !a.is_empty())
                .then(|| a.keys().nth(rng.random_range(0..a.len())).cloned())
                .flatten()
        };
        let body = match &known {
            Some(sid) => {
                json!({"pool_id": pool, "session_id": sid, "page_url": "https://shop.example/"})
            }
            None => json!({"pool_id": pool, "page_url": "https://shop.example/?utm_source=crash"}),
        };
        let Some((status, b)) = call(
            &http,
            "POST",
            format!("{base}/api/v1/tracking/sessions"),
            body,
        )
        .await
        else {
            return; // the server is gone
        };
        if status == 200 && b["leased"] == true {
            let sid = b["session_id"].as_str().unwrap_or_default().to_string();
            let num = b["number"].as_str().unwrap_or_default().to_string();
            let mut a = acked.lock().unwrap();
            if let Some(prev) = a.insert(sid.clone(), num.clone()) {
                assert_eq!(prev, num, "a live session changed number: {sid}");
            }
        }
    }
}

async fn live_leases(http: &Http, base: &str, pool: &str) -> HashMap<String, String> {
    let (status, b) = call(
        http,
        "GET",
        format!("{base}/api/v1/pools/{pool}/sessions?limit=10000"),
        Value::Null,
    )
    .await
    .expect("sessions listed");
    assert_eq!(status, 200);
    let mut out = HashMap::new();
    let mut numbers = std::collections::HashSet::new();
    for s in b["sessions"].as_array().unwrap() {
        let num = s["number"].as_str().unwrap().to_string();
        assert!(
            numbers.insert(num.clone()),
            "number {num} held by two sessions"
        );
        out.insert(s["session_id"].as_str().unwrap().to_string(), num);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_under_load_loses_no_acknowledged_lease() {
    kill_and_restart("always").await;
}

/// In mode `never` the pool actor writes its own records (no writer thread) and
/// answers after the `write(2)`: a process crash must lose nothing acknowledged either
/// (the page cache survives it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_loses_no_acknowledged_lease_when_records_are_written_inline() {
    kill_and_restart("never").await;
}

async fn kill_and_restart(mode: &str) {
    let cycles: usize = std::env::var("DNID_CRASH_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let data = tempfile::tempdir().unwrap();
    let http: Http = Client::builder(TokioExecutor::new()).build_http();
    let (mut child, base) = start(data.path(), mode).await;
    let numbers: Vec<String> = (0..5000).map(|i| format!("+1555{i:07}")).collect();
    let (status, b) = call(
        &http,
        "POST",
        format!("{base}/api/v1/pools"),
        json!({"name": "crash", "website_url": "https://shop.example", "target_number": "+12345678900", "numbers": numbers}),
    )
    .await
    .unwrap();
    assert_eq!(status, 201, "{b}");
    let pool = b["id"].as_str().unwrap().to_string();
    let acked: Acked = Default::default();
    let mut base = base;
    for cycle in 0..cycles {
        let clients: Vec<_> = (0..8)
            .map(|_| tokio::spawn(client_loop(base.clone(), pool.clone(), acked.clone())))
            .collect();
        let kill_after = rand::rng().random_range(50..400);
        tokio::time::sleep(Duration::from_millis(kill_after)).await;
        child.start_kill().unwrap();
        child.wait().await.unwrap();
        for c in clients {
            c.await.unwrap();
        }
        let (c, b) = start(data.path(), mode).await;
        child = c;
        base = b;
        let live = live_leases(&http, &base, &pool).await;
        let acked_now = acked.lock().unwrap().clone();
        for (sid, num) in &acked_now {
            assert_eq!(
                live.get(sid),
                Some(num),
                "cycle {cycle}: acknowledged lease {sid} → {num} lost after SIGKILL"
            );
        }
        eprintln!(
            "{mode}, cycle {cycle}: killed after {kill_after} ms, {} acknowledged leases all present",
            acked_now.len()
        );
    }
    assert!(!acked.lock().unwrap().is_empty(), "the load made leases");
    child.start_kill().unwrap();
    let _ = child.wait().await;
}
