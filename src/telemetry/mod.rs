//! Telemetry: metrics through the [`metrics`] facade, exported in the Prometheus text
//! format at `GET /metrics` (no auth, like `/healthz`).
//!
//! The Prometheus recorder is installed once per process ([`install`]); every server
//! started in the process (the tests start several) records into it and renders from
//! the same handle. Code that runs without it (unit tests, benchmarks) records into
//! the facade's no-op recorder.
//!
//! Naming follows Prometheus conventions: the `dnid_` prefix, base units (seconds,
//! bytes), `_total` on counters, `_seconds` on durations. The pool id is a label;
//! session ids and phone numbers never are. Every metric, with its labels:
//!
//! | metric | type | labels | what |
//! |---|---|---|---|
//! | `dnid_sessions_assigned_total` | counter | `pool`, `result` | tracking answers by `result` (`new`, `renewed`, `sticky`, `regranted`, `reassigned`, `recycled`, `fallback`, `no_swap`, `bot`) |
//! | `dnid_lease_expirations_total` | counter | `pool` | leases that ran out |
//! | `dnid_pool_active_sessions` | gauge | `pool` | live leases |
//! | `dnid_pool_numbers` | gauge | `pool` | tracking numbers in the pool |
//! | `dnid_pool_utilization_ratio` | gauge | `pool` | live leases / numbers (0–1) |
//! | `dnid_pool_recommended_numbers` | gauge | `pool` | the recommended pool size (see `GET /api/v1/pools/{id}/stats`) |
//! | `dnid_assign_duration_seconds` | histogram | | `POST /api/v1/tracking/sessions`: from the handler asking the pool to the answer (router, pool actor, WAL commit) |
//! | `dnid_calls_total` | counter | `pool`, `status` | calls by attribution status (`attributed`, `late`, `ambiguous`, `fallback`, `unattributed`); `pool="none"` when no pool owns the number |
//! | `dnid_http_requests_total` | counter | `route`, `method`, `status` | answered requests; `route` is the route template (`/api/v1/pools/{id}`) or `unmatched` |
//! | `dnid_http_request_duration_seconds` | histogram | `route`, `method` | time to answer |
//! | `dnid_http_requests_in_flight` | gauge | | requests being handled |
//! | `dnid_http_rejected_requests_total` | counter | `reason` | `overloaded` (503, admission control), `rate_limited` (429) |
//! | `dnid_wal_batch_records` | histogram | | records per group commit (one write, one fdatasync) |
//! | `dnid_wal_fsync_duration_seconds` | histogram | | each fdatasync of the WAL |
//! | `dnid_wal_records_total` | counter | | records made durable |
//! | `dnid_wal_written_bytes_total` | counter | | bytes written to the WAL |
//! | `dnid_wal_write_errors_total` | counter | | batches that failed (their requests were refused) |
//! | `dnid_snapshot_duration_seconds` | histogram | | time to take a snapshot |
//! | `dnid_snapshot_size_bytes` | gauge | | size of the last snapshot |
//! | `dnid_snapshot_last_success_timestamp_seconds` | gauge | | unix time of the last good snapshot (taken, or recovered from at start) |
//! | `dnid_snapshot_failures_total` | counter | | scheduled snapshots that failed |
//! | `dnid_recovery_duration_seconds` | gauge | | time the last start took to recover its state |
//! | `dnid_recovery_replayed_records` | gauge | | WAL records replayed at the last start |
//! | `dnid_start_time_seconds` | gauge | | unix time the process started |
//! | `dnid_webhook_deliveries_total` | counter | `result` | webhook deliveries finished: `delivered`, or `failed` after the last retry |
//! | `dnid_webhook_retries_total` | counter | | failed attempts that will be retried |
//! | `dnid_webhook_attempt_duration_seconds` | histogram | `result` | each delivery attempt (`success`, `error`) |

pub mod calls;
pub mod http;
pub mod pool;
pub mod store;

pub use calls::{
    record_call, record_webhook_attempt, record_webhook_delivery, record_webhook_retry,
};

use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use metrics_util::MetricKindMask;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub const SESSIONS_ASSIGNED: &str = "dnid_sessions_assigned_total";
pub const LEASE_EXPIRATIONS: &str = "dnid_lease_expirations_total";
pub const POOL_ACTIVE: &str = "dnid_pool_active_sessions";
pub const POOL_NUMBERS: &str = "dnid_pool_numbers";
pub const POOL_UTILIZATION: &str = "dnid_pool_utilization_ratio";
pub const POOL_RECOMMENDED: &str = "dnid_pool_recommended_numbers";
pub const ASSIGN_DURATION: &str = "dnid_assign_duration_seconds";
pub const CALLS: &str = "dnid_calls_total";
pub const HTTP_REQUESTS: &str = "dnid_http_requests_total";
pub const HTTP_DURATION: &str = "dnid_http_request_duration_seconds";
pub const HTTP_IN_FLIGHT: &str = "dnid_http_requests_in_flight";
pub const HTTP_REJECTED: &str = "dnid_http_rejected_requests_total";
pub const WAL_BATCH: &str = "dnid_wal_batch_records";
pub const WAL_FSYNC: &str = "dnid_wal_fsync_duration_seconds";
pub const WAL_RECORDS: &str = "dnid_wal_records_total";
pub const WAL_BYTES: &str = "dnid_wal_written_bytes_total";
pub const WAL_ERRORS: &str = "dnid_wal_write_errors_total";
pub const SNAPSHOT_DURATION: &str = "dnid_snapshot_duration_seconds";
pub const SNAPSHOT_SIZE: &str = "dnid_snapshot_size_bytes";
pub const SNAPSHOT_LAST_SUCCESS: &str = "dnid_snapshot_last_success_timestamp_seconds";
pub const SNAPSHOT_FAILURES: &str = "dnid_snapshot_failures_total";
pub const RECOVERY_DURATION: &str = "dnid_recovery_duration_seconds";
pub const RECOVERY_RECORDS: &str = "dnid_recovery_replayed_records";
pub const START_TIME: &str = "dnid_start_time_seconds";
pub const WEBHOOK_DELIVERIES: &str = "dnid_webhook_deliveries_total";
pub const WEBHOOK_RETRIES: &str = "dnid_webhook_retries_total";
pub const WEBHOOK_ATTEMPT_DURATION: &str = "dnid_webhook_attempt_duration_seconds";

/// Latency buckets from 1 µs to 1 s (1, 2.5, 5 per decade): an assignment in memory
/// takes microseconds, one through a synced WAL a fraction of a millisecond.
pub const LATENCY_BUCKETS: &[f64] = &[
    1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2,
    5e-2, 0.1, 0.25, 0.5, 1.0,
];
/// HTTP request buckets: the latency buckets, up to 10 s.
pub const HTTP_BUCKETS: &[f64] = &[
    1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2,
    5e-2, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Slow operations (snapshots, webhook attempts): 1 ms to 2 min.
pub const SLOW_BUCKETS: &[f64] = &[
    1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 5e-2, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
];
/// Records per WAL batch: powers of two up to the largest batch (4096).
pub const BATCH_BUCKETS: &[f64] = &[
    1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0, 2048.0, 4096.0,
];

/// Gauges not updated for this long leave the output. Per-pool gauges are refreshed
/// every second by their pool (and zeroed when it stops), process gauges at every
/// render: only a deleted pool's gauges go idle, and so disappear.
pub const GAUGE_IDLE: Duration = Duration::from_secs(120);
/// How often histograms are drained and process gauges refreshed between scrapes.
const UPKEEP: Duration = Duration::from_secs(5);

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Process-wide figures kept here and written to their gauges at every render.
struct Process {
    in_flight: AtomicI64,
    start_time: AtomicU64,
    /// Unix seconds of the last good snapshot; 0: none yet.
    last_snapshot: AtomicU64,
    snapshot_bytes: AtomicU64,
    /// `f64` bits; `u64::MAX`: no recovery yet.
    recovery_secs: AtomicU64,
    recovery_records: AtomicU64,
}

static PROCESS: Process = Process {
    in_flight: AtomicI64::new(0),
    start_time: AtomicU64::new(0),
    last_snapshot: AtomicU64::new(0),
    snapshot_bytes: AtomicU64::new(u64::MAX),
    recovery_secs: AtomicU64::new(u64::MAX),
    recovery_records: AtomicU64::new(0),
};

/// Installs the Prometheus recorder (once per process; later calls return the same
/// handle) and starts its upkeep thread.
pub fn install() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let recorder = builder().build_recorder();
        let handle = recorder.handle();
        if let Err(e) = metrics::set_global_recorder(recorder) {
            tracing::warn!(error = %e, "another metrics recorder is installed; /metrics will be empty");
        }
        PROCESS.start_time.store(unix_now(), Ordering::Relaxed);
        describe();
        preregister();
        let upkeep = handle.clone();
        let spawned = std::thread::Builder::new()
            .name("dnid-metrics".into())
            .spawn(move || loop {
                std::thread::sleep(UPKEEP);
                refresh();
                upkeep.run_upkeep();
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "cannot start the metrics upkeep thread; histograms drain at scrapes only");
        }
        handle
    })
}

fn builder() -> PrometheusBuilder {
    let mut b = PrometheusBuilder::new()
        .idle_timeout(MetricKindMask::GAUGE, Some(GAUGE_IDLE))
        .upkeep_timeout(UPKEEP);
    let buckets: [(&str, &[f64]); 6] = [
        (ASSIGN_DURATION, LATENCY_BUCKETS),
        (WAL_FSYNC, LATENCY_BUCKETS),
        (WAL_BATCH, BATCH_BUCKETS),
        (SNAPSHOT_DURATION, SLOW_BUCKETS),
        (WEBHOOK_ATTEMPT_DURATION, SLOW_BUCKETS),
        (HTTP_DURATION, HTTP_BUCKETS),
    ];
    for (name, values) in buckets {
        b = match b.set_buckets_for_metric(Matcher::Full(name.into()), values) {
            Ok(b) => b,
            Err(_) => unreachable!("bucket lists are not empty"),
        };
    }
    // Any other histogram: true buckets too, never summaries.
    match b.set_buckets(HTTP_BUCKETS) {
        Ok(b) => b,
        Err(_) => unreachable!("bucket lists are not empty"),
    }
}

/// Whether [`install`] has run: handles kept in statics are only taken after it (a
/// handle taken before would be the facade's no-op one for good).
pub fn installed() -> bool {
    HANDLE.get().is_some()
}

/// Renders every metric in the Prometheus text format (0.0.4).
pub fn render() -> String {
    let handle = install();
    refresh();
    handle.render()
}

/// The content type of [`render`]'s output.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Writes the process-wide figures to their gauges.
fn refresh() {
    let p = &PROCESS;
    metrics::gauge!(HTTP_IN_FLIGHT).set(p.in_flight.load(Ordering::Relaxed).max(0) as f64);
    metrics::gauge!(START_TIME).set(p.start_time.load(Ordering::Relaxed) as f64);
    let last = p.last_snapshot.load(Ordering::Relaxed);
    if last != 0 {
        metrics::gauge!(SNAPSHOT_LAST_SUCCESS).set(last as f64);
    }
    let bytes = p.snapshot_bytes.load(Ordering::Relaxed);
    if bytes != u64::MAX {
        metrics::gauge!(SNAPSHOT_SIZE).set(bytes as f64);
    }
    let secs = p.recovery_secs.load(Ordering::Relaxed);
    if secs != u64::MAX {
        metrics::gauge!(RECOVERY_DURATION).set(f64::from_bits(secs));
        metrics::gauge!(RECOVERY_RECORDS).set(p.recovery_records.load(Ordering::Relaxed) as f64);
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Series that exist before anything happens, so that rates start from zero and
/// dashboards show 0 rather than "no data".
fn preregister() {
    for reason in http::REJECT_REASONS {
        metrics::counter!(HTTP_REJECTED, "reason" => *reason).absolute(0);
    }
    calls::preregister();
    metrics::counter!(WAL_ERRORS).absolute(0);
    metrics::counter!(SNAPSHOT_FAILURES).absolute(0);
}

fn describe() {
    describe_counter!(
        SESSIONS_ASSIGNED,
        Unit::Count,
        "Tracking answers, by pool and result (new, renewed, sticky, regranted, reassigned, recycled, fallback, no_swap, bot)."
    );
    describe_counter!(
        LEASE_EXPIRATIONS,
        Unit::Count,
        "Leases that ran out, by pool."
    );
    describe_gauge!(
        POOL_ACTIVE,
        Unit::Count,
        "Live leases (active visitor sessions), by pool."
    );
    describe_gauge!(POOL_NUMBERS, Unit::Count, "Tracking numbers in the pool.");
    describe_gauge!(
        POOL_UTILIZATION,
        Unit::Count,
        "Live leases divided by the numbers in the pool (0 to 1)."
    );
    describe_gauge!(
        POOL_RECOMMENDED,
        Unit::Count,
        "Recommended pool size: ceil(1.25 x peak concurrent sessions over 7 days), and more when visitors were turned away."
    );
    describe_histogram!(
        ASSIGN_DURATION,
        Unit::Seconds,
        "Time to answer a new tracking session: router, pool actor and WAL commit."
    );
    describe_counter!(
        CALLS,
        Unit::Count,
        "Calls by pool and attribution status (attributed, late, ambiguous, fallback, unattributed)."
    );
    describe_counter!(
        HTTP_REQUESTS,
        Unit::Count,
        "HTTP requests answered, by route template, method and status code."
    );
    describe_histogram!(
        HTTP_DURATION,
        Unit::Seconds,
        "Time to answer an HTTP request, by route template and method."
    );
    describe_gauge!(HTTP_IN_FLIGHT, Unit::Count, "HTTP requests being handled.");
    describe_counter!(
        HTTP_REJECTED,
        Unit::Count,
        "HTTP requests refused: overloaded (503, too many in flight) or rate_limited (429)."
    );
    describe_histogram!(
        WAL_BATCH,
        Unit::Count,
        "Records per WAL group commit (one write and one fdatasync)."
    );
    describe_histogram!(
        WAL_FSYNC,
        Unit::Seconds,
        "Duration of each fdatasync of the WAL."
    );
    describe_counter!(WAL_RECORDS, Unit::Count, "WAL records written.");
    describe_counter!(WAL_BYTES, Unit::Bytes, "Bytes written to the WAL.");
    describe_counter!(
        WAL_ERRORS,
        Unit::Count,
        "WAL batches that could not be written or synced (their requests were refused)."
    );
    describe_histogram!(SNAPSHOT_DURATION, Unit::Seconds, "Time to take a snapshot.");
    describe_gauge!(
        SNAPSHOT_SIZE,
        Unit::Bytes,
        "Size of the last snapshot written."
    );
    describe_gauge!(
        SNAPSHOT_LAST_SUCCESS,
        Unit::Seconds,
        "Unix time of the last good snapshot (written, or recovered from at start)."
    );
    describe_counter!(
        SNAPSHOT_FAILURES,
        Unit::Count,
        "Scheduled snapshots that failed."
    );
    describe_gauge!(
        RECOVERY_DURATION,
        Unit::Seconds,
        "Time the last start took to recover the state (snapshot and WAL)."
    );
    describe_gauge!(
        RECOVERY_RECORDS,
        Unit::Count,
        "WAL records replayed by the last start."
    );
    describe_gauge!(START_TIME, Unit::Seconds, "Unix time the process started.");
    describe_counter!(
        WEBHOOK_DELIVERIES,
        Unit::Count,
        "Webhook deliveries finished: delivered, or failed after the last retry."
    );
    describe_counter!(
        WEBHOOK_RETRIES,
        Unit::Count,
        "Webhook delivery attempts that failed and will be retried."
    );
    describe_histogram!(
        WEBHOOK_ATTEMPT_DURATION,
        Unit::Seconds,
        "Duration of each webhook delivery attempt, by result (success, error)."
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn install_is_idempotent_and_renders_from_one_handle() {
        let a = install() as *const PrometheusHandle;
        let b = install() as *const PrometheusHandle;
        assert_eq!(a, b);
        metrics::counter!(HTTP_REJECTED, "reason" => "overloaded").increment(1);
        let text = render();
        assert!(text.contains("dnid_http_rejected_requests_total{reason=\"overloaded\"}"));
        assert!(text.contains("# HELP dnid_start_time_seconds"));
    }

    #[test]
    fn bucket_lists_are_increasing_and_latency_starts_at_a_microsecond() {
        for b in [LATENCY_BUCKETS, HTTP_BUCKETS, SLOW_BUCKETS, BATCH_BUCKETS] {
            assert!(b.windows(2).all(|w| w[0] < w[1]));
        }
        assert_eq!(LATENCY_BUCKETS[0], 1e-6);
        assert_eq!(*LATENCY_BUCKETS.last().unwrap(), 1.0);
    }
}
