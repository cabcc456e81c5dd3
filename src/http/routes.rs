//! The route table: method and path to handler. Admin routes check the token before
//! anything else is read; public tracking routes get CORS headers.
//!
//! [`ROUTES`] lists every route the server answers, as a path template and its
//! methods. It names requests in the metrics (`route="/api/v1/pools/{id}"`, never a
//! raw path), and the OpenAPI document (`GET /api/v1/openapi.json`) is tested
//! against it and against the server itself.

use super::error::ApiError;
use super::{admin, json_response, tracking, App, Body};
use crate::telemetry;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{header, Method, Request, Response, StatusCode};
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Instant;

/// Who may call a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone: operations and documentation.
    Open,
    /// Anyone, with CORS: the tracking snippet's endpoints.
    Public,
    /// `Authorization: Bearer <admin token>`.
    Admin,
    /// The telephony provider (Twilio form posts, signature checked when configured).
    Telephony,
}

/// One route: a path template (`{name}` stands for one path segment) and its methods.
#[derive(Clone, Copy, Debug)]
pub struct Route {
    pub path: &'static str,
    pub methods: &'static [&'static str],
    pub access: Access,
}

const fn r(path: &'static str, methods: &'static [&'static str], access: Access) -> Route {
    Route {
        path,
        methods,
        access,
    }
}

/// Every route the server answers.
pub const ROUTES: &[Route] = &[
    r("/healthz", &["GET"], Access::Open),
    r("/readyz", &["GET"], Access::Open),
    r("/metrics", &["GET"], Access::Open),
    r("/demo", &["GET", "HEAD"], Access::Open),
    r("/admin", &["GET", "HEAD"], Access::Open),
    r("/admin/app.js", &["GET", "HEAD"], Access::Open),
    r("/admin/app.css", &["GET", "HEAD"], Access::Open),
    r("/admin/favicon.svg", &["GET", "HEAD"], Access::Open),
    r("/api/v1/openapi.json", &["GET"], Access::Open),
    r(
        "/api/v1/tracking/snippet.js",
        &["GET", "HEAD"],
        Access::Public,
    ),
    r(
        "/api/v1/tracking/sessions",
        &["POST", "OPTIONS"],
        Access::Public,
    ),
    r(
        "/api/v1/tracking/sessions/{session_id}/pageviews",
        &["POST", "OPTIONS"],
        Access::Public,
    ),
    r("/api/v1/pools", &["GET", "POST"], Access::Admin),
    r(
        "/api/v1/pools/{id}",
        &["GET", "PATCH", "DELETE"],
        Access::Admin,
    ),
    r("/api/v1/pools/{id}/numbers", &["POST"], Access::Admin),
    r(
        "/api/v1/pools/{id}/numbers/{number}",
        &["DELETE"],
        Access::Admin,
    ),
    r("/api/v1/pools/{id}/sessions", &["GET"], Access::Admin),
    r(
        "/api/v1/pools/{id}/sessions/{session_id}",
        &["DELETE"],
        Access::Admin,
    ),
    r("/api/v1/pools/{id}/stats", &["GET"], Access::Admin),
    r("/api/v1/snapshots", &["GET", "POST"], Access::Admin),
    r("/api/v1/call-flows", &["GET", "POST"], Access::Admin),
    r(
        "/api/v1/call-flows/{id}",
        &["GET", "PATCH", "DELETE"],
        Access::Admin,
    ),
    r("/api/v1/calls", &["GET", "POST"], Access::Admin),
    r("/api/v1/calls/{id}", &["GET"], Access::Admin),
    r("/api/v1/webhooks", &["GET", "POST"], Access::Admin),
    r("/api/v1/webhooks/deliveries", &["GET"], Access::Admin),
    r(
        "/api/v1/webhooks/deliveries/{id}/retry",
        &["POST"],
        Access::Admin,
    ),
    r("/api/v1/webhooks/{id}", &["DELETE"], Access::Admin),
    r(
        "/api/v1/telephony/twilio/voice",
        &["POST"],
        Access::Telephony,
    ),
    r(
        "/api/v1/telephony/twilio/status",
        &["POST"],
        Access::Telephony,
    ),
];

/// A path's segments, as the router matches them (no leading or trailing `/`).
fn segments(path: &str) -> Vec<&str> {
    path.trim_start_matches('/')
        .trim_end_matches('/')
        .split('/')
        .collect()
}

/// One segment of a template: a literal, or `None` for a `{placeholder}`.
type Pattern = Vec<Option<&'static str>>;

/// [`ROUTES`] as segment patterns, grouped by segment count (in table order), so a
/// request is matched against a handful of routes without parsing templates.
fn patterns() -> &'static [Vec<(usize, Pattern)>] {
    static BY_LEN: OnceLock<Vec<Vec<(usize, Pattern)>>> = OnceLock::new();
    BY_LEN.get_or_init(|| {
        let mut by_len: Vec<Vec<(usize, Pattern)>> = Vec::new();
        for (i, r) in ROUTES.iter().enumerate() {
            let pattern: Pattern = segments(r.path)
                .into_iter()
                .map(|p| (!p.starts_with('{')).then_some(p))
                .collect();
            if by_len.len() <= pattern.len() {
                by_len.resize_with(pattern.len() + 1, Vec::new);
            }
            by_len[pattern.len()].push((i, pattern));
        }
        by_len
    })
}

/// The index in [`ROUTES`] of the route a path (as segments) falls under.
pub fn route_index(segments: &[&str]) -> Option<usize> {
    let candidates = patterns().get(segments.len())?;
    candidates
        .iter()
        .find(|(_, pattern)| {
            pattern.iter().zip(segments).all(|(p, seg)| match p {
                Some(lit) => lit == seg,
                None => !seg.is_empty(),
            })
        })
        .map(|(i, _)| *i)
}

/// The index in [`ROUTES`] of the route a path falls under.
pub fn route_of(path: &str) -> Option<usize> {
    route_index(&segments(path))
}

/// The route template a path falls under, if any.
pub fn template(path: &str) -> Option<&'static str> {
    route_of(path).map(|i| ROUTES[i].path)
}

/// Answers one request and counts it. Never fails: every error becomes an error
/// response.
pub async fn route(app: &App, peer: SocketAddr, req: Request<Incoming>) -> Response<Body> {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let segments = segments(&path);
    let index = route_index(&segments);
    let resp = dispatch(app, peer, req, &segments).await;
    telemetry::http::request(index, &method, resp.status().as_u16(), started.elapsed());
    resp
}

async fn dispatch(
    app: &App,
    peer: SocketAddr,
    req: Request<Incoming>,
    segments: &[&str],
) -> Response<Body> {
    let result = match segments {
        ["healthz"] => only(&req, &[Method::GET], || {
            Ok(json_response(
                StatusCode::OK,
                &serde_json::json!({"status": "ok"}),
            ))
        }),
        ["readyz"] => only(&req, &[Method::GET], || {
            let running = app.router.get_status() == ractor::ActorStatus::Running;
            if running && !app.draining.load(std::sync::atomic::Ordering::SeqCst) {
                Ok(json_response(
                    StatusCode::OK,
                    &serde_json::json!({"status": "ready"}),
                ))
            } else {
                Err(ApiError::unavailable(
                    "not_ready",
                    "the server is starting or shutting down",
                ))
            }
        }),
        ["metrics"] => match *req.method() {
            Method::GET => Ok(metrics().await),
            _ => Err(not_allowed()),
        },
        ["demo"] => match *req.method() {
            Method::GET | Method::HEAD => super::demo::page(app.demo_pool),
            _ => Err(not_allowed()),
        },
        // The web admin: static files; its data comes from the admin API with the token.
        ["admin", rest @ ..] => super::admin_ui::serve(req.method(), req.headers(), rest),
        ["api", "v1", "openapi.json"] => {
            only(&req, &[Method::GET], || Ok(super::openapi::response()))
        }
        // The provider posts here; it has no admin token.
        ["api", "v1", "telephony", rest @ ..] => super::telephony::route(app, req, rest).await,
        ["api", "v1", "tracking", rest @ ..] => {
            let origin = req.headers().get(hyper::header::ORIGIN).cloned();
            let mut resp = public(app, peer, req, rest)
                .await
                .unwrap_or_else(ApiError::into_response);
            tracking::cors(origin, &mut resp);
            return resp;
        }
        ["api", "v1", rest @ ..] => match app.token.check(req.headers()) {
            Ok(()) => admin_route(app, req, rest).await,
            Err(e) => Err(e),
        },
        _ => Err(ApiError::not_found()),
    };
    result.unwrap_or_else(ApiError::into_response)
}

async fn public(
    app: &App,
    peer: SocketAddr,
    req: Request<Incoming>,
    rest: &[&str],
) -> Result<Response<Body>, ApiError> {
    if req.method() == Method::OPTIONS {
        return Ok(tracking::preflight(req.headers()));
    }
    match (req.method().clone(), rest) {
        (Method::GET | Method::HEAD, ["snippet.js"]) => Ok(super::snippet::serve(req.headers())),
        (Method::POST, ["sessions"]) => tracking::new_session(app, peer, req).await,
        (Method::POST, ["sessions", token, "pageviews"]) => {
            let token = token.to_string();
            tracking::page_view(app, &token, req).await
        }
        (_, ["sessions"] | ["sessions", _, "pageviews"]) => Err(not_allowed()),
        _ => Err(ApiError::not_found()),
    }
}

async fn admin_route(
    app: &App,
    req: Request<Incoming>,
    rest: &[&str],
) -> Result<Response<Body>, ApiError> {
    let method = req.method().clone();
    let query = req.uri().query().unwrap_or_default().to_string();
    match rest {
        ["pools"] => match method {
            Method::POST => admin::create_pool(app, req).await,
            Method::GET => admin::list_pools(app).await,
            _ => Err(not_allowed()),
        },
        ["snapshots"] => match method {
            Method::POST => super::snapshots::create(app).await,
            Method::GET => super::snapshots::list(app).await,
            _ => Err(not_allowed()),
        },
        // Call flows, the call log and webhooks.
        ["call-flows" | "calls" | "webhooks", ..] => super::calls::route(app, req, rest).await,
        ["pools", id] => {
            let id = admin::parse_pool_id(id)?;
            match method {
                Method::GET => admin::get_pool(app, id).await,
                Method::PATCH => admin::patch_pool(app, id, req).await,
                Method::DELETE => admin::delete_pool(app, id).await,
                _ => Err(not_allowed()),
            }
        }
        ["pools", id, "numbers"] => {
            let id = admin::parse_pool_id(id)?;
            match method {
                Method::POST => admin::add_numbers(app, id, req).await,
                _ => Err(not_allowed()),
            }
        }
        ["pools", id, "numbers", number] => {
            let id = admin::parse_pool_id(id)?;
            let number = percent_encoding::percent_decode_str(number)
                .decode_utf8_lossy()
                .to_string();
            match method {
                Method::DELETE => {
                    let force = query_flag(&query, "force")?;
                    admin::remove_number(app, id, &number, force).await
                }
                _ => Err(not_allowed()),
            }
        }
        ["pools", id, "sessions"] => {
            let id = admin::parse_pool_id(id)?;
            match method {
                Method::GET => {
                    let limit = query_limit(&query)?;
                    admin::list_sessions(app, id, limit).await
                }
                _ => Err(not_allowed()),
            }
        }
        ["pools", id, "sessions", token] => {
            let id = admin::parse_pool_id(id)?;
            match method {
                Method::DELETE => admin::end_session(app, id, token).await,
                _ => Err(not_allowed()),
            }
        }
        ["pools", id, "stats"] => {
            let id = admin::parse_pool_id(id)?;
            match method {
                Method::GET => admin::stats(app, id).await,
                _ => Err(not_allowed()),
            }
        }
        _ => Err(ApiError::not_found()),
    }
}

fn only(
    req: &Request<Incoming>,
    methods: &[Method],
    f: impl FnOnce() -> Result<Response<Body>, ApiError>,
) -> Result<Response<Body>, ApiError> {
    if methods.contains(req.method()) {
        f()
    } else {
        Err(not_allowed())
    }
}

/// `GET /metrics`: rendered off the async workers (a large registry takes a while).
async fn metrics() -> Response<Body> {
    let text = tokio::task::spawn_blocking(telemetry::render)
        .await
        .unwrap_or_default();
    let mut resp = Response::new(Full::new(Bytes::from(text)));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(telemetry::CONTENT_TYPE),
    );
    resp
}

fn not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this endpoint does not take that method",
    )
}

fn query_param<'a>(query: &'a str, name: &str) -> Option<std::borrow::Cow<'a, str>> {
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// `?force=true|false|1|0`; absent is false.
fn query_flag(query: &str, name: &'static str) -> Result<bool, ApiError> {
    match query_param(query, name).as_deref() {
        None | Some("false") | Some("0") => Ok(false),
        Some("true") | Some("1") | Some("") => Ok(true),
        Some(other) => Err(ApiError::bad_request(
            "invalid_query",
            format!("{name} must be true or false, got {other:?}"),
        )
        .with_field(name)),
    }
}

/// Largest `?limit=` on list endpoints.
pub const MAX_LIMIT: usize = 10_000;

pub fn query_limit(query: &str) -> Result<usize, ApiError> {
    match query_param(query, "limit") {
        None => Ok(100),
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| {
                ApiError::bad_request(
                    "invalid_query",
                    format!("limit must be a whole number from 1 to {MAX_LIMIT}"),
                )
                .with_field("limit")
            }),
    }
}

/// The answer when the server has too much in flight.
pub fn overloaded() -> Response<Body> {
    ApiError::unavailable("overloaded", "too many requests in flight; retry shortly")
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_to_their_route_template_and_nothing_else() {
        assert_eq!(template("/healthz"), Some("/healthz"));
        assert_eq!(template("/api/v1/pools/"), Some("/api/v1/pools"));
        assert_eq!(
            template("/api/v1/pools/0123456789abcdef"),
            Some("/api/v1/pools/{id}")
        );
        assert_eq!(
            template("/api/v1/pools/0123456789abcdef/numbers/+15550001001"),
            Some("/api/v1/pools/{id}/numbers/{number}")
        );
        assert_eq!(
            template("/api/v1/tracking/sessions/abc/pageviews"),
            Some("/api/v1/tracking/sessions/{session_id}/pageviews")
        );
        assert_eq!(template("/api/v1/pools/x/nope"), None);
        assert_eq!(template("/"), None);
        assert_eq!(template("/api/v1/pools//stats"), None);
    }

    #[test]
    fn every_template_matches_itself_first() {
        for r in ROUTES {
            assert_eq!(template(r.path), Some(r.path), "{}", r.path);
            assert!(!r.methods.is_empty());
        }
    }

    #[test]
    fn query_flags_and_limits_are_validated() {
        assert_eq!(query_flag("", "force"), Ok(false));
        assert_eq!(query_flag("force=true", "force"), Ok(true));
        assert_eq!(query_flag("force=0", "force"), Ok(false));
        assert!(query_flag("force=maybe", "force").is_err());
        assert_eq!(query_limit(""), Ok(100));
        assert_eq!(query_limit("limit=5"), Ok(5));
        assert!(query_limit("limit=0").is_err());
        assert!(query_limit("limit=-3").is_err());
        assert!(query_limit("limit=999999").is_err());
    }
}
