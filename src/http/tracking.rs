//! Public endpoints the snippet calls: start or resume a session, and renew it.
//! No auth; bodies are small and every field is bounded. Origins are checked against
//! the pool's website by the pool actor.

use super::body::{json_body, json_response};
use super::client::client_ip;
use super::error::ApiError;
use super::{App, Body};
use crate::actors::{AssignInput, PoolMsg, SessionAnswer};
use crate::clock::rfc3339;
use crate::engine::AssignKind;
use crate::ids::{PoolId, SessionToken};
use crate::telemetry;
use hyper::body::Incoming;
use hyper::header::HeaderValue;
use hyper::{header, HeaderMap, Request, Response, StatusCode};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::time::Instant;

/// Longest URL accepted for `page_url` and `referrer`.
pub const MAX_URL_LEN: usize = 2048;
/// User-Agents are cut to this length before they are stored.
pub const MAX_USER_AGENT_LEN: usize = 512;

/// Public bodies ignore unknown fields: a snippet cached by a CDN may be newer than
/// the server it talks to.
#[derive(Deserialize)]
struct NewSession {
    pool_id: String,
    session_id: Option<String>,
    page_url: String,
    referrer: Option<String>,
}

#[derive(Deserialize, Default)]
struct PageView {
    page_url: Option<String>,
    /// A heartbeat keeps the lease without counting a page.
    #[serde(default)]
    heartbeat: bool,
}

/// The answer the snippet reads.
#[derive(Serialize)]
pub struct SessionReply {
    pub session_id: String,
    /// The number to show, in E.164; `null` when the page must stay as it is.
    pub number: Option<String>,
    pub formatted: Option<String>,
    pub expires_at: Option<String>,
    pub leased: bool,
    /// Why no number was leased: `exhausted` or `bot`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    /// How the answer came about: `new`, `sticky`, `renewed`, `regranted`,
    /// `reassigned`, `recycled`, `fallback`, `no_swap` or `bot`.
    pub result: &'static str,
}

impl SessionReply {
    fn new(pool: PoolId, a: SessionAnswer) -> Self {
        SessionReply {
            session_id: SessionToken {
                pool,
                session: a.session,
            }
            .to_string(),
            formatted: a.number.as_ref().map(|n| n.formatted()),
            number: a.number.map(String::from),
            expires_at: a.expires_at.map(rfc3339),
            leased: a.kind.is_leased(),
            reason: match a.kind {
                AssignKind::Fallback | AssignKind::NoSwap => Some("exhausted"),
                AssignKind::Bot => Some("bot"),
                _ => None,
            },
            result: a.kind.as_str(),
        }
    }
}

fn check_len(field: &'static str, value: &str, max: usize) -> Result<(), ApiError> {
    if value.len() > max {
        return Err(ApiError::bad_request(
            "field_too_long",
            format!("{field} is longer than {max} bytes"),
        )
        .with_field(field));
    }
    Ok(())
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// `POST /api/v1/tracking/sessions`
pub async fn new_session(
    app: &App,
    peer: SocketAddr,
    req: Request<Incoming>,
) -> Result<Response<Body>, ApiError> {
    // What is needed from the headers is taken before the body consumes the request.
    let headers = req.headers();
    let ip = client_ip(peer.ip(), headers, &app.settings.trusted_proxies);
    app.rate_limit
        .check(ip)
        .inspect_err(|_| telemetry::http::rejected(telemetry::http::RATE_LIMITED))?;
    let user_agent = header_str(headers, header::USER_AGENT).unwrap_or_default();
    let bot = app.bots.is_bot(user_agent);
    let user_agent = truncate(user_agent, MAX_USER_AGENT_LEN).to_string();
    let origin = header_str(headers, header::ORIGIN).map(str::to_string);
    let body: NewSession = json_body(req, app.settings.max_public_body_bytes).await?;
    let pool: PoolId = body.pool_id.parse().map_err(|e| {
        ApiError::bad_request("invalid_pool_id", format!("pool_id: {e}")).with_field("pool_id")
    })?;
    if body.page_url.is_empty() {
        return Err(
            ApiError::bad_request("missing_field", "page_url must not be empty")
                .with_field("page_url"),
        );
    }
    check_len("page_url", &body.page_url, MAX_URL_LEN)?;
    if let Some(r) = &body.referrer {
        check_len("referrer", r, MAX_URL_LEN)?;
    }
    let session = match body.session_id.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => {
            let token: SessionToken = s.parse().map_err(|e| {
                ApiError::bad_request("invalid_session_id", format!("session_id: {e}"))
                    .with_field("session_id")
            })?;
            // A session of another pool is unknown here: the visitor starts afresh.
            (token.pool == pool).then_some(token.session)
        }
    };
    let input = AssignInput {
        session,
        page_url: body.page_url,
        referrer: body.referrer.filter(|r| !r.is_empty()),
        ip: Some(ip.to_string()),
        bot,
        user_agent: Some(user_agent),
        origin,
    };
    let started = Instant::now();
    let answer = app
        .ask_pool(pool, |reply| PoolMsg::Assign(input, reply))
        .await?;
    telemetry::pool::assign_latency(started.elapsed());
    Ok(json_response(
        StatusCode::OK,
        &SessionReply::new(pool, answer),
    ))
}

/// `POST /api/v1/tracking/sessions/{session_id}/pageviews`
pub async fn page_view(
    app: &App,
    token: &str,
    req: Request<Incoming>,
) -> Result<Response<Body>, ApiError> {
    let token: SessionToken = token
        .parse()
        .map_err(|e| ApiError::bad_request("invalid_session_id", format!("session_id: {e}")))?;
    let body: PageView = json_body(req, app.settings.max_public_body_bytes).await?;
    if let Some(u) = &body.page_url {
        check_len("page_url", u, MAX_URL_LEN)?;
    }
    let answer = app
        .ask_pool(token.pool, |reply| PoolMsg::PageView {
            session: token.session,
            heartbeat: body.heartbeat,
            reply,
        })
        .await
        .map_err(|e| {
            // To the snippet, a session whose pool is gone is just as unknown.
            if e.code == "pool_not_found" {
                ApiError::new(
                    StatusCode::NOT_FOUND,
                    "session_not_found",
                    "session not found",
                )
            } else {
                e
            }
        })?;
    Ok(json_response(
        StatusCode::OK,
        &SessionReply::new(token.pool, answer),
    ))
}

/// Cuts `s` to at most `max` bytes on a character boundary.
fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// CORS headers for the public endpoints. Any origin may ask; the pool actor refuses
/// origins that are not the pool's website, so the answer itself is the gate.
/// `origin`: the request's `Origin` header.
pub fn cors(origin: Option<HeaderValue>, resp: &mut Response<Body>) {
    let h = resp.headers_mut();
    match origin {
        Some(origin) => {
            h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
            h.insert(header::VARY, header::HeaderValue::from_static("Origin"));
        }
        None => {
            h.insert(
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                header::HeaderValue::from_static("*"),
            );
        }
    }
}

/// Answers a CORS preflight for the public endpoints.
pub fn preflight(headers: &HeaderMap) -> Response<Body> {
    let mut resp = super::empty(StatusCode::NO_CONTENT);
    cors(headers.get(header::ORIGIN).cloned(), &mut resp);
    let h = resp.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        header::HeaderValue::from_static("POST, GET, OPTIONS"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        header::HeaderValue::from_static("Content-Type"),
    );
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        header::HeaderValue::from_static("86400"),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_keeps_whole_characters() {
        assert_eq!(truncate("héllo", 2), "h");
        assert_eq!(truncate("héllo", 3), "hé");
        assert_eq!(truncate("abc", 10), "abc");
    }
}
