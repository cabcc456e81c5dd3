//! Engine micro-benchmarks (design §7: engine assign / renew / expire ≤ 200 ns median,
//! within 1.5× of each other for 10 and 1,000,000 numbers).
//!
//! Every benchmark reports the cost of **one operation**: one new session assigned,
//! one live session renewed, one lease expired. Pools are kept in a steady state by
//! untimed maintenance between timed stretches:
//!
//! - `assign`: half the numbers hold long-lived leases (so the maps, the wheel and the
//!   activity queue are populated at scale); the timed stretch gives new sessions the
//!   free half, then, untimed, they are released and the clock moves on a second so
//!   the released sessions are forgotten (attribution window 0) and memory stays flat.
//! - `renew`: every number is leased; page views of live sessions in a shuffled order
//!   (no locality between consecutive renewals).
//! - `expire`: every number is leased, with expiries spread evenly over the timeout;
//!   the timed part is `advance` by one second, divided by the leases it expired; then,
//!   untimed, as many new sessions take the freed numbers so the pool stays full.
//!
//! Run with `cargo bench --bench engine`.

/// The dnid binary's allocator, so that allocation costs are the server's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use dnid::engine::{Attribution, PhoneNumber, Pool, PoolSettings, SessionId};
use std::hint::black_box;
use std::time::{Duration, Instant};

const T0: u64 = 1_700_000_000;
const SIZES: [u32; 2] = [10, 1_000_000];

fn num(i: u32) -> PhoneNumber {
    PhoneNumber::parse(&format!("+1555{i:07}")).unwrap()
}

/// Distinct, well-spread session ids without the cost of the CSPRNG in timed code.
fn sid(i: u64) -> SessionId {
    let mut z = i.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&z.to_le_bytes());
    b[8..].copy_from_slice(&i.to_le_bytes());
    SessionId(b)
}

fn pool(n: u32, timeout: u64, window: u64) -> Pool {
    let mut s = PoolSettings::new(
        "Bench",
        "https://shop.example",
        PhoneNumber::parse("+12345678900").unwrap(),
    );
    s.session_timeout_secs = timeout;
    s.attribution_window_secs = window;
    let mut p = Pool::new(s, T0);
    let numbers: Vec<_> = (0..n).map(num).collect();
    p.add_numbers(&numbers, T0).unwrap();
    p
}

/// Leases the first `count` numbers of `p` to `sid(0..count)`, granted evenly over the
/// `spread` seconds from `T0` (so expiries are spread over the wheel), or all at `T0`
/// when `spread` is 0. Returns the pool's time afterwards and the ids.
fn fill(p: &mut Pool, count: u32, spread: u64) -> (u64, Vec<SessionId>) {
    let mut now = T0;
    let mut ids = Vec::with_capacity(count as usize);
    for i in 0..count as u64 {
        now = T0 + i * spread / count as u64;
        p.assign(None, sid(i), Attribution::default, now);
        ids.push(sid(i));
    }
    assert_eq!(p.leased_count(), count as usize);
    (now.max(T0), ids)
}

/// A cheap deterministic shuffle (xorshift Fisher–Yates).
fn shuffle<T>(v: &mut [T]) {
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    for i in (1..v.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.swap(i, (x % (i as u64 + 1)) as usize);
    }
}

fn bench_assign(c: &mut Criterion) {
    let mut g = c.benchmark_group("engine/assign");
    for &n in &SIZES {
        // Long-lived leases on half the numbers; released sessions are forgotten at
        // the next second (window 0) so that the session map does not grow.
        let mut p = pool(n, 86_400, 0);
        let held = n / 2;
        let (mut now, _) = fill(&mut p, held, 1800);
        let mut next_id = held as u64;
        let mut last_renewal = now;
        let chunk = (n - held) as u64;
        let mut ids: Vec<SessionId> = Vec::with_capacity(chunk as usize);
        g.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                let mut done = 0;
                while done < iters {
                    let k = chunk.min(iters - done);
                    ids.clear();
                    ids.extend((next_id..next_id + k).map(sid));
                    next_id += k;
                    let start = Instant::now();
                    for &id in &ids {
                        black_box(p.assign(None, id, Attribution::default, now));
                    }
                    total += start.elapsed();
                    done += k;
                    // Untimed: give the numbers back and forget the sessions.
                    for &id in &ids {
                        p.release(id, now).unwrap();
                    }
                    now += 1;
                    p.advance(now);
                    // Keep the long-lived half alive (far from ever being due).
                    if now - last_renewal > 40_000 {
                        for i in 0..held as u64 {
                            p.page_view(sid(i), false, now).unwrap();
                        }
                        last_renewal = now;
                    }
                }
                assert_eq!(p.leased_count(), held as usize);
                total
            })
        });
    }
    g.finish();
}

fn bench_renew(c: &mut Criterion) {
    let mut g = c.benchmark_group("engine/renew");
    for &n in &SIZES {
        let mut p = pool(n, 1800, 3600);
        let (now, mut ids) = fill(&mut p, n, 1800);
        shuffle(&mut ids);
        // Renewals happen at a fixed time, before any of the leases is due.
        let mut i = 0;
        g.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter(|| {
                let id = ids[i];
                i += 1;
                if i == ids.len() {
                    i = 0;
                }
                black_box(p.page_view(id, true, now))
            })
        });
        assert_eq!(p.leased_count(), n as usize);
    }
    g.finish();
}

fn bench_expire(c: &mut Criterion) {
    let mut g = c.benchmark_group("engine/expire");
    for &n in &SIZES {
        // The pool is kept full. For 1,000,000 numbers the default 1,800 s timeout
        // spreads expiries to ~556 a second; 10 numbers get a 60 s timeout and all
        // expire in the same second (a second expiring nothing says nothing). With the
        // attribution window one second shorter than the timeout, each timed second
        // also forgets as many sessions as it expires, as in any steady state.
        let (timeout, together) = if n <= 10 { (60, true) } else { (1800, false) };
        let mut p = pool(n, timeout, timeout - 1);
        fill(&mut p, n, if together { 0 } else { timeout });
        let step = if together { timeout } else { 1 };
        let mut due = T0 + timeout;
        let mut next_id = n as u64;
        g.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                let mut expired = 0u64;
                while expired < iters {
                    // Untimed: up to the second before the next expiry.
                    let before = p.counters().expired;
                    p.advance(due - 1);
                    assert_eq!(p.counters().expired, before);
                    let start = Instant::now();
                    p.advance(black_box(due));
                    total += start.elapsed();
                    let k = p.counters().expired - before;
                    assert!(k > 0);
                    expired += k;
                    // Untimed: new visitors take the freed numbers.
                    for _ in 0..k {
                        p.assign(None, sid(next_id), Attribution::default, due);
                        next_id += 1;
                    }
                    due += step;
                }
                assert_eq!(p.leased_count(), n as usize);
                // Per lease expired.
                total.mul_f64(iters as f64 / expired as f64)
            })
        });
    }
    g.finish();
}

/// The baseline for "flat": one cache miss. A dependent chase through `n` records of
/// 128 bytes (the size of a session-map entry plus its neighbours) in a random cycle,
/// so every load waits for the one before — what one engine lookup into a table that
/// does not fit in the caches costs at least. At 10 records it stays in L1.
fn bench_memory_latency(c: &mut Criterion) {
    #[derive(Clone, Copy)]
    #[repr(align(128))]
    struct Record {
        next: u32,
    }
    let mut g = c.benchmark_group("baseline/dependent_load");
    for &n in &SIZES {
        let mut order: Vec<u32> = (0..n).collect();
        shuffle(&mut order);
        let mut table = vec![Record { next: 0 }; n as usize];
        for w in 0..n as usize {
            table[order[w] as usize].next = order[(w + 1) % n as usize];
        }
        let mut at = order[0];
        g.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter(|| {
                at = table[at as usize].next;
                black_box(at)
            })
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(5));
    targets = bench_memory_latency, bench_assign, bench_renew, bench_expire
}
criterion_main!(benches);
