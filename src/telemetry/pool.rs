//! Per-pool metrics. A pool actor holds one [`PoolMetrics`]: handles registered once,
//! so recording on the hot path is an atomic add or store. Pool id is the only label
//! besides the answer's `result`; session ids and numbers never are.

use super::{
    calls, ASSIGN_DURATION, LEASE_EXPIRATIONS, POOL_ACTIVE, POOL_NUMBERS, POOL_RECOMMENDED,
    POOL_UTILIZATION, SESSIONS_ASSIGNED,
};
use crate::engine::{AssignKind, Pool};
use crate::ids::PoolId;
use metrics::{Counter, Gauge};
use std::time::Duration;

/// Every tracking answer kind, in the order of [`kind_index`].
pub const RESULTS: [AssignKind; 9] = [
    AssignKind::New,
    AssignKind::Sticky,
    AssignKind::Renewed,
    AssignKind::Regranted,
    AssignKind::Reassigned,
    AssignKind::Recycled,
    AssignKind::Fallback,
    AssignKind::NoSwap,
    AssignKind::Bot,
];

fn kind_index(k: AssignKind) -> usize {
    match k {
        AssignKind::New => 0,
        AssignKind::Sticky => 1,
        AssignKind::Renewed => 2,
        AssignKind::Regranted => 3,
        AssignKind::Reassigned => 4,
        AssignKind::Recycled => 5,
        AssignKind::Fallback => 6,
        AssignKind::NoSwap => 7,
        AssignKind::Bot => 8,
    }
}

pub struct PoolMetrics {
    assigned: [Counter; 9],
    expirations: Counter,
    active: Gauge,
    numbers: Gauge,
    utilization: Gauge,
    recommended: Gauge,
    /// The pool's expiry counter when last read.
    seen_expired: u64,
}

impl PoolMetrics {
    /// Registers the pool's series (at zero, so rates start from zero). `pool` is the
    /// pool as it starts: what it counted before is not counted again.
    pub fn new(id: PoolId, pool: &Pool) -> Self {
        let label = id.to_string();
        let assigned = RESULTS.map(|k| {
            metrics::counter!(SESSIONS_ASSIGNED, "pool" => label.clone(), "result" => k.as_str())
        });
        calls::preregister_pool(&label);
        PoolMetrics {
            assigned,
            expirations: metrics::counter!(LEASE_EXPIRATIONS, "pool" => label.clone()),
            active: metrics::gauge!(POOL_ACTIVE, "pool" => label.clone()),
            numbers: metrics::gauge!(POOL_NUMBERS, "pool" => label.clone()),
            utilization: metrics::gauge!(POOL_UTILIZATION, "pool" => label.clone()),
            recommended: metrics::gauge!(POOL_RECOMMENDED, "pool" => label),
            seen_expired: pool.counters().expired,
        }
    }

    /// Counts one tracking answer.
    pub fn assigned(&self, kind: AssignKind) {
        self.assigned[kind_index(kind)].increment(1);
    }

    /// Updates the gauges and counts new expirations: O(1), after every message.
    pub fn update(&mut self, pool: &Pool) {
        let leased = pool.leased_count();
        let total = pool.numbers_total();
        self.active.set(leased as f64);
        self.numbers.set(total as f64);
        self.utilization.set(if total == 0 {
            0.0
        } else {
            leased as f64 / total as f64
        });
        let expired = pool.counters().expired;
        if expired > self.seen_expired {
            self.expirations.increment(expired - self.seen_expired);
        }
        self.seen_expired = expired;
    }

    /// Updates the recommended size (reads the sizing history; once a second).
    pub fn update_sizing(&self, recommended: u64) {
        self.recommended.set(recommended as f64);
    }

    /// The pool is gone (deleted, or the server is stopping): its gauges read zero
    /// until they leave the output ([`super::GAUGE_IDLE`]).
    pub fn zero(&self) {
        for g in [
            &self.active,
            &self.numbers,
            &self.utilization,
            &self.recommended,
        ] {
            g.set(0.0);
        }
    }
}

/// Records the time a new tracking session took to be answered.
pub fn assign_latency(elapsed: Duration) {
    static HANDLE: std::sync::OnceLock<metrics::Histogram> = std::sync::OnceLock::new();
    if !super::installed() {
        return;
    }
    HANDLE
        .get_or_init(|| metrics::histogram!(ASSIGN_DURATION))
        .record(elapsed.as_secs_f64());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_result_has_its_own_slot() {
        let mut seen = [false; 9];
        for k in RESULTS {
            assert!(!std::mem::replace(&mut seen[kind_index(k)], true));
        }
    }
}
