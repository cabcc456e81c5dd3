//! The route table: method and path to handler. Admin routes check the token before
//! anything else is read; public tracking routes get CORS headers.

use super::error::ApiError;
use super::{admin, json_response, tracking, App, Body};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use std::net::SocketAddr;

/// Answers one request. Never fails: every error becomes an error response.
pub async fn route(app: &App, peer: SocketAddr, req: Request<Incoming>) -> Response<Body> {
    let path = req.uri().path().to_string();
    let segments: Vec<&str> = path
        .trim_start_matches('/')
        .trim_end_matches('/')
        .split('/')
        .collect();
    let result = match segments.as_slice() {
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
        ["demo"] => match *req.method() {
            Method::GET | Method::HEAD => super::demo::page(app.demo_pool),
            _ => Err(not_allowed()),
        },
        ["api", "v1", "tracking", rest @ ..] => {
            let headers = req.headers().clone();
            let mut resp = public(app, peer, req, rest)
                .await
                .unwrap_or_else(ApiError::into_response);
            tracking::cors(&headers, &mut resp);
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

fn query_limit(query: &str) -> Result<usize, ApiError> {
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
