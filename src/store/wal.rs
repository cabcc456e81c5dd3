//! The WAL writer: one thread that gathers the records of every pool and makes one
//! write and (in mode `always`) one `fdatasync` per batch — group commit.
//!
//! Callers hand over an encoded record and a completion; the completion runs after the
//! record is as durable as the mode promises, with the record's sequence number, or
//! with the error that kept it from being so. A failed batch is cut back off the file,
//! so the log never holds a record whose caller was told it failed.

use super::fs::{FileSystem, LogFile};
use super::segment::{frame, segment_name, MAGIC};
use crate::telemetry::store::WalMetrics;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// When a reply may be sent, and so what a crash can lose.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum FsyncMode {
    /// Reply after the batch is on stable storage. A crash or power loss loses nothing
    /// that was acknowledged.
    #[default]
    Always,
    /// Reply after the write; sync once a second. A process crash loses nothing; power
    /// loss or a kernel crash can lose the last second.
    Everysec,
    /// Reply after the write; never sync (the OS writes back when it likes). A process
    /// crash loses nothing; power loss can lose everything not yet written back.
    Never,
}

impl FsyncMode {
    pub fn as_str(self) -> &'static str {
        match self {
            FsyncMode::Always => "always",
            FsyncMode::Everysec => "everysec",
            FsyncMode::Never => "never",
        }
    }
}

/// Why a record is not durable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WalError {
    #[error("write-ahead log I/O failed: {0}")]
    Io(String),
    #[error("write-ahead log is closed")]
    Closed,
}

/// Runs once a record is durable (`Ok(seq)`) or has failed.
pub type Done = Box<dyn FnOnce(Result<u64, WalError>) + Send>;

enum Cmd {
    Append(Vec<u8>, Done),
    /// Answers the highest sequence number handed out so far, once it is written.
    Barrier(tokio::sync::oneshot::Sender<u64>),
    /// Deletes segments whose records are all at or below this sequence number.
    Compact(u64),
    Stop,
}

/// A handle to the writer; cheap to clone.
#[derive(Clone)]
pub struct Wal {
    tx: Sender<Cmd>,
}

pub struct WalOptions {
    pub dir: PathBuf,
    pub mode: FsyncMode,
    /// A new segment is started once the current one is this large.
    pub segment_bytes: u64,
    pub fs: Arc<dyn FileSystem>,
}

/// Where the writer starts: after recovery, the segment to append to.
pub struct WalStart {
    pub next_seq: u64,
    /// The last segment, its first sequence number and its good length, if any.
    pub tail: Option<(u64, PathBuf, u64)>,
    /// Every segment on disk, oldest first.
    pub segments: Vec<(u64, PathBuf)>,
}

/// The thread that owns the files. Dropping the last `Wal` handle does not stop it:
/// call [`WalThread::stop`].
pub struct WalThread {
    handle: Option<std::thread::JoinHandle<()>>,
    wal: Wal,
}

impl WalThread {
    pub fn wal(&self) -> Wal {
        self.wal.clone()
    }

    /// Writes what is queued, syncs, and ends the thread.
    pub fn stop(mut self) {
        let _ = self.wal.tx.send(Cmd::Stop);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// Most records gathered into one batch.
const MAX_BATCH: usize = 4096;

impl Wal {
    pub fn start(opts: WalOptions, start: WalStart) -> std::io::Result<WalThread> {
        std::fs::create_dir_all(&opts.dir)?;
        let (tx, rx) = mpsc::channel();
        let mut writer = Writer {
            next_seq: start.next_seq,
            file: None,
            file_len: 0,
            segments: start.segments,
            needs_new_segment: start.tail.is_none(),
            dirty: false,
            opts,
            metrics: WalMetrics::default(),
        };
        if let Some((_, path, len)) = start.tail {
            let mut f = writer.opts.fs.open_log(&path)?;
            f.truncate(len)?;
            writer.file = Some(f);
            writer.file_len = len;
        }
        let handle = std::thread::Builder::new()
            .name("dnid-wal".into())
            .spawn(move || writer.run(rx))?;
        let wal = Wal { tx };
        Ok(WalThread {
            handle: Some(handle),
            wal,
        })
    }

    /// Queues an encoded record; `done` runs when it is durable or has failed.
    pub fn append(&self, record: Vec<u8>, done: Done) {
        if let Err(mpsc::SendError(Cmd::Append(_, done))) = self.tx.send(Cmd::Append(record, done))
        {
            done(Err(WalError::Closed));
        }
    }

    /// Waits until everything queued before is written; returns the highest sequence
    /// number handed out.
    pub async fn barrier(&self) -> Result<u64, WalError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.tx
            .send(Cmd::Barrier(tx))
            .map_err(|_| WalError::Closed)?;
        rx.await.map_err(|_| WalError::Closed)
    }

    /// Appends and waits for durability.
    pub async fn append_durable(&self, record: Vec<u8>) -> Result<u64, WalError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.append(
            record,
            Box::new(move |r| {
                let _ = tx.send(r);
            }),
        );
        rx.await.unwrap_or(Err(WalError::Closed))
    }

    /// Lets the writer delete segments wholly at or below `covered_seq`.
    pub fn compact(&self, covered_seq: u64) {
        let _ = self.tx.send(Cmd::Compact(covered_seq));
    }
}

struct Writer {
    opts: WalOptions,
    next_seq: u64,
    file: Option<Box<dyn LogFile>>,
    /// Length of the current segment up to the last good batch.
    file_len: u64,
    segments: Vec<(u64, PathBuf)>,
    /// After a failure that may have left bytes we could not cut, start afresh.
    needs_new_segment: bool,
    /// Written but not synced (modes `everysec` and `never`).
    dirty: bool,
    metrics: WalMetrics,
}

impl Writer {
    fn run(&mut self, rx: Receiver<Cmd>) {
        let mut last_sync = Instant::now();
        let mut buf = Vec::with_capacity(1 << 20);
        let mut dones: Vec<(u64, Done)> = Vec::new();
        let mut barriers = Vec::new();
        loop {
            let first = match rx.recv_timeout(Duration::from_millis(200)) {
                Ok(c) => Some(c),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => Some(Cmd::Stop),
            };
            let mut stop = false;
            let batch_first = self.next_seq;
            let mut next = first;
            let mut taken = 0;
            while let Some(cmd) = next.take() {
                match cmd {
                    Cmd::Append(payload, done) => {
                        frame(&mut buf, self.next_seq, &payload);
                        dones.push((self.next_seq, done));
                        self.next_seq += 1;
                    }
                    Cmd::Barrier(tx) => barriers.push(tx),
                    Cmd::Compact(seq) => self.compact(seq),
                    Cmd::Stop => stop = true,
                }
                taken += 1;
                if taken < MAX_BATCH && !stop {
                    next = rx.try_recv().ok();
                }
            }
            if !buf.is_empty() {
                let result = self.write_batch(&buf, batch_first);
                match result {
                    Ok(()) => {
                        self.metrics.batch_written(dones.len(), buf.len());
                        for (seq, done) in dones.drain(..) {
                            done(Ok(seq));
                        }
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "write-ahead log batch failed; its requests are refused");
                        self.metrics.batch_failed();
                        self.next_seq = batch_first;
                        let err = WalError::Io(e.to_string());
                        for (_, done) in dones.drain(..) {
                            done(Err(err.clone()));
                        }
                    }
                }
                buf.clear();
            }
            for tx in barriers.drain(..) {
                let _ = tx.send(self.next_seq.saturating_sub(1));
            }
            let due = self.opts.mode == FsyncMode::Everysec
                && last_sync.elapsed() >= Duration::from_secs(1);
            if self.dirty && (due || stop) {
                self.sync_dirty();
                last_sync = Instant::now();
            }
            if stop {
                return;
            }
        }
    }

    fn sync_dirty(&mut self) {
        if let Some(f) = self.file.as_mut() {
            let started = Instant::now();
            let synced = f.sync_data();
            self.metrics.fsync(started.elapsed());
            match synced {
                Ok(()) => self.dirty = false,
                Err(e) => {
                    tracing::error!(error = %e, "background fsync of the write-ahead log failed")
                }
            }
        }
    }

    /// One write and, in mode `always`, one fdatasync. On failure the file is cut back
    /// to where the batch began.
    fn write_batch(&mut self, buf: &[u8], first_seq: u64) -> std::io::Result<()> {
        let rotate = self.needs_new_segment
            || self.file.is_none()
            || self.file_len + buf.len() as u64 > self.opts.segment_bytes;
        if rotate {
            self.open_segment(first_seq)?;
        }
        let Some(f) = self.file.as_mut() else {
            return Err(std::io::Error::other("no open segment"));
        };
        let metrics = &self.metrics;
        let result = f.write_all(buf).and_then(|()| match self.opts.mode {
            FsyncMode::Always => {
                let started = Instant::now();
                let synced = f.sync_data();
                metrics.fsync(started.elapsed());
                synced
            }
            _ => Ok(()),
        });
        match result {
            Ok(()) => {
                self.file_len += buf.len() as u64;
                self.dirty = self.opts.mode != FsyncMode::Always;
                Ok(())
            }
            Err(e) => {
                if f.truncate(self.file_len).is_err() {
                    self.needs_new_segment = true;
                }
                Err(e)
            }
        }
    }

    fn open_segment(&mut self, first_seq: u64) -> std::io::Result<()> {
        if let Some(mut old) = self.file.take() {
            if self.dirty {
                old.sync_data()?;
            }
        }
        let path = self.opts.dir.join(segment_name(first_seq));
        let mut f = self.opts.fs.open_log(&path)?;
        f.truncate(0)?;
        f.write_all(MAGIC)?;
        f.sync_data()?;
        self.opts.fs.sync_dir(&self.opts.dir)?;
        self.file = Some(f);
        self.file_len = MAGIC.len() as u64;
        self.needs_new_segment = false;
        self.dirty = false;
        self.segments.retain(|(s, _)| *s != first_seq);
        self.segments.push((first_seq, path));
        Ok(())
    }

    /// Deletes every segment whose successor starts at or below `covered + 1`: all of
    /// its records are in a snapshot. The current segment is never deleted.
    fn compact(&mut self, covered: u64) {
        let mut keep_from = 0;
        for i in 0..self.segments.len().saturating_sub(1) {
            if self.segments[i + 1].0 <= covered + 1 {
                keep_from = i + 1;
            }
        }
        for (_, path) in self.segments.drain(..keep_from) {
            match std::fs::remove_file(&path) {
                Ok(()) => {
                    tracing::info!(segment = %path.display(), "deleted WAL segment covered by a snapshot")
                }
                Err(e) => {
                    tracing::warn!(segment = %path.display(), error = %e, "could not delete WAL segment")
                }
            }
        }
    }
}

/// The folder of the WAL inside the data folder.
pub fn wal_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("wal")
}
