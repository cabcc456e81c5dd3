//! Counters and the figures an operator sizes a pool by.

use super::pool::Pool;
use super::session::SessionId;
use serde::{Deserialize, Serialize};

/// Monotonic counters since the pool was created.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    pub assigned_new: u64,
    pub sticky: u64,
    pub renewed: u64,
    pub regranted: u64,
    pub reassigned: u64,
    pub recycled: u64,
    pub fallback: u64,
    pub no_swap: u64,
    pub bots: u64,
    pub expired: u64,
    pub released: u64,
    /// The most leases live at once.
    pub peak_active: u64,
}

impl Counters {
    /// Answers given without a number because none was free.
    pub fn exhausted(&self) -> u64 {
        self.fallback + self.no_swap
    }
}

/// A pool's figures at one moment.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PoolStats {
    pub numbers_total: usize,
    pub numbers_free: usize,
    pub active_sessions: usize,
    pub draining: usize,
    pub utilization: f64,
    pub peak_active: u64,
    pub exhausted: u64,
    pub recommended_size: u64,
    pub counters: Counters,
}

/// A live lease as the sessions endpoint shows it.
#[derive(Clone, Debug)]
pub struct LiveSession<'a> {
    pub session_id: SessionId,
    pub slot: u32,
    pub expires_at: u64,
    pub session: &'a super::session::Session,
}

/// Headroom over the observed peak that the recommendation keeps.
pub const SIZING_HEADROOM: f64 = 1.25;

/// The recommended pool size: the peak number of concurrent sessions plus 25 %
/// headroom, rounded up; and when visitors were turned away (exhausted answers), at
/// least 25 % more than the pool has now, since the true peak was above its size.
pub fn recommended_size(peak_active: u64, numbers_total: usize, exhausted: u64) -> u64 {
    let from_peak = (peak_active as f64 * SIZING_HEADROOM).ceil() as u64;
    if exhausted > 0 {
        from_peak.max((numbers_total as f64 * SIZING_HEADROOM).ceil() as u64)
    } else {
        from_peak
    }
}

impl Pool {
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    pub fn stats(&self) -> PoolStats {
        let total = self.numbers_total();
        let draining = self.slots.iter().flatten().filter(|s| s.draining).count();
        PoolStats {
            numbers_total: total,
            numbers_free: self.free_count(),
            active_sessions: self.leased_count(),
            draining,
            utilization: if total == 0 {
                0.0
            } else {
                self.leased_count() as f64 / total as f64
            },
            peak_active: self.counters.peak_active,
            exhausted: self.counters.exhausted(),
            recommended_size: recommended_size(
                self.counters.peak_active,
                total,
                self.counters.exhausted(),
            ),
            counters: self.counters.clone(),
        }
    }

    /// Live leases, oldest activity first (draining numbers, which are not in the
    /// activity queue, last), at most `limit`.
    pub fn live_sessions(&self, limit: usize) -> Vec<LiveSession<'_>> {
        let mut out = Vec::with_capacity(limit.min(self.leased));
        let draining = (0..self.slots.len() as u32)
            .filter(|&i| self.slot(i).is_some_and(|s| s.draining && s.lease.is_some()));
        for i in self.by_activity.iter().chain(draining) {
            if out.len() >= limit {
                break;
            }
            let Some(lease) = self.slot(i).and_then(|s| s.lease.as_ref()) else {
                continue;
            };
            if let Some(session) = self.sessions.get(&lease.session) {
                out.push(LiveSession {
                    session_id: lease.session,
                    slot: i,
                    expires_at: lease.expires_at,
                    session,
                });
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recommendation_adds_a_quarter_to_the_peak() {
        assert_eq!(recommended_size(0, 10, 0), 0);
        assert_eq!(recommended_size(8, 10, 0), 10);
        assert_eq!(recommended_size(9, 10, 0), 12);
    }

    #[test]
    fn turned_away_visitors_mean_the_pool_must_grow() {
        assert_eq!(recommended_size(10, 10, 3), 13);
        assert_eq!(recommended_size(4, 10, 1), 13);
    }
}
