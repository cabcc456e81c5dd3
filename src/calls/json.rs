//! The JSON form of calls, flows, webhooks and deliveries: ids as hex strings, times
//! as RFC 3339. The API and the webhook payload share it.

use super::model::{Call, CallFlow, CallSession, Delivery, Webhook};
use crate::clock::rfc3339;
use serde_json::{json, Value};

fn session(s: &CallSession) -> Value {
    json!({
        "session_id": s.session_id,
        "first_seen": rfc3339(s.first_seen),
        "last_seen": rfc3339(s.last_seen),
        "duration_secs": s.duration_secs,
        "pages_viewed": s.pages_viewed,
        "attribution": s.attribution,
    })
}

pub fn call(c: &Call) -> Value {
    json!({
        "id": c.id.to_string(),
        "pool_id": c.pool_id.map(|p| p.to_string()),
        "provider": c.provider,
        "provider_call_id": c.provider_call_id,
        "tracking_number": c.tracking_number.as_str(),
        "caller_number": c.caller_number,
        "started_at": rfc3339(c.started_at),
        "ended_at": c.ended_at.map(rfc3339),
        "duration_secs": c.duration_secs,
        "call_status": c.call_status,
        "status": c.status.as_str(),
        "first_call": c.first_call,
        "prior_calls": c.prior_calls,
        "session": c.session.as_ref().map(session),
        "other_session": c.other_session.as_ref().map(session),
        "forwarded_to": c.forwarded_to.as_ref().map(|n| n.as_str()),
    })
}

pub fn flow(f: &CallFlow) -> Value {
    json!({
        "id": f.id.to_string(),
        "name": f.name,
        "forward_to": f.forward_to.as_str(),
        "ring_timeout_secs": f.ring_timeout_secs,
        "record": f.record,
        "created_at": rfc3339(f.created_at),
    })
}

/// A webhook; its secret only when `with_secret` (the answer to its creation).
pub fn webhook(w: &Webhook, with_secret: bool) -> Value {
    let mut v = json!({
        "id": w.id.to_string(),
        "pool_id": w.pool_id.to_string(),
        "url": w.url,
        "created_at": rfc3339(w.created_at),
    });
    if with_secret {
        v["secret"] = json!(w.secret);
    }
    v
}

pub fn delivery(d: &Delivery) -> Value {
    json!({
        "id": d.id.to_string(),
        "webhook_id": d.webhook_id.to_string(),
        "call_id": d.call_id.to_string(),
        "created_at": rfc3339(d.created_at),
        "state": d.state,
        "attempts": d.attempts,
        "next_attempt_at": d.next_attempt_at.map(rfc3339),
        "last_attempt_at": d.last_attempt_at.map(rfc3339),
        "last_status": d.last_status,
        "last_error": d.last_error,
    })
}
