//! Admin endpoints of the call log: call flows, calls (JSON and CSV), and post-call
//! webhooks with their delivery log.

use super::body::{empty, json_body, json_response};
use super::error::ApiError;
use super::{App, Body};
use crate::actors::calls_actor::{CallQuery, CallsError, CallsMsg, NewCall};
use crate::actors::messages::parse_number;
use crate::calls::model::RING_TIMEOUT_RANGE;
use crate::calls::{export, json, webhook, CallStatus};
use crate::ids::{CallFlowId, CallId, DeliveryId, PoolId, WebhookId};
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{header, Method, Request, Response, StatusCode};
use ractor::rpc::CallResult;
use ractor::RpcReplyPort;
use serde::Deserialize;
use serde_json::json;

impl From<CallsError> for ApiError {
    fn from(e: CallsError) -> Self {
        let msg = e.to_string();
        match e {
            CallsError::FlowNotFound(_) => {
                Self::new(StatusCode::NOT_FOUND, "call_flow_not_found", msg)
            }
            CallsError::FlowInUse(..) => Self::new(StatusCode::CONFLICT, "call_flow_in_use", msg),
            CallsError::UnknownNumber(_) => {
                Self::new(StatusCode::NOT_FOUND, "number_not_found", msg)
            }
            CallsError::CallNotFound(_) => Self::new(StatusCode::NOT_FOUND, "call_not_found", msg),
            CallsError::WebhookNotFound(_) => {
                Self::new(StatusCode::NOT_FOUND, "webhook_not_found", msg)
            }
            CallsError::DeliveryNotFound(_) => {
                Self::new(StatusCode::NOT_FOUND, "delivery_not_found", msg)
            }
            CallsError::Pool(p) => ApiError::from(p),
            CallsError::Storage(_) => Self::unavailable("storage_unavailable", msg),
        }
    }
}

/// Asks the calls actor and waits, within the request timeout.
pub async fn ask<T: Send + 'static>(
    app: &App,
    msg: impl FnOnce(RpcReplyPort<T>) -> CallsMsg,
) -> Result<T, ApiError> {
    match app
        .calls
        .call(msg, Some(app.settings.request_timeout()))
        .await
    {
        Ok(CallResult::Success(v)) => Ok(v),
        Ok(CallResult::Timeout) => Err(ApiError::unavailable(
            "timeout",
            "the call log did not answer in time; try again",
        )),
        _ => Err(ApiError::unavailable(
            "shutting_down",
            "the server is shutting down",
        )),
    }
}

fn not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this endpoint does not take that method",
    )
}

fn parse_id<T: std::str::FromStr>(s: &str, code: &'static str, what: &str) -> Result<T, ApiError> {
    s.parse()
        .map_err(|_| ApiError::new(StatusCode::NOT_FOUND, code, format!("no {what} {s:?}")))
}

/// Parses a time given as RFC 3339 or as unix seconds.
pub fn parse_time(field: &'static str, s: &str) -> Result<u64, ApiError> {
    if let Ok(n) = s.parse::<u64>() {
        return Ok(n);
    }
    humantime::parse_rfc3339_weak(s)
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_secs())
        .ok_or_else(|| {
            ApiError::bad_request(
                "invalid_time",
                format!("{field} must be RFC 3339 (2026-11-29T10:00:00Z) or unix seconds"),
            )
            .with_field(field)
        })
}

/// Routes `/api/v1/{call-flows,calls,webhooks}/…` (the token is already checked).
pub async fn route(
    app: &App,
    req: Request<Incoming>,
    rest: &[&str],
) -> Result<Response<Body>, ApiError> {
    let method = req.method().clone();
    let query = req.uri().query().unwrap_or_default().to_string();
    match (method, rest) {
        (Method::POST, ["call-flows"]) => create_flow(app, req).await,
        (Method::GET, ["call-flows"]) => {
            let flows = ask(app, CallsMsg::Flows).await?;
            let list: Vec<_> = flows.iter().map(json::flow).collect();
            Ok(json_response(
                StatusCode::OK,
                &json!({ "call_flows": list }),
            ))
        }
        (_, ["call-flows"]) => Err(not_allowed()),
        (m, ["call-flows", id]) => {
            let id: CallFlowId = parse_id(id, "call_flow_not_found", "call flow")?;
            match m {
                Method::GET => {
                    let flows = ask(app, CallsMsg::Flows).await?;
                    let f = flows
                        .iter()
                        .find(|f| f.id == id)
                        .ok_or(CallsError::FlowNotFound(id))?;
                    Ok(json_response(StatusCode::OK, &json::flow(f)))
                }
                Method::PATCH => patch_flow(app, id, req).await,
                Method::DELETE => {
                    ask(app, |r| CallsMsg::DeleteFlow(id, r)).await??;
                    Ok(empty(StatusCode::NO_CONTENT))
                }
                _ => Err(not_allowed()),
            }
        }
        (Method::GET, ["calls"]) => list_calls(app, &query).await,
        (Method::POST, ["calls"]) => post_call(app, req).await,
        (_, ["calls"]) => Err(not_allowed()),
        (Method::GET, ["calls", id]) => {
            let id: CallId = parse_id(id, "call_not_found", "call")?;
            let call = ask(app, |r| CallsMsg::Get(id, r)).await??;
            Ok(json_response(StatusCode::OK, &json::call(&call)))
        }
        (_, ["calls", _]) => Err(not_allowed()),
        (Method::POST, ["webhooks"]) => create_webhook(app, req).await,
        (Method::GET, ["webhooks"]) => {
            let hooks = ask(app, CallsMsg::Webhooks).await?;
            let list: Vec<_> = hooks.iter().map(|w| json::webhook(w, false)).collect();
            Ok(json_response(StatusCode::OK, &json!({ "webhooks": list })))
        }
        (_, ["webhooks"]) => Err(not_allowed()),
        (Method::GET, ["webhooks", "deliveries"]) => {
            let limit = super::routes::query_limit(&query)?;
            let ds = ask(app, |reply| CallsMsg::Deliveries { limit, reply }).await?;
            let list: Vec<_> = ds.iter().map(json::delivery).collect();
            Ok(json_response(
                StatusCode::OK,
                &json!({ "deliveries": list }),
            ))
        }
        (Method::POST, ["webhooks", "deliveries", id, "retry"]) => {
            let id: DeliveryId = parse_id(id, "delivery_not_found", "delivery")?;
            let d = ask(app, |r| CallsMsg::Retry(id, r)).await??;
            Ok(json_response(StatusCode::ACCEPTED, &json::delivery(&d)))
        }
        (Method::DELETE, ["webhooks", id]) => {
            let id: WebhookId = parse_id(id, "webhook_not_found", "webhook")?;
            ask(app, |r| CallsMsg::DeleteWebhook(id, r)).await??;
            Ok(empty(StatusCode::NO_CONTENT))
        }
        (_, ["webhooks", ..]) => Err(not_allowed()),
        _ => Err(ApiError::not_found()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FlowBody {
    name: Option<String>,
    forward_to: Option<String>,
    ring_timeout_secs: Option<u32>,
    record: Option<bool>,
}

fn check_flow(name: &str, ring: Option<u32>) -> Result<(), ApiError> {
    let n = name.trim().chars().count();
    if n == 0 || n > 200 {
        return Err(
            ApiError::bad_request("invalid_setting", "name must be 1 to 200 characters")
                .with_field("name"),
        );
    }
    if let Some(r) = ring.filter(|r| !RING_TIMEOUT_RANGE.contains(r)) {
        return Err(ApiError::bad_request(
            "invalid_setting",
            format!(
                "ring_timeout_secs must be between {} and {}, got {r}",
                RING_TIMEOUT_RANGE.start(),
                RING_TIMEOUT_RANGE.end()
            ),
        )
        .with_field("ring_timeout_secs"));
    }
    Ok(())
}

async fn create_flow(app: &App, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let b: FlowBody = json_body(req, app.settings.max_body_bytes).await?;
    let name = b.name.ok_or_else(|| {
        ApiError::bad_request("missing_field", "name is required").with_field("name")
    })?;
    let to = b.forward_to.ok_or_else(|| {
        ApiError::bad_request("missing_field", "forward_to is required").with_field("forward_to")
    })?;
    check_flow(&name, b.ring_timeout_secs)?;
    let forward_to = parse_number("forward_to", &to)?;
    let flow = ask(app, |reply| CallsMsg::PutFlow {
        id: None,
        name,
        forward_to,
        ring_timeout_secs: b.ring_timeout_secs,
        record: b.record.unwrap_or(false),
        reply,
    })
    .await??;
    Ok(json_response(StatusCode::CREATED, &json::flow(&flow)))
}

async fn patch_flow(
    app: &App,
    id: CallFlowId,
    req: Request<Incoming>,
) -> Result<Response<Body>, ApiError> {
    let b: FlowBody = json_body(req, app.settings.max_body_bytes).await?;
    let flows = ask(app, CallsMsg::Flows).await?;
    let old = flows
        .into_iter()
        .find(|f| f.id == id)
        .ok_or(CallsError::FlowNotFound(id))?;
    let name = b.name.unwrap_or(old.name);
    check_flow(&name, b.ring_timeout_secs)?;
    let forward_to = match b.forward_to {
        Some(n) => parse_number("forward_to", &n)?,
        None => old.forward_to,
    };
    let flow = ask(app, |reply| CallsMsg::PutFlow {
        id: Some(id),
        name,
        forward_to,
        ring_timeout_secs: Some(b.ring_timeout_secs.unwrap_or(old.ring_timeout_secs)),
        record: b.record.unwrap_or(old.record),
        reply,
    })
    .await??;
    Ok(json_response(StatusCode::OK, &json::flow(&flow)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CallBody {
    tracking_number: String,
    caller_number: String,
    started_at: Option<serde_json::Value>,
    duration_secs: Option<u32>,
    /// The provider's call state; `completed` (the call is over) by default.
    call_status: Option<String>,
}

/// `POST /api/v1/calls`: a call from any telephony platform.
async fn post_call(app: &App, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let b: CallBody = json_body(req, app.settings.max_body_bytes).await?;
    let tracking_number = parse_number("tracking_number", &b.tracking_number)?;
    let caller = parse_number("caller_number", &b.caller_number)?;
    let started_at = match &b.started_at {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::Number(n)) => Some(n.as_u64().ok_or_else(|| {
            ApiError::bad_request("invalid_time", "started_at must be positive")
                .with_field("started_at")
        })?),
        Some(serde_json::Value::String(s)) => Some(parse_time("started_at", s)?),
        Some(_) => {
            return Err(ApiError::bad_request(
                "invalid_time",
                "started_at must be RFC 3339 or unix seconds",
            )
            .with_field("started_at"))
        }
    };
    let call_status = b.call_status.unwrap_or_else(|| "completed".into());
    if call_status.is_empty() || call_status.len() > 32 {
        return Err(ApiError::bad_request(
            "invalid_request",
            "call_status must be 1 to 32 characters",
        )
        .with_field("call_status"));
    }
    let new = NewCall {
        provider: "api",
        provider_call_id: None,
        tracking_number,
        caller_number: caller.to_string(),
        started_at,
        call_status,
        duration_secs: b.duration_secs,
    };
    let (call, _) = ask(app, |r| CallsMsg::Record(new, r)).await??;
    Ok(json_response(StatusCode::CREATED, &json::call(&call)))
}

fn query_params(query: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// `GET /api/v1/calls`: filters `pool_id, from, to, status, caller`, cursor pages
/// newest first (`cursor`, `limit`), or every match as CSV with `format=csv`.
async fn list_calls(app: &App, query: &str) -> Result<Response<Body>, ApiError> {
    let mut q = CallQuery {
        limit: Some(50),
        ..Default::default()
    };
    let mut csv = false;
    for (k, v) in query_params(query) {
        match k.as_str() {
            "pool_id" => {
                q.pool_id = Some(v.parse::<PoolId>().map_err(|_| {
                    ApiError::bad_request("invalid_query", "pool_id is 16 hex digits")
                        .with_field("pool_id")
                })?)
            }
            "from" => q.from = Some(parse_time("from", &v)?),
            "to" => q.to = Some(parse_time("to", &v)?),
            "status" => {
                q.status = Some(CallStatus::parse(&v).ok_or_else(|| {
                    ApiError::bad_request(
                        "invalid_query",
                        "status is one of attributed, late, ambiguous, fallback, unattributed",
                    )
                    .with_field("status")
                })?)
            }
            "caller" => q.caller = Some(parse_number("caller", &v)?.to_string()),
            "cursor" => {
                q.cursor = Some(v.parse().map_err(|_| {
                    ApiError::bad_request(
                        "invalid_query",
                        "cursor is the next_cursor of a previous page",
                    )
                    .with_field("cursor")
                })?)
            }
            "limit" => {
                q.limit = Some(
                    v.parse::<usize>()
                        .ok()
                        .filter(|n| (1..=1000).contains(n))
                        .ok_or_else(|| {
                            ApiError::bad_request("invalid_query", "limit is 1 to 1000")
                                .with_field("limit")
                        })?,
                )
            }
            "format" => match v.as_str() {
                "csv" => csv = true,
                "json" => {}
                _ => {
                    return Err(
                        ApiError::bad_request("invalid_query", "format is json or csv")
                            .with_field("format"),
                    )
                }
            },
            other => {
                return Err(ApiError::bad_request(
                    "invalid_query",
                    format!("unknown parameter {other:?}"),
                ))
            }
        }
    }
    if csv {
        q.limit = None;
    }
    let (calls, next) = ask(app, |r| CallsMsg::Query(q, r)).await?;
    if csv {
        let bytes = export::to_csv(calls.iter()).map_err(|e| {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string())
        })?;
        let mut resp = Response::new(Full::new(Bytes::from(bytes)));
        let h = resp.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("text/csv; charset=utf-8"),
        );
        h.insert(
            header::CONTENT_DISPOSITION,
            header::HeaderValue::from_static("attachment; filename=\"dnid-calls.csv\""),
        );
        return Ok(resp);
    }
    let list: Vec<_> = calls.iter().map(json::call).collect();
    Ok(json_response(
        StatusCode::OK,
        &json!({ "calls": list, "next_cursor": next.map(|c| c.to_string()) }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WebhookBody {
    pool_id: String,
    url: String,
    secret: Option<String>,
}

async fn create_webhook(app: &App, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let b: WebhookBody = json_body(req, app.settings.max_body_bytes).await?;
    let pool_id: PoolId = b.pool_id.parse().map_err(|_| {
        ApiError::bad_request("invalid_pool_id", "pool_id is 16 hex digits").with_field("pool_id")
    })?;
    if b.url.len() > 2048 || !webhook::valid_url(&b.url) {
        return Err(
            ApiError::bad_request("invalid_url", "url must be an absolute http(s) URL")
                .with_field("url"),
        );
    }
    if let Some(s) = &b.secret {
        if s.len() < 16 || s.len() > 256 {
            return Err(ApiError::bad_request(
                "invalid_setting",
                "secret must be 16 to 256 characters",
            )
            .with_field("secret"));
        }
    }
    let hook = ask(app, |reply| CallsMsg::PutWebhook {
        pool_id,
        url: b.url,
        secret: b.secret,
        reply,
    })
    .await??;
    Ok(json_response(
        StatusCode::CREATED,
        &json::webhook(&hook, true),
    ))
}
