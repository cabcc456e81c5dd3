//! A real dnid server on port 0 with a manual clock, and a small HTTP client for it.
#![allow(dead_code)]

use bytes::Bytes;
use dnid::clock::ManualClock;
use dnid::config::Settings;
use dnid::server::Server;
use http_body_util::{BodyExt, Full};
use hyper::{HeaderMap, Method, Request};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::Arc;

/// A normal desktop browser, so the bot rule does not apply.
pub const BROWSER_UA: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36";
pub const TOKEN: &str = "test-admin-token";
/// 2026-11-29T00:00:00Z: the manual clock starts here.
pub const T0: u64 = 1_795_910_400;

pub struct TestServer {
    pub addr: SocketAddr,
    pub base: String,
    pub clock: ManualClock,
    pub data_dir: tempfile::TempDir,
    server: Option<Server>,
    client: Client<HttpConnector, Full<Bytes>>,
}

pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// The machine-readable error code of an error reply.
    pub fn code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(configure: impl FnOnce(&mut Settings)) -> Self {
        let data_dir = tempfile::tempdir().expect("temp dir");
        Self::start_in(data_dir, ManualClock::new(T0), configure)
            .await
            .expect("server starts")
    }

    /// Starts on an existing data folder (its snapshots in `<dir>/snapshots`).
    pub async fn start_in(
        data_dir: tempfile::TempDir,
        clock: ManualClock,
        configure: impl FnOnce(&mut Settings),
    ) -> Result<Self, dnid::server::StartError> {
        let mut settings = Settings {
            listen: "127.0.0.1:0".parse().unwrap(),
            data_dir: data_dir.path().to_path_buf(),
            snapshot_dir: data_dir.path().join("snapshots"),
            // Every test client is 127.0.0.1; the limit has its own test.
            session_rate_per_ip: 0,
            ..Settings::default()
        };
        configure(&mut settings);
        // The data folder's lock is an flock, held by an open file description. Tests in
        // this process run `dnid` children concurrently, and a child forked while the
        // previous server still held its lock keeps a copy of the descriptor until it
        // execs (close-on-exec): for that moment the lock outlives the server. Wait it
        // out — briefly; a real conflict still fails.
        let mut tries = 0;
        let server = loop {
            match Server::start(
                settings.clone(),
                Arc::new(clock.clone()),
                Some(TOKEN.into()),
            )
            .await
            {
                Err(dnid::server::StartError::Locked(..)) if tries < 20 => {
                    tries += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
                r => break r?,
            }
        };
        let addr = server.local_addr();
        Ok(TestServer {
            addr,
            base: format!("http://{addr}"),
            clock,
            data_dir,
            server: Some(server),
            client: Client::builder(TokioExecutor::new()).build_http(),
        })
    }

    /// Shuts down cleanly and starts again on the same data folder and clock.
    pub async fn restart(self) -> Self {
        self.restart_with(|_| {}).await
    }

    /// Like `restart`, with settings changed.
    pub async fn restart_with(mut self, configure: impl FnOnce(&mut Settings)) -> Self {
        if let Some(s) = self.server.take() {
            s.shutdown().await;
        }
        let TestServer {
            data_dir, clock, ..
        } = self;
        Self::start_in(data_dir, clock, configure)
            .await
            .expect("server restarts")
    }

    /// Stops the server and hands back its data folder and clock.
    pub async fn stop(mut self) -> (tempfile::TempDir, ManualClock) {
        if let Some(s) = self.server.take() {
            s.shutdown().await;
        }
        let TestServer {
            data_dir, clock, ..
        } = self;
        (data_dir, clock)
    }

    pub fn server(&self) -> &Server {
        self.server.as_ref().expect("running")
    }

    /// Any request, with full control of the headers.
    pub async fn raw(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> Reply {
        let mut req = Request::builder()
            .method(Method::from_bytes(method.as_bytes()).unwrap())
            .uri(format!("{}{}", self.base, path));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = self
            .client
            .request(req.body(Full::new(body.into())).unwrap())
            .await
            .expect("request reaches the server");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        Reply {
            status,
            headers,
            body,
        }
    }

    /// An admin request with the token and an optional JSON body.
    pub async fn admin(&self, method: &str, path: &str, body: Option<Value>) -> Reply {
        let auth = format!("Bearer {TOKEN}");
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        self.raw(
            method,
            path,
            &[
                ("authorization", &auth),
                ("content-type", "application/json"),
            ],
            body,
        )
        .await
    }

    /// A public request from a desktop browser.
    pub async fn public(&self, method: &str, path: &str, body: Value) -> Reply {
        self.raw(
            method,
            path,
            &[
                ("user-agent", BROWSER_UA),
                ("content-type", "application/json"),
            ],
            body.to_string(),
        )
        .await
    }

    /// Creates a pool with these numbers; `extra` fields override the defaults.
    pub async fn create_pool(&self, numbers: &[&str], extra: Value) -> String {
        let mut body = json!({
            "name": "Shop",
            "website_url": "https://shop.example",
            "target_number": "+12345678900",
            "fallback_number": "+18005550100",
            "numbers": numbers,
        });
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                b.insert(k.clone(), v.clone());
            }
        }
        let r = self.admin("POST", "/api/v1/pools", Some(body)).await;
        assert_eq!(
            r.status,
            201,
            "create pool: {}",
            String::from_utf8_lossy(&r.body)
        );
        r.json()["id"].as_str().unwrap().to_string()
    }

    /// `POST /api/v1/tracking/sessions` from a browser; returns the JSON answer.
    pub async fn new_session(&self, pool: &str, session: Option<&str>, page_url: &str) -> Value {
        let mut body = json!({"pool_id": pool, "page_url": page_url});
        if let Some(s) = session {
            body["session_id"] = json!(s);
        }
        let r = self.public("POST", "/api/v1/tracking/sessions", body).await;
        assert_eq!(
            r.status,
            200,
            "new session: {}",
            String::from_utf8_lossy(&r.body)
        );
        r.json()
    }

    pub async fn page_view(&self, session: &str) -> Reply {
        self.public(
            "POST",
            &format!("/api/v1/tracking/sessions/{session}/pageviews"),
            json!({"page_url": "https://shop.example/next"}),
        )
        .await
    }

    pub async fn shutdown(mut self) {
        if let Some(s) = self.server.take() {
            s.shutdown().await;
        }
    }
}
