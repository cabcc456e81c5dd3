//! The WAL writer.
//!
//! In mode `always` one thread gathers the records of every pool and makes one write
//! and one `fdatasync` per batch — group commit: a record waits for the running fsync
//! and then its own, shared with everything that queued meanwhile.
//!
//! In modes `everysec` and `never` nothing waits for a disk, only for `write(2)` into
//! the page cache (a few microseconds), so the caller writes its record itself, under
//! the log's lock ([`Wal::write_now`]). Handing it to a thread would cost two thread
//! wake-ups per record — more than the write — and on a busy server most of a
//! request's time. The thread then only syncs once a second (`everysec`), deletes
//! segments covered by snapshots, and syncs on stop.
//!
//! Either way a caller learns the record's sequence number once it is as durable as the
//! mode promises, or the error that kept it from being so. A failed write is cut back
//! off the file, so the log never holds a record whose caller was told it failed.

use super::fs::{FileSystem, LogFile};
use super::segment::{frame, segment_name, MAGIC};
use crate::telemetry::store::WalMetrics;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
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

/// A handle to the log; cheap to clone.
#[derive(Clone)]
pub struct Wal {
    tx: Sender<Cmd>,
    /// The files. Locked by whoever writes: the writer thread (mode `always`), or the
    /// caller itself (`everysec`, `never`). Held for one `write(2)` — never across a
    /// background fsync; in mode `always` only the writer thread takes it.
    log: Arc<Mutex<Log>>,
    /// Callers write their own records (modes `everysec` and `never`).
    inline: bool,
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

fn lock(log: &Mutex<Log>) -> MutexGuard<'_, Log> {
    // A panic while holding the lock leaves the log as consistent as an I/O error
    // would: every write is whole or cut back before the guard drops.
    log.lock().unwrap_or_else(PoisonError::into_inner)
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
        let inline = opts.mode != FsyncMode::Always;
        let mut log = Log {
            next_seq: start.next_seq,
            file: None,
            file_len: 0,
            segments: start.segments,
            needs_new_segment: start.tail.is_none(),
            dirty: false,
            opts,
            metrics: WalMetrics::default(),
            scratch: Vec::new(),
        };
        if let Some((_, path, len)) = start.tail {
            let mut f = log.opts.fs.open_log(&path)?;
            f.truncate(len)?;
            log.file = Some(f);
            log.file_len = len;
        }
        let log = Arc::new(Mutex::new(log));
        let writer = Writer { log: log.clone() };
        let handle = std::thread::Builder::new()
            .name("dnid-wal".into())
            .spawn(move || writer.run(rx))?;
        let wal = Wal { tx, log, inline };
        Ok(WalThread {
            handle: Some(handle),
            wal,
        })
    }

    /// In modes `everysec` and `never`, writes `record` now and answers its sequence
    /// number (or the error); in mode `always`, `None`: use [`Wal::append`] and wait.
    pub fn write_now(&self, record: &[u8]) -> Option<Result<u64, WalError>> {
        self.inline.then(|| lock(&self.log).write_one(record))
    }

    /// Queues an encoded record; `done` runs when it is durable or has failed (at once,
    /// on this thread, in modes `everysec` and `never`).
    pub fn append(&self, record: Vec<u8>, done: Done) {
        if let Some(result) = self.write_now(&record) {
            return done(result);
        }
        if let Err(mpsc::SendError(Cmd::Append(_, done))) = self.tx.send(Cmd::Append(record, done))
        {
            done(Err(WalError::Closed));
        }
    }

    /// Waits until everything queued before is written; returns the highest sequence
    /// number handed out.
    pub async fn barrier(&self) -> Result<u64, WalError> {
        if self.inline {
            // Records are written before their callers learn their numbers.
            return Ok(lock(&self.log).next_seq.saturating_sub(1));
        }
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

/// The files and the position in them. See [`Wal::log`] for who locks it.
struct Log {
    opts: WalOptions,
    next_seq: u64,
    file: Option<Box<dyn LogFile>>,
    /// Length of the current segment up to the last good write.
    file_len: u64,
    segments: Vec<(u64, PathBuf)>,
    /// After a failure that may have left bytes we could not cut, start afresh.
    needs_new_segment: bool,
    /// Written but not synced (modes `everysec` and `never`).
    dirty: bool,
    metrics: WalMetrics,
    /// Reused frame buffer of [`Log::write_one`].
    scratch: Vec<u8>,
}

impl Log {
    /// Frames and writes one record (modes `everysec` and `never`).
    fn write_one(&mut self, payload: &[u8]) -> Result<u64, WalError> {
        let seq = self.next_seq;
        let mut buf = std::mem::take(&mut self.scratch);
        buf.clear();
        frame(&mut buf, seq, payload);
        let result = self.write_batch(&buf, seq);
        let written = buf.len();
        self.scratch = buf;
        match result {
            Ok(()) => {
                self.next_seq += 1;
                self.metrics.batch_written(1, written);
                Ok(seq)
            }
            Err(e) => {
                tracing::error!(error = %e, "write-ahead log write failed; its request is refused");
                self.metrics.batch_failed();
                Err(WalError::Io(e.to_string()))
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

    /// Takes the segments whose successor starts at or below `covered + 1`: all of
    /// their records are in a snapshot. The current segment is never taken.
    fn take_covered(&mut self, covered: u64) -> Vec<(u64, PathBuf)> {
        let mut keep_from = 0;
        for i in 0..self.segments.len().saturating_sub(1) {
            if self.segments[i + 1].0 <= covered + 1 {
                keep_from = i + 1;
            }
        }
        self.segments.drain(..keep_from).collect()
    }

    /// If anything was written since the last sync, a handle to sync it with outside
    /// the lock (the flag is cleared now: a write after this is synced next time).
    fn take_dirty(&mut self) -> Option<Box<dyn LogFile>> {
        if !self.dirty {
            return None;
        }
        match self.file.as_ref().map(|f| f.sync_handle()) {
            Some(Ok(h)) => {
                self.dirty = false;
                Some(h)
            }
            Some(Err(e)) => {
                tracing::error!(error = %e, "cannot open the write-ahead log to sync it");
                None
            }
            None => None,
        }
    }
}

/// The writer thread: batches in mode `always`; syncs and compacts in every mode.
struct Writer {
    log: Arc<Mutex<Log>>,
}

impl Writer {
    fn run(&self, rx: Receiver<Cmd>) {
        let mode = lock(&self.log).opts.mode;
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
            let mut covered = None;
            let mut log = lock(&self.log);
            let batch_first = log.next_seq;
            let mut next = first;
            let mut taken = 0;
            while let Some(cmd) = next.take() {
                match cmd {
                    Cmd::Append(payload, done) => {
                        frame(&mut buf, log.next_seq, &payload);
                        dones.push((log.next_seq, done));
                        log.next_seq += 1;
                    }
                    Cmd::Barrier(tx) => barriers.push(tx),
                    Cmd::Compact(seq) => covered = Some(seq),
                    Cmd::Stop => stop = true,
                }
                taken += 1;
                if taken < MAX_BATCH && !stop {
                    next = rx.try_recv().ok();
                }
            }
            if !buf.is_empty() {
                match log.write_batch(&buf, batch_first) {
                    Ok(()) => {
                        log.metrics.batch_written(dones.len(), buf.len());
                        for (seq, done) in dones.drain(..) {
                            done(Ok(seq));
                        }
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "write-ahead log batch failed; its requests are refused");
                        log.metrics.batch_failed();
                        log.next_seq = batch_first;
                        let err = WalError::Io(e.to_string());
                        for (_, done) in dones.drain(..) {
                            done(Err(err.clone()));
                        }
                    }
                }
                buf.clear();
            }
            for tx in barriers.drain(..) {
                let _ = tx.send(log.next_seq.saturating_sub(1));
            }
            let obsolete = covered.map(|c| log.take_covered(c)).unwrap_or_default();
            let due = mode == FsyncMode::Everysec && last_sync.elapsed() >= Duration::from_secs(1);
            let to_sync = if due || stop { log.take_dirty() } else { None };
            let metrics = to_sync.as_ref().map(|_| log.metrics.clone());
            // Deleting files and syncing happen without the lock: callers keep writing.
            drop(log);
            if due || stop {
                last_sync = Instant::now();
            }
            if let (Some(mut f), Some(metrics)) = (to_sync, metrics) {
                let started = Instant::now();
                let synced = f.sync_data();
                metrics.fsync(started.elapsed());
                if let Err(e) = synced {
                    tracing::error!(error = %e, "background fsync of the write-ahead log failed");
                    lock(&self.log).dirty = true;
                }
            }
            delete_segments(obsolete);
            if stop {
                return;
            }
        }
    }
}

fn delete_segments(segments: Vec<(u64, PathBuf)>) {
    for (_, path) in segments {
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

/// The folder of the WAL inside the data folder.
pub fn wal_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("wal")
}
