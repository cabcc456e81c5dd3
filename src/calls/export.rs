//! The call log as CSV, every attribution column included (csv crate quoting).

use super::model::{Call, CallSession};
use crate::clock::rfc3339;
use crate::engine::Field;

/// The CSV header: the call, the attribution (in `Field::ALL` order, the IP as
/// `visitor_ip`), then the session.
pub fn columns() -> Vec<&'static str> {
    let call = [
        "call_id",
        "pool_id",
        "provider",
        "provider_call_id",
        "tracking_number",
        "caller_number",
        "started_at",
        "ended_at",
        "duration_secs",
        "call_status",
        "attribution_status",
        "first_call",
        "prior_calls",
        "session_id",
    ];
    let attribution = Field::ALL.map(|f| match f {
        Field::Ip => "visitor_ip",
        f => f.name(),
    });
    let session = [
        "session_first_seen",
        "session_last_seen",
        "session_duration_secs",
        "pages_viewed",
        "other_session_id",
        "forwarded_to",
    ];
    call.into_iter().chain(attribution).chain(session).collect()
}

fn row(c: &Call) -> Vec<String> {
    let s: Option<&CallSession> = c.session.as_ref();
    let a = s.map(|s| &s.attribution);
    let mut row = vec![
        c.id.to_string(),
        c.pool_id.map(|p| p.to_string()).unwrap_or_default(),
        c.provider.clone(),
        c.provider_call_id.clone().unwrap_or_default(),
        c.tracking_number.to_string(),
        c.caller_number.clone(),
        rfc3339(c.started_at),
        c.ended_at.map(rfc3339).unwrap_or_default(),
        c.duration_secs.map(|d| d.to_string()).unwrap_or_default(),
        c.call_status.clone(),
        c.status.as_str().to_string(),
        c.first_call.to_string(),
        c.prior_calls.to_string(),
        s.map(|s| s.session_id.clone()).unwrap_or_default(),
    ];
    // The attribution columns, in `Field::ALL` order.
    row.extend(Field::ALL.map(|f| a.and_then(|a| a.get(f)).unwrap_or_default().to_string()));
    row.extend([
        s.map(|s| rfc3339(s.first_seen)).unwrap_or_default(),
        s.map(|s| rfc3339(s.last_seen)).unwrap_or_default(),
        s.map(|s| s.duration_secs.to_string()).unwrap_or_default(),
        s.map(|s| s.pages_viewed.to_string()).unwrap_or_default(),
        c.other_session
            .as_ref()
            .map(|s| s.session_id.clone())
            .unwrap_or_default(),
        c.forwarded_to
            .as_ref()
            .map(|n| n.to_string())
            .unwrap_or_default(),
    ]);
    row
}

/// Writes a header and one row per call.
pub fn to_csv<'a>(calls: impl Iterator<Item = &'a Call>) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(columns())?;
    for c in calls {
        w.write_record(row(c))?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}
