//! Counters and the figures an operator sizes a pool by.
//!
//! Sizing looks back over time: [`SizingHistory`] keeps, per minute for the last hour
//! and per hour for the last week, the most leases live at once, the answers given
//! without a number, and the seconds spent above 80 % utilization. The engine feeds it
//! itself, at the engine's times: every lease granted or ended and every exhausted
//! answer is an event at the time the operation (or the expiry) happened, so the
//! history is exact, needs no clock, does not depend on how often the pool ticks, and
//! a WAL replay rebuilds it exactly, like the rest of the pool.

use super::pool::Pool;
use super::session::SessionId;
use serde::{Deserialize, Serialize};
use std::fmt;

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

/// A figure over the last hour, day and week.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Windows {
    pub hour: u64,
    pub day: u64,
    pub week: u64,
}

/// What the sizing history says at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sizing {
    /// Most leases live at once.
    pub peak_active: Windows,
    /// Answers given without a number (`fallback`, `no_swap`).
    pub exhausted: Windows,
    /// Seconds during which more than 80 % of the numbers were leased.
    pub secs_above_80pct: Windows,
}

/// A pool's figures at one moment.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PoolStats {
    pub numbers_total: usize,
    pub numbers_free: usize,
    pub active_sessions: usize,
    pub draining: usize,
    pub utilization: f64,
    /// The most leases live at once since the pool was created.
    pub peak_active: u64,
    /// The most leases live at once in the last hour (by minute), the last 24 hours and
    /// the last 7 days (by clock hour, the current one included).
    pub peak_active_1h: u64,
    pub peak_active_24h: u64,
    pub peak_active_7d: u64,
    /// Answers given without a number since the pool was created.
    pub exhausted: u64,
    pub exhausted_1h: u64,
    pub exhausted_24h: u64,
    pub exhausted_7d: u64,
    /// Seconds spent above 80 % utilization.
    pub secs_above_80pct_1h: u64,
    pub secs_above_80pct_24h: u64,
    pub secs_above_80pct_7d: u64,
    /// See [`recommended_size`].
    pub recommended_size: u64,
    /// The recommendation is above the pool's size.
    pub needs_more_numbers: bool,
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

/// `ceil(n × 1.25)`, exactly.
fn with_headroom(n: u64) -> u64 {
    n.saturating_mul(5).div_ceil(4)
}

/// The recommended pool size, from the peak of concurrent sessions over the last 7
/// days and the answers given without a number (exhausted) over the same week:
///
/// - no visitor turned away: `ceil(peak_7d × 1.25)` — the peak plus 25 % headroom,
///   which keeps numbers free long enough between two holders for late calls to stay
///   attributable (longest-free-first);
/// - visitors turned away (`exhausted_7d > 0`): the pool was full, so the true peak
///   was above its size: at least `ceil(numbers_total × 1.25)`, and always at least one
///   number more than the pool has.
pub fn recommended_size(peak_active_7d: u64, numbers_total: usize, exhausted_7d: u64) -> u64 {
    let from_peak = with_headroom(peak_active_7d);
    if exhausted_7d > 0 {
        let total = numbers_total as u64;
        from_peak.max(with_headroom(total)).max(total + 1)
    } else {
        from_peak
    }
}

impl Pool {
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Records a sizing event at `at` (the engine's time of the change): a lease
    /// granted or ended, an answer without a number.
    pub(super) fn note_sizing(&mut self, at: u64) {
        let obs = self.observation(at);
        self.sizing.observe(obs);
    }

    /// Peaks, exhausted answers and time above 80 % over the last hour, day and week,
    /// at the pool's time.
    pub fn sizing(&self) -> Sizing {
        self.sizing.read(self.observation(self.now))
    }

    /// The sizing history itself.
    pub fn sizing_history(&self) -> &SizingHistory {
        &self.sizing
    }

    fn observation(&self, at: u64) -> Observation {
        Observation {
            now: at,
            leased: self.leased_count() as u64,
            total: self.numbers_total() as u64,
            exhausted_total: self.counters.exhausted(),
            // (a grant notes itself before it raises the all-time peak)
            peak_total: self.counters.peak_active.max(self.leased_count() as u64),
        }
    }

    /// The recommended pool size now (see [`recommended_size`]).
    pub fn recommended_size(&self) -> u64 {
        let s = self.sizing();
        recommended_size(s.peak_active.week, self.numbers_total(), s.exhausted.week)
    }

    pub fn stats(&self) -> PoolStats {
        let total = self.numbers_total();
        let draining = self.slots.iter().flatten().filter(|s| s.draining).count();
        let sizing = self.sizing();
        let recommended = recommended_size(sizing.peak_active.week, total, sizing.exhausted.week);
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
            peak_active_1h: sizing.peak_active.hour,
            peak_active_24h: sizing.peak_active.day,
            peak_active_7d: sizing.peak_active.week,
            exhausted: self.counters.exhausted(),
            exhausted_1h: sizing.exhausted.hour,
            exhausted_24h: sizing.exhausted.day,
            exhausted_7d: sizing.exhausted.week,
            secs_above_80pct_1h: sizing.secs_above_80pct.hour,
            secs_above_80pct_24h: sizing.secs_above_80pct.day,
            secs_above_80pct_7d: sizing.secs_above_80pct.week,
            recommended_size: recommended,
            needs_more_numbers: recommended > total as u64,
            counters: self.counters.clone(),
        }
    }

    /// Live leases, oldest activity first (draining numbers, which are not in the
    /// activity queue, last), at most `limit`.
    pub fn live_sessions(&self, limit: usize) -> Vec<LiveSession<'_>> {
        let mut out = Vec::with_capacity(limit.min(self.leased));
        let draining = (0..self.slots.len() as u32).filter(|&i| {
            self.slot(i)
                .is_some_and(|s| s.draining && s.lease.is_some())
        });
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

// ---------------------------------------------------------------------------------
// Sizing history.

/// Minute buckets kept (the last hour).
pub const MINUTE_BUCKETS: usize = 60;
/// Hour buckets kept (the last week).
pub const HOUR_BUCKETS: usize = 7 * 24;
const DAY_HOURS: u64 = 24;

/// The pool at one event (or at a read).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Observation {
    /// The engine's time of the event (unix seconds).
    pub now: u64,
    /// Live leases after the event.
    pub leased: u64,
    pub total: u64,
    /// The all-time counters: `Counters::exhausted()` and `Counters::peak_active`.
    pub exhausted_total: u64,
    pub peak_total: u64,
}

impl Observation {
    /// More than 80 % of the numbers leased (exact, in integers).
    fn above_80pct(&self) -> bool {
        self.total > 0 && self.leased * 5 > self.total * 4
    }
}

/// One minute or one hour of history.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Bucket {
    /// The minute (or hour) since the epoch this bucket holds, plus one; 0: empty.
    tag: u64,
    peak: u64,
    exhausted: u64,
    above_secs: u64,
}

/// A ring of `len` buckets indexed by minute (or hour) number.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Ring {
    /// Empty until the first event, then `len` buckets.
    buckets: Vec<Bucket>,
}

impl Ring {
    /// The bucket of period `index`, emptied first if it still holds an older period.
    fn at(&mut self, index: u64, len: usize) -> &mut Bucket {
        if self.buckets.len() != len {
            self.buckets = vec![Bucket::default(); len];
        }
        let b = &mut self.buckets[(index % len as u64) as usize];
        if b.tag != index + 1 {
            *b = Bucket {
                tag: index + 1,
                ..Bucket::default()
            };
        }
        b
    }

    /// The buckets of periods `from..=to` that are present.
    fn range(&self, from: u64, to: u64) -> impl Iterator<Item = &Bucket> {
        self.buckets
            .iter()
            .filter(move |b| b.tag > from && b.tag <= to.saturating_add(1))
    }

    /// Adds the seconds of `[start, end)` to the time above 80 % of the periods they
    /// fall in (only the last `len` periods: older ones are gone anyway).
    fn add_above(&mut self, start: u64, end: u64, period: u64, len: usize) {
        if end <= start {
            return;
        }
        let last = (end - 1) / period;
        let first = (start / period).max((last + 1).saturating_sub(len as u64));
        for p in first..=last {
            let lo = start.max(p * period);
            let hi = end.min((p + 1) * period);
            if hi > lo {
                self.at(p, len).above_secs += hi - lo;
            }
        }
    }

    /// Raises to `peak` the peak of the periods after `start`'s that overlap
    /// `[start, end)`.
    fn carry_peak(&mut self, start: u64, end: u64, period: u64, len: usize, peak: u64) {
        if end <= start {
            return;
        }
        let last = (end - 1) / period;
        let first = (start / period + 1).max((last + 1).saturating_sub(len as u64));
        for p in first..=last {
            let b = self.at(p, len);
            b.peak = b.peak.max(peak);
        }
    }
}

/// Per-minute (last hour) and per-hour (last week) history of a pool's load, fed with
/// events in time order; see the module documentation. Between two events the number
/// of live leases does not change, so the history is exact.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SizingHistory {
    minutes: Ring,
    hours: Ring,
    /// The last event (`last_at == 0`: none yet) and the state it left.
    last_at: u64,
    last_leased: u64,
    last_above: bool,
    /// The all-time counters at the last event.
    seen_exhausted: u64,
    seen_peak: u64,
}

impl fmt::Debug for SizingHistory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SizingHistory")
            .field("last_at", &self.last_at)
            .field("last_leased", &self.last_leased)
            .field("last_above", &self.last_above)
            .field("minute_buckets", &self.minutes.range(0, u64::MAX).count())
            .field("hour_buckets", &self.hours.range(0, u64::MAX).count())
            .finish_non_exhaustive()
    }
}

impl SizingHistory {
    /// Records an event at `obs.now` (a time before the last event counts as the last
    /// event's: time never goes backwards).
    pub fn observe(&mut self, obs: Observation) {
        let now = obs.now.max(self.last_at);
        if self.last_at != 0 && now > self.last_at {
            // Since the last event the pool held `last_leased` leases: they count in
            // every period up to now, and so does the time above 80 %.
            let (from, peak) = (self.last_at, self.last_leased);
            if peak > 0 {
                self.minutes.carry_peak(from, now, 60, MINUTE_BUCKETS, peak);
                self.hours.carry_peak(from, now, 3600, HOUR_BUCKETS, peak);
            }
            if self.last_above {
                self.minutes.add_above(from, now, 60, MINUTE_BUCKETS);
                self.hours.add_above(from, now, 3600, HOUR_BUCKETS);
            }
        }
        // A peak or exhausted answers the counters saw without an event (a pool
        // restored from an older format) are credited now rather than lost.
        let peak = if obs.peak_total > self.seen_peak {
            obs.leased.max(obs.peak_total)
        } else {
            obs.leased
        };
        let exhausted = obs.exhausted_total.saturating_sub(self.seen_exhausted);
        for (ring, period, len) in [
            (&mut self.minutes, 60, MINUTE_BUCKETS),
            (&mut self.hours, 3600, HOUR_BUCKETS),
        ] {
            let b = ring.at(now / period, len);
            b.peak = b.peak.max(peak);
            b.exhausted += exhausted;
        }
        self.last_at = now;
        self.last_leased = obs.leased;
        self.last_above = obs.above_80pct();
        self.seen_exhausted = self.seen_exhausted.max(obs.exhausted_total);
        self.seen_peak = self.seen_peak.max(obs.peak_total);
    }

    /// The figures over the windows that end at `obs.now`: the last 60 minutes
    /// (current minute included), the last 24 and 168 clock hours (current hour
    /// included). What happened since the last event (the leases it left, time above
    /// 80 %) is included; nothing is changed.
    pub fn read(&self, obs: Observation) -> Sizing {
        let now = obs.now.max(self.last_at);
        let m = now / 60;
        let h = now / 3600;
        let windows = [
            (
                &self.minutes,
                m.saturating_sub(MINUTE_BUCKETS as u64 - 1),
                m,
                60,
            ),
            (&self.hours, h.saturating_sub(DAY_HOURS - 1), h, 3600),
            (
                &self.hours,
                h.saturating_sub(HOUR_BUCKETS as u64 - 1),
                h,
                3600,
            ),
        ];
        let pending_exhausted = obs.exhausted_total.saturating_sub(self.seen_exhausted);
        let pending_peak = if obs.peak_total > self.seen_peak {
            obs.peak_total
        } else {
            0
        };
        let figures = windows.map(|(ring, from, to, period)| {
            let (mut peak, mut exhausted, mut above) =
                ring.range(from, to).fold((0, 0, 0), |(p, e, a), b| {
                    (p.max(b.peak), e + b.exhausted, a + b.above_secs)
                });
            if self.last_at != 0 {
                // The state the last event left lasts until now.
                peak = peak.max(self.last_leased);
                if self.last_above {
                    above += now - self.last_at.max(from * period).min(now);
                }
            }
            peak = peak.max(obs.leased).max(pending_peak);
            exhausted += pending_exhausted;
            (peak, exhausted, above)
        });
        let [hour, day, week] = figures;
        Sizing {
            peak_active: Windows {
                hour: hour.0,
                day: day.0,
                week: week.0,
            },
            exhausted: Windows {
                hour: hour.1,
                day: day.1,
                week: week.1,
            },
            secs_above_80pct: Windows {
                hour: hour.2,
                day: day.2,
                week: week.2,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Attribution, PhoneNumber, PoolSettings, SessionId};

    #[test]
    fn recommendation_adds_a_quarter_to_the_peak() {
        assert_eq!(recommended_size(0, 10, 0), 0);
        assert_eq!(recommended_size(1, 10, 0), 2);
        assert_eq!(recommended_size(8, 10, 0), 10);
        assert_eq!(recommended_size(9, 10, 0), 12);
        assert_eq!(recommended_size(4, 4, 0), 5);
    }

    #[test]
    fn turned_away_visitors_mean_the_pool_must_grow() {
        assert_eq!(recommended_size(10, 10, 3), 13);
        assert_eq!(recommended_size(4, 10, 1), 13);
        // Always at least one more than the pool has, even when it is empty.
        assert_eq!(recommended_size(0, 0, 2), 1);
        assert_eq!(recommended_size(1, 1, 1), 2);
        // A peak well above the pool (it shrank since) still wins.
        assert_eq!(recommended_size(40, 10, 1), 50);
    }

    // A Monday, 00:00:00 UTC: minute and hour boundaries fall on round numbers.
    const T: u64 = 1_796_428_800;

    /// Feeds events whose all-time counters follow along, as the engine does.
    #[derive(Default)]
    struct Feed {
        h: SizingHistory,
        peak: u64,
        exhausted: u64,
    }

    impl Feed {
        fn obs(&self, now: u64, leased: u64, total: u64) -> Observation {
            Observation {
                now,
                leased,
                total,
                exhausted_total: self.exhausted,
                peak_total: self.peak.max(leased),
            }
        }
        /// The pool holds `leased` of `total` from `now` on.
        fn at(&mut self, now: u64, leased: u64, total: u64) {
            let o = self.obs(now, leased, total);
            self.peak = o.peak_total;
            self.h.observe(o);
        }
        fn turn_away(&mut self, now: u64, leased: u64, total: u64, n: u64) {
            self.exhausted += n;
            self.at(now, leased, total);
        }
        fn read(&self, now: u64, leased: u64, total: u64) -> Sizing {
            self.h.read(self.obs(now, leased, total))
        }
    }

    #[test]
    fn a_peak_leaves_the_hour_after_an_hour_the_day_after_a_day_the_week_after_a_week() {
        let mut f = Feed::default();
        f.at(T + 10, 7, 10);
        f.at(T + 30, 2, 10); // 5 released at once
        let s = f.read(T + 200, 2, 10);
        assert_eq!(
            s.peak_active,
            Windows {
                hour: 7,
                day: 7,
                week: 7
            }
        );
        // Minute 0 is in the hour that ends in minute 59, not in the one that ends in 60.
        assert_eq!(f.read(T + 59 * 60 + 59, 2, 10).peak_active.hour, 7);
        let s = f.read(T + 60 * 60, 2, 10);
        assert_eq!(
            s.peak_active,
            Windows {
                hour: 2,
                day: 7,
                week: 7
            }
        );
        f.at(T + 3 * 3600, 0, 10); // the last 2 end in hour 3
        assert_eq!(f.read(T + 3 * 3600, 0, 10).peak_active.hour, 2);
        // Hour 0 is in the 24 clock hours that end in hour 23, not in those to 24.
        let s = f.read(T + 23 * 3600 + 3599, 0, 10);
        assert_eq!(
            s.peak_active,
            Windows {
                hour: 0,
                day: 7,
                week: 7
            }
        );
        let s = f.read(T + 24 * 3600, 0, 10);
        assert_eq!(
            s.peak_active,
            Windows {
                hour: 0,
                day: 2,
                week: 7
            }
        );
        let s = f.read(T + 27 * 3600, 0, 10);
        assert_eq!(
            s.peak_active,
            Windows {
                hour: 0,
                day: 0,
                week: 7
            }
        );
        // And the week.
        assert_eq!(f.read(T + 168 * 3600 - 1, 0, 10).peak_active.week, 7);
        assert_eq!(f.read(T + 168 * 3600, 0, 10).peak_active.week, 2);
        assert_eq!(
            f.read(T + 171 * 3600, 0, 10).peak_active,
            Windows::default()
        );
    }

    #[test]
    fn leases_count_in_every_minute_they_lasted_without_events() {
        let mut f = Feed::default();
        f.at(T + 10, 5, 10);
        // No event for 50 minutes, then all end at once.
        f.at(T + 50 * 60 + 5, 0, 10);
        // The hour that starts at minute 50 still sees them (they ended in it)...
        assert_eq!(f.read(T + 109 * 60, 0, 10).peak_active.hour, 5);
        // ...the next one does not.
        assert_eq!(f.read(T + 110 * 60, 0, 10).peak_active.hour, 0);
        // Reading never changes the history.
        let before = f.h.clone();
        f.read(T + 500 * 60, 0, 10);
        assert!(f.h == before);
    }

    #[test]
    fn exhausted_answers_are_counted_per_window() {
        let mut f = Feed::default();
        f.turn_away(T + 5, 10, 10, 3);
        f.turn_away(T + 2 * 3600, 10, 10, 4);
        let s = f.read(T + 2 * 3600, 10, 10);
        assert_eq!(
            s.exhausted,
            Windows {
                hour: 4,
                day: 7,
                week: 7
            }
        );
        let s = f.read(T + 25 * 3600, 10, 10);
        assert_eq!(
            s.exhausted,
            Windows {
                hour: 0,
                day: 4,
                week: 7
            }
        );
    }

    #[test]
    fn time_above_80_percent_is_split_across_minutes_and_hours() {
        let mut f = Feed::default();
        // 8 of 10 is not above 80 %; 9 of 10 is.
        f.at(T, 8, 10);
        f.at(T + 100, 9, 10);
        f.at(T + 150, 8, 10); // 50 s above, in minutes 1 and 2
        assert_eq!(
            f.read(T + 150, 8, 10).secs_above_80pct,
            Windows {
                hour: 50,
                day: 50,
                week: 50
            }
        );
        // Above 80 % across an hour boundary: 20 s in hour 0, 41 s in hour 1.
        f.at(T + 3600 - 20, 10, 10);
        f.at(T + 3600 + 41, 1, 10);
        let s = f.read(T + 3600 + 41, 1, 10);
        assert_eq!(s.secs_above_80pct.week, 50 + 61);
        assert_eq!(
            s.secs_above_80pct.hour,
            50 + 61,
            "all within the last 60 minutes"
        );
        // A day later only hour 1's share is left in the 24 clock hours.
        assert_eq!(f.read(T + 24 * 3600 + 10, 0, 10).secs_above_80pct.day, 41);
        // Still above 80 % since the last event: counted up to the read, and only
        // inside the window.
        let mut g = Feed::default();
        g.at(T + 30, 4, 4);
        assert_eq!(g.read(T + 3600 + 30, 4, 4).secs_above_80pct.hour, 3600 - 30);
        assert_eq!(g.read(T + 3600 + 30, 4, 4).secs_above_80pct.week, 3600);
    }

    #[test]
    fn what_the_counters_saw_without_an_event_is_credited() {
        let mut h = SizingHistory::default();
        let o = |now, leased, exhausted_total, peak_total| Observation {
            now,
            leased,
            total: 10,
            exhausted_total,
            peak_total,
        };
        h.observe(o(T, 1, 0, 1));
        let s = h.read(o(T + 600, 1, 6, 9));
        assert_eq!((s.peak_active.hour, s.exhausted.hour), (9, 6));
        h.observe(o(T + 600, 3, 6, 9));
        h.observe(o(T + 700, 3, 6, 9));
        assert_eq!(
            h.read(o(T + 700, 3, 6, 9)).exhausted.week,
            6,
            "credited once"
        );
    }

    #[test]
    fn the_history_is_deterministic_and_survives_serde() {
        let run = || {
            let mut f = Feed::default();
            for i in 0..500u64 {
                let t = T + i * 37;
                if i % 7 == 0 {
                    f.turn_away(t, i % 11, 10, 1);
                } else {
                    f.at(t, i % 11, 10);
                }
            }
            f
        };
        let (a, b) = (run(), run());
        assert!(a.h == b.h);
        let cfg = bincode::config::standard();
        let bytes = bincode::serde::encode_to_vec(&a.h, cfg).unwrap();
        let (c, _): (SizingHistory, _) = bincode::serde::decode_from_slice(&bytes, cfg).unwrap();
        assert!(a.h == c);
        let now = T + 500 * 37;
        assert_eq!(a.read(now, 0, 10), c.read(a.obs(now, 0, 10)));
    }

    fn num(i: u64) -> PhoneNumber {
        PhoneNumber::parse(&format!("+1555000{i:04}")).unwrap()
    }

    fn sid(i: u64) -> SessionId {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&i.to_le_bytes());
        SessionId(b)
    }

    fn pool(n: u64) -> Pool {
        let mut s = PoolSettings::new("Shop", "https://shop.example", num(9999));
        s.session_timeout_secs = 600;
        let mut p = Pool::new(s, T);
        let numbers: Vec<_> = (0..n).map(num).collect();
        p.add_numbers(&numbers, T).unwrap();
        p
    }

    #[test]
    fn a_new_peak_counts_where_it_happened_only() {
        let mut p = pool(4);
        p.assign(None, sid(1), Attribution::default, T + 60);
        // The lease ends at T+660, the first second of minute 11; the hour of
        // minutes 11 to 70 never saw it.
        p.advance(T + 660 + 59 * 60);
        assert_eq!(p.sizing().peak_active.hour, 0);
        assert_eq!(p.sizing().peak_active.day, 1);
    }

    #[test]
    fn the_engine_feeds_the_history_at_its_own_times() {
        let mut p = pool(4);
        for i in 0..4 {
            p.assign(None, sid(i), Attribution::default, T + 60 + i);
        }
        p.assign(None, sid(10), Attribution::default, T + 70); // fallback
                                                               // Full from T+63; the leases expire at T+660..663 (600 s after their grant),
                                                               // and the pool notices only when time moves on, much later.
        p.advance(T + 5000);
        let s = p.sizing();
        assert_eq!(s.peak_active.day, 4);
        assert_eq!(s.exhausted.day, 1);
        // Above 80 % (4 of 4) from T+63 to T+660, when the first lease expired: the
        // expiry counts at its due time, however late the pool noticed.
        assert_eq!(s.secs_above_80pct.day, 660 - 63);
        assert_eq!(p.stats().secs_above_80pct_24h, 597);
        assert_eq!(
            p.stats().peak_active_1h,
            0,
            "all of it more than an hour ago"
        );
        // The same operations with ticks in between give the same history.
        let mut q = pool(4);
        for i in 0..4 {
            q.assign(None, sid(i), Attribution::default, T + 60 + i);
        }
        q.assign(None, sid(10), Attribution::default, T + 70);
        for t in (T + 70..T + 5000).step_by(7) {
            q.advance(t);
        }
        q.advance(T + 5000);
        assert!(p == q, "ticks changed the history");
        assert_eq!(p.sizing(), q.sizing());
    }
}
