//! Recovery: the newest valid snapshot, then every WAL record after it.
//!
//! A corrupt snapshot is skipped (with a warning naming it) for the next older one. A
//! torn tail of the last WAL segment — a crash in the middle of a write — is cut off
//! and logged. A bad record anywhere else stops the start with the file, the offset
//! and the command that repairs it: silently dropping acknowledged records is worse
//! than not starting.

use super::codec::decode_record;
use super::record::{RouterRecord, WalRecord};
use super::segment::{list_segments, scan, Tail};
use super::snapshot::{self, CallsImage, SnapshotBody};
use super::wal::{wal_dir, WalStart};
use crate::engine::Pool;
use crate::ids::PoolId;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A pool as recovered, with the sequence number of the last record applied to it.
pub struct RecoveredPool {
    pub pool: Pool,
    pub applied_seq: u64,
}

pub struct Recovered {
    pub pools: BTreeMap<PoolId, RecoveredPool>,
    /// The call log, with the sequence number of the last record applied to it.
    pub calls: CallsImage,
    /// The sequence number of the last pool creation or deletion.
    pub router_seq: u64,
    pub wal: WalStart,
    pub report: RecoveryReport,
}

#[derive(Debug, Default)]
pub struct RecoveryReport {
    pub snapshot: Option<PathBuf>,
    pub skipped_snapshots: Vec<String>,
    pub records_replayed: u64,
    pub torn_tail: Option<(PathBuf, u64, u64)>,
    pub elapsed: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum RecoveryError {
    #[error("the write-ahead log is damaged: {file}, offset {offset}: {reason}. Nothing was changed. To drop this record and everything after it, stop dnid and run `dnid wal repair --data-dir {data_dir}` (it says what it will cut and asks first); or restore a snapshot with `dnid restore --from FILE`.")]
    Corrupt {
        file: PathBuf,
        offset: u64,
        reason: String,
        data_dir: PathBuf,
    },
    #[error("the write-ahead log starts at record {found} but the snapshot needs records from {needed}: segments are missing from {dir}")]
    Gap {
        found: u64,
        needed: u64,
        dir: PathBuf,
    },
    #[error("cannot read {0}: {1}")]
    Io(PathBuf, std::io::Error),
}

/// Rebuilds the state from `snapshot_dir` and the WAL in `data_dir`, cutting a torn
/// tail, and expires what is due at `now`.
pub fn recover(data_dir: &Path, snapshot_dir: &Path, now: u64) -> Result<Recovered, RecoveryError> {
    let started = Instant::now();
    let mut report = RecoveryReport::default();
    let mut pools = BTreeMap::new();
    let mut calls = CallsImage::default();
    let mut router_seq = 0;
    let mut covered = 0;
    let listing = snapshot::list(snapshot_dir)
        .map_err(|e| RecoveryError::Io(snapshot_dir.to_path_buf(), e))?;
    for entry in listing {
        let path = match entry {
            Ok(meta) => meta.path,
            Err(e) => {
                tracing::warn!(error = %e, "skipping unreadable snapshot");
                report.skipped_snapshots.push(e.to_string());
                continue;
            }
        };
        match snapshot::read(&path) {
            Ok((_, mut body)) => {
                covered = body.covered_seq();
                calls = std::mem::take(&mut body.calls);
                (pools, router_seq) = from_snapshot(body);
                report.snapshot = Some(path);
                break;
            }
            Err(e) => {
                tracing::warn!(error = %e, "skipping corrupt snapshot; trying the next older one");
                report.skipped_snapshots.push(e.to_string());
            }
        }
    }

    let dir = wal_dir(data_dir);
    let segments = list_segments(&dir).map_err(|e| RecoveryError::Io(dir.clone(), e))?;
    // Start at the last segment that begins at or before the first record needed.
    let first = segments
        .iter()
        .rposition(|(s, _)| *s <= covered + 1)
        .unwrap_or(0);
    if let Some((s, _)) = segments.get(first) {
        if *s > covered + 1 {
            return Err(RecoveryError::Gap {
                found: *s,
                needed: covered + 1,
                dir,
            });
        }
    }
    let total_bytes: u64 = segments[first..]
        .iter()
        .filter_map(|(_, p)| std::fs::metadata(p).ok().map(|m| m.len()))
        .sum();
    let mut done_bytes = 0u64;
    let mut last_seq = covered;
    let mut tail = None;
    let mut progress_at = Instant::now() + Duration::from_secs(1);
    for (i, (first_seq, path)) in segments.iter().enumerate().skip(first) {
        // Segments must carry on from each other, except across records the snapshot
        // already holds (a log cut short by power loss in `everysec`/`never`).
        if i > first
            && *first_seq != last_seq + 1
            && !(*first_seq <= covered + 1 && *first_seq > last_seq)
        {
            return Err(RecoveryError::Corrupt {
                file: path.clone(),
                offset: 0,
                reason: format!(
                    "segment starts at record {first_seq} but the one before it ended at {last_seq}"
                ),
                data_dir: data_dir.to_path_buf(),
            });
        }
        let bytes = std::fs::read(path).map_err(|e| RecoveryError::Io(path.clone(), e))?;
        let mut bad_record = None;
        let end = scan(&bytes, Some(*first_seq), |f| {
            last_seq = f.seq;
            if f.seq <= covered || bad_record.is_some() {
                return;
            }
            match decode_record(f.payload) {
                Ok(rec) => {
                    apply(&mut pools, &mut router_seq, &mut calls, f.seq, rec);
                    report.records_replayed += 1;
                }
                Err(e) => bad_record = Some((f.offset, e.to_string())),
            }
            if report.records_replayed % 65_536 == 0 && Instant::now() >= progress_at {
                progress_at = Instant::now() + Duration::from_secs(1);
                let pct = (done_bytes + f.offset) as f64 * 100.0 / total_bytes.max(1) as f64;
                let rate = report.records_replayed as f64 / started.elapsed().as_secs_f64();
                tracing::info!(
                    records = report.records_replayed,
                    percent = format!("{pct:.0}"),
                    records_per_sec = format!("{rate:.0}"),
                    "recovering"
                );
            }
        });
        let corrupt = |offset, reason| RecoveryError::Corrupt {
            file: path.clone(),
            offset,
            reason,
            data_dir: data_dir.to_path_buf(),
        };
        if let Some((offset, reason)) = bad_record {
            return Err(corrupt(offset, format!("record does not decode: {reason}")));
        }
        let is_last = i + 1 == segments.len();
        let good_len = match end {
            Tail::Clean => bytes.len() as u64,
            Tail::Corrupt { offset, reason } => return Err(corrupt(offset, reason)),
            Tail::Torn { offset } if is_last => {
                let cut = bytes.len() as u64 - offset;
                tracing::warn!(segment = %path.display(), offset, bytes = cut, "cut a torn write off the end of the write-ahead log (a crash during a write; it was never acknowledged)");
                report.torn_tail = Some((path.clone(), offset, cut));
                offset
            }
            // A failed write left unacknowledged bytes at the end of an older segment;
            // harmless when the next segment carries on without a gap.
            Tail::Torn { offset } if segments[i + 1].0 == last_seq + 1 => offset,
            Tail::Torn { offset } => {
                return Err(corrupt(
                    offset,
                    "bad bytes at the end of a segment that is not the last".into(),
                ))
            }
        };
        done_bytes += bytes.len() as u64;
        if is_last {
            tail = Some((*first_seq, path.clone(), good_len));
        }
    }
    let next_seq_from_log = last_seq + 1;
    for p in pools.values_mut() {
        p.pool.advance(now);
    }
    let next_seq = pools
        .values()
        .map(|p| p.applied_seq)
        .chain([last_seq, router_seq, covered, calls.covered_seq])
        .max()
        .unwrap_or(0)
        + 1;
    // Append to the last segment only if it holds no partial header and the next
    // record carries on from its last one; otherwise the writer starts a new segment.
    let tail = tail.filter(|(_, path, len)| {
        let whole_header = *len >= super::segment::MAGIC.len() as u64;
        if !whole_header {
            // Created, but not even its header landed: it holds nothing.
            if let Err(e) = std::fs::remove_file(path) {
                tracing::warn!(segment = %path.display(), error = %e, "cannot remove an empty WAL segment");
            }
        }
        whole_header && next_seq_from_log == next_seq
    });
    let segments = segments.into_iter().filter(|(_, p)| p.exists()).collect();
    report.elapsed = started.elapsed();
    Ok(Recovered {
        pools,
        calls,
        router_seq,
        wal: WalStart {
            next_seq,
            tail,
            segments,
        },
        report,
    })
}

fn from_snapshot(body: SnapshotBody) -> (BTreeMap<PoolId, RecoveredPool>, u64) {
    let pools = body
        .pools
        .into_iter()
        .map(|p| {
            (
                p.id,
                RecoveredPool {
                    pool: p.pool,
                    applied_seq: p.covered_seq,
                },
            )
        })
        .collect();
    (pools, body.router_seq)
}

/// Applies one replayed record. Records a snapshot already includes are skipped.
pub fn apply(
    pools: &mut BTreeMap<PoolId, RecoveredPool>,
    router_seq: &mut u64,
    calls: &mut CallsImage,
    seq: u64,
    rec: WalRecord,
) {
    match rec {
        WalRecord::Calls(r) => {
            if seq > calls.covered_seq {
                calls.state.apply(r);
                calls.covered_seq = seq;
            }
        }
        WalRecord::Router(r) => {
            if seq <= *router_seq {
                return;
            }
            *router_seq = seq;
            match r {
                RouterRecord::CreatePool {
                    id,
                    settings,
                    numbers,
                    at,
                } => {
                    pools.entry(id).or_insert_with(|| {
                        let mut pool = Pool::new(settings, at);
                        // Checked before it was logged; a refusal here cannot happen.
                        let _ = pool.add_numbers(&numbers, at);
                        RecoveredPool {
                            pool,
                            applied_seq: seq,
                        }
                    });
                }
                RouterRecord::DeletePool { id, .. } => {
                    pools.remove(&id);
                }
            }
        }
        WalRecord::Pool(id, r) => {
            if let Some(p) = pools.get_mut(&id).filter(|p| seq > p.applied_seq) {
                r.apply(&mut p.pool);
                p.applied_seq = seq;
            }
        }
    }
}
