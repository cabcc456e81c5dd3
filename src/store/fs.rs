//! The file-system seam of the WAL writer: what it needs from a file, behind a trait,
//! so tests can make writes or syncs fail on demand and check that nothing unsynced is
//! acknowledged.

use std::fs::{File, OpenOptions};
use std::io::{self, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// An open log segment.
pub trait LogFile: Send {
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()>;
    /// `fdatasync`: the data (and the size) are on stable storage when it returns.
    fn sync_data(&mut self) -> io::Result<()>;
    /// Cuts the file to `len` bytes and continues writing there.
    fn truncate(&mut self, len: u64) -> io::Result<()>;
    /// Another handle on the same file, to sync it while this one keeps writing.
    fn sync_handle(&self) -> io::Result<Box<dyn LogFile>>;
}

pub trait FileSystem: Send + Sync + 'static {
    /// Opens `path` for appending, creating it if missing.
    fn open_log(&self, path: &Path) -> io::Result<Box<dyn LogFile>>;
    /// `fsync` of a folder, so that a created or renamed file's entry is durable.
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;
}

/// The real file system.
#[derive(Clone, Copy, Debug, Default)]
pub struct RealFs;

struct RealFile(File);

impl LogFile for RealFile {
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.0.write_all(buf)
    }
    fn sync_data(&mut self) -> io::Result<()> {
        self.0.sync_data()
    }
    fn truncate(&mut self, len: u64) -> io::Result<()> {
        self.0.set_len(len)?;
        self.0.seek(SeekFrom::Start(len)).map(|_| ())
    }
    fn sync_handle(&self) -> io::Result<Box<dyn LogFile>> {
        Ok(Box::new(RealFile(self.0.try_clone()?)))
    }
}

impl FileSystem for RealFs {
    fn open_log(&self, path: &Path) -> io::Result<Box<dyn LogFile>> {
        let mut f = OpenOptions::new()
            .create(true)
            .read(true)
            .write(true)
            .truncate(false)
            .open(path)?;
        f.seek(SeekFrom::End(0))?;
        Ok(Box::new(RealFile(f)))
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        sync_dir(dir)
    }
}

/// `fsync` of a folder (a no-op where folders cannot be opened).
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    match File::open(dir) {
        Ok(d) => d.sync_all(),
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => Ok(()),
        Err(e) => Err(e),
    }
}

/// A file system whose writes and syncs fail while a switch is on: for tests of the
/// failure paths (a full or failing disk).
#[derive(Clone, Default)]
pub struct FaultyFs {
    pub fail_writes: Arc<AtomicBool>,
    pub fail_syncs: Arc<AtomicBool>,
}

struct FaultyFile {
    inner: Box<dyn LogFile>,
    fs: FaultyFs,
}

fn injected(what: &str) -> io::Error {
    io::Error::other(format!("injected {what} failure"))
}

impl LogFile for FaultyFile {
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        if self.fs.fail_writes.load(Ordering::SeqCst) {
            // A failing disk may take part of the write: leave a torn piece behind.
            let _ = self.inner.write_all(&buf[..buf.len() / 2]);
            return Err(injected("write"));
        }
        self.inner.write_all(buf)
    }
    fn sync_data(&mut self) -> io::Result<()> {
        if self.fs.fail_syncs.load(Ordering::SeqCst) {
            return Err(injected("fsync"));
        }
        self.inner.sync_data()
    }
    fn truncate(&mut self, len: u64) -> io::Result<()> {
        self.inner.truncate(len)
    }
    fn sync_handle(&self) -> io::Result<Box<dyn LogFile>> {
        Ok(Box::new(FaultyFile {
            inner: self.inner.sync_handle()?,
            fs: self.fs.clone(),
        }))
    }
}

impl FileSystem for FaultyFs {
    fn open_log(&self, path: &Path) -> io::Result<Box<dyn LogFile>> {
        if self.fail_writes.load(Ordering::SeqCst) {
            return Err(injected("open"));
        }
        Ok(Box::new(FaultyFile {
            inner: RealFs.open_log(path)?,
            fs: self.clone(),
        }))
    }
    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        if self.fail_syncs.load(Ordering::SeqCst) {
            return Err(injected("folder fsync"));
        }
        sync_dir(dir)
    }
}
