//! Snapshots: a consistent copy of every pool, in one checksummed file.
//!
//! Layout: a 44-byte header — magic `DNIDSNAP`, format version u32, creation time u64,
//! the WAL sequence number it covers u64, body length u64, CRC32C of the body u32,
//! CRC32C of the header's first 40 bytes u32 — then the bincode body. Written to a temp
//! file, fsynced, renamed into place, and the folder fsynced: a crash leaves either the
//! old set of snapshots or the new one, never half a file under a snapshot's name.

use super::codec::{self, CodecError, MAX_SNAPSHOT_BYTES};
use super::fs::sync_dir;
use crate::calls::CallsState;
use crate::engine::Pool;
use crate::ids::PoolId;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

pub const MAGIC: &[u8; 8] = b"DNIDSNAP";
pub const FORMAT_VERSION: u32 = 1;
pub const HEADER_LEN: usize = 44;
/// Snapshots kept by default.
pub const DEFAULT_RETAIN: usize = 24;

/// One pool and the WAL position it includes: every record of this pool with a
/// sequence number at or below `covered_seq` is in `pool`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PoolImage {
    pub id: PoolId,
    pub covered_seq: u64,
    pub pool: Pool,
}

/// The call log and the WAL position it includes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CallsImage {
    pub covered_seq: u64,
    pub state: CallsState,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SnapshotBody {
    pub created_at: u64,
    /// Every pool creation or deletion at or below this is reflected in `pools`.
    pub router_seq: u64,
    pub pools: Vec<PoolImage>,
    pub calls: CallsImage,
}

impl SnapshotBody {
    /// The lowest WAL position the snapshot covers for everything: recovery replays
    /// from the record after it.
    pub fn covered_seq(&self) -> u64 {
        self.pools
            .iter()
            .map(|p| p.covered_seq)
            .chain([self.router_seq, self.calls.covered_seq])
            .min()
            .unwrap_or(self.router_seq)
    }
}

/// A snapshot file as listed, from its header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotMeta {
    pub path: PathBuf,
    pub created_at: u64,
    pub covered_seq: u64,
    pub body_len: u64,
    pub size: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {reason}")]
    Invalid { path: PathBuf, reason: String },
    #[error("{path}: body does not decode: {source}")]
    Decode { path: PathBuf, source: CodecError },
}

impl SnapshotError {
    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            SnapshotError::Io { path, .. }
            | SnapshotError::Invalid { path, .. }
            | SnapshotError::Decode { path, .. } => path,
        }
    }
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> SnapshotError + '_ {
    move |source| SnapshotError::Io {
        path: path.to_path_buf(),
        source,
    }
}

pub fn file_name(created_at: u64, covered_seq: u64) -> String {
    format!("snapshot-{created_at:012}-{covered_seq:020}.dnid")
}

/// Writes `body` into `dir` atomically; returns its listing.
pub fn write(dir: &Path, body: &SnapshotBody) -> Result<SnapshotMeta, SnapshotError> {
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    let covered = body.covered_seq();
    let bytes = codec::encode_snapshot(body).map_err(|source| SnapshotError::Decode {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut header = Vec::with_capacity(HEADER_LEN);
    header.extend_from_slice(MAGIC);
    header.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    header.extend_from_slice(&body.created_at.to_le_bytes());
    header.extend_from_slice(&covered.to_le_bytes());
    header.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
    header.extend_from_slice(&crc32c::crc32c(&bytes).to_le_bytes());
    let head_crc = crc32c::crc32c(&header);
    header.extend_from_slice(&head_crc.to_le_bytes());
    let name = file_name(body.created_at, covered);
    let path = dir.join(&name);
    let tmp = dir.join(format!(".tmp-{name}"));
    let mut f = std::fs::File::create(&tmp).map_err(io_err(&tmp))?;
    f.write_all(&header).map_err(io_err(&tmp))?;
    f.write_all(&bytes).map_err(io_err(&tmp))?;
    f.sync_all().map_err(io_err(&tmp))?;
    drop(f);
    std::fs::rename(&tmp, &path).map_err(io_err(&path))?;
    sync_dir(dir).map_err(io_err(dir))?;
    Ok(SnapshotMeta {
        path,
        created_at: body.created_at,
        covered_seq: covered,
        body_len: bytes.len() as u64,
        size: (HEADER_LEN + bytes.len()) as u64,
    })
}

fn parse_header(path: &Path, head: &[u8]) -> Result<SnapshotMeta, SnapshotError> {
    let invalid = |reason: &str| SnapshotError::Invalid {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    };
    if head.len() < HEADER_LEN {
        return Err(invalid("shorter than a snapshot header"));
    }
    if &head[..8] != MAGIC {
        return Err(invalid("not a dnid snapshot (bad magic)"));
    }
    let u32_at = |i: usize| u32::from_le_bytes([head[i], head[i + 1], head[i + 2], head[i + 3]]);
    let u64_at = |i: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&head[i..i + 8]);
        u64::from_le_bytes(b)
    };
    if crc32c::crc32c(&head[..40]) != u32_at(40) {
        return Err(invalid("header checksum mismatch"));
    }
    let version = u32_at(8);
    if version != FORMAT_VERSION {
        return Err(invalid(&format!(
            "format version {version}, this dnid reads {FORMAT_VERSION}"
        )));
    }
    let body_len = u64_at(28);
    if body_len > MAX_SNAPSHOT_BYTES as u64 {
        return Err(invalid("body length over the limit"));
    }
    Ok(SnapshotMeta {
        path: path.to_path_buf(),
        created_at: u64_at(12),
        covered_seq: u64_at(20),
        body_len,
        size: HEADER_LEN as u64 + body_len,
    })
}

/// Reads and fully checks a snapshot file.
pub fn read(path: &Path) -> Result<(SnapshotMeta, SnapshotBody), SnapshotError> {
    let bytes = std::fs::read(path).map_err(io_err(path))?;
    let meta = parse_header(path, &bytes)?;
    let body = &bytes[HEADER_LEN..];
    if body.len() as u64 != meta.body_len {
        return Err(SnapshotError::Invalid {
            path: path.to_path_buf(),
            reason: format!(
                "body is {} bytes, header says {}",
                body.len(),
                meta.body_len
            ),
        });
    }
    let want = u32::from_le_bytes([bytes[36], bytes[37], bytes[38], bytes[39]]);
    if crc32c::crc32c(body) != want {
        return Err(SnapshotError::Invalid {
            path: path.to_path_buf(),
            reason: "body checksum mismatch".into(),
        });
    }
    let body: SnapshotBody =
        codec::decode_snapshot(body).map_err(|source| SnapshotError::Decode {
            path: path.to_path_buf(),
            source,
        })?;
    agree(path, &meta, &body)?;
    Ok((meta, body))
}

/// The header and the body describe the same snapshot, and no pool appears twice: a
/// file that passes its checksums but not this was not written by `write`.
fn agree(path: &Path, meta: &SnapshotMeta, body: &SnapshotBody) -> Result<(), SnapshotError> {
    let invalid = |reason: String| SnapshotError::Invalid {
        path: path.to_path_buf(),
        reason,
    };
    if meta.created_at != body.created_at {
        return Err(invalid(format!(
            "header says created at {}, body says {}",
            meta.created_at, body.created_at
        )));
    }
    if meta.covered_seq != body.covered_seq() {
        return Err(invalid(format!(
            "header says it covers WAL seq {}, its pools cover {}",
            meta.covered_seq,
            body.covered_seq()
        )));
    }
    let mut seen = std::collections::HashSet::new();
    if let Some(dup) = body.pools.iter().find(|p| !seen.insert(p.id)) {
        return Err(invalid(format!("pool {} appears twice", dup.id)));
    }
    Ok(())
}

/// The snapshots in `dir`, newest first, from their headers (unreadable files are
/// listed by their error).
pub fn list(dir: &Path) -> std::io::Result<Vec<Result<SnapshotMeta, SnapshotError>>> {
    let mut out = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let path = entry?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if !(name.starts_with("snapshot-") && name.ends_with(".dnid")) {
            continue;
        }
        let mut head = [0u8; HEADER_LEN];
        let meta = std::fs::File::open(&path)
            .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head))
            .map_err(io_err(&path))
            .and_then(|()| parse_header(&path, &head));
        out.push(meta);
    }
    // Names sort by creation time then covered position.
    out.sort_by(|a, b| entry_path(b).cmp(entry_path(a)));
    Ok(out)
}

fn entry_path(m: &Result<SnapshotMeta, SnapshotError>) -> &Path {
    match m {
        Ok(m) => &m.path,
        Err(e) => e.path(),
    }
}

/// Deletes all but the newest `keep` snapshots, and leftover temp files.
pub fn retain(dir: &Path, keep: usize) -> std::io::Result<()> {
    for (i, m) in list(dir)?.into_iter().enumerate() {
        if i >= keep {
            std::fs::remove_file(entry_path(&m))?;
        }
    }
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with(".tmp-snapshot-"))
        {
            let _ = std::fs::remove_file(path);
        }
    }
    Ok(())
}
