//! Admin endpoints for pools, their numbers, sessions and figures (bearer token).

use super::body::{empty, json_body, json_response};
use super::error::ApiError;
use super::{App, Body};
use crate::actors::messages::parse_number;
use crate::actors::{PoolError, PoolInfo, PoolMsg, PoolPatch, RouterMsg};
use crate::clock::rfc3339;
use crate::engine::{Attribution, ExhaustionPolicy, PhoneNumber, PoolSettings, PoolStats, Removal};
use crate::ids::{PoolId, SessionToken};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use serde::{Deserialize, Serialize};

/// The most numbers one request may add.
pub const MAX_NUMBERS_PER_REQUEST: usize = 10_000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreatePool {
    name: String,
    website_url: String,
    target_number: String,
    fallback_number: Option<String>,
    call_flow_id: Option<String>,
    session_timeout_secs: Option<u64>,
    attribution_window_secs: Option<u64>,
    exhaustion_policy: Option<ExhaustionPolicy>,
    #[serde(default)]
    numbers: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddNumbers {
    numbers: Vec<String>,
}

#[derive(Serialize)]
struct NumberView {
    number: String,
    leased: bool,
    draining: bool,
}

#[derive(Serialize)]
struct PoolView {
    id: String,
    name: String,
    website_url: String,
    target_number: String,
    fallback_number: Option<String>,
    call_flow_id: Option<String>,
    session_timeout_secs: u64,
    attribution_window_secs: u64,
    exhaustion_policy: ExhaustionPolicy,
    numbers_total: usize,
    numbers_free: usize,
    active_sessions: usize,
    utilization: f64,
    exhausted: u64,
    /// The recommended pool size (see the stats endpoint).
    recommended_size: u64,
    /// The recommendation is above the pool's size: the pool needs more numbers.
    needs_more_numbers: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    numbers: Option<Vec<NumberView>>,
}

impl PoolView {
    fn new(info: PoolInfo, with_numbers: bool) -> Self {
        let s = info.settings;
        PoolView {
            id: info.id.to_string(),
            name: s.name,
            website_url: s.website_url,
            target_number: s.target_number.into(),
            fallback_number: s.fallback_number.map(String::from),
            call_flow_id: s.call_flow_id,
            session_timeout_secs: s.session_timeout_secs,
            attribution_window_secs: s.attribution_window_secs,
            exhaustion_policy: s.exhaustion_policy,
            numbers_total: info.stats.numbers_total,
            numbers_free: info.stats.numbers_free,
            active_sessions: info.stats.active_sessions,
            utilization: info.stats.utilization,
            exhausted: info.stats.exhausted,
            recommended_size: info.stats.recommended_size,
            needs_more_numbers: info.stats.needs_more_numbers,
            numbers: with_numbers.then(|| {
                info.numbers
                    .into_iter()
                    .map(|(n, leased, draining)| NumberView {
                        number: n.into(),
                        leased,
                        draining,
                    })
                    .collect()
            }),
        }
    }
}

pub fn parse_pool_id(s: &str) -> Result<PoolId, ApiError> {
    s.parse().map_err(|e| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "pool_not_found",
            format!("no pool {s:?}: {e}"),
        )
    })
}

fn parse_numbers(raw: &[String]) -> Result<Vec<PhoneNumber>, ApiError> {
    if raw.len() > MAX_NUMBERS_PER_REQUEST {
        return Err(ApiError::bad_request(
            "too_many_numbers",
            format!("at most {MAX_NUMBERS_PER_REQUEST} numbers per request"),
        )
        .with_field("numbers"));
    }
    raw.iter()
        .map(|n| parse_number("numbers", n).map_err(ApiError::from))
        .collect()
}

/// Refuses a `call_flow_id` that names no call flow: calls to the pool would have
/// nowhere to go.
async fn ensure_call_flow(app: &App, raw: &str) -> Result<(), ApiError> {
    let not_found = || {
        ApiError::bad_request(
            "call_flow_not_found",
            format!(
                "call_flow_id {raw:?} is not a call flow; create it with POST /api/v1/call-flows"
            ),
        )
        .with_field("call_flow_id")
    };
    let id: crate::ids::CallFlowId = raw.parse().map_err(|_| not_found())?;
    let flows = super::calls::ask(app, crate::actors::calls_actor::CallsMsg::Flows).await?;
    if flows.iter().any(|f| f.id == id) {
        Ok(())
    } else {
        Err(not_found())
    }
}

/// `POST /api/v1/pools`
pub async fn create_pool(app: &App, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let body: CreatePool = json_body(req, app.settings.max_body_bytes).await?;
    let mut settings = PoolSettings::new(
        &body.name,
        &body.website_url,
        parse_number("target_number", &body.target_number)?,
    );
    settings.fallback_number = body
        .fallback_number
        .as_deref()
        .map(|n| parse_number("fallback_number", n))
        .transpose()?;
    if let Some(f) = &body.call_flow_id {
        ensure_call_flow(app, f).await?;
    }
    settings.call_flow_id = body.call_flow_id;
    if let Some(t) = body.session_timeout_secs {
        settings.session_timeout_secs = t;
    }
    if let Some(w) = body.attribution_window_secs {
        settings.attribution_window_secs = w;
    }
    if let Some(p) = body.exhaustion_policy {
        settings.exhaustion_policy = p;
    }
    settings.validate().map_err(PoolError::from)?;
    let numbers = parse_numbers(&body.numbers)?;
    let id = app
        .ask_router(|reply| RouterMsg::Create {
            settings,
            numbers,
            reply,
        })
        .await??;
    let info = pool_info(app, id, true).await?;
    Ok(json_response(
        StatusCode::CREATED,
        &PoolView::new(info, true),
    ))
}

async fn pool_info(app: &App, id: PoolId, with_numbers: bool) -> Result<PoolInfo, ApiError> {
    app.ask_pool(id, |reply| PoolMsg::Info {
        with_numbers,
        reply,
    })
    .await
}

/// `GET /api/v1/pools`
pub async fn list_pools(app: &App) -> Result<Response<Body>, ApiError> {
    let pools = app.ask_router(RouterMsg::List).await?;
    let mut views = Vec::with_capacity(pools.len());
    for (id, actor) in pools {
        // A failed pool is listed with its state rather than hidden.
        let view = match actor {
            Ok(_) => match pool_info(app, id, false).await {
                Ok(info) => serde_json::to_value(PoolView::new(info, false)),
                Err(e) => Ok(serde_json::json!({"id": id.to_string(), "error": e.code})),
            },
            Err(e) => {
                Ok(serde_json::json!({"id": id.to_string(), "error": ApiError::from(e).code}))
            }
        };
        views.push(view.map_err(|e| {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string())
        })?);
    }
    Ok(json_response(
        StatusCode::OK,
        &serde_json::json!({ "pools": views }),
    ))
}

/// `GET /api/v1/pools/{id}`
pub async fn get_pool(app: &App, id: PoolId) -> Result<Response<Body>, ApiError> {
    let info = pool_info(app, id, true).await?;
    Ok(json_response(StatusCode::OK, &PoolView::new(info, true)))
}

/// `PATCH /api/v1/pools/{id}`
pub async fn patch_pool(
    app: &App,
    id: PoolId,
    req: Request<Incoming>,
) -> Result<Response<Body>, ApiError> {
    let patch: PoolPatch = json_body(req, app.settings.max_body_bytes).await?;
    if let Some(Some(f)) = &patch.call_flow_id {
        ensure_call_flow(app, f).await?;
    }
    let info = app
        .ask_pool(id, |reply| PoolMsg::Update(patch, reply))
        .await?;
    Ok(json_response(StatusCode::OK, &PoolView::new(info, false)))
}

/// `DELETE /api/v1/pools/{id}`
pub async fn delete_pool(app: &App, id: PoolId) -> Result<Response<Body>, ApiError> {
    app.ask_router(|reply| RouterMsg::Delete(id, reply))
        .await??;
    Ok(empty(StatusCode::NO_CONTENT))
}

/// `POST /api/v1/pools/{id}/numbers`
pub async fn add_numbers(
    app: &App,
    id: PoolId,
    req: Request<Incoming>,
) -> Result<Response<Body>, ApiError> {
    let body: AddNumbers = json_body(req, app.settings.max_body_bytes).await?;
    let numbers = parse_numbers(&body.numbers)?;
    let added = numbers.len();
    app.ask_router(|reply| RouterMsg::AddNumbers(id, numbers, reply))
        .await??;
    let info = pool_info(app, id, false).await?;
    Ok(json_response(
        StatusCode::OK,
        &serde_json::json!({ "added": added, "numbers_total": info.stats.numbers_total }),
    ))
}

/// `DELETE /api/v1/pools/{id}/numbers/{e164}?force=true`
pub async fn remove_number(
    app: &App,
    id: PoolId,
    raw_number: &str,
    force: bool,
) -> Result<Response<Body>, ApiError> {
    let number = parse_number("number", raw_number)?;
    let removal = app
        .ask_router(|reply| RouterMsg::RemoveNumber {
            pool: id,
            number: number.clone(),
            force,
            reply,
        })
        .await??;
    let status = match removal {
        Removal::Removed => "removed",
        Removal::Draining => "draining",
    };
    Ok(json_response(
        StatusCode::OK,
        &serde_json::json!({ "number": number.as_str(), "status": status }),
    ))
}

#[derive(Serialize)]
struct SessionJson<'a> {
    session_id: String,
    number: String,
    expires_at: String,
    first_seen: String,
    last_seen: String,
    duration_secs: u64,
    pages_viewed: u32,
    attribution: &'a Attribution,
}

/// `GET /api/v1/pools/{id}/sessions?limit=N`
pub async fn list_sessions(
    app: &App,
    id: PoolId,
    limit: usize,
) -> Result<Response<Body>, ApiError> {
    let views = app
        .ask_pool(id, |reply| PoolMsg::Sessions { limit, reply })
        .await?;
    let sessions: Vec<SessionJson> = views
        .iter()
        .map(|v| SessionJson {
            session_id: SessionToken {
                pool: id,
                session: v.session,
            }
            .to_string(),
            number: v.number.to_string(),
            expires_at: rfc3339(v.expires_at),
            first_seen: rfc3339(v.data.first_seen),
            last_seen: rfc3339(v.data.last_seen),
            duration_secs: v.data.duration_secs(),
            pages_viewed: v.data.pages_viewed,
            attribution: &v.data.attribution,
        })
        .collect();
    Ok(json_response(
        StatusCode::OK,
        &serde_json::json!({ "sessions": sessions }),
    ))
}

/// `DELETE /api/v1/pools/{id}/sessions/{session_id}`: ends a session's lease now.
pub async fn end_session(app: &App, id: PoolId, token: &str) -> Result<Response<Body>, ApiError> {
    let token: SessionToken = token
        .parse()
        .ok()
        .filter(|t: &SessionToken| t.pool == id)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "session_not_found",
                "session not found",
            )
        })?;
    app.ask_pool(id, |reply| PoolMsg::EndSession(token.session, reply))
        .await?;
    Ok(empty(StatusCode::NO_CONTENT))
}

#[derive(Serialize)]
struct StatsJson {
    pool_id: String,
    #[serde(flatten)]
    stats: PoolStats,
    at: String,
}

/// `GET /api/v1/pools/{id}/stats`
pub async fn stats(app: &App, id: PoolId) -> Result<Response<Body>, ApiError> {
    let info = pool_info(app, id, false).await?;
    Ok(json_response(
        StatusCode::OK,
        &StatsJson {
            pool_id: id.to_string(),
            stats: info.stats,
            at: rfc3339(app.clock.now()),
        },
    ))
}
