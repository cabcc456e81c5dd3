//! Durability metrics: the WAL writer, snapshots, recovery.

use super::{
    unix_now, PROCESS, SNAPSHOT_DURATION, SNAPSHOT_FAILURES, WAL_BATCH, WAL_BYTES, WAL_ERRORS,
    WAL_FSYNC, WAL_RECORDS,
};
use metrics::{Counter, Histogram};
use std::sync::atomic::Ordering;
use std::time::Duration;

/// The WAL writer's handles, registered once when it starts.
#[derive(Clone)]
pub struct WalMetrics {
    batch: Histogram,
    fsync: Histogram,
    records: Counter,
    bytes: Counter,
    errors: Counter,
}

impl Default for WalMetrics {
    fn default() -> Self {
        WalMetrics {
            batch: metrics::histogram!(WAL_BATCH),
            fsync: metrics::histogram!(WAL_FSYNC),
            records: metrics::counter!(WAL_RECORDS),
            bytes: metrics::counter!(WAL_BYTES),
            errors: metrics::counter!(WAL_ERRORS),
        }
    }
}

impl WalMetrics {
    /// A batch of `records` records (`bytes` bytes) was written (and synced, as the
    /// mode asks).
    pub fn batch_written(&self, records: usize, bytes: usize) {
        self.batch.record(records as f64);
        self.records.increment(records as u64);
        self.bytes.increment(bytes as u64);
    }

    pub fn batch_failed(&self) {
        self.errors.increment(1);
    }

    pub fn fsync(&self, elapsed: Duration) {
        self.fsync.record(elapsed.as_secs_f64());
    }
}

/// A snapshot was written: its duration and size; it is now the last good one.
pub fn snapshot_taken(elapsed: Duration, size_bytes: u64) {
    metrics::histogram!(SNAPSHOT_DURATION).record(elapsed.as_secs_f64());
    PROCESS.snapshot_bytes.store(size_bytes, Ordering::Relaxed);
    PROCESS.last_snapshot.store(unix_now(), Ordering::Relaxed);
}

/// A scheduled snapshot failed.
pub fn snapshot_failed() {
    metrics::counter!(SNAPSHOT_FAILURES).increment(1);
}

/// At start: the newest snapshot on disk was written at `created_at` (unix seconds),
/// unless a later one was already recorded.
pub fn snapshot_found(created_at: u64, size_bytes: u64) {
    let before = PROCESS
        .last_snapshot
        .fetch_max(created_at, Ordering::Relaxed);
    if before <= created_at {
        PROCESS.snapshot_bytes.store(size_bytes, Ordering::Relaxed);
    }
}

/// The state was recovered in `elapsed`, replaying `records` WAL records.
pub fn recovered(elapsed: Duration, records: u64) {
    PROCESS
        .recovery_secs
        .store(elapsed.as_secs_f64().to_bits(), Ordering::Relaxed);
    PROCESS.recovery_records.store(records, Ordering::Relaxed);
}
