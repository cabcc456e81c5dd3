//! The lease rules of design §2, one or more deterministic tests per numbered rule,
//! plus the counters and the edge cases of `who_held`. Time is passed explicitly, so
//! every test states the exact second at which something must (not) happen.

use super::pool::Pool;
use super::settings::{DEFAULT_ATTRIBUTION_WINDOW_SECS, DEFAULT_SESSION_TIMEOUT_SECS};
use super::*;
use std::collections::HashSet;

const T0: u64 = 1_700_000_000;
const TIMEOUT: u64 = DEFAULT_SESSION_TIMEOUT_SECS;
const WINDOW: u64 = DEFAULT_ATTRIBUTION_WINDOW_SECS;

fn num(i: u32) -> PhoneNumber {
    PhoneNumber::parse(&format!("+1555{i:07}")).unwrap()
}

fn sid(i: u64) -> SessionId {
    let mut b = [0u8; 16];
    b[0] = 0xd1;
    b[8..].copy_from_slice(&i.to_be_bytes());
    SessionId(b)
}

fn settings(policy: ExhaustionPolicy) -> PoolSettings {
    let mut s = PoolSettings::new("Shop", "https://shop.example", num(9_999_999));
    s.exhaustion_policy = policy;
    s
}

/// A pool holding numbers 0..n, added in that order at T0.
fn pool_with(n: u32, policy: ExhaustionPolicy) -> Pool {
    let mut p = Pool::new(settings(policy), T0);
    let numbers: Vec<_> = (0..n).map(num).collect();
    p.add_numbers(&numbers, T0).unwrap();
    p
}

/// A new visitor (no session id) whose fresh id is `sid(id)`.
fn open(p: &mut Pool, id: u64, now: u64) -> Assignment {
    p.assign(None, sid(id), Attribution::default, now)
}

fn number(p: &Pool, a: &Assignment) -> Option<PhoneNumber> {
    a.lease.map(|(slot, _)| p.number_of(slot).unwrap().clone())
}

/// The number a new visitor gets.
fn open_number(p: &mut Pool, id: u64, now: u64) -> Option<PhoneNumber> {
    let a = open(p, id, now);
    number(p, &a)
}

fn free_numbers(p: &Pool) -> Vec<PhoneNumber> {
    p.free
        .iter()
        .map(|s| p.number_of(s).unwrap().clone())
        .collect()
}

/// The session leasing `n`, if any.
fn holder(p: &Pool, n: &PhoneNumber) -> Option<SessionId> {
    let slot = *p.by_number.get(n)?;
    p.slot(slot)?.lease.as_ref().map(|l| l.session)
}

/// Rule 1 and the bookkeeping behind it: counts add up, every number is in exactly one
/// of the free list / a lease, and no session holds two numbers.
fn check(p: &Pool) {
    assert_eq!(p.free_count() + p.leased_count(), p.numbers_total());
    let mut holders = HashSet::new();
    let mut leased = 0;
    for (slot, s) in p.slots.iter().enumerate() {
        let Some(s) = s else { continue };
        let slot = slot as u32;
        match &s.lease {
            Some(l) => {
                leased += 1;
                assert!(!p.free.contains(slot), "leased {} is free", s.number);
                assert!(holders.insert(l.session), "a session holds two numbers");
                assert!(l.expires_at > p.now(), "a due lease is still live");
                assert_eq!(p.session(&l.session).unwrap().slot, Some(slot));
                assert_eq!(p.wheel.due(slot), Some(l.expires_at));
            }
            None => {
                assert!(
                    p.free.contains(slot),
                    "{} neither free nor leased",
                    s.number
                );
                assert!(!s.draining);
                assert_eq!(p.wheel.due(slot), None);
            }
        }
    }
    assert_eq!(leased, p.leased_count());
    assert_eq!(p.wheel.len(), leased);
}

// ---------------------------------------------------------------------------------
// Rule 1: exclusive.

#[test]
fn rule_1_exclusive_each_number_goes_to_one_session_at_a_time() {
    let mut p = pool_with(3, ExhaustionPolicy::Fallback);
    let mut given = HashSet::new();
    for i in 0..3 {
        let a = open(&mut p, i, T0 + i);
        assert_eq!(a.kind, AssignKind::New);
        assert!(
            given.insert(number(&p, &a).unwrap()),
            "number handed out twice"
        );
        check(&p);
    }
    // Every number is taken: the fourth visitor gets no lease, nobody loses theirs.
    let a = open(&mut p, 3, T0 + 3);
    assert_eq!(a.kind, AssignKind::Fallback);
    assert_eq!(a.lease, None);
    assert_eq!((p.leased_count(), p.free_count()), (3, 0));
    for (i, n) in (0..3).map(num).enumerate() {
        assert_eq!(holder(&p, &n), Some(sid(i as u64)));
    }
    check(&p);
}

#[test]
fn rule_1_exclusive_free_plus_leased_is_the_pool_size_through_every_operation() {
    let mut p = pool_with(4, ExhaustionPolicy::RecycleOldest);
    check(&p);
    for i in 0..6 {
        open(&mut p, i, T0 + i); // the last two recycle
        check(&p);
    }
    assert_eq!(p.leased_count(), 4);
    p.release(sid(5), T0 + 10).unwrap();
    check(&p);
    p.add_numbers(&[num(10), num(11)], T0 + 11).unwrap();
    check(&p);
    assert_eq!(p.numbers_total(), 6);
    let leased = p
        .number_of(p.session(&sid(4)).unwrap().slot.unwrap())
        .unwrap()
        .clone();
    assert_eq!(
        p.remove_number(&leased, false, T0 + 12),
        Ok(Removal::Draining)
    );
    check(&p);
    assert_eq!(
        p.remove_number(&num(10), false, T0 + 13),
        Ok(Removal::Removed)
    );
    check(&p);
    let forced = p
        .number_of(p.session(&sid(3)).unwrap().slot.unwrap())
        .unwrap()
        .clone();
    assert_eq!(
        p.remove_number(&forced, true, T0 + 14),
        Ok(Removal::Removed)
    );
    check(&p);
    p.page_view(sid(2), true, T0 + 15).unwrap();
    check(&p);
    p.advance(T0 + 100_000);
    check(&p);
    assert_eq!(p.leased_count(), 0);
    assert_eq!(p.numbers_total(), 3);
    assert_eq!(p.free_count(), 3);
}

// ---------------------------------------------------------------------------------
// Rule 2: sliding lifetime.

#[test]
fn rule_2_sliding_lifetime_page_view_moves_expiry_to_now_plus_timeout() {
    let mut p = pool_with(2, ExhaustionPolicy::Fallback);
    let a = open(&mut p, 1, T0);
    let (slot, expires) = a.lease.unwrap();
    assert_eq!(expires, T0 + TIMEOUT);
    let r = p.page_view(sid(1), true, T0 + 1000).unwrap();
    assert_eq!(r.kind, AssignKind::Renewed);
    assert_eq!(r.lease, Some((slot, T0 + 1000 + TIMEOUT)));
    // Past the first expiry, still leased; gone exactly at the moved one.
    p.advance(T0 + TIMEOUT);
    assert_eq!(holder(&p, &num(0)), Some(sid(1)));
    p.advance(T0 + 1000 + TIMEOUT - 1);
    assert_eq!(holder(&p, &num(0)), Some(sid(1)));
    p.advance(T0 + 1000 + TIMEOUT);
    assert_eq!(holder(&p, &num(0)), None);
    assert_eq!(p.leased_count(), 0);
    check(&p);
}

#[test]
fn rule_2_sliding_lifetime_unrenewed_lease_lives_exactly_the_timeout() {
    let mut p = pool_with(1, ExhaustionPolicy::Fallback);
    open(&mut p, 1, T0);
    p.advance(T0 + TIMEOUT - 1);
    assert_eq!(holder(&p, &num(0)), Some(sid(1)));
    assert_eq!(p.counters().expired, 0);
    p.advance(T0 + TIMEOUT);
    assert_eq!(holder(&p, &num(0)), None);
    assert_eq!(p.counters().expired, 1);
}

#[test]
fn rule_2_sliding_lifetime_heartbeat_renews_without_counting_a_page() {
    let mut p = pool_with(1, ExhaustionPolicy::Fallback);
    open(&mut p, 1, T0);
    let r = p.page_view(sid(1), false, T0 + 600).unwrap();
    assert_eq!(r.kind, AssignKind::Renewed);
    assert_eq!(r.lease.unwrap().1, T0 + 600 + TIMEOUT);
    let s = p.session(&sid(1)).unwrap();
    assert_eq!(s.pages_viewed, 1);
    assert_eq!(s.last_seen, T0 + 600);
    p.page_view(sid(1), true, T0 + 700).unwrap();
    assert_eq!(p.session(&sid(1)).unwrap().pages_viewed, 2);
    assert_eq!(p.counters().renewed, 2);
    // A burst of heartbeats leaves exactly one timer behind.
    for t in 701..800 {
        p.page_view(sid(1), false, T0 + t).unwrap();
    }
    assert_eq!(p.wheel.len(), 1);
    assert_eq!(p.wheel.due(0), Some(T0 + 799 + TIMEOUT));
}

#[test]
fn rule_2_sliding_lifetime_new_timeout_applies_from_the_next_renewal() {
    let mut p = pool_with(2, ExhaustionPolicy::Fallback);
    open(&mut p, 1, T0);
    let mut s = p.settings().clone();
    s.session_timeout_secs = 60;
    p.set_settings(s);
    // The running lease keeps its expiry...
    p.advance(T0 + 100);
    assert_eq!(holder(&p, &num(0)), Some(sid(1)));
    // ...until it is renewed; new leases use the new timeout at once.
    let r = p.page_view(sid(1), false, T0 + 100).unwrap();
    assert_eq!(r.lease.unwrap().1, T0 + 160);
    assert_eq!(open(&mut p, 2, T0 + 100).lease.unwrap().1, T0 + 160);
    p.advance(T0 + 159);
    assert_eq!(p.leased_count(), 2);
    p.advance(T0 + 160);
    assert_eq!(p.leased_count(), 0);
}

#[test]
fn rule_2_sliding_lifetime_unknown_session_cannot_be_renewed() {
    let mut p = pool_with(1, ExhaustionPolicy::Fallback);
    assert_eq!(p.page_view(sid(42), true, T0), Err(SessionNotFound));
    assert_eq!(p.release(sid(42), T0), Err(SessionNotFound));
    assert_eq!(p.leased_count(), 0);
    assert_eq!(p.counters().renewed, 0);
}

// ---------------------------------------------------------------------------------
// Rule 3: sticky.

#[test]
fn rule_3_sticky_live_session_gets_the_same_number_back() {
    let mut p = pool_with(3, ExhaustionPolicy::Fallback);
    let a = open(&mut p, 1, T0);
    let (slot, _) = a.lease.unwrap();
    let b = p.assign(Some(sid(1)), sid(99), Attribution::default, T0 + 50);
    assert_eq!(b.kind, AssignKind::Sticky);
    assert_eq!(b.session_id, sid(1));
    assert_eq!(b.lease, Some((slot, T0 + 50 + TIMEOUT)));
    // The fresh id was not used and nothing else was leased.
    assert!(p.session(&sid(99)).is_none());
    assert_eq!(p.leased_count(), 1);
    assert_eq!(p.session(&sid(1)).unwrap().pages_viewed, 2);
    assert_eq!(p.counters().sticky, 1);
    assert_eq!(p.counters().assigned_new, 1);
}

#[test]
fn rule_3_sticky_expired_session_gets_its_old_number_back_when_free() {
    let mut p = pool_with(3, ExhaustionPolicy::Fallback);
    let a = open(&mut p, 1, T0);
    assert_eq!(number(&p, &a), Some(num(0)));
    p.advance(T0 + TIMEOUT);
    // Its old number is at the back of the free list, not the front...
    assert_eq!(free_numbers(&p), vec![num(1), num(2), num(0)]);
    // ...but a returning session gets it back (assign with its id).
    let b = p.assign(
        Some(sid(1)),
        sid(99),
        Attribution::default,
        T0 + TIMEOUT + 5,
    );
    assert_eq!(b.kind, AssignKind::Regranted);
    assert_eq!(b.session_id, sid(1));
    assert_eq!(number(&p, &b), Some(num(0)));
    assert_eq!(free_numbers(&p), vec![num(1), num(2)]);
    assert!(p.session(&sid(99)).is_none());
    // The same through a page view.
    p.advance(T0 + 2 * TIMEOUT + 5);
    let c = p.page_view(sid(1), true, T0 + 2 * TIMEOUT + 10).unwrap();
    assert_eq!(c.kind, AssignKind::Regranted);
    assert_eq!(number(&p, &c), Some(num(0)));
    assert_eq!(p.counters().regranted, 2);
    check(&p);
}

#[test]
fn rule_3_sticky_released_session_gets_its_old_number_back_when_free() {
    let mut p = pool_with(2, ExhaustionPolicy::Fallback);
    open(&mut p, 1, T0);
    p.release(sid(1), T0 + 10).unwrap();
    assert_eq!(free_numbers(&p), vec![num(1), num(0)]);
    let a = p.page_view(sid(1), false, T0 + 20).unwrap();
    assert_eq!(a.kind, AssignKind::Regranted);
    assert_eq!(number(&p, &a), Some(num(0)));
}

#[test]
fn rule_3_sticky_expired_session_whose_number_was_taken_gets_a_new_one_same_id_same_data() {
    let mut p = pool_with(2, ExhaustionPolicy::Fallback);
    let landing = "https://shop.example/?utm_source=google&utm_campaign=spring&gclid=abc";
    let a = p.assign(
        None,
        sid(1),
        || Attribution::from_landing(landing, Some("https://google.com/"), None, None),
        T0,
    );
    assert_eq!(number(&p, &a), Some(num(0)));
    p.advance(T0 + TIMEOUT); // free: n1, n0
    open(&mut p, 2, T0 + TIMEOUT + 1); // takes n1
    open(&mut p, 3, T0 + TIMEOUT + 2); // takes n0, the old number of session 1
    p.release(sid(2), T0 + TIMEOUT + 3).unwrap(); // n1 is free again
    let b = p.assign(
        Some(sid(1)),
        sid(99),
        Attribution::default,
        T0 + TIMEOUT + 4,
    );
    assert_eq!(b.kind, AssignKind::Reassigned);
    assert_eq!(b.session_id, sid(1));
    assert_eq!(number(&p, &b), Some(num(1)));
    assert_eq!(
        holder(&p, &num(0)),
        Some(sid(3)),
        "the other holder keeps it"
    );
    let s = p.session(&sid(1)).unwrap();
    assert_eq!(s.attribution.get(Field::UtmSource), Some("google"));
    assert_eq!(s.attribution.get(Field::UtmCampaign), Some("spring"));
    assert_eq!(s.attribution.get(Field::Gclid), Some("abc"));
    assert_eq!(s.first_seen, T0);
    assert_eq!(s.pages_viewed, 2);
    assert!(p.session(&sid(99)).is_none());
    assert_eq!(p.counters().reassigned, 1);
    check(&p);
}

#[test]
fn rule_3_sticky_returning_session_with_a_full_pool_follows_the_exhaustion_policy() {
    let mut p = pool_with(1, ExhaustionPolicy::Fallback);
    open(&mut p, 1, T0);
    p.release(sid(1), T0 + 1).unwrap();
    open(&mut p, 2, T0 + 2);
    let a = p.page_view(sid(1), true, T0 + 3).unwrap();
    assert_eq!((a.kind, a.lease), (AssignKind::Fallback, None));
    assert_eq!(a.session_id, sid(1));
    // The session is kept, and gets a number once one is free.
    p.release(sid(2), T0 + 4).unwrap();
    let b = p.page_view(sid(1), true, T0 + 5).unwrap();
    assert_eq!(b.kind, AssignKind::Regranted);
    assert_eq!(b.session_id, sid(1));
}

#[test]
fn rule_3_sticky_unknown_or_forgotten_session_id_starts_a_new_session() {
    let mut p = pool_with(2, ExhaustionPolicy::Fallback);
    let a = p.assign(Some(sid(42)), sid(1), Attribution::default, T0);
    assert_eq!(a.kind, AssignKind::New);
    assert_eq!(a.session_id, sid(1));
    assert!(p.session(&sid(42)).is_none());
    // Session 1 expires and is forgotten after the attribution window; its id is
    // then unknown and a new session starts.
    let gone = T0 + TIMEOUT + WINDOW + 1;
    p.advance(gone);
    assert!(p.session(&sid(1)).is_none());
    let b = p.assign(Some(sid(1)), sid(2), Attribution::default, gone);
    assert_eq!(b.kind, AssignKind::New);
    assert_eq!(b.session_id, sid(2));
}

// ---------------------------------------------------------------------------------
// Rule 4: longest-free first.

#[test]
fn rule_4_longest_free_first_numbers_go_out_in_the_order_they_were_added() {
    let mut p = pool_with(4, ExhaustionPolicy::Fallback);
    p.add_numbers(&[num(7), num(5)], T0).unwrap();
    let order: Vec<_> = (0..6)
        .map(|i| {
            let a = open(&mut p, i, T0 + i);
            number(&p, &a).unwrap()
        })
        .collect();
    assert_eq!(order, vec![num(0), num(1), num(2), num(3), num(7), num(5)]);
}

#[test]
fn rule_4_longest_free_first_released_numbers_queue_behind_older_free_ones() {
    let mut p = pool_with(3, ExhaustionPolicy::Fallback);
    open(&mut p, 1, T0); // n0
    open(&mut p, 2, T0); // n1
    p.release(sid(2), T0 + 5).unwrap();
    p.release(sid(1), T0 + 6).unwrap();
    assert_eq!(free_numbers(&p), vec![num(2), num(1), num(0)]);
    let got: Vec<_> = (10..13)
        .map(|i| {
            let a = open(&mut p, i, T0 + i);
            number(&p, &a).unwrap()
        })
        .collect();
    assert_eq!(got, vec![num(2), num(1), num(0)]);
}

#[test]
fn rule_4_longest_free_first_expiries_queue_in_due_order_even_in_one_long_jump() {
    let mut p = pool_with(5, ExhaustionPolicy::Fallback);
    open(&mut p, 0, T0); // n0, due T0+1800
    open(&mut p, 1, T0 + 10); // n1, due T0+1810
    open(&mut p, 2, T0 + 10); // n2, due T0+1810
    open(&mut p, 3, T0 + 20); // n3
    p.page_view(sid(3), false, T0 + 25).unwrap(); // n3 now due T0+1825
    p.page_view(sid(0), false, T0 + 30).unwrap(); // n0 now due T0+1830
                                                  // Jump well past several rounds of the timer wheel in one go.
    p.advance(T0 + 100_000);
    assert_eq!(
        free_numbers(&p),
        // n1 and n2 are due in the same second: slot order, for deterministic replays.
        vec![num(4), num(1), num(2), num(3), num(0)]
    );
    check(&p);
}

// ---------------------------------------------------------------------------------
// Rule 5: expiry.

#[test]
fn rule_5_expiry_number_goes_to_the_back_of_the_free_list() {
    let mut p = pool_with(3, ExhaustionPolicy::Fallback);
    open(&mut p, 1, T0);
    p.advance(T0 + TIMEOUT);
    assert_eq!(free_numbers(&p), vec![num(1), num(2), num(0)]);
    let s = p.session(&sid(1)).unwrap();
    assert_eq!(s.slot, None);
    assert_eq!(s.ended_at, Some(T0 + TIMEOUT));
    let last = p.slot(0).unwrap().last_holder.clone().unwrap();
    assert_eq!(
        last,
        PastHolder {
            session: sid(1),
            from: T0,
            until: T0 + TIMEOUT
        }
    );
    // The next visitors get the longest-free numbers first.
    assert_eq!(open_number(&mut p, 2, T0 + TIMEOUT), Some(num(1)));
    assert_eq!(open_number(&mut p, 3, T0 + TIMEOUT), Some(num(2)));
    assert_eq!(open_number(&mut p, 4, T0 + TIMEOUT), Some(num(0)));
}

#[test]
fn rule_5_expiry_records_the_due_second_as_the_end_even_when_noticed_later() {
    let mut p = pool_with(2, ExhaustionPolicy::Fallback);
    open(&mut p, 1, T0);
    // A bot request at the due second is enough to expire the lease, with the lease's
    // own expiry (not the time of the later call) recorded as its end.
    p.bot(T0 + TIMEOUT + 500);
    assert_eq!(p.leased_count(), 0);
    assert_eq!(
        p.slot(0).unwrap().last_holder.as_ref().unwrap().until,
        T0 + TIMEOUT
    );
    assert_eq!(p.session(&sid(1)).unwrap().ended_at, Some(T0 + TIMEOUT));
}

#[test]
fn rule_5_expiry_last_holder_is_late_within_the_window_and_nobody_after() {
    let mut p = pool_with(2, ExhaustionPolicy::Fallback);
    open(&mut p, 1, T0);
    let n = num(0);
    let end = T0 + TIMEOUT;
    assert_eq!(p.who_held(&n, T0 + 5), Some(Holder::Attributed(sid(1))));
    p.advance(end);
    assert_eq!(p.who_held(&n, end - 1), Some(Holder::Attributed(sid(1))));
    assert_eq!(p.who_held(&n, end), Some(Holder::Late(sid(1))));
    p.advance(end + WINDOW);
    assert_eq!(p.who_held(&n, end + WINDOW), Some(Holder::Late(sid(1))));
    assert!(p.session(&sid(1)).is_some());
    assert_eq!(p.who_held(&n, end + WINDOW + 1), Some(Holder::Nobody));
    // Once the pool's time passes the window the session is forgotten.
    p.advance(end + WINDOW + 1);
    assert!(p.session(&sid(1)).is_none());
    assert_eq!(p.who_held(&n, end + 10), Some(Holder::Nobody));
    assert_eq!(
        p.page_view(sid(1), true, end + WINDOW + 1),
        Err(SessionNotFound)
    );
}

#[test]
fn rule_5_expiry_late_call_still_matches_after_the_number_has_a_new_holder() {
    let mut p = pool_with(1, ExhaustionPolicy::Fallback);
    open(&mut p, 1, T0);
    let end = T0 + TIMEOUT;
    open(&mut p, 2, end + 100); // gets n0 again
    let n = num(0);
    assert_eq!(p.who_held(&n, T0 + 10), Some(Holder::Attributed(sid(1))));
    assert_eq!(p.who_held(&n, end + 50), Some(Holder::Late(sid(1))));
    assert_eq!(p.who_held(&n, end + 100), Some(Holder::Attributed(sid(2))));
    assert_eq!(p.who_held(&n, T0 - 1), Some(Holder::Nobody));
}

#[test]
fn rule_5_expiry_uses_the_pools_attribution_window() {
    let mut p = pool_with(1, ExhaustionPolicy::Fallback);
    let mut s = p.settings().clone();
    s.attribution_window_secs = 100;
    p.set_settings(s);
    open(&mut p, 1, T0);
    let end = T0 + TIMEOUT;
    p.advance(end + 100);
    assert_eq!(p.who_held(&num(0), end + 100), Some(Holder::Late(sid(1))));
    assert_eq!(p.who_held(&num(0), end + 101), Some(Holder::Nobody));
    p.advance(end + 101);
    assert!(p.session(&sid(1)).is_none());
}

#[test]
fn rule_5_expiry_session_that_came_back_is_not_forgotten() {
    let mut p = pool_with(1, ExhaustionPolicy::Fallback);
    open(&mut p, 1, T0);
    let end = T0 + TIMEOUT;
    // Comes back just before being forgotten and holds a lease again; the stale
    // "forget at" entry must not remove it.
    let back = end + WINDOW;
    p.page_view(sid(1), true, back).unwrap();
    p.advance(back + TIMEOUT - 1);
    assert!(p.session(&sid(1)).is_some());
    assert_eq!(holder(&p, &num(0)), Some(sid(1)));
    // Expires again and is forgotten one window after the second end.
    p.advance(back + TIMEOUT + WINDOW);
    assert!(p.session(&sid(1)).is_some());
    p.advance(back + TIMEOUT + WINDOW + 1);
    assert!(p.session(&sid(1)).is_none());
}

// ---------------------------------------------------------------------------------
// Rule 6: exhaustion policy.

#[test]
fn rule_6_exhaustion_fallback_answers_without_a_lease() {
    let mut p = pool_with(1, ExhaustionPolicy::Fallback);
    open(&mut p, 1, T0);
    let a = open(&mut p, 2, T0 + 1);
    assert_eq!(a.kind, AssignKind::Fallback);
    assert!(!a.kind.is_leased());
    assert_eq!(a.lease, None);
    assert_eq!(a.session_id, sid(2));
    assert_eq!(holder(&p, &num(0)), Some(sid(1)));
    assert_eq!(p.leased_count(), 1);
    assert_eq!(p.counters().fallback, 1);
    assert_eq!(p.counters().exhausted(), 1);
    assert_eq!(
        p.settings().fallback_or_target(),
        &p.settings().target_number
    );
    check(&p);
}

#[test]
fn rule_6_exhaustion_no_swap_answers_with_no_number() {
    let mut p = pool_with(1, ExhaustionPolicy::NoSwap);
    open(&mut p, 1, T0);
    let a = open(&mut p, 2, T0 + 1);
    assert_eq!(a.kind, AssignKind::NoSwap);
    assert!(!a.kind.is_leased());
    assert_eq!(a.lease, None);
    assert_eq!(holder(&p, &num(0)), Some(sid(1)));
    assert_eq!(p.counters().no_swap, 1);
    assert_eq!(p.counters().fallback, 0);
    assert_eq!(p.counters().exhausted(), 1);
    check(&p);
}

#[test]
fn rule_6_exhaustion_empty_pool_follows_the_policy() {
    for (policy, kind) in [
        (ExhaustionPolicy::Fallback, AssignKind::Fallback),
        (ExhaustionPolicy::NoSwap, AssignKind::NoSwap),
        // Nothing to recycle: fallback.
        (ExhaustionPolicy::RecycleOldest, AssignKind::Fallback),
    ] {
        let mut p = pool_with(0, policy);
        let a = open(&mut p, 1, T0);
        assert_eq!((a.kind, a.lease), (kind, None), "{policy:?}");
        assert_eq!(p.counters().exhausted(), 1);
    }
}

#[test]
fn rule_6_exhaustion_recycle_oldest_takes_the_least_recently_active_lease() {
    let mut p = pool_with(3, ExhaustionPolicy::RecycleOldest);
    open(&mut p, 1, T0); // n0
    open(&mut p, 2, T0 + 1); // n1
    open(&mut p, 3, T0 + 2); // n2
                             // Session 1 was granted first but is active again; session 2 is now the oldest.
    p.page_view(sid(1), false, T0 + 10).unwrap();
    let a = open(&mut p, 4, T0 + 20);
    assert_eq!(a.kind, AssignKind::Recycled);
    assert!(a.kind.is_leased());
    assert_eq!(number(&p, &a), Some(num(1)));
    assert_eq!(a.lease.unwrap().1, T0 + 20 + TIMEOUT);
    assert_eq!(holder(&p, &num(1)), Some(sid(4)));
    let victim = p.session(&sid(2)).unwrap();
    assert_eq!((victim.slot, victim.ended_at), (None, Some(T0 + 20)));
    let lease = p.slot(1).unwrap().lease.clone().unwrap();
    assert_eq!(
        lease.recycled_from,
        Some(PastHolder {
            session: sid(2),
            from: T0 + 1,
            until: T0 + 20
        })
    );
    assert_eq!(p.counters().recycled, 1);
    assert_eq!(p.counters().exhausted(), 0);
    assert_eq!((p.leased_count(), p.free_count()), (3, 0));
    check(&p);
    // The next one takes session 3 (T0+2), then session 1 (renewed at T0+10), then 4.
    let order: Vec<_> = (5..8)
        .map(|i| {
            let a = open(&mut p, i, T0 + 20 + i);
            assert_eq!(a.kind, AssignKind::Recycled);
            number(&p, &a).unwrap()
        })
        .collect();
    assert_eq!(order, vec![num(2), num(0), num(1)]);
    check(&p);
}

#[test]
fn rule_6_exhaustion_recycle_oldest_overlap_is_ambiguous() {
    let mut p = pool_with(1, ExhaustionPolicy::RecycleOldest);
    open(&mut p, 1, T0);
    let at = T0 + 100;
    open(&mut p, 2, at);
    let n = num(0);
    // Before the recycling only the first holder had it.
    assert_eq!(p.who_held(&n, T0 + 50), Some(Holder::Attributed(sid(1))));
    // From the recycling on, both are candidates (current holder first)...
    assert_eq!(p.who_held(&n, at), Some(Holder::Ambiguous(sid(2), sid(1))));
    assert_eq!(
        p.who_held(&n, at + WINDOW),
        Some(Holder::Ambiguous(sid(2), sid(1)))
    );
    // ...until the window after the first holder lost it has passed.
    assert_eq!(
        p.who_held(&n, at + WINDOW + 1),
        Some(Holder::Attributed(sid(2)))
    );
}

#[test]
fn rule_6_exhaustion_recycled_session_that_comes_back_gets_a_number_again() {
    let mut p = pool_with(2, ExhaustionPolicy::RecycleOldest);
    open(&mut p, 1, T0); // n0
    open(&mut p, 2, T0 + 1); // n1
    open(&mut p, 3, T0 + 2); // recycles n0 from session 1
    let a = p.page_view(sid(1), true, T0 + 3).unwrap();
    // Its old number is leased, none is free: it recycles the oldest (session 2).
    assert_eq!(a.kind, AssignKind::Recycled);
    assert_eq!(a.session_id, sid(1));
    assert_eq!(number(&p, &a), Some(num(1)));
    assert_eq!(p.counters().recycled, 2);
    check(&p);
}

#[test]
fn rule_6_exhaustion_recycle_oldest_never_takes_a_draining_number() {
    let mut p = pool_with(2, ExhaustionPolicy::RecycleOldest);
    open(&mut p, 1, T0); // n0, oldest
    open(&mut p, 2, T0 + 1); // n1
    assert_eq!(
        p.remove_number(&num(0), false, T0 + 2),
        Ok(Removal::Draining)
    );
    let a = open(&mut p, 3, T0 + 3);
    assert_eq!(a.kind, AssignKind::Recycled);
    assert_eq!(number(&p, &a), Some(num(1)));
    assert_eq!(holder(&p, &num(0)), Some(sid(1)));
    // Only draining numbers are leased: nothing can be recycled.
    assert_eq!(
        p.remove_number(&num(1), false, T0 + 4),
        Ok(Removal::Draining)
    );
    let b = open(&mut p, 4, T0 + 5);
    assert_eq!((b.kind, b.lease), (AssignKind::Fallback, None));
    assert_eq!(p.counters().fallback, 1);
    check(&p);
}

#[test]
fn rule_6_exhaustion_policy_change_applies_to_the_next_request() {
    let mut p = pool_with(1, ExhaustionPolicy::Fallback);
    open(&mut p, 1, T0);
    assert_eq!(open(&mut p, 2, T0 + 1).kind, AssignKind::Fallback);
    let mut s = p.settings().clone();
    s.exhaustion_policy = ExhaustionPolicy::NoSwap;
    p.set_settings(s.clone());
    assert_eq!(open(&mut p, 3, T0 + 2).kind, AssignKind::NoSwap);
    s.exhaustion_policy = ExhaustionPolicy::RecycleOldest;
    p.set_settings(s);
    assert_eq!(open(&mut p, 4, T0 + 3).kind, AssignKind::Recycled);
    assert_eq!(holder(&p, &num(0)), Some(sid(4)));
}

// ---------------------------------------------------------------------------------
// Rule 7: bots.

#[test]
fn rule_7_bots_get_no_lease_and_consume_nothing() {
    let mut p = pool_with(1, ExhaustionPolicy::RecycleOldest);
    open(&mut p, 1, T0);
    let before = (p.free_count(), p.leased_count(), p.sessions.len());
    for i in 0..5 {
        assert_eq!(p.bot(T0 + 1 + i), AssignKind::Bot);
    }
    assert!(!AssignKind::Bot.is_leased());
    assert_eq!(AssignKind::Bot.as_str(), "bot");
    assert_eq!((p.free_count(), p.leased_count(), p.sessions.len()), before);
    // Not even under recycle_oldest does a bot take a lease away.
    assert_eq!(holder(&p, &num(0)), Some(sid(1)));
    assert_eq!(p.counters().bots, 5);
    assert_eq!(p.counters().recycled, 0);
    assert_eq!(p.counters().exhausted(), 0);
    assert_eq!(p.counters().peak_active, 1);
}

// ---------------------------------------------------------------------------------
// Rule 8: numbers.

#[test]
fn rule_8_numbers_are_normalised_to_e164() {
    for (input, e164) in [
        ("+1 (234) 567-8900", "+12345678900"),
        ("(234) 567-8900", "+12345678900"),
        ("1.234.567.8900", "+12345678900"),
        ("00 44 20 7946 0958", "+442079460958"),
        ("  +49 30 1234567 ", "+49301234567"),
        ("+12345678", "+12345678"),
        ("+123456789012345", "+123456789012345"),
    ] {
        assert_eq!(PhoneNumber::parse(input).unwrap().as_str(), e164, "{input}");
    }
}

#[test]
fn rule_8_numbers_that_cannot_be_normalised_are_refused_with_a_reason() {
    assert_eq!(PhoneNumber::parse("  "), Err(NumberError::Empty));
    assert!(matches!(
        PhoneNumber::parse("+1 234 567 890x"),
        Err(NumberError::BadCharacter(_))
    ));
    assert!(matches!(
        PhoneNumber::parse("+1234567"),
        Err(NumberError::BadLength(_, 7))
    ));
    assert!(matches!(
        PhoneNumber::parse("+1234567890123456"),
        Err(NumberError::BadLength(_, 16))
    ));
    assert!(matches!(
        PhoneNumber::parse("030 1234567"),
        Err(NumberError::NotNormalisable(_))
    ));
    assert!(matches!(
        PhoneNumber::parse("+0234567890"),
        Err(NumberError::LeadingZero(_))
    ));
    let e = PhoneNumber::parse("030 1234567").unwrap_err().to_string();
    assert!(e.contains("E.164"), "{e}");
}

#[test]
fn rule_8_a_number_is_in_a_pool_at_most_once() {
    let mut p = pool_with(2, ExhaustionPolicy::Fallback);
    // The same number in another notation is the same number.
    let same = PhoneNumber::parse("+1 555 000 0001").unwrap();
    assert_eq!(same, num(1));
    assert_eq!(
        p.add_numbers(&[num(5), same], T0),
        Err(AddError::AlreadyInPool(num(1)))
    );
    assert_eq!(
        p.add_numbers(&[num(5), num(6), num(5)], T0),
        Err(AddError::Repeated(num(5)))
    );
    // A refused request adds nothing at all.
    assert_eq!(p.numbers_total(), 2);
    assert_eq!(p.free_count(), 2);
    assert_eq!(free_numbers(&p), vec![num(0), num(1)]);
    p.add_numbers(&[num(5)], T0).unwrap();
    assert_eq!(p.numbers_total(), 3);
    // Also while leased or draining.
    open(&mut p, 1, T0);
    assert_eq!(
        p.add_numbers(&[num(0)], T0),
        Err(AddError::AlreadyInPool(num(0)))
    );
    p.remove_number(&num(0), false, T0).unwrap();
    assert_eq!(
        p.add_numbers(&[num(0)], T0),
        Err(AddError::AlreadyInPool(num(0)))
    );
    check(&p);
}

// ---------------------------------------------------------------------------------
// Rule 9: removing numbers.

#[test]
fn rule_9_remove_free_number_leaves_at_once() {
    let mut p = pool_with(3, ExhaustionPolicy::Fallback);
    assert_eq!(p.remove_number(&num(0), false, T0), Ok(Removal::Removed));
    assert_eq!(p.numbers_total(), 2);
    assert_eq!(free_numbers(&p), vec![num(1), num(2)]);
    assert_eq!(p.who_held(&num(0), T0), None);
    // It left at once, in the call: nothing to report later.
    assert!(p.take_departed().is_empty());
    assert_eq!(p.remove_number(&num(0), false, T0), Err(NotInPool(num(0))));
    let got: Vec<_> = (0..2)
        .map(|i| open_number(&mut p, i, T0).unwrap())
        .collect();
    assert_eq!(got, vec![num(1), num(2)]);
    check(&p);
}

#[test]
fn rule_9_remove_leased_number_drains_until_its_lease_ends() {
    let mut p = pool_with(2, ExhaustionPolicy::Fallback);
    open(&mut p, 1, T0); // n0
    assert_eq!(
        p.remove_number(&num(0), false, T0 + 10),
        Ok(Removal::Draining)
    );
    // Still in the pool and still the holder's...
    assert_eq!(p.numbers_total(), 2);
    assert_eq!(p.stats().draining, 1);
    assert_eq!(holder(&p, &num(0)), Some(sid(1)));
    assert!(p
        .numbers()
        .any(|(n, leased, draining)| *n == num(0) && leased && draining));
    let a = p.assign(Some(sid(1)), sid(99), Attribution::default, T0 + 20);
    assert_eq!((a.kind, number(&p, &a)), (AssignKind::Sticky, Some(num(0))));
    assert!(p.take_departed().is_empty());
    // ...but never handed to anyone else.
    assert_eq!(open_number(&mut p, 2, T0 + 30), Some(num(1)));
    assert_eq!(open(&mut p, 3, T0 + 30).kind, AssignKind::Fallback);
    check(&p);
    // When the lease ends the number leaves, and is reported once.
    p.advance(T0 + 20 + TIMEOUT - 1);
    assert!(p.take_departed().is_empty());
    p.advance(T0 + 20 + TIMEOUT);
    assert_eq!(p.numbers_total(), 1);
    assert_eq!(p.stats().draining, 0);
    assert_eq!(p.take_departed(), vec![num(0)]);
    assert!(p.take_departed().is_empty());
    assert_eq!(p.who_held(&num(0), T0 + 25), None);
    assert_eq!(p.counters().expired, 1);
    // The former holder comes back: its old number is gone, it gets another.
    p.release(sid(2), T0 + 21 + TIMEOUT).unwrap();
    let b = p.page_view(sid(1), true, T0 + 22 + TIMEOUT).unwrap();
    assert_eq!(
        (b.kind, number(&p, &b)),
        (AssignKind::Reassigned, Some(num(1)))
    );
    check(&p);
}

#[test]
fn rule_9_remove_draining_number_leaves_on_release() {
    let mut p = pool_with(1, ExhaustionPolicy::Fallback);
    open(&mut p, 1, T0);
    assert_eq!(
        p.remove_number(&num(0), false, T0 + 1),
        Ok(Removal::Draining)
    );
    // Asking again changes nothing.
    assert_eq!(
        p.remove_number(&num(0), false, T0 + 2),
        Ok(Removal::Draining)
    );
    p.release(sid(1), T0 + 3).unwrap();
    assert_eq!(p.take_departed(), vec![num(0)]);
    assert_eq!(p.numbers_total(), 0);
    assert_eq!(p.free_count(), 0);
    check(&p);
}

#[test]
fn rule_9_remove_leased_number_with_force_leaves_at_once() {
    let mut p = pool_with(2, ExhaustionPolicy::Fallback);
    open(&mut p, 1, T0); // n0
    assert_eq!(
        p.remove_number(&num(0), true, T0 + 10),
        Ok(Removal::Removed)
    );
    assert_eq!(p.numbers_total(), 1);
    assert_eq!(p.leased_count(), 0);
    assert_eq!(p.who_held(&num(0), T0 + 5), None);
    let s = p.session(&sid(1)).unwrap();
    assert_eq!((s.slot, s.ended_at), (None, Some(T0 + 10)));
    // It left in the call: not reported as a later departure.
    assert!(p.take_departed().is_empty());
    // Forcing a draining number works too, and is not reported either.
    open(&mut p, 2, T0 + 11); // n1
    p.remove_number(&num(1), false, T0 + 12).unwrap();
    assert_eq!(
        p.remove_number(&num(1), true, T0 + 13),
        Ok(Removal::Removed)
    );
    assert!(p.take_departed().is_empty());
    assert_eq!(p.numbers_total(), 0);
    check(&p);
}

#[test]
fn rule_9_remove_then_add_does_not_give_the_new_number_back_as_the_old_one() {
    let mut p = pool_with(3, ExhaustionPolicy::Fallback);
    open(&mut p, 1, T0); // n0
    p.release(sid(1), T0 + 1).unwrap(); // free: n1 n2 n0
    assert_eq!(
        p.remove_number(&num(0), false, T0 + 2),
        Ok(Removal::Removed)
    );
    p.add_numbers(&[num(9)], T0 + 3).unwrap(); // free: n1 n2 n9
                                               // Session 1's old number is gone. Whatever storage n9 uses, it is not session 1's
                                               // old number: session 1 gets the longest-free number, as a new one.
    let a = p.page_view(sid(1), true, T0 + 4).unwrap();
    assert_eq!(a.kind, AssignKind::Reassigned);
    assert_eq!(number(&p, &a), Some(num(1)));
    assert_eq!(free_numbers(&p), vec![num(2), num(9)]);
    check(&p);
}

#[test]
fn rule_9_remove_force_then_add_does_not_give_the_new_number_back_as_the_old_one() {
    let mut p = pool_with(2, ExhaustionPolicy::Fallback);
    open(&mut p, 1, T0); // n0
    p.remove_number(&num(0), true, T0 + 1).unwrap();
    p.add_numbers(&[num(9)], T0 + 2).unwrap(); // free: n1 n9
    let a = p.page_view(sid(1), true, T0 + 3).unwrap();
    assert_eq!(
        (a.kind, number(&p, &a)),
        (AssignKind::Reassigned, Some(num(1)))
    );
}

// ---------------------------------------------------------------------------------
// Counters and figures.

#[test]
fn counters_peak_active_is_the_most_leases_live_at_once() {
    let mut p = pool_with(5, ExhaustionPolicy::Fallback);
    for i in 0..3 {
        open(&mut p, i, T0);
    }
    assert_eq!(p.counters().peak_active, 3);
    p.release(sid(0), T0 + 1).unwrap();
    p.release(sid(1), T0 + 1).unwrap();
    open(&mut p, 10, T0 + 2);
    assert_eq!(p.leased_count(), 2);
    assert_eq!(p.counters().peak_active, 3);
    for i in 11..14 {
        open(&mut p, i, T0 + 3);
    }
    assert_eq!(p.counters().peak_active, 5);
    open(&mut p, 20, T0 + 4); // fallback: no lease, peak unchanged
    p.advance(T0 + 10 * TIMEOUT);
    let st = p.stats();
    assert_eq!(st.peak_active, 5);
    assert_eq!(st.active_sessions, 0);
    assert_eq!(st.exhausted, 1);
    // Visitors were turned away: recommend a quarter more than the pool has.
    assert_eq!(st.recommended_size, 7);
}

#[test]
fn counters_exhausted_counts_fallback_and_no_swap_answers_only() {
    let mut p = pool_with(1, ExhaustionPolicy::Fallback);
    open(&mut p, 1, T0);
    open(&mut p, 2, T0);
    open(&mut p, 3, T0);
    let mut s = p.settings().clone();
    s.exhaustion_policy = ExhaustionPolicy::NoSwap;
    p.set_settings(s.clone());
    open(&mut p, 4, T0);
    s.exhaustion_policy = ExhaustionPolicy::RecycleOldest;
    p.set_settings(s);
    open(&mut p, 5, T0);
    p.bot(T0);
    let c = p.counters();
    assert_eq!((c.fallback, c.no_swap, c.recycled), (2, 1, 1));
    assert_eq!(c.exhausted(), 3);
    assert_eq!(p.stats().exhausted, 3);
}

#[test]
fn counters_track_each_kind_of_answer_and_ending() {
    let mut p = pool_with(3, ExhaustionPolicy::RecycleOldest);
    open(&mut p, 1, T0); // new
    open(&mut p, 2, T0); // new
    p.assign(Some(sid(1)), sid(99), Attribution::default, T0 + 1); // sticky
    p.page_view(sid(2), false, T0 + 2).unwrap(); // renewed
    p.release(sid(2), T0 + 3).unwrap(); // released
    p.page_view(sid(2), true, T0 + 4).unwrap(); // regranted
    p.advance(T0 + 4 + TIMEOUT); // both expire
    open(&mut p, 3, T0 + 4 + TIMEOUT); // new: n2
    open(&mut p, 4, T0 + 4 + TIMEOUT); // new: n0
    open(&mut p, 5, T0 + 4 + TIMEOUT); // new: n1
    p.page_view(sid(1), true, T0 + 5 + TIMEOUT).unwrap(); // recycled (n0 taken)
    let c = p.counters().clone();
    assert_eq!(c.assigned_new, 5);
    assert_eq!(c.sticky, 1);
    assert_eq!(c.renewed, 1);
    assert_eq!(c.released, 1);
    assert_eq!(c.regranted, 1);
    assert_eq!(c.expired, 2);
    assert_eq!(c.recycled, 1);
    assert_eq!(c.reassigned, 0);
    assert_eq!(c.peak_active, 3);
    // Recycling, forcing and draining are not expiries.
    p.remove_number(&num(2), true, T0 + 6 + TIMEOUT).unwrap();
    assert_eq!(p.counters().expired, 2);
    assert_eq!(p.counters().released, 1);
    let st = p.stats();
    assert_eq!(st.numbers_total, 2);
    assert_eq!(st.active_sessions, 2);
    assert_eq!(st.numbers_free, 0);
    assert!((st.utilization - 1.0).abs() < 1e-9);
    assert_eq!(st.counters, *p.counters());
}

#[test]
fn live_sessions_are_listed_least_recently_active_first() {
    let mut p = pool_with(3, ExhaustionPolicy::Fallback);
    open(&mut p, 1, T0); // n0
    open(&mut p, 2, T0 + 1); // n1
    open(&mut p, 3, T0 + 2); // n2
    p.page_view(sid(1), false, T0 + 3).unwrap();
    let ids: Vec<_> = p.live_sessions(10).iter().map(|l| l.session_id).collect();
    assert_eq!(ids, vec![sid(2), sid(3), sid(1)]);
    let first = &p.live_sessions(1)[0];
    assert_eq!(first.session_id, sid(2));
    assert_eq!((first.slot, first.expires_at), (1, T0 + 1 + TIMEOUT));
    // Draining leases are listed too (after the others).
    p.remove_number(&num(1), false, T0 + 4).unwrap();
    let ids: Vec<_> = p.live_sessions(10).iter().map(|l| l.session_id).collect();
    assert_eq!(ids, vec![sid(3), sid(1), sid(2)]);
}

// ---------------------------------------------------------------------------------
// who_held edge cases and time.

#[test]
fn who_held_a_number_not_in_the_pool_is_none() {
    let p = pool_with(1, ExhaustionPolicy::Fallback);
    assert_eq!(p.who_held(&num(5), T0), None);
}

#[test]
fn who_held_a_number_never_leased_is_nobody() {
    let p = pool_with(1, ExhaustionPolicy::Fallback);
    assert_eq!(p.who_held(&num(0), T0), Some(Holder::Nobody));
    assert_eq!(p.who_held(&num(0), 0), Some(Holder::Nobody));
}

#[test]
fn who_held_before_the_first_lease_is_nobody_and_from_its_first_second_attributed() {
    let mut p = pool_with(1, ExhaustionPolicy::Fallback);
    open(&mut p, 1, T0 + 100);
    assert_eq!(p.who_held(&num(0), T0 + 99), Some(Holder::Nobody));
    assert_eq!(
        p.who_held(&num(0), T0 + 100),
        Some(Holder::Attributed(sid(1)))
    );
}

#[test]
fn who_held_at_the_second_a_lease_ends_is_late_not_attributed() {
    // A lease is live in [granted, ends): at its end it is gone (rule 5), so a call
    // in that second is a late call — the same boundary a recycled lease uses.
    let mut p = pool_with(1, ExhaustionPolicy::Fallback);
    open(&mut p, 1, T0);
    p.release(sid(1), T0 + 50).unwrap();
    assert_eq!(
        p.who_held(&num(0), T0 + 49),
        Some(Holder::Attributed(sid(1)))
    );
    assert_eq!(p.who_held(&num(0), T0 + 50), Some(Holder::Late(sid(1))));
    assert_eq!(
        p.who_held(&num(0), T0 + 50 + WINDOW),
        Some(Holder::Late(sid(1)))
    );
    assert_eq!(p.who_held(&num(0), T0 + 51 + WINDOW), Some(Holder::Nobody));
}

#[test]
fn who_held_with_a_zero_window_is_late_only_in_the_second_the_lease_ended() {
    let mut p = pool_with(1, ExhaustionPolicy::Fallback);
    let mut s = p.settings().clone();
    s.attribution_window_secs = 0;
    p.set_settings(s);
    open(&mut p, 1, T0);
    p.release(sid(1), T0 + 10).unwrap();
    assert_eq!(p.who_held(&num(0), T0 + 10), Some(Holder::Late(sid(1))));
    assert_eq!(p.who_held(&num(0), T0 + 11), Some(Holder::Nobody));
    p.advance(T0 + 11);
    assert!(p.session(&sid(1)).is_none());
}

#[test]
fn who_held_a_forgotten_session_is_nobody_even_for_a_call_in_its_lease() {
    let mut p = pool_with(1, ExhaustionPolicy::Fallback);
    open(&mut p, 1, T0);
    p.advance(T0 + TIMEOUT + WINDOW + 1);
    assert!(p.session(&sid(1)).is_none());
    assert_eq!(p.who_held(&num(0), T0 + 10), Some(Holder::Nobody));
    assert_eq!(p.session_snapshot(&sid(1)), None);
}

#[test]
fn who_held_a_recycled_number_whose_first_holder_is_forgotten_is_attributed() {
    let mut p = pool_with(1, ExhaustionPolicy::RecycleOldest);
    let mut s = p.settings().clone();
    s.attribution_window_secs = 10;
    s.session_timeout_secs = 600;
    p.set_settings(s);
    open(&mut p, 1, T0);
    open(&mut p, 2, T0 + 5); // recycled from 1
    assert_eq!(
        p.who_held(&num(0), T0 + 6),
        Some(Holder::Ambiguous(sid(2), sid(1)))
    );
    p.page_view(sid(2), false, T0 + 100).unwrap();
    assert!(p.session(&sid(1)).is_none());
    assert_eq!(
        p.who_held(&num(0), T0 + 6),
        Some(Holder::Attributed(sid(2)))
    );
}

#[test]
fn who_held_session_snapshot_keeps_the_attribution_for_the_call_record() {
    let mut p = pool_with(1, ExhaustionPolicy::Fallback);
    p.assign(
        None,
        sid(1),
        || Attribution::from_landing("https://shop.example/?utm_medium=cpc", None, None, None),
        T0,
    );
    let Some(Holder::Attributed(id)) = p.who_held(&num(0), T0 + 1) else {
        panic!("not attributed");
    };
    let snap = p.session_snapshot(&id).unwrap();
    assert_eq!(snap.attribution.get(Field::UtmMedium), Some("cpc"));
}

#[test]
fn time_never_goes_backwards_inside_a_pool() {
    let mut p = pool_with(2, ExhaustionPolicy::Fallback);
    open(&mut p, 1, T0 + 100);
    // A request stamped earlier is handled at the pool's time.
    let a = open(&mut p, 2, T0);
    assert_eq!(a.lease.unwrap().1, T0 + 100 + TIMEOUT);
    assert_eq!(p.advance(T0 + 50), T0 + 100);
    assert_eq!(p.now(), T0 + 100);
    assert_eq!(p.session(&sid(2)).unwrap().first_seen, T0 + 100);
}

#[test]
fn a_pool_round_trips_through_serde_and_behaves_the_same() {
    let mut p = pool_with(3, ExhaustionPolicy::RecycleOldest);
    open(&mut p, 1, T0);
    open(&mut p, 2, T0 + 1);
    p.release(sid(1), T0 + 2).unwrap();
    open(&mut p, 3, T0 + 3);
    p.advance(T0 + 1 + TIMEOUT); // sessions 2 and 3 expire
    let cfg = bincode::config::standard();
    let bytes = bincode::serde::encode_to_vec(&p, cfg).unwrap();
    let (mut q, _): (Pool, _) = bincode::serde::decode_from_slice(&bytes, cfg).unwrap();
    // (not assert_eq: a failure would print two whole pools)
    assert!(p == q, "restored pool differs");
    for (i, t) in [
        (4u64, TIMEOUT + 10),
        (5, TIMEOUT + 20),
        (6, TIMEOUT + 30),
        (7, TIMEOUT + 40),
    ] {
        assert_eq!(open(&mut p, i, T0 + t), open(&mut q, i, T0 + t));
    }
    assert!(p == q, "restored pool behaves differently");
}
