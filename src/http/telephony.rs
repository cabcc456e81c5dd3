//! Twilio voice webhooks: `POST /api/v1/telephony/twilio/voice` records the call with
//! its attribution and answers TwiML that dials the pool's call flow;
//! `POST /api/v1/telephony/twilio/status` takes the outcome (status, duration).
//!
//! When a Twilio auth token is configured, `X-Twilio-Signature` must be valid, over
//! the URL Twilio requested: `--public-url` plus the path and query (dnid behind a
//! proxy sees another URL than Twilio does), or `http://<Host>` + path when unset.

use super::body::read_limited;
use super::calls::ask;
use super::error::ApiError;
use super::{App, Body};
use crate::actors::calls_actor::{CallsError, CallsMsg, NewCall};
use crate::actors::messages::parse_number;
use crate::calls::twilio;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{header, Method, Request, Response, StatusCode};

pub const STATUS_PATH: &str = "/api/v1/telephony/twilio/status";

fn twiml(xml: String) -> Response<Body> {
    let mut r = Response::new(Full::new(Bytes::from(xml)));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/xml; charset=utf-8"),
    );
    r
}

/// The base URL Twilio uses to reach dnid.
fn public_base(app: &App, req: &Request<Incoming>) -> String {
    match &app.settings.public_url {
        Some(u) => u.trim_end_matches('/').to_string(),
        None => {
            let host = req
                .headers()
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("localhost");
            format!("http://{host}")
        }
    }
}

/// Reads the form body and checks Twilio's signature; refuses with 403 when wrong.
async fn signed_form(
    app: &App,
    req: Request<Incoming>,
) -> Result<(String, Vec<(String, String)>), ApiError> {
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Twilio webhooks are application/x-www-form-urlencoded",
        ));
    }
    let base = public_base(app, &req);
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let presented = req
        .headers()
        .get("x-twilio-signature")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = read_limited(req, app.settings.max_public_body_bytes).await?;
    let params: Vec<(String, String)> = url::form_urlencoded::parse(&body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if let Some(token) = &app.settings.twilio_auth_token {
        let url = format!("{base}{path}");
        let ok = presented
            .as_deref()
            .is_some_and(|sig| twilio::verify(&token.0, &url, &params, sig));
        if !ok {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "invalid_signature",
                "X-Twilio-Signature is missing or does not match this request",
            ));
        }
    }
    Ok((base, params))
}

fn param<'a>(params: &'a [(String, String)], name: &'static str) -> Result<&'a str, ApiError> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty() && v.len() <= 128)
        .ok_or_else(|| {
            ApiError::bad_request(
                "missing_field",
                format!("form field {name} is missing or too long"),
            )
            .with_field(name)
        })
}

fn optional<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

pub async fn route(
    app: &App,
    req: Request<Incoming>,
    rest: &[&str],
) -> Result<Response<Body>, ApiError> {
    match (req.method().clone(), rest) {
        (Method::POST, ["twilio", "voice"]) => voice(app, req).await,
        (Method::POST, ["twilio", "status"]) => status(app, req).await,
        (_, ["twilio", "voice" | "status"]) => Err(ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "Twilio webhooks are POST",
        )),
        _ => Err(ApiError::not_found()),
    }
}

async fn voice(app: &App, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let (base, params) = signed_form(app, req).await?;
    let call_sid = param(&params, "CallSid")?.to_string();
    let to = parse_number("To", param(&params, "To")?)?;
    let from = param(&params, "From")?.to_string();
    let new = NewCall {
        provider: "twilio",
        provider_call_id: Some(call_sid),
        tracking_number: to,
        caller_number: from,
        started_at: None,
        call_status: optional(&params, "CallStatus")
            .unwrap_or("ringing")
            .to_string(),
        duration_secs: None,
    };
    match ask(app, |r| CallsMsg::Record(new, r)).await? {
        Ok((_, route)) => Ok(twiml(twilio::dial(
            route.forward_to.as_str(),
            route.ring_timeout_secs,
            route.record,
            &format!("{base}{STATUS_PATH}"),
        ))),
        // Not a number of ours: a polite message, and nothing recorded.
        Err(CallsError::UnknownNumber(_)) => Ok(twiml(twilio::not_in_service())),
        Err(e) => Err(e.into()),
    }
}

async fn status(app: &App, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let (_, params) = signed_form(app, req).await?;
    let call_sid = param(&params, "CallSid")?.to_string();
    // The `<Dial action>` callback says DialCallStatus; a status callback CallStatus.
    let call_status = match optional(&params, "DialCallStatus").or(optional(&params, "CallStatus"))
    {
        Some("answered") => "completed".to_string(),
        Some(s) if !s.is_empty() && s.len() <= 32 => s.to_string(),
        _ => {
            return Err(ApiError::bad_request(
                "missing_field",
                "form field DialCallStatus or CallStatus is missing",
            ))
        }
    };
    let duration_secs =
        match optional(&params, "DialCallDuration").or(optional(&params, "CallDuration")) {
            Some(d) => Some(d.parse::<u32>().map_err(|_| {
                ApiError::bad_request("invalid_request", "call duration must be whole seconds")
            })?),
            None => None,
        };
    ask(app, |reply| CallsMsg::Status {
        provider_call_id: call_sid,
        call_status,
        duration_secs,
        reply,
    })
    .await??;
    Ok(twiml(twilio::hang_up()))
}
