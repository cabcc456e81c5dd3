//! A tiny HTTP/1 server for the browser tests, on 127.0.0.1 and port 0. It serves the
//! test pages (the "website" the snippet is installed on), and stands in for dnid where
//! a test needs a server that forwards and records, fails, or is slow.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{HeaderMap, Request, Response};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;

/// One request as the stub saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    /// Path and query.
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Seen {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// A complete answer.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl Reply {
    pub fn new(status: u16, content_type: &str, body: impl Into<Bytes>) -> Self {
        Reply {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body: body.into(),
        }
    }

    pub fn html(body: impl Into<String>) -> Self {
        Reply::new(200, "text/html; charset=utf-8", body.into())
    }

    pub fn json(status: u16, body: serde_json::Value) -> Self {
        Reply::new(status, "application/json", body.to_string())
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// What the stub does with a request.
#[derive(Clone, Debug)]
pub enum Action {
    Reply(Reply),
    /// Answer after a while (holds a page's load event, for example).
    Delay(Duration, Reply),
    /// Never answer; the time the client gave up (closed the connection) is recorded.
    Hang,
    /// Close the connection without an answer, as a crashed server would.
    Close,
}

type Handler = Arc<dyn Fn(Seen) -> Pin<Box<dyn Future<Output = Action> + Send>> + Send + Sync>;

pub struct Stub {
    /// `http://127.0.0.1:port`
    pub base: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    /// How long after it arrived each hanging request was given up by the client.
    abandoned: Arc<Mutex<Vec<Duration>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Stub {
    pub async fn start<F, Fut>(handler: F) -> Stub
    where
        F: Fn(Seen) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Action> + Send + 'static,
    {
        let handler: Handler = Arc::new(move |s| Box::pin(handler(s)));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind stub");
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let abandoned = Arc::new(Mutex::new(Vec::new()));
        let (seen2, abandoned2) = (seen.clone(), abandoned.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let (handler, seen, abandoned) =
                    (handler.clone(), seen2.clone(), abandoned2.clone());
                tokio::spawn(async move {
                    let service = service_fn(move |req: Request<Incoming>| {
                        let (handler, seen, abandoned) =
                            (handler.clone(), seen.clone(), abandoned.clone());
                        async move { answer(req, handler, seen, abandoned).await }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Stub {
            base: format!("http://{addr}"),
            seen,
            abandoned,
            task,
        }
    }

    /// Every request so far, in order.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// The requests whose path starts with `prefix`.
    pub fn seen_under(&self, prefix: &str) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(|s| s.path.starts_with(prefix))
            .collect()
    }

    pub fn abandoned(&self) -> Vec<Duration> {
        self.abandoned.lock().unwrap().clone()
    }
}

impl Drop for Stub {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Records when a hanging request is dropped, that is when its connection closed.
struct HangGuard {
    since: Instant,
    abandoned: Arc<Mutex<Vec<Duration>>>,
}

impl Drop for HangGuard {
    fn drop(&mut self) {
        self.abandoned.lock().unwrap().push(self.since.elapsed());
    }
}

async fn answer(
    req: Request<Incoming>,
    handler: Handler,
    seen: Arc<Mutex<Vec<Seen>>>,
    abandoned: Arc<Mutex<Vec<Duration>>>,
) -> Result<Response<Full<Bytes>>, std::io::Error> {
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let s = Seen {
        method: parts.method.to_string(),
        path: parts
            .uri
            .path_and_query()
            .map(|p| p.to_string())
            .unwrap_or_default(),
        headers: parts.headers,
        body,
    };
    seen.lock().unwrap().push(s.clone());
    let reply = match handler(s).await {
        Action::Reply(r) => r,
        Action::Delay(d, r) => {
            tokio::time::sleep(d).await;
            r
        }
        Action::Hang => {
            let _guard = HangGuard {
                since: Instant::now(),
                abandoned,
            };
            std::future::pending::<()>().await;
            unreachable!()
        }
        Action::Close => {
            return Err(std::io::Error::other("closing without an answer"));
        }
    };
    let mut resp = Response::new(Full::new(reply.body));
    *resp.status_mut() = hyper::StatusCode::from_u16(reply.status).unwrap();
    for (k, v) in reply.headers {
        resp.headers_mut().append(
            hyper::header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    Ok(resp)
}

/// The website: fixed answers by path (the query string is ignored).
pub struct Site {
    pub stub: Stub,
    routes: Arc<Mutex<HashMap<String, Action>>>,
}

impl Site {
    pub async fn start() -> Site {
        let routes: Arc<Mutex<HashMap<String, Action>>> = Arc::default();
        let r = routes.clone();
        let stub = Stub::start(move |seen: Seen| {
            let path = seen.path.split('?').next().unwrap_or_default().to_string();
            let action = r.lock().unwrap().get(&path).cloned();
            async move {
                action.unwrap_or_else(|| {
                    Action::Reply(Reply::new(404, "text/plain", "no such test page"))
                })
            }
        })
        .await;
        Site { stub, routes }
    }

    /// `http://127.0.0.1:port`: the pool's website and the pages' origin.
    pub fn base(&self) -> &str {
        &self.stub.base
    }

    pub fn url(&self, path_and_query: &str) -> String {
        format!("{}{}", self.stub.base, path_and_query)
    }

    pub fn route(&self, path: &str, action: Action) {
        self.routes.lock().unwrap().insert(path.into(), action);
    }

    pub fn page(&self, path: &str, html: impl Into<String>) {
        self.route(path, Action::Reply(Reply::html(html)));
    }
}

/// Forwards a request to `base` (a real dnid) and returns its answer.
pub async fn forward(client: &Client<HttpConnector, Full<Bytes>>, base: &str, s: &Seen) -> Reply {
    let mut req = Request::builder()
        .method(s.method.as_str())
        .uri(format!("{base}{}", s.path));
    for (k, v) in &s.headers {
        if k != hyper::header::HOST {
            req = req.header(k, v);
        }
    }
    let resp = client
        .request(req.body(Full::new(s.body.clone())).unwrap())
        .await
        .expect("dnid answers the proxy");
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .filter(|(k, _)| {
            !matches!(
                k.as_str(),
                "content-length" | "transfer-encoding" | "connection"
            )
        })
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_string()))
        .collect();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        headers,
        body,
    }
}

pub fn http_client() -> Client<HttpConnector, Full<Bytes>> {
    Client::builder(TokioExecutor::new()).build_http()
}
