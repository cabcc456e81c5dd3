//! Many clients at once, admission control, and graceful shutdown.

mod common;

use common::{TestServer, BROWSER_UA};
use serde_json::json;
use std::collections::HashSet;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_clients_never_get_the_same_number() {
    let s = std::sync::Arc::new(TestServer::start().await);
    let numbers: Vec<String> = (0..150).map(|i| format!("+1555000{i:04}")).collect();
    let refs: Vec<&str> = numbers.iter().map(String::as_str).collect();
    let pool = s.create_pool(&refs, json!({})).await;
    let mut tasks = Vec::new();
    for _ in 0..200 {
        let s = s.clone();
        let pool = pool.clone();
        tasks.push(tokio::spawn(async move {
            s.new_session(&pool, None, "https://shop.example/").await
        }));
    }
    let mut leased = HashSet::new();
    let mut fallback = 0;
    for t in tasks {
        let a = t.await.unwrap();
        if a["leased"] == true {
            assert!(
                leased.insert(a["number"].as_str().unwrap().to_string()),
                "number {} handed to two sessions",
                a["number"]
            );
        } else {
            assert_eq!(a["number"], "+18005550100");
            fallback += 1;
        }
    }
    assert_eq!(leased.len(), 150);
    assert_eq!(fallback, 50);
    let stats = s
        .admin("GET", &format!("/api/v1/pools/{pool}/stats"), None)
        .await
        .json();
    assert_eq!(stats["active_sessions"], 150);
    assert_eq!(stats["exhausted"], 50);
}

/// A request whose body is still arriving holds its in-flight slot.
async fn start_slow_request(addr: std::net::SocketAddr, body: &str) -> TcpStream {
    let mut c = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /api/v1/tracking/sessions HTTP/1.1\r\nhost: x\r\nuser-agent: {BROWSER_UA}\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    c.write_all(head.as_bytes()).await.unwrap();
    c.write_all(&body.as_bytes()[..5]).await.unwrap();
    c
}

/// With `max_inflight = 1`: waits (bounded) until the slow request holds the only
/// slot, which shows the server is handling it, and returns the refusal seen.
async fn refused_while_in_flight(s: &TestServer) -> common::Reply {
    for _ in 0..400 {
        let r = s.admin("GET", "/api/v1/pools", None).await;
        if r.status == 503 {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("a second request is never refused while the first is in flight")
}

async fn finish_slow_request(mut c: TcpStream, body: &str) -> String {
    c.write_all(&body.as_bytes()[5..]).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = c.read(&mut buf).await.unwrap();
    String::from_utf8_lossy(&buf[..n]).to_string()
}

#[tokio::test]
async fn past_the_in_flight_bound_requests_get_503_with_retry_after() {
    let s = TestServer::start_with(|c| c.max_inflight = 1).await;
    let pool = s.create_pool(&["+15550001001"], json!({})).await;
    let body = json!({"pool_id": pool, "page_url": "https://shop.example/"}).to_string();
    let slow = start_slow_request(s.addr, &body).await;
    let r = refused_while_in_flight(&s).await;
    assert_eq!(r.code(), "overloaded");
    assert_eq!(r.headers["retry-after"], "1");
    // Health probes are still answered.
    assert_eq!(s.raw("GET", "/healthz", &[], "").await.status, 200);
    let reply = finish_slow_request(slow, &body).await;
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert_eq!(s.admin("GET", "/api/v1/pools", None).await.status, 200);
    s.shutdown().await;
}

#[tokio::test]
async fn shutdown_finishes_in_flight_requests_and_stops_accepting() {
    let s = TestServer::start_with(|c| c.max_inflight = 1).await;
    let addr = s.addr;
    let pool = s.create_pool(&["+15550001001"], json!({})).await;
    let body = json!({"pool_id": pool, "page_url": "https://shop.example/"}).to_string();
    let slow = start_slow_request(addr, &body).await;
    refused_while_in_flight(&s).await;
    let stopping = tokio::spawn(s.shutdown());
    let mut closed = false;
    for _ in 0..400 {
        if TcpStream::connect(addr).await.is_err() {
            closed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(closed, "the listener closes when shutdown begins");
    let reply = finish_slow_request(slow, &body).await;
    assert!(
        reply.starts_with("HTTP/1.1 200"),
        "in-flight request answered: {reply}"
    );
    assert!(reply.contains("+15550001001"));
    tokio::time::timeout(Duration::from_secs(10), stopping)
        .await
        .expect("shutdown completes")
        .unwrap();
}
