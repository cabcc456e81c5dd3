//! Model-based test of the pool engine: random sequences of operations run against the
//! engine and against a small reference model written here in the most direct way
//! (ordered maps, a `VecDeque` free list, linear scans). After every step the two must
//! agree on everything observable, and the lease rules of design §2 must hold:
//!
//! - exclusivity: no number leased to two sessions, no session holding two numbers;
//! - `free + leased == numbers_total`;
//! - expiries happen exactly when due: every lease with `expires_at <= now` is gone,
//!   every lease with `expires_at > now` is still there;
//! - the number handed out is the model's (longest free first, rule 3's old number,
//!   rule 6's least recently active victim), and so is the whole free-list order.

use dnid::engine::{
    AddError, AssignKind, Assignment, Attribution, Counters, ExhaustionPolicy, Holder, NotInPool,
    PastHolder, PhoneNumber, Pool, PoolSettings, Removal, SessionId, SessionNotFound,
};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

const T0: u64 = 1_700_000_000;
/// Phone numbers are drawn from `num(0..UNIVERSE)`, so adds collide and removed numbers
/// come back.
const UNIVERSE: u32 = 14;

fn num(i: u32) -> PhoneNumber {
    PhoneNumber::parse(&format!("+1555000{i:04}")).unwrap()
}

fn num_id(n: &PhoneNumber) -> u32 {
    n.as_str()[8..].parse().unwrap()
}

fn sid(i: u64) -> SessionId {
    let mut b = [0u8; 16];
    b[8..].copy_from_slice(&i.to_be_bytes());
    SessionId(b)
}

fn sid_id(s: &SessionId) -> u64 {
    u64::from_be_bytes(s.0[8..].try_into().unwrap())
}

/// Ids that the model never makes: "a session id the pool does not know".
const UNKNOWN: u64 = 1 << 40;

#[derive(Clone, Debug)]
enum Op {
    /// A visitor without a session id.
    AssignNew,
    /// A visitor with the id of a session made earlier (live, expired or forgotten).
    AssignExisting(usize),
    /// A visitor with an id the pool never made.
    AssignUnknown,
    /// A new visitor whose request is stamped in the past (time never goes back).
    AssignStale(u64),
    /// Page view (`counts_page`) or heartbeat of a session made earlier.
    PageView(usize, bool),
    PageViewUnknown,
    Release(usize),
    Advance(u64),
    /// Advance to the earliest live expiry, plus -1, 0 or +1 seconds.
    AdvanceToExpiry(i8),
    Add(Vec<u32>),
    Remove(u32, bool),
    SetPolicy(ExhaustionPolicy),
    SetTimeout(u64),
    Bot,
    /// `who_held` for a number at `now - back`.
    Lookup(u32, u64),
    /// `who_held` for a number at one of the edges of its holders' intervals: a lease's
    /// start, end and end of attribution window, and the seconds either side.
    LookupEdge(u32, usize),
}

fn policy() -> impl Strategy<Value = ExhaustionPolicy> {
    prop_oneof![
        Just(ExhaustionPolicy::Fallback),
        Just(ExhaustionPolicy::RecycleOldest),
        Just(ExhaustionPolicy::NoSwap),
    ]
}

fn timeout() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(60u64),
        Just(61),
        Just(300),
        Just(1800),
        Just(3600),
        Just(86_400)
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => Just(Op::AssignNew),
        4 => any::<usize>().prop_map(Op::AssignExisting),
        1 => Just(Op::AssignUnknown),
        1 => (0u64..5000).prop_map(Op::AssignStale),
        6 => (any::<usize>(), any::<bool>()).prop_map(|(i, c)| Op::PageView(i, c)),
        1 => Just(Op::PageViewUnknown),
        2 => any::<usize>().prop_map(Op::Release),
        3 => (0u64..4000).prop_map(Op::Advance),
        3 => (0u64..70).prop_map(Op::Advance),
        3 => (-1i8..=1).prop_map(Op::AdvanceToExpiry),
        2 => proptest::collection::vec(0..UNIVERSE, 1..4).prop_map(Op::Add),
        2 => (0..UNIVERSE, any::<bool>()).prop_map(|(n, f)| Op::Remove(n, f)),
        1 => policy().prop_map(Op::SetPolicy),
        1 => timeout().prop_map(Op::SetTimeout),
        1 => Just(Op::Bot),
        2 => (0..UNIVERSE, 0u64..6000).prop_map(|(n, b)| Op::Lookup(n, b)),
        3 => (0..UNIVERSE, any::<usize>()).prop_map(|(n, k)| Op::LookupEdge(n, k)),
    ]
}

// ---------------------------------------------------------------------------------
// The reference model.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct MPast {
    session: u64,
    from: u64,
    until: u64,
}

#[derive(Clone, Debug)]
struct MLease {
    session: u64,
    granted: u64,
    expires: u64,
    /// Order of the latest grant or renewal; the smallest is recycled first.
    activity: u64,
    recycled_from: Option<MPast>,
}

#[derive(Clone, Debug)]
struct MSlot {
    num: u32,
    lease: Option<MLease>,
    last: Option<MPast>,
    draining: bool,
}

#[derive(Clone, Debug)]
struct MSession {
    slot: Option<u32>,
    last_slot: Option<u32>,
    ended_at: Option<u64>,
    pages: u32,
    first_seen: u64,
    last_seen: u64,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum End {
    Expired,
    Released,
    Other,
}

#[derive(Debug, PartialEq, Eq)]
struct MAnswer {
    session: u64,
    kind: AssignKind,
    lease: Option<(u32, u64)>,
}

struct Model {
    now: u64,
    timeout: u64,
    window: u64,
    policy: ExhaustionPolicy,
    /// Slot id → number. Slot ids are handed out in order and never reused.
    slots: BTreeMap<u32, MSlot>,
    next_slot: u32,
    free: VecDeque<u32>,
    sessions: BTreeMap<u64, MSession>,
    /// Every session id ever made, in order.
    made: Vec<u64>,
    next_session: u64,
    seq: u64,
    counters: Counters,
    departed: Vec<u32>,
}

impl Model {
    fn new(timeout: u64, window: u64, policy: ExhaustionPolicy) -> Self {
        Model {
            now: T0,
            timeout,
            window,
            policy,
            slots: BTreeMap::new(),
            next_slot: 0,
            free: VecDeque::new(),
            sessions: BTreeMap::new(),
            made: Vec::new(),
            next_session: 1,
            seq: 0,
            counters: Counters::default(),
            departed: Vec::new(),
        }
    }

    fn leased(&self) -> usize {
        self.slots.values().filter(|s| s.lease.is_some()).count()
    }

    fn slot_of(&self, n: u32) -> Option<u32> {
        self.slots
            .iter()
            .find(|(_, s)| s.num == n)
            .map(|(&slot, _)| slot)
    }

    fn advance(&mut self, t: u64) {
        self.now = self.now.max(t);
        let now = self.now;
        let mut due: Vec<(u64, u32)> = self
            .slots
            .iter()
            .filter_map(|(&slot, s)| s.lease.as_ref().map(|l| (l.expires, slot)))
            .filter(|&(e, _)| e <= now)
            .collect();
        // Due order; same-second ties by slot id (documented, for deterministic replay).
        due.sort();
        for (expires, slot) in due {
            self.end_lease(slot, expires, End::Expired);
        }
        let window = self.window;
        self.sessions
            .retain(|_, s| !(s.slot.is_none() && s.ended_at.is_some_and(|e| now - e > window)));
    }

    fn end_lease(&mut self, slot: u32, ended: u64, why: End) -> Option<MPast> {
        let s = self.slots.get_mut(&slot)?;
        let lease = s.lease.take()?;
        let past = MPast {
            session: lease.session,
            from: lease.granted,
            until: ended,
        };
        s.last = Some(past);
        let (draining, n) = (s.draining, s.num);
        let sess = self.sessions.get_mut(&lease.session).unwrap();
        sess.slot = None;
        sess.ended_at = Some(ended);
        match why {
            End::Expired => self.counters.expired += 1,
            End::Released => self.counters.released += 1,
            End::Other => {}
        }
        if draining {
            self.slots.remove(&slot);
            self.departed.push(n);
        } else {
            self.free.push_back(slot);
        }
        Some(past)
    }

    fn grant(
        &mut self,
        slot: u32,
        id: u64,
        kind: AssignKind,
        recycled_from: Option<MPast>,
    ) -> MAnswer {
        let expires = self.now + self.timeout;
        self.seq += 1;
        self.slots.get_mut(&slot).unwrap().lease = Some(MLease {
            session: id,
            granted: self.now,
            expires,
            activity: self.seq,
            recycled_from,
        });
        let s = self.sessions.get_mut(&id).unwrap();
        s.slot = Some(slot);
        s.last_slot = Some(slot);
        s.ended_at = None;
        let leased = self.leased() as u64;
        let c = &mut self.counters;
        c.peak_active = c.peak_active.max(leased);
        match kind {
            AssignKind::New => c.assigned_new += 1,
            AssignKind::Regranted => c.regranted += 1,
            AssignKind::Reassigned => c.reassigned += 1,
            AssignKind::Recycled => c.recycled += 1,
            _ => unreachable!(),
        }
        MAnswer {
            session: id,
            kind,
            lease: Some((slot, expires)),
        }
    }

    fn exhausted(&mut self, id: u64) -> MAnswer {
        let none = |kind| MAnswer {
            session: id,
            kind,
            lease: None,
        };
        match self.policy {
            ExhaustionPolicy::Fallback => {
                self.counters.fallback += 1;
                none(AssignKind::Fallback)
            }
            ExhaustionPolicy::NoSwap => {
                self.counters.no_swap += 1;
                none(AssignKind::NoSwap)
            }
            ExhaustionPolicy::RecycleOldest => {
                let victim = self
                    .slots
                    .iter()
                    .filter(|(_, s)| !s.draining)
                    .filter_map(|(&slot, s)| s.lease.as_ref().map(|l| (l.activity, slot)))
                    .min();
                let Some((_, victim)) = victim else {
                    self.counters.fallback += 1;
                    return none(AssignKind::Fallback);
                };
                let prev = self.end_lease(victim, self.now, End::Other);
                self.free.retain(|&s| s != victim);
                self.grant(victim, id, AssignKind::Recycled, prev)
            }
        }
    }

    fn touch(&mut self, id: u64, counts_page: bool, live: AssignKind) -> MAnswer {
        let now = self.now;
        let s = self.sessions.get_mut(&id).unwrap();
        s.last_seen = now;
        if counts_page {
            s.pages += 1;
        }
        let (slot, last_slot) = (s.slot, s.last_slot);
        if let Some(slot) = slot {
            let expires = now + self.timeout;
            self.seq += 1;
            let ms = self.slots.get_mut(&slot).unwrap();
            let lease = ms.lease.as_mut().unwrap();
            lease.expires = expires;
            if !ms.draining {
                lease.activity = self.seq;
            }
            match live {
                AssignKind::Sticky => self.counters.sticky += 1,
                _ => self.counters.renewed += 1,
            }
            return MAnswer {
                session: id,
                kind: live,
                lease: Some((slot, expires)),
            };
        }
        if let Some(old) = last_slot.filter(|s| self.free.contains(s)) {
            self.free.retain(|&s| s != old);
            return self.grant(old, id, AssignKind::Regranted, None);
        }
        match self.free.pop_front() {
            Some(slot) => self.grant(slot, id, AssignKind::Reassigned, None),
            None => self.exhausted(id),
        }
    }

    fn assign(&mut self, existing: Option<u64>, t: u64) -> MAnswer {
        self.advance(t);
        if let Some(id) = existing.filter(|id| self.sessions.contains_key(id)) {
            return self.touch(id, true, AssignKind::Sticky);
        }
        let id = self.next_session;
        self.next_session += 1;
        self.made.push(id);
        self.sessions.insert(
            id,
            MSession {
                slot: None,
                last_slot: None,
                ended_at: Some(self.now),
                pages: 1,
                first_seen: self.now,
                last_seen: self.now,
            },
        );
        match self.free.pop_front() {
            Some(slot) => self.grant(slot, id, AssignKind::New, None),
            None => self.exhausted(id),
        }
    }

    fn page_view(&mut self, id: u64, counts_page: bool) -> Result<MAnswer, SessionNotFound> {
        self.advance(self.now);
        if !self.sessions.contains_key(&id) {
            return Err(SessionNotFound);
        }
        Ok(self.touch(id, counts_page, AssignKind::Renewed))
    }

    fn release(&mut self, id: u64) -> Result<(), SessionNotFound> {
        self.advance(self.now);
        let s = self.sessions.get(&id).ok_or(SessionNotFound)?;
        if let Some(slot) = s.slot {
            self.end_lease(slot, self.now, End::Released);
        }
        Ok(())
    }

    fn add(&mut self, nums: &[u32]) -> Result<(), AddError> {
        self.advance(self.now);
        let mut seen = BTreeSet::new();
        for &n in nums {
            if self.slot_of(n).is_some() {
                return Err(AddError::AlreadyInPool(num(n)));
            }
            if !seen.insert(n) {
                return Err(AddError::Repeated(num(n)));
            }
        }
        for &n in nums {
            let slot = self.next_slot;
            self.next_slot += 1;
            self.slots.insert(
                slot,
                MSlot {
                    num: n,
                    lease: None,
                    last: None,
                    draining: false,
                },
            );
            self.free.push_back(slot);
        }
        Ok(())
    }

    fn remove(&mut self, n: u32, force: bool) -> Result<Removal, NotInPool> {
        self.advance(self.now);
        let slot = self.slot_of(n).ok_or(NotInPool(num(n)))?;
        let s = self.slots.get_mut(&slot).unwrap();
        if s.lease.is_none() {
            self.free.retain(|&x| x != slot);
            self.slots.remove(&slot);
            return Ok(Removal::Removed);
        }
        s.draining = true;
        if force {
            self.end_lease(slot, self.now, End::Other);
            self.departed.retain(|&x| x != n);
            Ok(Removal::Removed)
        } else {
            Ok(Removal::Draining)
        }
    }

    /// The seconds at which `who_held(n, _)` changes its answer, and their neighbours.
    fn edges(&self, n: u32) -> Vec<u64> {
        let Some(s) = self.slot_of(n).map(|slot| &self.slots[&slot]) else {
            return vec![self.now];
        };
        let mut pasts: Vec<MPast> = s.last.into_iter().collect();
        let mut edges = vec![self.now];
        if let Some(l) = &s.lease {
            edges.push(l.granted);
            pasts.extend(l.recycled_from);
        }
        for p in pasts {
            edges.extend([p.from, p.until, p.until + self.window]);
        }
        edges
            .iter()
            .flat_map(|&e| [e.saturating_sub(1), e, e + 1])
            .collect()
    }

    fn who_held(&self, n: u32, t: u64) -> Option<Holder> {
        let s = &self.slots[&self.slot_of(n)?];
        let known = |id: u64| self.sessions.contains_key(&id);
        if let Some(l) = s.lease.as_ref().filter(|l| t >= l.granted) {
            return Some(match l.recycled_from {
                Some(p) if t - p.until <= self.window && known(p.session) => {
                    Holder::Ambiguous(sid(l.session), sid(p.session))
                }
                _ => Holder::Attributed(sid(l.session)),
            });
        }
        Some(match s.last {
            // A lease is live in [from, until).
            Some(h) if h.from <= t && t < h.until && known(h.session) => {
                Holder::Attributed(sid(h.session))
            }
            Some(h) if t >= h.until && t - h.until <= self.window && known(h.session) => {
                Holder::Late(sid(h.session))
            }
            _ => Holder::Nobody,
        })
    }
}

// ---------------------------------------------------------------------------------
// Running and comparing.

fn past(p: &PastHolder) -> MPast {
    MPast {
        session: sid_id(&p.session),
        from: p.from,
        until: p.until,
    }
}

fn answer(a: &Assignment) -> MAnswer {
    MAnswer {
        session: sid_id(&a.session_id),
        kind: a.kind,
        lease: a.lease,
    }
}

fn step(pool: &mut Pool, m: &mut Model, op: &Op) {
    let pick = |i: usize| (!m.made.is_empty()).then(|| m.made[i % m.made.len()]);
    let now = m.now;
    let fresh = sid(m.next_session);
    match *op {
        Op::AssignNew => {
            let a = pool.assign(None, fresh, Attribution::default, now);
            assert_eq!(answer(&a), m.assign(None, now));
        }
        Op::AssignExisting(i) => {
            let id = pick(i).unwrap_or(UNKNOWN);
            let a = pool.assign(Some(sid(id)), fresh, Attribution::default, now);
            assert_eq!(answer(&a), m.assign(Some(id), now));
        }
        Op::AssignUnknown => {
            let a = pool.assign(Some(sid(UNKNOWN)), fresh, Attribution::default, now);
            assert_eq!(answer(&a), m.assign(Some(UNKNOWN), now));
        }
        Op::AssignStale(back) => {
            let t = now - back;
            let a = pool.assign(None, fresh, Attribution::default, t);
            assert_eq!(answer(&a), m.assign(None, t));
        }
        Op::PageView(i, counts_page) => {
            let id = pick(i).unwrap_or(UNKNOWN);
            let a = pool.page_view(sid(id), counts_page, now);
            assert_eq!(a.map(|a| answer(&a)), m.page_view(id, counts_page));
        }
        Op::PageViewUnknown => {
            assert_eq!(
                pool.page_view(sid(UNKNOWN), true, now),
                Err(SessionNotFound)
            );
            m.page_view(UNKNOWN, true).unwrap_err();
        }
        Op::Release(i) => {
            let id = pick(i).unwrap_or(UNKNOWN);
            assert_eq!(pool.release(sid(id), now), m.release(id));
        }
        Op::Advance(dt) => {
            assert_eq!(pool.advance(now + dt), now + dt);
            m.advance(now + dt);
        }
        Op::AdvanceToExpiry(delta) => {
            let earliest = m
                .slots
                .values()
                .filter_map(|s| s.lease.as_ref().map(|l| l.expires))
                .min();
            let t = earliest.map_or(now + 1, |e| e.saturating_add_signed(delta.into()));
            let t = t.max(now);
            pool.advance(t);
            m.advance(t);
        }
        Op::Add(ref ids) => {
            let nums: Vec<_> = ids.iter().map(|&i| num(i)).collect();
            assert_eq!(pool.add_numbers(&nums, now), m.add(ids));
        }
        Op::Remove(n, force) => {
            assert_eq!(pool.remove_number(&num(n), force, now), m.remove(n, force));
        }
        Op::SetPolicy(policy) => {
            let mut s = pool.settings().clone();
            s.exhaustion_policy = policy;
            pool.set_settings(s);
            m.policy = policy;
        }
        Op::SetTimeout(t) => {
            let mut s = pool.settings().clone();
            s.session_timeout_secs = t;
            pool.set_settings(s);
            m.timeout = t;
        }
        Op::Bot => {
            assert_eq!(pool.bot(now), AssignKind::Bot);
            m.advance(now);
            m.counters.bots += 1;
        }
        Op::Lookup(n, back) => {
            let t = now.saturating_sub(back);
            assert_eq!(
                pool.who_held(&num(n), t),
                m.who_held(n, t),
                "who_held({n}, {t})"
            );
        }
        Op::LookupEdge(n, k) => {
            let edges = m.edges(n);
            let t = edges[k % edges.len()];
            assert_eq!(
                pool.who_held(&num(n), t),
                m.who_held(n, t),
                "who_held({n}, {t})"
            );
        }
    }
}

fn check(pool: &mut Pool, m: &mut Model) {
    let now = m.now;
    assert_eq!(pool.now(), now);

    // Counts: free + leased == numbers in the pool (rule 1).
    let leased = m.leased();
    assert_eq!(pool.numbers_total(), m.slots.len());
    assert_eq!(pool.free_count(), m.free.len());
    assert_eq!(pool.leased_count(), leased);
    assert_eq!(
        pool.free_count() + pool.leased_count(),
        pool.numbers_total()
    );
    assert_eq!(pool.counters(), &m.counters);
    let st = pool.stats();
    assert_eq!(st.active_sessions, leased);
    assert_eq!(st.draining, m.slots.values().filter(|s| s.draining).count());

    // Every slot, lease by lease.
    let mut holders = BTreeSet::new();
    for slot in 0..m.next_slot + 2 {
        let (e, ms) = (pool.slot(slot), m.slots.get(&slot));
        let (Some(e), Some(ms)) = (e, ms) else {
            assert!(e.is_none() && ms.is_none(), "slot {slot}: {e:?} vs {ms:?}");
            continue;
        };
        assert_eq!(num_id(&e.number), ms.num);
        assert_eq!(e.draining, ms.draining, "slot {slot} draining");
        assert_eq!(
            e.last_holder.as_ref().map(past),
            ms.last,
            "slot {slot} last holder"
        );
        match (&e.lease, &ms.lease) {
            (None, None) => {}
            (Some(el), Some(ml)) => {
                let id = sid_id(&el.session);
                // Exclusive (rule 1), and expiries happen exactly when due (rule 5).
                assert!(holders.insert(id), "session {id} holds two numbers");
                assert!(
                    el.expires_at > now,
                    "lease due at {} still live at {now}",
                    el.expires_at
                );
                assert_eq!(id, ml.session, "slot {slot} holder");
                assert_eq!(el.granted_at, ml.granted);
                assert_eq!(el.expires_at, ml.expires, "slot {slot} expiry");
                assert_eq!(el.recycled_from.as_ref().map(past), ml.recycled_from);
                assert_eq!(pool.session(&el.session).unwrap().slot, Some(slot));
            }
            (el, ml) => panic!("slot {slot}: engine lease {el:?}, model lease {ml:?}"),
        }
    }
    // Every lease the model has expiring after now is in the engine (checked above),
    // and the model holds no due lease either.
    assert!(m
        .slots
        .values()
        .filter_map(|s| s.lease.as_ref())
        .all(|l| l.expires > now));

    // Sessions: kept and forgotten at the same moments, with the same data.
    for &id in &m.made {
        let (e, ms) = (pool.session(&sid(id)), m.sessions.get(&id));
        match (e, ms) {
            (None, None) => {}
            (Some(e), Some(ms)) => {
                assert_eq!(e.slot, ms.slot, "session {id} slot");
                assert_eq!(e.last_slot, ms.last_slot, "session {id} last slot");
                assert_eq!(e.ended_at, ms.ended_at, "session {id} ended at");
                assert_eq!(e.pages_viewed, ms.pages, "session {id} pages");
                assert_eq!((e.first_seen, e.last_seen), (ms.first_seen, ms.last_seen));
            }
            (e, ms) => panic!("session {id}: engine {e:?}, model {ms:?}"),
        }
    }

    // Live sessions: least recently active first, draining ones last.
    let mut order: Vec<(bool, u64, u32, u64)> = m
        .slots
        .iter()
        .filter_map(|(&slot, s)| {
            let l = s.lease.as_ref()?;
            let key = if s.draining { slot as u64 } else { l.activity };
            Some((s.draining, key, slot, l.session))
        })
        .collect();
    order.sort();
    let want: Vec<_> = order.iter().map(|&(_, _, slot, id)| (slot, id)).collect();
    let got: Vec<_> = pool
        .live_sessions(usize::MAX)
        .iter()
        .map(|l| (l.slot, sid_id(&l.session_id)))
        .collect();
    assert_eq!(got, want, "live sessions");

    // The whole free list, in order: drain a copy of the pool with new visitors.
    let mut copy = pool.clone();
    let handed: Vec<u32> = (0..m.free.len() as u64)
        .map(|i| {
            let a = copy.assign(None, sid(UNKNOWN + 1 + i), Attribution::default, now);
            assert_eq!(a.kind, AssignKind::New);
            a.lease.unwrap().0
        })
        .collect();
    assert_eq!(
        handed,
        m.free.iter().copied().collect::<Vec<_>>(),
        "free list"
    );
    assert_eq!(copy.free_count(), 0);

    // Numbers that finished draining, each reported once.
    let departed: Vec<u32> = pool.take_departed().iter().map(num_id).collect();
    assert_eq!(departed, m.departed, "departed");
    m.departed.clear();
}

fn run(initial: u32, timeout: u64, window: u64, policy: ExhaustionPolicy, ops: &[Op]) {
    let mut s = PoolSettings::new(
        "Model",
        "https://shop.example",
        PhoneNumber::parse("+12345678900").unwrap(),
    );
    s.session_timeout_secs = timeout;
    s.attribution_window_secs = window;
    s.exhaustion_policy = policy;
    let mut pool = Pool::new(s, T0);
    let mut m = Model::new(timeout, window, policy);
    let first: Vec<u32> = (0..initial).collect();
    let nums: Vec<_> = first.iter().map(|&i| num(i)).collect();
    assert_eq!(pool.add_numbers(&nums, T0), m.add(&first));
    check(&mut pool, &mut m);
    for op in ops {
        step(&mut pool, &mut m, op);
        check(&mut pool, &mut m);
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 600,
        max_shrink_iters: 20_000,
        ..ProptestConfig::default()
    })]

    #[test]
    fn engine_matches_the_reference_model(
        initial in 0u32..8,
        timeout in timeout(),
        window in prop_oneof![Just(0u64), Just(30), Just(600), Just(3600)],
        policy in policy(),
        ops in proptest::collection::vec(op(), 1..150),
    ) {
        run(initial, timeout, window, policy, &ops);
    }
}

/// A fixed scenario through the same checker, so a broken checker cannot pass
/// silently: it must see leases, expiries, recycling, draining and forgetting.
#[test]
fn model_checker_sees_every_kind_of_event() {
    use Op::*;
    let ops = vec![
        AssignNew, // session 1: n0
        Advance(10),
        AssignNew, // session 2: n1
        Advance(10),
        AssignNew, // session 3: n2
        Advance(10),
        PageView(0, false), // session 1 renews
        AssignNew,          // session 4 recycles n1 from session 2, the least active
        Lookup(1, 0),       // ambiguous
        Remove(0, false),   // session 1 holds n0: it drains
        Release(3),         // session 4 lets n1 go
        AdvanceToExpiry(-1),
        AdvanceToExpiry(0), // session 3's lease ends
        PageView(1, true),  // session 2 comes back to n1
        Add(vec![5, 6]),
        Remove(5, true),
        Bot,
        SetTimeout(61),
        SetPolicy(ExhaustionPolicy::NoSwap),
        AssignNew,
        AssignNew,
        AssignNew, // no number free
        Advance(3999),
        Advance(3999),
        AssignExisting(0), // forgotten by now: a new session
        Lookup(2, 100),
    ];
    let mut s = PoolSettings::new(
        "Model",
        "https://shop.example",
        PhoneNumber::parse("+12345678900").unwrap(),
    );
    s.session_timeout_secs = 300;
    s.attribution_window_secs = 600;
    s.exhaustion_policy = ExhaustionPolicy::RecycleOldest;
    let mut pool = Pool::new(s, T0);
    let mut m = Model::new(300, 600, ExhaustionPolicy::RecycleOldest);
    let first = [0, 1, 2];
    let nums: Vec<_> = first.iter().map(|&i| num(i)).collect();
    pool.add_numbers(&nums, T0).unwrap();
    m.add(&first).unwrap();
    let mut departed = 0;
    for op in &ops {
        step(&mut pool, &mut m, op);
        departed += m.departed.len();
        check(&mut pool, &mut m);
    }
    let c = pool.counters();
    assert!(
        c.recycled >= 1 && c.expired >= 1 && c.released >= 1 && c.no_swap >= 1,
        "{c:?}"
    );
    assert!(
        c.assigned_new >= 5 && c.renewed >= 1 && c.bots == 1,
        "{c:?}"
    );
    assert!(c.regranted >= 1, "{c:?}");
    assert_eq!(departed, 1, "the draining number left once");
    assert!(
        m.sessions.len() < m.made.len(),
        "some sessions were forgotten"
    );
}
