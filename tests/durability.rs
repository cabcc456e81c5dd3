//! Durability end to end: restart, snapshots, corrupt files, expiry while down, and
//! storage faults, against the real server with a manual clock.

mod common;

use common::{TestServer, BROWSER_UA};
use serde_json::{json, Value};
use std::sync::atomic::Ordering;

/// Everything a user can see of every pool (the clock-derived `at` removed).
async fn visible_state(s: &TestServer) -> Value {
    let list = s.admin("GET", "/api/v1/pools", None).await.json();
    let mut out = serde_json::Map::new();
    for p in list["pools"].as_array().unwrap() {
        let id = p["id"].as_str().unwrap();
        let pool = s
            .admin("GET", &format!("/api/v1/pools/{id}"), None)
            .await
            .json();
        let sessions = s
            .admin(
                "GET",
                &format!("/api/v1/pools/{id}/sessions?limit=10000"),
                None,
            )
            .await
            .json();
        let mut stats = s
            .admin("GET", &format!("/api/v1/pools/{id}/stats"), None)
            .await
            .json();
        stats.as_object_mut().unwrap().remove("at");
        out.insert(
            id.into(),
            json!({"pool": pool, "sessions": sessions, "stats": stats}),
        );
    }
    Value::Object(out)
}

/// A pool with traffic: new sessions with attribution, renewals, an expiry, a drain.
/// `series` keeps the numbers of several such pools apart.
async fn busy_pool(s: &TestServer, series: u32) -> (String, Vec<String>) {
    let numbers: Vec<String> = (0..20).map(|i| format!("+1555{series:03}{i:04}")).collect();
    let refs: Vec<&str> = numbers.iter().map(String::as_str).collect();
    let pool = s
        .create_pool(&refs, json!({"exhaustion_policy": "recycle_oldest"}))
        .await;
    let mut sids = Vec::new();
    for i in 0..25 {
        let a = s
            .new_session(
                &pool,
                None,
                &format!("https://shop.example/?utm_source=s{i}&gclid=g{i}"),
            )
            .await;
        sids.push(a["session_id"].as_str().unwrap().to_string());
        s.clock.advance(7);
    }
    for sid in sids.iter().step_by(3) {
        s.page_view(sid).await;
    }
    s.admin(
        "DELETE",
        &format!("/api/v1/pools/{pool}/numbers/%2B1555{series:03}0003"),
        None,
    )
    .await;
    s.clock.advance(100);
    (pool, sids)
}

#[tokio::test]
async fn a_restart_recovers_every_pool_lease_and_session() {
    let s = TestServer::start().await;
    let (pool, sids) = busy_pool(&s, 1).await;
    let other = s
        .create_pool(&["+15559990001"], json!({"name": "Other"}))
        .await;
    s.admin("DELETE", &format!("/api/v1/pools/{other}"), None)
        .await;
    let before = visible_state(&s).await;
    let s = s.restart().await;
    assert_eq!(visible_state(&s).await, before);
    // And it carries on: a live session keeps its number after the restart.
    let last = sids.last().unwrap();
    let again = s
        .new_session(&pool, Some(last), "https://shop.example/")
        .await;
    assert_eq!(again["result"], "sticky");
    s.shutdown().await;
}

#[tokio::test]
async fn snapshot_plus_wal_recovers_the_same_state() {
    let s = TestServer::start().await;
    busy_pool(&s, 2).await;
    let snap = s.admin("POST", "/api/v1/snapshots", None).await;
    assert_eq!(snap.status, 201, "{}", String::from_utf8_lossy(&snap.body));
    assert_eq!(snap.json()["pools"], 1);
    // More changes after the snapshot, in the WAL only.
    let (_, _) = busy_pool(&s, 3).await;
    let before = visible_state(&s).await;
    let (dir, clock) = s.stop().await;
    let s = TestServer::start_in(dir, clock, |_| {}).await.unwrap();
    let report = s.server().recovery();
    assert!(report.snapshot.is_some(), "recovered from the snapshot");
    assert!(report.records_replayed > 0, "and the WAL after it");
    assert_eq!(visible_state(&s).await, before);
    let list = s.admin("GET", "/api/v1/snapshots", None).await.json();
    assert_eq!(list["snapshots"].as_array().unwrap().len(), 1);
    s.shutdown().await;
}

#[tokio::test]
async fn a_corrupt_newest_snapshot_falls_back_to_the_older_one_and_a_longer_wal() {
    let s = TestServer::start().await;
    busy_pool(&s, 4).await;
    assert_eq!(s.admin("POST", "/api/v1/snapshots", None).await.status, 201);
    s.clock.advance(61);
    busy_pool(&s, 5).await;
    assert_eq!(s.admin("POST", "/api/v1/snapshots", None).await.status, 201);
    busy_pool(&s, 6).await;
    let before = visible_state(&s).await;
    let (dir, clock) = s.stop().await;
    let snaps = dir.path().join("snapshots");
    let mut files: Vec<_> = std::fs::read_dir(&snaps)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 2);
    let newest = files.last().unwrap();
    let mut bytes = std::fs::read(newest).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(newest, bytes).unwrap();
    let s = TestServer::start_in(dir, clock, |_| {}).await.unwrap();
    let report = s.server().recovery();
    assert_eq!(report.snapshot.as_ref(), Some(&files[0]));
    assert_eq!(report.skipped_snapshots.len(), 1);
    assert!(
        report.skipped_snapshots[0].contains("checksum"),
        "{:?}",
        report.skipped_snapshots
    );
    assert_eq!(visible_state(&s).await, before);
    s.shutdown().await;
}

#[tokio::test]
async fn leases_that_expired_while_down_are_expired_at_start_and_kept_for_late_calls() {
    let s = TestServer::start().await;
    let pool = s
        .create_pool(&["+15550001001", "+15550001002"], json!({}))
        .await;
    let a = s
        .new_session(&pool, None, "https://shop.example/?utm_source=x")
        .await;
    let (dir, clock) = s.stop().await;
    clock.advance(1800);
    let s = TestServer::start_in(dir, clock, |_| {}).await.unwrap();
    let stats = s
        .admin("GET", &format!("/api/v1/pools/{pool}/stats"), None)
        .await
        .json();
    assert_eq!(stats["active_sessions"], 0);
    assert_eq!(stats["numbers_free"], 2);
    assert_eq!(stats["counters"]["expired"], 1);
    // The session is still known (attribution window): it gets its number back.
    let back = s
        .new_session(&pool, a["session_id"].as_str(), "https://shop.example/")
        .await;
    assert_eq!(back["result"], "regranted");
    assert_eq!(back["number"], a["number"]);
    s.shutdown().await;
}

#[tokio::test]
async fn a_flipped_bit_in_the_middle_of_the_wal_stops_the_start_naming_file_and_offset() {
    let s = TestServer::start().await;
    busy_pool(&s, 7).await;
    let (dir, clock) = s.stop().await;
    let wal = dir.path().join("wal");
    let seg = std::fs::read_dir(&wal)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let mut bytes = std::fs::read(&seg).unwrap();
    let at = bytes.len() / 3;
    bytes[at] ^= 0x01;
    std::fs::write(&seg, bytes).unwrap();
    let err = match TestServer::start_in(dir, clock, |_| {}).await {
        Ok(_) => panic!("a damaged WAL must stop the start"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains(&seg.display().to_string()), "{err}");
    assert!(err.contains("offset"), "{err}");
    assert!(err.contains("dnid wal repair"), "{err}");
}

#[tokio::test]
async fn a_failing_disk_fails_requests_and_acknowledges_nothing_unsynced() {
    failing_disk(dnid::store::FsyncMode::Always, true).await;
}

/// In modes `never` and `everysec` the pool actor writes its own records (no writer
/// thread): a failed write must be refused and cut back just the same; a failing
/// fsync is not on the request path there.
#[tokio::test]
async fn a_failing_write_is_refused_when_records_are_written_inline() {
    failing_disk(dnid::store::FsyncMode::Never, false).await;
    failing_disk(dnid::store::FsyncMode::Everysec, false).await;
}

async fn failing_disk(mode: dnid::store::FsyncMode, syncs_on_path: bool) {
    let fs = dnid::store::fs::FaultyFs::default();
    let data = tempfile::tempdir().unwrap();
    let clock = dnid::clock::ManualClock::new(common::T0);
    let mut settings = dnid::config::Settings {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: data.path().to_path_buf(),
        snapshot_dir: data.path().join("snapshots"),
        ..Default::default()
    };
    settings.fsync = mode;
    let server = dnid::server::Server::start_with_fs(
        settings,
        std::sync::Arc::new(clock.clone()),
        Some(common::TOKEN.into()),
        std::sync::Arc::new(fs.clone()),
    )
    .await
    .unwrap();
    let base = format!("http://{}", server.local_addr());
    let client = Client::new(&base);
    let pool = client.create_pool().await;
    let ok = client.session(&pool).await;
    assert_eq!(ok.0, 200);

    let mut faults = vec![(&fs.fail_writes, "write")];
    if syncs_on_path {
        faults.insert(0, (&fs.fail_syncs, "fsync"));
    }
    for (switch, what) in faults {
        switch.store(true, Ordering::SeqCst);
        let (status, body) = client.session(&pool).await;
        assert_eq!(status, 503, "failed {what} ({mode:?}): {body}");
        assert_eq!(body["error"]["code"], "storage_unavailable");
        // Reads still work, and show nothing of the refused request.
        let (st, stats) = client.get(&format!("/api/v1/pools/{pool}/stats")).await;
        assert_eq!(st, 200);
        assert_eq!(stats["active_sessions"], 1, "after failed {what}");
        switch.store(false, Ordering::SeqCst);
    }
    // The disk recovers, and so does dnid.
    let (status, b) = client.session(&pool).await;
    assert_eq!(status, 200, "{b}");
    assert_eq!(b["number"], "+15550001002");
    server.shutdown().await;

    // After a restart exactly the acknowledged leases are there.
    let s = TestServer::start_in(data, clock, |_| {}).await.unwrap();
    let stats = s
        .admin("GET", &format!("/api/v1/pools/{pool}/stats"), None)
        .await
        .json();
    assert_eq!(stats["active_sessions"], 2);
    s.shutdown().await;
}

/// A bare client for the fault test, which starts its server by hand.
struct Client {
    base: String,
    http: hyper_util::client::legacy::Client<
        hyper_util::client::legacy::connect::HttpConnector,
        http_body_util::Full<bytes::Bytes>,
    >,
}

impl Client {
    fn new(base: &str) -> Self {
        Client {
            base: base.into(),
            http: hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build_http(),
        }
    }

    async fn send(&self, method: &str, path: &str, body: Value) -> (u16, Value) {
        use http_body_util::BodyExt;
        let req = hyper::Request::builder()
            .method(method)
            .uri(format!("{}{}", self.base, path))
            .header("authorization", format!("Bearer {}", common::TOKEN))
            .header("user-agent", BROWSER_UA)
            .body(http_body_util::Full::new(bytes::Bytes::from(
                body.to_string(),
            )))
            .unwrap();
        let resp = self.http.request(req).await.unwrap();
        let status = resp.status().as_u16();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.send("GET", path, Value::Null).await
    }

    async fn create_pool(&self) -> String {
        let (st, b) = self
            .send(
                "POST",
                "/api/v1/pools",
                json!({"name": "F", "website_url": "https://shop.example", "target_number": "+12345678900",
                       "numbers": ["+15550001001", "+15550001002", "+15550001003"]}),
            )
            .await;
        assert_eq!(st, 201);
        b["id"].as_str().unwrap().to_string()
    }

    async fn session(&self, pool: &str) -> (u16, Value) {
        self.send(
            "POST",
            "/api/v1/tracking/sessions",
            json!({"pool_id": pool, "page_url": "https://shop.example/"}),
        )
        .await
    }
}
