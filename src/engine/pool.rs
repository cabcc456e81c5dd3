//! One pool of tracking numbers and its leases: the rules of design §2.
//!
//! Pure and synchronous: no I/O, no clock. Every operation takes `now` (unix seconds)
//! and first moves the pool's time forward to it, expiring what is due — so a pool is
//! exact whether it is driven by a ticking actor, a test, or a WAL replay, and two
//! pools fed the same operations end in the same state.

use super::number::PhoneNumber;
use super::session::{Attribution, Session, SessionId, SessionMap};
use super::settings::{ExhaustionPolicy, PoolSettings};
use super::slot_queue::SlotQueue;
use super::stats::{Counters, SizingHistory};
use super::wheel::TimerWheel;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};

/// A live lease on one slot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    pub session: SessionId,
    pub granted_at: u64,
    pub expires_at: u64,
    /// Set when this lease was taken from a live holder (`recycle_oldest`): calls in
    /// the overlap are `ambiguous`.
    pub recycled_from: Option<PastHolder>,
}

/// A session that held a number before.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PastHolder {
    pub session: SessionId,
    pub from: u64,
    pub until: u64,
}

/// One tracking number and what holds it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slot {
    pub number: PhoneNumber,
    pub lease: Option<Lease>,
    /// The latest holder whose lease ended, kept for late calls (rule 5).
    pub last_holder: Option<PastHolder>,
    /// Removed while leased: never handed out again, leaves when its lease ends.
    pub draining: bool,
}

/// How an assignment came about; the metrics label and the `reason` of the answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssignKind {
    /// A new session got a free number.
    New,
    /// A live session asked again and kept its number (rule 3).
    Sticky,
    /// A live session's page view or heartbeat moved its expiry (rule 2).
    Renewed,
    /// An expired session got its old number back (rule 3).
    Regranted,
    /// An expired session got a new number because its old one was taken (rule 3).
    Reassigned,
    /// The pool was exhausted and the oldest live lease was taken (`recycle_oldest`).
    Recycled,
    /// The pool was exhausted: fallback number shown (`fallback`).
    Fallback,
    /// The pool was exhausted: no number (`no_swap`).
    NoSwap,
    /// The visitor is a crawler: target number, nothing consumed (rule 7).
    Bot,
}

impl AssignKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AssignKind::New => "new",
            AssignKind::Sticky => "sticky",
            AssignKind::Renewed => "renewed",
            AssignKind::Regranted => "regranted",
            AssignKind::Reassigned => "reassigned",
            AssignKind::Recycled => "recycled",
            AssignKind::Fallback => "fallback",
            AssignKind::NoSwap => "no_swap",
            AssignKind::Bot => "bot",
        }
    }

    /// Whether the session holds a lease after this answer.
    pub fn is_leased(self) -> bool {
        !matches!(
            self,
            AssignKind::Fallback | AssignKind::NoSwap | AssignKind::Bot
        )
    }
}

/// The answer to a visitor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Assignment {
    pub session_id: SessionId,
    pub kind: AssignKind,
    /// The leased slot and its expiry, when `kind.is_leased()`.
    pub lease: Option<(u32, u64)>,
}

/// Asked for an operation on a session the pool does not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("session not found")]
pub struct SessionNotFound;

/// Why a lease ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum LeaseEnd {
    Expired,
    Released,
    Forced,
    Recycled,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pool {
    pub(super) settings: PoolSettings,
    /// The lease slab: one entry per number ever added; `None` once removed. Slot ids
    /// are never reused: a session's `last_slot` must not come to mean another number
    /// (rule 3 would hand that number out as "its old one", out of rule 4's order).
    pub(super) slots: Vec<Option<Slot>>,
    pub(super) by_number: HashMap<PhoneNumber, u32>,
    /// Free numbers, longest free first (rule 4).
    pub(super) free: SlotQueue,
    /// Leased numbers, least recently active first (`recycle_oldest` takes the front).
    pub(super) by_activity: SlotQueue,
    pub(super) wheel: TimerWheel,
    pub(super) sessions: SessionMap<Session>,
    /// Sessions that lost their lease, oldest first, to be forgotten once
    /// `attribution_window` has passed. Entries go stale when a session comes back;
    /// `forget_retired` checks before it removes.
    pub(super) retired: VecDeque<(u64, SessionId)>,
    pub(super) counters: Counters,
    /// Load over the last hour, day and week, for sizing (see `stats.rs`).
    #[serde(default)]
    pub(super) sizing: SizingHistory,
    pub(super) leased: usize,
    /// Numbers that left the pool after draining, for the owner to collect.
    pub(super) departed: Vec<PhoneNumber>,
    /// The latest time seen. Time never goes backwards inside a pool.
    pub(super) now: u64,
    #[serde(skip)]
    scratch: Vec<u32>,
}

impl Pool {
    pub fn new(settings: PoolSettings, now: u64) -> Self {
        Pool {
            settings,
            slots: Vec::new(),
            by_number: HashMap::new(),
            free: SlotQueue::default(),
            by_activity: SlotQueue::default(),
            wheel: TimerWheel::new(now),
            sessions: SessionMap::default(),
            retired: VecDeque::new(),
            counters: Counters::default(),
            sizing: SizingHistory::default(),
            leased: 0,
            departed: Vec::new(),
            now,
            scratch: Vec::new(),
        }
    }

    pub fn settings(&self) -> &PoolSettings {
        &self.settings
    }

    /// Replaces the settings. A new timeout applies from each lease's next renewal.
    pub fn set_settings(&mut self, settings: PoolSettings) {
        self.settings = settings;
    }

    pub fn now(&self) -> u64 {
        self.now
    }

    pub fn slot(&self, slot: u32) -> Option<&Slot> {
        self.slots.get(slot as usize).and_then(Option::as_ref)
    }

    pub fn number_of(&self, slot: u32) -> Option<&PhoneNumber> {
        self.slot(slot).map(|s| &s.number)
    }

    pub fn session(&self, id: &SessionId) -> Option<&Session> {
        self.sessions.get(id)
    }

    pub fn numbers_total(&self) -> usize {
        self.by_number.len()
    }

    pub fn free_count(&self) -> usize {
        self.free.len()
    }

    pub fn leased_count(&self) -> usize {
        self.leased
    }

    /// Moves the pool's time to `now`: expires due leases into the back of the free
    /// list (rule 5) and forgets sessions whose attribution window has passed.
    /// Returns the pool's time, which is `now` unless `now` was in the past.
    pub fn advance(&mut self, now: u64) -> u64 {
        let now = now.max(self.now);
        self.now = now;
        let mut due = std::mem::take(&mut self.scratch);
        due.clear();
        self.wheel.expire(now, &mut due);
        for &slot in &due {
            let ended = self
                .slot(slot)
                .and_then(|s| s.lease.as_ref())
                .map_or(now, |l| l.expires_at);
            self.end_lease(slot, ended, LeaseEnd::Expired);
        }
        // Keep the capacity, not the contents: two pools in the same state must compare
        // equal (a restored snapshot has an empty scratch).
        due.clear();
        self.scratch = due;
        self.forget_retired(now);
        now
    }

    /// A page load (design §6 `POST /tracking/sessions`). `session` is the id the
    /// visitor brought, if any; `fresh` the id to use for a new session; `attribution`
    /// is only built when a new session is made.
    pub fn assign(
        &mut self,
        session: Option<SessionId>,
        fresh: SessionId,
        attribution: impl FnOnce() -> Attribution,
        now: u64,
    ) -> Assignment {
        let now = self.advance(now);
        if let Some(id) = session.filter(|id| self.sessions.contains_key(id)) {
            return self.touch(id, true, AssignKind::Sticky, now);
        }
        self.sessions.insert(
            fresh,
            Session {
                attribution: attribution(),
                first_seen: now,
                last_seen: now,
                pages_viewed: 1,
                slot: None,
                last_slot: None,
                ended_at: Some(now),
            },
        );
        // Until it holds a lease, a session is forgotten like one whose lease ended.
        self.retired.push_back((now, fresh));
        match self.free.pop_front() {
            Some(slot) => self.grant(slot, fresh, AssignKind::New, None, now),
            None => self.exhausted(fresh, now),
        }
    }

    /// A page view (`counts_page`) or heartbeat of a known session: renews its lease,
    /// or, when the lease has ended, leases again by rule 3.
    pub fn page_view(
        &mut self,
        session: SessionId,
        counts_page: bool,
        now: u64,
    ) -> Result<Assignment, SessionNotFound> {
        let now = self.advance(now);
        if !self.sessions.contains_key(&session) {
            return Err(SessionNotFound);
        }
        Ok(self.touch(session, counts_page, AssignKind::Renewed, now))
    }

    /// Whether `id` is a session this pool will still know at time `now` (advancing
    /// to `now` would not forget it). Lets a caller decide, before logging a request,
    /// whether it is about a known session.
    pub fn retains_session(&self, id: &SessionId, now: u64) -> bool {
        self.sessions.get(id).is_some_and(|s| {
            s.slot.is_some()
                || s.ended_at
                    .is_none_or(|e| now.saturating_sub(e) <= self.settings.attribution_window_secs)
        })
    }

    /// A crawler asked (rule 7): nothing is leased; only counted.
    pub fn bot(&mut self, now: u64) -> AssignKind {
        self.advance(now);
        self.counters.bots += 1;
        AssignKind::Bot
    }

    /// Ends a session's lease now; its number goes to the back of the free list.
    pub fn release(&mut self, session: SessionId, now: u64) -> Result<(), SessionNotFound> {
        let now = self.advance(now);
        let s = self.sessions.get(&session).ok_or(SessionNotFound)?;
        if let Some(slot) = s.slot {
            self.end_lease(slot, now, LeaseEnd::Released);
        }
        Ok(())
    }

    /// Renews a known session, or leases it again by rule 3.
    fn touch(
        &mut self,
        id: SessionId,
        counts_page: bool,
        live: AssignKind,
        now: u64,
    ) -> Assignment {
        let (slot, last_slot) = match self.sessions.get_mut(&id) {
            Some(s) => {
                s.last_seen = now;
                if counts_page {
                    s.pages_viewed = s.pages_viewed.saturating_add(1);
                }
                (s.slot, s.last_slot)
            }
            None => return self.exhausted(id, now),
        };
        if let Some(slot) = slot {
            let expires_at = now + self.settings.session_timeout_secs;
            self.wheel.schedule(slot, expires_at);
            if let Some(s) = self.slots[slot as usize].as_mut() {
                if let Some(lease) = s.lease.as_mut() {
                    lease.expires_at = expires_at;
                }
                // Draining numbers are not in the activity queue: they are leaving and
                // must not be recycled to someone else.
                if !s.draining {
                    self.by_activity.remove(slot);
                    self.by_activity.push_back(slot);
                }
            }
            match live {
                AssignKind::Sticky => self.counters.sticky += 1,
                _ => self.counters.renewed += 1,
            }
            return Assignment {
                session_id: id,
                kind: live,
                lease: Some((slot, expires_at)),
            };
        }
        if let Some(old) = last_slot.filter(|&s| self.free.remove(s)) {
            return self.grant(old, id, AssignKind::Regranted, None, now);
        }
        match self.free.pop_front() {
            Some(slot) => self.grant(slot, id, AssignKind::Reassigned, None, now),
            None => self.exhausted(id, now),
        }
    }

    /// No number is free: apply the pool's exhaustion policy (rule 6).
    fn exhausted(&mut self, id: SessionId, now: u64) -> Assignment {
        let no_lease = |kind| Assignment {
            session_id: id,
            kind,
            lease: None,
        };
        match self.settings.exhaustion_policy {
            ExhaustionPolicy::Fallback => {
                self.counters.fallback += 1;
                self.note_sizing(now);
                no_lease(AssignKind::Fallback)
            }
            ExhaustionPolicy::NoSwap => {
                self.counters.no_swap += 1;
                self.note_sizing(now);
                no_lease(AssignKind::NoSwap)
            }
            ExhaustionPolicy::RecycleOldest => {
                let Some(victim) = self.by_activity.front() else {
                    // Every number is draining or there are none: nothing to recycle.
                    self.counters.fallback += 1;
                    self.note_sizing(now);
                    return no_lease(AssignKind::Fallback);
                };
                let previous = self.end_lease(victim, now, LeaseEnd::Recycled);
                self.free.remove(victim);
                self.grant(victim, id, AssignKind::Recycled, previous, now)
            }
        }
    }

    fn grant(
        &mut self,
        slot: u32,
        id: SessionId,
        kind: AssignKind,
        recycled_from: Option<PastHolder>,
        now: u64,
    ) -> Assignment {
        let expires_at = now + self.settings.session_timeout_secs;
        if let Some(s) = self.slots[slot as usize].as_mut() {
            s.lease = Some(Lease {
                session: id,
                granted_at: now,
                expires_at,
                recycled_from,
            });
        }
        self.wheel.schedule(slot, expires_at);
        self.by_activity.push_back(slot);
        if let Some(s) = self.sessions.get_mut(&id) {
            s.slot = Some(slot);
            s.last_slot = Some(slot);
            s.ended_at = None;
        }
        self.leased += 1;
        self.note_sizing(now);
        self.counters.peak_active = self.counters.peak_active.max(self.leased as u64);
        match kind {
            AssignKind::New => self.counters.assigned_new += 1,
            AssignKind::Regranted => self.counters.regranted += 1,
            AssignKind::Reassigned => self.counters.reassigned += 1,
            AssignKind::Recycled => self.counters.recycled += 1,
            _ => {}
        }
        Assignment {
            session_id: id,
            kind,
            lease: Some((slot, expires_at)),
        }
    }

    /// Ends the lease on `slot` at time `ended`: the holder becomes the number's last
    /// holder, and the number goes to the back of the free list — or leaves the pool
    /// if it was draining. Returns the holder that was.
    pub(super) fn end_lease(&mut self, slot: u32, ended: u64, why: LeaseEnd) -> Option<PastHolder> {
        let s = self.slots.get_mut(slot as usize)?.as_mut()?;
        let lease = s.lease.take()?;
        let holder = PastHolder {
            session: lease.session,
            from: lease.granted_at,
            until: ended,
        };
        s.last_holder = Some(holder.clone());
        let draining = s.draining;
        self.wheel.cancel(slot);
        self.by_activity.remove(slot);
        self.leased -= 1;
        self.note_sizing(ended);
        if let Some(sess) = self.sessions.get_mut(&lease.session) {
            sess.slot = None;
            sess.ended_at = Some(ended);
            self.retired.push_back((ended, lease.session));
        }
        match why {
            LeaseEnd::Expired => self.counters.expired += 1,
            LeaseEnd::Released => self.counters.released += 1,
            LeaseEnd::Forced | LeaseEnd::Recycled => {}
        }
        if draining {
            self.vacate(slot);
        } else {
            self.free.push_back(slot);
        }
        Some(holder)
    }

    /// Forgets sessions that have held no lease for longer than the attribution
    /// window: no late call can match them any more.
    fn forget_retired(&mut self, now: u64) {
        let window = self.settings.attribution_window_secs;
        while let Some(&(ended, id)) = self.retired.front() {
            if now.saturating_sub(ended) <= window {
                break;
            }
            self.retired.pop_front();
            if self
                .sessions
                .get(&id)
                .is_some_and(|s| s.slot.is_none() && s.ended_at == Some(ended))
            {
                self.sessions.remove(&id);
            }
        }
    }
}
