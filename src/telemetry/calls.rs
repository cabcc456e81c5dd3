//! Metrics of the calls feature: calls by attribution status, and webhook
//! deliveries. The calls code calls these helpers; the metric names and labels are
//! defined here with the others.

use super::{CALLS, WEBHOOK_ATTEMPT_DURATION, WEBHOOK_DELIVERIES, WEBHOOK_RETRIES};
use crate::ids::PoolId;
use metrics::SharedString;
use std::time::Duration;

/// Attribution statuses (design §4); any other value is counted as `other`.
pub const CALL_STATUSES: &[&str] = &[
    "attributed",
    "late",
    "ambiguous",
    "fallback",
    "unattributed",
];
/// The `pool` label of a call to a number no pool owns.
pub const NO_POOL: &str = "none";

/// Counts one call: `dnid_calls_total{pool, status}`. `pool` is the pool that owns the
/// tracking number (`None`: no pool does); `status` the attribution status
/// (`attributed`, `late`, `ambiguous`, `fallback`, `unattributed`).
pub fn record_call(pool: Option<PoolId>, status: &str) {
    let status = CALL_STATUSES
        .iter()
        .find(|s| **s == status)
        .copied()
        .unwrap_or("other");
    let pool = match pool {
        Some(p) => SharedString::from(p.to_string()),
        None => SharedString::const_str(NO_POOL),
    };
    metrics::counter!(CALLS, "pool" => pool, "status" => status).increment(1);
}

/// Counts a webhook delivery that is finished: `delivered`, or failed for good after
/// its last retry. `dnid_webhook_deliveries_total{result}`.
pub fn record_webhook_delivery(delivered: bool) {
    let result = if delivered { "delivered" } else { "failed" };
    metrics::counter!(WEBHOOK_DELIVERIES, "result" => result).increment(1);
}

/// Counts a delivery attempt that failed and will be tried again.
/// `dnid_webhook_retries_total`.
pub fn record_webhook_retry() {
    metrics::counter!(WEBHOOK_RETRIES).increment(1);
}

/// Records one delivery attempt's duration, `ok` when the receiver answered 2xx.
/// `dnid_webhook_attempt_duration_seconds{result="success"|"error"}`.
pub fn record_webhook_attempt(ok: bool, elapsed: Duration) {
    let result = if ok { "success" } else { "error" };
    metrics::histogram!(WEBHOOK_ATTEMPT_DURATION, "result" => result).record(elapsed.as_secs_f64());
}

/// The process-wide call and webhook series, at zero.
pub(super) fn preregister() {
    for result in ["delivered", "failed"] {
        metrics::counter!(WEBHOOK_DELIVERIES, "result" => result).absolute(0);
    }
    metrics::counter!(WEBHOOK_RETRIES).absolute(0);
    metrics::counter!(CALLS, "pool" => NO_POOL, "status" => "unattributed").absolute(0);
}

/// A pool's call series, at zero.
pub(super) fn preregister_pool(pool: &str) {
    for status in CALL_STATUSES {
        metrics::counter!(CALLS, "pool" => pool.to_string(), "status" => *status).increment(0);
    }
}
