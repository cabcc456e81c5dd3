//! Durability benchmarks (design §5 and §7), with a custom `main` that prints a table.
//!
//! Measured in one run, on the machine it runs on, with baselines from the same run:
//!
//! 1. **WAL throughput and latency** per fsync mode (`always`, `everysec`, `never`) at
//!    1, 16 and 64 concurrent writers: tokio tasks each awaiting
//!    [`Wal::append_durable`] in a loop with a realistic record (a
//!    `PoolRecord::Assign` carrying a typical attribution). The WAL writes through a
//!    counting file system, so the number of batches (one write each) and of
//!    `fdatasync`s is exact, not estimated. Baselines: raw `write(4 KiB)` +
//!    `fdatasync` on the same disk (measured again right before each `always` case,
//!    as the disk may be shared), and plain `write(2)` of one framed record at a time
//!    without any sync.
//! 2. **Snapshot** of 1,000,000 leases: `snapshot::write` time and file size,
//!    `snapshot::read` time. Baselines: writing (+ fsync) and reading the same number
//!    of bytes as one buffer.
//! 3. **Recovery** of a 1M-lease snapshot + 1M WAL records (page views of those
//!    sessions, written through a real `Wal` in mode `never`) with `recovery::recover`
//!    (budget ≤ 3 s), against its two parts timed alone: `snapshot::read`, and the
//!    replay (scan + CRC + decode + apply). Files are in the page cache (just written).
//! 4. **Allocation stall during a snapshot**: a real in-process `Server` (fsync
//!    `never`) recovers a pool of 1,000,000 numbers with ~1,000,000 live sessions from
//!    a snapshot written into its folder; HTTP clients create new sessions in a closed
//!    loop while `server.snapshots().take()` runs. Reports the longest request during a
//!    snapshot against the longest without one, and `longest_copy` (budget ≤ 10 ms).
//!    `Pool::clone` of the same pool is timed on its own (section 2): the pool actor
//!    answers a snapshot with a clone, and no other message of that pool runs
//!    meanwhile.
//!
//! Run with `cargo bench --bench durability` (two to three minutes plus the build; it
//! needs a few GiB of memory and about 2 GiB in the temp folder). `DNID_BENCH_QUICK=1`
//! runs everything at a small scale (20,000 leases, short WAL cases) in a few seconds,
//! as a smoke check; its figures are not comparable with the budgets. The load
//! average is printed at the start and the end: on a busy machine (other builds, other
//! disk traffic) the fsync-bound figures in particular move a lot.

/// The dnid binary's allocator, so that allocation costs are the server's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use bytes::Bytes;
use dnid::clock::ManualClock;
use dnid::config::Settings;
use dnid::engine::{Attribution, Field, PhoneNumber, Pool, PoolSettings, SessionId};
use dnid::ids::PoolId;
use dnid::server::Server;
use dnid::store::codec::{decode_record, encode_pool_record, encode_snapshot};
use dnid::store::fs::{FileSystem, LogFile, RealFs};
use dnid::store::record::{PoolRecord, WalRecord};
use dnid::store::recovery::recover;
use dnid::store::segment::{frame, list_segments, scan, Tail, MAGIC as WAL_MAGIC};
use dnid::store::snapshot::{self, PoolImage, SnapshotBody};
use dnid::store::wal::{wal_dir, WalOptions, WalStart};
use dnid::store::{FsyncMode, Wal};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// 2023-11-14T22:13:20Z; sessions are granted from here.
const T0: u64 = 1_700_000_000;
const UA: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.207 Safari/537.36";
const REFERRER: &str = "https://www.google.com/";
const POOL: PoolId = PoolId(0x00d1_1d00_0000_0001);

/// Scale of one run.
struct Scale {
    quick: bool,
    /// Leases in the snapshot, recovery and stall sections.
    leases: u32,
    /// Sessions released before the server starts, so new ones get free numbers.
    free_for_server: u32,
    /// Length of one WAL case.
    wal_case: Duration,
    /// Cap on the records of one WAL case.
    wal_case_max: u64,
    /// Length of the raw-disk baselines.
    baseline: Duration,
    /// Closed-loop HTTP clients in the stall section.
    http_clients: usize,
    /// Load without a snapshot before the first and between snapshots.
    http_quiet: Duration,
    snapshots_taken: usize,
}

impl Scale {
    fn from_env() -> Scale {
        let quick = std::env::var("DNID_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
        if quick {
            Scale {
                quick,
                leases: 20_000,
                free_for_server: 2_000,
                wal_case: Duration::from_millis(250),
                wal_case_max: 200_000,
                baseline: Duration::from_millis(200),
                http_clients: 4,
                http_quiet: Duration::from_millis(300),
                snapshots_taken: 1,
            }
        } else {
            Scale {
                quick,
                leases: 1_000_000,
                free_for_server: 50_000,
                wal_case: Duration::from_millis(2_500),
                wal_case_max: 5_000_000,
                baseline: Duration::from_secs(1),
                http_clients: 4,
                http_quiet: Duration::from_secs(2),
                snapshots_taken: 3,
            }
        }
    }
}

// ---------------------------------------------------------------------------------
// Output

struct Table {
    rows: Vec<[String; 5]>,
}

impl Table {
    fn new() -> Table {
        Table { rows: Vec::new() }
    }

    fn section(&mut self, title: &str) {
        self.rows.push([
            format!("## {title}"),
            "".into(),
            "".into(),
            "".into(),
            "".into(),
        ]);
    }

    fn row(&mut self, what: &str, value: String, budget: &str, baseline: String, ratio: String) {
        println!("  {what}: {value}   [budget {budget}] [baseline {baseline}] [ratio {ratio}]");
        self.rows
            .push([what.to_string(), value, budget.to_string(), baseline, ratio]);
    }

    /// One markdown table per section, each headed by its title.
    fn print(&self) {
        let heads = ["measure", "value", "budget", "baseline (same run)", "ratio"];
        let mut sections: Vec<(&str, Vec<&[String; 5]>)> = Vec::new();
        for r in &self.rows {
            match r[0].strip_prefix("## ") {
                Some(title) => sections.push((title, Vec::new())),
                None => match sections.last_mut() {
                    Some((_, rows)) => rows.push(r),
                    None => sections.push(("", vec![r])),
                },
            }
        }
        for (title, rows) in sections {
            let mut w = heads.map(|h| h.chars().count());
            for r in &rows {
                for (i, c) in r.iter().enumerate() {
                    w[i] = w[i].max(c.chars().count());
                }
            }
            let line = |cells: [&str; 5]| {
                let mut s = String::from("|");
                for (i, c) in cells.iter().enumerate() {
                    s.push(' ');
                    s.push_str(c);
                    s.push_str(&" ".repeat(w[i] - c.chars().count()));
                    s.push_str(" |");
                }
                s
            };
            println!("\n### {title}\n");
            println!("{}", line(heads));
            let rule: Vec<String> = w.iter().map(|n| "-".repeat(n + 2)).collect();
            println!("|{}|", rule.join("|"));
            for r in rows {
                println!("{}", line([&r[0], &r[1], &r[2], &r[3], &r[4]]));
            }
        }
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn us(ns: u64) -> String {
    if ns >= 10_000_000 {
        format!("{:.1} ms", ns as f64 / 1e6)
    } else {
        format!("{:.1} µs", ns as f64 / 1e3)
    }
}

fn rate(n: f64) -> String {
    if n >= 1e6 {
        format!("{:.2}M/s", n / 1e6)
    } else if n >= 1e3 {
        format!("{:.1}k/s", n / 1e3)
    } else {
        format!("{n:.0}/s")
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1 << 20) as f64)
}

fn x(a: f64, b: f64) -> String {
    if b == 0.0 {
        "—".into()
    } else {
        format!("{:.2}×", a / b)
    }
}

/// The `q` quantile (0..=1) of sorted values.
fn quantile(sorted: &[u64], q: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

// ---------------------------------------------------------------------------------
// Data

/// Distinct, well-spread session ids without the cost of the CSPRNG.
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

/// A click id of the usual length, different for every session.
fn gclid(i: u64) -> String {
    format!("EAIaIQobChMI{i:016x}BwE")
}

fn landing_url(i: u64) -> String {
    format!(
        "https://shop.example/landing/running-shoes?utm_source=google&utm_medium=cpc&utm_campaign=spring_sale_2026&utm_term=red+shoes&gclid={}",
        gclid(i)
    )
}

/// A typical attribution: ~150-character landing URL with UTM and gclid, a referrer,
/// an IPv4 address and a ~120-character Chrome User-Agent.
fn attribution(i: u64) -> Attribution {
    Attribution::from_landing(
        &landing_url(i),
        Some(REFERRER),
        Some(&format!("203.0.{}.{}", (i >> 8) & 255, i & 255)),
        Some(UA),
    )
}

fn settings() -> PoolSettings {
    let mut s = PoolSettings::new(
        "Bench shop",
        "https://shop.example",
        PhoneNumber::parse("+12345678900").unwrap(),
    );
    s.fallback_number = Some(PhoneNumber::parse("+18005550100").unwrap());
    s
}

/// A pool of `n` numbers, every one leased to a session with a typical attribution,
/// granted evenly over 600 s from `T0`.
fn full_pool(n: u32) -> Pool {
    let mut p = Pool::new(settings(), T0);
    let numbers: Vec<_> = (0..n)
        .map(|i| PhoneNumber::parse(&format!("+1555{i:07}")).unwrap())
        .collect();
    p.add_numbers(&numbers, T0).unwrap();
    // One parsed attribution per 1,000 sessions; the rest are copies with their own
    // gclid, landing page and IP (the same sizes, without a URL parse each).
    let mut template = attribution(0);
    for i in 0..n as u64 {
        if i % 1000 == 0 {
            template = attribution(i);
        }
        let landing = landing_url(i);
        let click = gclid(i);
        let ip = format!("203.0.{}.{}", (i >> 8) & 255, i & 255);
        let a = Attribution::from_fields(
            [
                (Field::LandingPage, landing.as_str()),
                (Field::Gclid, click.as_str()),
                (Field::Ip, ip.as_str()),
            ]
            .into_iter()
            .chain(template.iter().filter_map(|(f, v)| Some((f, v?)))),
        );
        let at = T0 + i * 600 / n as u64;
        p.assign(None, sid(i), || a, at);
    }
    assert_eq!(p.leased_count(), n as usize);
    p
}

fn body_of(pool: Pool, created_at: u64) -> SnapshotBody {
    SnapshotBody {
        calls: dnid::store::snapshot::CallsImage {
            covered_seq: 1,
            ..Default::default()
        },
        created_at,
        router_seq: 1,
        pools: vec![PoolImage {
            id: POOL,
            covered_seq: 1,
            pool,
        }],
    }
}

// ---------------------------------------------------------------------------------
// A file system that counts what the WAL writer does

#[derive(Default)]
struct IoStats {
    /// Writes of records (not segment magics): one per batch.
    batches: AtomicU64,
    bytes: AtomicU64,
    syncs: AtomicU64,
    sync_ns: AtomicU64,
}

struct CountingFs(Arc<IoStats>);
struct CountingFile(Box<dyn LogFile>, Arc<IoStats>);

impl LogFile for CountingFile {
    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        if buf != WAL_MAGIC {
            self.1.batches.fetch_add(1, Ordering::Relaxed);
            self.1.bytes.fetch_add(buf.len() as u64, Ordering::Relaxed);
        }
        self.0.write_all(buf)
    }
    fn sync_data(&mut self) -> std::io::Result<()> {
        let t = Instant::now();
        let r = self.0.sync_data();
        self.1
            .sync_ns
            .fetch_add(t.elapsed().as_nanos() as u64, Ordering::Relaxed);
        self.1.syncs.fetch_add(1, Ordering::Relaxed);
        r
    }
    fn truncate(&mut self, len: u64) -> std::io::Result<()> {
        self.0.truncate(len)
    }
    fn sync_handle(&self) -> std::io::Result<Box<dyn LogFile>> {
        Ok(Box::new(CountingFile(
            self.0.sync_handle()?,
            self.1.clone(),
        )))
    }
}

impl FileSystem for CountingFs {
    fn open_log(&self, path: &Path) -> std::io::Result<Box<dyn LogFile>> {
        Ok(Box::new(CountingFile(
            RealFs.open_log(path)?,
            self.0.clone(),
        )))
    }
    fn sync_dir(&self, dir: &Path) -> std::io::Result<()> {
        RealFs.sync_dir(dir)
    }
}

fn fresh_wal_start() -> WalStart {
    WalStart {
        next_seq: 1,
        tail: None,
        segments: Vec::new(),
    }
}

// ---------------------------------------------------------------------------------
// 1. WAL

/// Raw `write(4 KiB) + fdatasync` latencies, appending to a new file.
fn raw_fdatasync(dir: &Path, dur: Duration) -> Vec<u64> {
    let mut f = std::fs::File::create(dir.join("fsync-baseline")).unwrap();
    let block = vec![0x5au8; 4096];
    let mut lat = Vec::new();
    let end = Instant::now() + dur;
    while Instant::now() < end || lat.len() < 20 {
        let t = Instant::now();
        f.write_all(&block).unwrap();
        f.sync_data().unwrap();
        lat.push(t.elapsed().as_nanos() as u64);
    }
    lat.sort_unstable();
    lat
}

/// Records per second of plain `write(2)`, one framed record per call, no sync.
fn plain_write_rate(dir: &Path, payload: &[u8], dur: Duration) -> f64 {
    let mut f = std::fs::File::create(dir.join("write-baseline")).unwrap();
    let mut framed = Vec::new();
    frame(&mut framed, 1, payload);
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < dur {
        for _ in 0..256 {
            f.write_all(&framed).unwrap();
        }
        n += 256;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

struct WalCase {
    records: u64,
    secs: f64,
    lat: Vec<u64>,
    batches: u64,
    syncs: u64,
    sync_ns: u64,
}

async fn wal_case(
    mode: FsyncMode,
    writers: usize,
    payload: Arc<Vec<u8>>,
    scale: &Scale,
) -> WalCase {
    let dir = tempfile::tempdir().unwrap();
    let stats = Arc::new(IoStats::default());
    let thread = Wal::start(
        WalOptions {
            dir: dir.path().join("wal"),
            mode,
            segment_bytes: Settings::default().wal_segment_bytes,
            fs: Arc::new(CountingFs(stats.clone())),
        },
        fresh_wal_start(),
    )
    .unwrap();
    let wal = thread.wal();
    // Warm up: the first segment is created, the writer thread is running.
    wal.append_durable(payload.to_vec()).await.unwrap();
    let before = (
        stats.batches.load(Ordering::Relaxed),
        stats.syncs.load(Ordering::Relaxed),
        stats.sync_ns.load(Ordering::Relaxed),
    );
    let issued = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let deadline = start + scale.wal_case;
    let mut tasks = Vec::new();
    for _ in 0..writers {
        let (wal, payload, issued) = (wal.clone(), payload.clone(), issued.clone());
        let max = scale.wal_case_max;
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(1 << 16);
            while Instant::now() < deadline && issued.fetch_add(1, Ordering::Relaxed) < max {
                let t = Instant::now();
                wal.append_durable(payload.to_vec()).await.unwrap();
                lat.push(t.elapsed().as_nanos() as u64);
            }
            lat
        }));
    }
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await.unwrap());
    }
    let secs = start.elapsed().as_secs_f64();
    let after = (
        stats.batches.load(Ordering::Relaxed),
        stats.syncs.load(Ordering::Relaxed),
        stats.sync_ns.load(Ordering::Relaxed),
    );
    tokio::task::spawn_blocking(move || thread.stop())
        .await
        .unwrap();
    lat.sort_unstable();
    WalCase {
        records: lat.len() as u64,
        secs,
        lat,
        batches: after.0 - before.0,
        syncs: after.1 - before.1,
        sync_ns: after.2 - before.2,
    }
}

async fn bench_wal(t: &mut Table, scale: &Scale) {
    let record = PoolRecord::Assign {
        session: None,
        fresh: sid(42),
        attribution: Some(attribution(42)),
        at: T0,
    };
    let payload = Arc::new(encode_pool_record(POOL, &record).unwrap());
    let landing = landing_url(42);
    println!(
        "WAL record: PoolRecord::Assign, {} bytes encoded ({} with the frame); landing URL {} chars, UA {} chars",
        payload.len(),
        payload.len() + 16,
        landing.len(),
        UA.len()
    );
    let dir = tempfile::tempdir().unwrap();
    let fsync = raw_fdatasync(dir.path(), scale.baseline);
    let fsync_p50 = quantile(&fsync, 0.5);
    let fsync_p99 = quantile(&fsync, 0.99);
    let plain = plain_write_rate(dir.path(), &payload, scale.baseline);
    drop(dir);

    t.section(&format!(
        "WAL: PoolRecord::Assign of {} bytes, tasks awaiting append_durable, {:.1} s per case, temp dir in {}",
        payload.len(),
        scale.wal_case.as_secs_f64(),
        std::env::temp_dir().display()
    ));
    t.row(
        "baseline: write 4 KiB + fdatasync, p50 / p99",
        format!("{} / {}", us(fsync_p50), us(fsync_p99)),
        "≈120 µs (§7 orientation)",
        format!("{} samples", fsync.len()),
        "—".into(),
    );
    t.row(
        "baseline: plain write(2) of one framed record, no sync",
        rate(plain),
        "—",
        "—".into(),
        "—".into(),
    );
    let mut thr = std::collections::HashMap::new();
    for mode in [FsyncMode::Always, FsyncMode::Everysec, FsyncMode::Never] {
        for writers in [1usize, 16, 64] {
            // The disk is shared with whatever else runs: in mode `always`, measure
            // raw fdatasync again right before the case, so each row has its own.
            let fsync_now = if mode == FsyncMode::Always {
                let dir = tempfile::tempdir().unwrap();
                quantile(&raw_fdatasync(dir.path(), scale.baseline / 2), 0.5)
            } else {
                fsync_p50
            };
            let c = wal_case(mode, writers, payload.clone(), scale).await;
            let per_sec = c.records as f64 / c.secs;
            thr.insert((mode.as_str(), writers), per_sec);
            let per_batch = c.records as f64 / c.batches.max(1) as f64;
            let sync_note = if c.syncs > 0 {
                format!(
                    "{} fdatasyncs, mean {}",
                    c.syncs,
                    us(c.sync_ns / c.syncs.max(1))
                )
            } else {
                "no fdatasync".into()
            };
            let (baseline, ratio) = match mode {
                FsyncMode::Always => (
                    format!(
                        "raw fdatasync p50 just before {} → {} batches/s",
                        us(fsync_now),
                        rate(1e9 / fsync_now as f64)
                    ),
                    format!(
                        "{} records/s ÷ (1/fsync); p50 latency = {} fsync",
                        x(per_sec, 1e9 / fsync_now as f64),
                        x(quantile(&c.lat, 0.5) as f64, fsync_now as f64)
                    ),
                ),
                _ => (format!("plain write {}", rate(plain)), x(per_sec, plain)),
            };
            t.row(
                &format!("{} × {writers:>2} writers", mode.as_str()),
                format!(
                    "{} (p50 {}, p99 {}, max {}); {:.1} records/batch, {}",
                    rate(per_sec),
                    us(quantile(&c.lat, 0.5)),
                    us(quantile(&c.lat, 0.99)),
                    us(*c.lat.last().unwrap_or(&0)),
                    per_batch,
                    sync_note
                ),
                "—",
                baseline,
                ratio,
            );
        }
    }
    let always = thr[&("always", 64)];
    let never = thr[&("never", 64)];
    t.row(
        "always ÷ never throughput at 64 writers",
        format!("{:.0}%", always * 100.0 / never),
        "≥ 50%",
        format!("never × 64 = {}", rate(never)),
        if always * 2.0 >= never {
            "met".into()
        } else {
            "NOT met".into()
        },
    );
}

// ---------------------------------------------------------------------------------
// 2 + 3. Snapshot and recovery

fn min_of(times: &[Duration]) -> Duration {
    times.iter().copied().min().unwrap_or_default()
}

fn all_of(times: &[Duration]) -> String {
    times.iter().map(|d| ms(*d)).collect::<Vec<_>>().join(", ")
}

fn bench_snapshot_and_recovery(t: &mut Table, scale: &Scale) -> Pool {
    let n = scale.leases;
    let reps = if scale.quick { 1 } else { 2 };
    let started = Instant::now();
    let pool = full_pool(n);
    let built = started.elapsed();
    let c = Instant::now();
    let copy = pool.clone();
    let clone_time = c.elapsed();
    drop(copy);
    // The part of that clone spent on the attribution strings: the same number of
    // typical attributions, cloned on their own.
    let attributions: Vec<Attribution> = (0..n as u64)
        .map(|i| pool.session(&sid(i)).unwrap().attribution.clone())
        .collect();
    let heap: usize = attributions.iter().map(Attribution::heap_bytes).sum();
    let c = Instant::now();
    let copy = attributions.clone();
    let attribution_clone = c.elapsed();
    drop((copy, attributions));
    t.section(&format!(
        "Snapshot: one pool of {n} numbers, {n} live sessions with typical attribution"
    ));
    t.row(
        "build the pool through the engine (setup)",
        ms(built),
        "—",
        "—".into(),
        "—".into(),
    );
    t.row(
        "Pool::clone (what the pool actor does for a snapshot)",
        ms(clone_time),
        "≤ 10 ms stall",
        format!(
            "clone of the {n} attributions alone {} ({} of string bytes)",
            ms(attribution_clone),
            mib(heap as u64)
        ),
        format!(
            "{}; {}",
            x(clone_time.as_secs_f64(), attribution_clone.as_secs_f64()),
            if clone_time <= Duration::from_millis(10) {
                "met"
            } else {
                "NOT met"
            }
        ),
    );

    let body = body_of(pool, T0 + 600);
    let e = Instant::now();
    let encoded = encode_snapshot(&body).unwrap();
    let encode_time = e.elapsed();

    let snap_dir = tempfile::tempdir().unwrap();
    let w = Instant::now();
    let meta = snapshot::write(snap_dir.path(), &body).unwrap();
    let write_time = w.elapsed();

    // Baselines: the same bytes as one buffer, written + fsynced, then read back.
    let raw = snap_dir.path().join("raw-baseline");
    let b = Instant::now();
    {
        let mut f = std::fs::File::create(&raw).unwrap();
        f.write_all(&encoded).unwrap();
        f.sync_all().unwrap();
    }
    let raw_write = b.elapsed();
    let b = Instant::now();
    let back = std::fs::read(&raw).unwrap();
    let raw_read = b.elapsed();
    assert_eq!(back.len(), encoded.len());
    drop((back, encoded));
    std::fs::remove_file(&raw).unwrap();

    let mut reads = Vec::new();
    let mut read_body = None;
    for _ in 0..reps {
        drop(read_body.take());
        let r = Instant::now();
        let (_, body) = snapshot::read(&meta.path).unwrap();
        reads.push(r.elapsed());
        assert_eq!(body.pools[0].pool.leased_count(), n as usize);
        read_body = Some(body);
    }
    let read_time = min_of(&reads);

    t.row(
        "snapshot::write (encode + write + fsync + rename + dir fsync)",
        format!("{} (encode alone {})", ms(write_time), ms(encode_time)),
        "— (none in §7)",
        format!("write+fsync of the same bytes {}", ms(raw_write)),
        x(write_time.as_secs_f64(), raw_write.as_secs_f64()),
    );
    t.row(
        "snapshot file size",
        format!(
            "{} ({:.0} bytes per lease)",
            mib(meta.size),
            meta.size as f64 / n as f64
        ),
        "—",
        "—".into(),
        "—".into(),
    );
    t.row(
        "snapshot::read (read + CRC + decode), warm page cache; best of runs",
        format!("{} (runs: {})", ms(read_time), all_of(&reads)),
        "— (part of recovery ≤ 3 s)",
        format!("fs::read of the same bytes {}", ms(raw_read)),
        x(read_time.as_secs_f64(), raw_read.as_secs_f64()),
    );

    // Recovery: that snapshot plus one page view per session, logged after it.
    let data = tempfile::tempdir().unwrap();
    let thread = Wal::start(
        WalOptions {
            dir: wal_dir(data.path()),
            mode: FsyncMode::Never,
            segment_bytes: Settings::default().wal_segment_bytes,
            fs: Arc::new(RealFs),
        },
        WalStart {
            next_seq: body.covered_seq() + 1,
            tail: None,
            segments: Vec::new(),
        },
    )
    .unwrap();
    let wal = thread.wal();
    let w = Instant::now();
    for i in 0..n as u64 {
        let rec = PoolRecord::PageView {
            session: sid(i),
            counts_page: true,
            at: T0 + 600 + i * 600 / n as u64,
        };
        wal.append(
            encode_pool_record(POOL, &rec).unwrap(),
            Box::new(|r| {
                r.unwrap();
            }),
        );
    }
    thread.stop();
    let wal_write = w.elapsed();
    let wal_bytes: u64 = std::fs::read_dir(wal_dir(data.path()))
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    drop(body);

    let recover_at = T0 + 1200;
    // The replay on its own: scan + CRC + decode + apply of every record of the WAL to
    // the pool just read from the snapshot (what recovery does after reading it).
    let mut replayed_pool = read_body.unwrap().pools.remove(0).pool;
    let r = Instant::now();
    let mut replayed = 0u64;
    for (first, path) in list_segments(&wal_dir(data.path())).unwrap() {
        let bytes = std::fs::read(&path).unwrap();
        let tail = scan(&bytes, Some(first), |f| {
            if let WalRecord::Pool(_, rec) = decode_record(f.payload).unwrap() {
                rec.apply(&mut replayed_pool);
                replayed += 1;
            }
        });
        assert_eq!(tail, Tail::Clean);
    }
    replayed_pool.advance(recover_at);
    let replay = r.elapsed();
    assert_eq!(replayed, n as u64);
    drop(replayed_pool);

    let mut runs = Vec::new();
    let mut last = None;
    for _ in 0..reps {
        drop(last.take());
        let r = Instant::now();
        let recovered = recover(data.path(), snap_dir.path(), recover_at).unwrap();
        runs.push(r.elapsed());
        assert_eq!(recovered.report.records_replayed, n as u64);
        last = Some(recovered);
    }
    let recovery = min_of(&runs);
    let mut pools = last.unwrap().pools;
    let pool = pools.remove(&POOL).unwrap().pool;
    assert_eq!(pool.leased_count(), n as usize);

    t.section(&format!(
        "Recovery: {n}-lease snapshot + {n} WAL records (PageView) written by a Wal in mode never"
    ));
    t.row(
        "write the WAL records (setup)",
        format!("{} ({} in segments)", ms(wal_write), mib(wal_bytes)),
        "—",
        "—".into(),
        "—".into(),
    );
    t.row(
        "replay alone: scan + CRC + decode + PoolRecord::apply of the WAL",
        format!("{} ({})", ms(replay), rate(n as f64 / replay.as_secs_f64())),
        "—",
        "—".into(),
        "—".into(),
    );
    let budget = Duration::from_secs(3);
    let parts = read_time + replay;
    t.row(
        "recovery::recover, snapshot + WAL, warm page cache; best of runs",
        format!("{} (runs: {})", ms(recovery), all_of(&runs)),
        "≤ 3 s (1M leases)",
        format!(
            "snapshot::read {} + replay {} = {}",
            ms(read_time),
            ms(replay),
            ms(parts)
        ),
        format!(
            "{}; {}",
            x(recovery.as_secs_f64(), parts.as_secs_f64()),
            if scale.quick {
                "quick run: not comparable"
            } else if recovery <= budget {
                "met"
            } else {
                "NOT met"
            }
        ),
    );
    pool
}

// ---------------------------------------------------------------------------------
// 4. Allocation stall while a snapshot is taken

/// One HTTP request: when it started and ended, relative to the load's start.
struct Sample {
    start: u64,
    end: u64,
    /// 200; anything else (a 503 after the request timeout) is counted as failed.
    ok: bool,
}

async fn bench_stall(t: &mut Table, scale: &Scale, mut pool: Pool) {
    let n = scale.leases;
    let now = T0 + 1200;
    for i in 0..scale.free_for_server as u64 {
        pool.release(sid(i * (n as u64 / scale.free_for_server as u64)), now)
            .unwrap();
    }
    let live = pool.leased_count();
    let data = tempfile::tempdir().unwrap();
    let snap_dir = data.path().join("snapshots");
    snapshot::write(&snap_dir, &body_of(pool, now)).unwrap();

    let settings = Settings {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: data.path().to_path_buf(),
        snapshot_dir: snap_dir.clone(),
        fsync: FsyncMode::Never,
        // Only the snapshots this bench asks for (1 January, midnight).
        snapshot_cron: "0 0 0 1 1 *".into(),
        // One client IP makes every request: no per-IP rate limit.
        session_rate_per_ip: 0,
        ..Settings::default()
    };
    let s = Instant::now();
    let server = Server::start(
        settings,
        Arc::new(ManualClock::new(now)),
        Some("bench-admin-token".into()),
    )
    .await
    .unwrap();
    let start_time = s.elapsed();
    let url: hyper::Uri = format!("http://{}/api/v1/tracking/sessions", server.local_addr())
        .parse()
        .unwrap();
    let client: Client<HttpConnector, Full<Bytes>> =
        Client::builder(TokioExecutor::new()).build_http();

    let stop = Arc::new(AtomicBool::new(false));
    let origin = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..scale.http_clients {
        let (client, url, stop) = (client.clone(), url.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::new();
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                i += 1;
                let body = serde_json::json!({
                    "pool_id": POOL.to_string(),
                    "page_url": landing_url(10_000_000 + c as u64 * 1_000_000 + i),
                    "referrer": REFERRER,
                })
                .to_string();
                let req = hyper::Request::post(url.clone())
                    .header("user-agent", UA)
                    .header("content-type", "application/json")
                    .body(Full::new(Bytes::from(body)))
                    .unwrap();
                let s = origin.elapsed().as_nanos() as u64;
                let resp = client.request(req).await.unwrap();
                let status = resp.status();
                let _ = resp.into_body().collect().await.unwrap();
                let e = origin.elapsed().as_nanos() as u64;
                out.push(Sample {
                    start: s,
                    end: e,
                    ok: status == 200,
                });
            }
            out
        }));
    }

    let warmup = Duration::from_millis(200);
    tokio::time::sleep(warmup + scale.http_quiet).await;
    let mut windows = Vec::new();
    let mut copies = Vec::new();
    for _ in 0..scale.snapshots_taken {
        let a = origin.elapsed().as_nanos() as u64;
        let taken = server.snapshots().take().await.unwrap();
        let b = origin.elapsed().as_nanos() as u64;
        windows.push((a, b));
        copies.push(taken);
        tokio::time::sleep(scale.http_quiet).await;
    }
    stop.store(true, Ordering::Relaxed);
    let mut samples = Vec::new();
    for t in tasks {
        samples.extend(t.await.unwrap());
    }
    let load_secs = origin.elapsed().as_secs_f64();
    server.shutdown().await;

    let warm = warmup.as_nanos() as u64;
    let lat = |s: &Sample| s.end - s.start;
    let overlaps = |s: &Sample, (a, b): (u64, u64)| s.start < b && s.end > a;
    let mut quiet: Vec<u64> = samples
        .iter()
        .filter(|s| s.start >= warm && !windows.iter().any(|&w| overlaps(s, w)))
        .map(lat)
        .collect();
    quiet.sort_unstable();
    let quiet_max = *quiet.last().unwrap_or(&0);

    t.section(&format!(
        "Stall: in-process Server (fsync never), 1 pool of {n} numbers, {live} live sessions, {} HTTP clients creating sessions",
        scale.http_clients
    ));
    t.row(
        "Server::start, recovering that snapshot (setup)",
        ms(start_time),
        "—",
        "—".into(),
        "—".into(),
    );
    t.row(
        "new-session requests without a snapshot: max (p50, p99)",
        format!(
            "{} ({}, {}); {} requests in all, {}, {} failed",
            us(quiet_max),
            us(quantile(&quiet, 0.5)),
            us(quantile(&quiet, 0.99)),
            samples.len(),
            rate(samples.len() as f64 / load_secs),
            samples.iter().filter(|s| !s.ok).count()
        ),
        "—",
        "—".into(),
        "—".into(),
    );
    for (k, (w, taken)) in windows.iter().zip(&copies).enumerate() {
        let mut during: Vec<u64> = samples
            .iter()
            .filter(|s| overlaps(s, *w))
            .map(lat)
            .collect();
        during.sort_unstable();
        let max = *during.last().unwrap_or(&0);
        let failed = samples.iter().filter(|s| !s.ok && overlaps(s, *w)).count();
        let met = if max <= 10_000_000 { "met" } else { "NOT met" };
        t.row(
            &format!(
                "snapshot {}: longest new-session request during take()",
                k + 1
            ),
            format!(
                "{} (p50 {}, p99 {}, {} requests, {failed} failed); take() {}, {}",
                us(max),
                us(quantile(&during, 0.5)),
                us(quantile(&during, 0.99)),
                during.len(),
                ms(Duration::from_nanos(w.1 - w.0)),
                mib(taken.meta.size)
            ),
            "≤ 10 ms",
            format!("max without snapshot {}", us(quiet_max)),
            format!("{}; {met}", x(max as f64, quiet_max as f64)),
        );
        t.row(
            &format!("snapshot {}: longest_copy reported by take()", k + 1),
            ms(taken.longest_copy),
            "≤ 10 ms",
            "—".into(),
            if taken.longest_copy <= Duration::from_millis(10) {
                "met".into()
            } else {
                "NOT met".into()
            },
        );
    }
}

fn main() {
    let scale = Scale::from_env();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    println!(
        "dnid durability bench{} — {} CPUs, temp dir {}",
        if scale.quick {
            " (QUICK: small scale, not comparable with the budgets)"
        } else {
            ""
        },
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        std::env::temp_dir().display()
    );
    println!("load average at start: {}", load_average());
    let total = Instant::now();
    let mut t = Table::new();
    rt.block_on(bench_wal(&mut t, &scale));
    let pool = bench_snapshot_and_recovery(&mut t, &scale);
    rt.block_on(bench_stall(&mut t, &scale, pool));
    t.print();
    println!(
        "\ntotal bench time {:.1} s; load average at the end: {}",
        total.elapsed().as_secs_f64(),
        load_average()
    );
}

/// `/proc/loadavg` (1, 5, 15 minutes), to tell a quiet machine from a busy one.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}
