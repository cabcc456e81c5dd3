//! `dnid restore --from FILE`: replaces the state of a stopped server's data folder
//! with one snapshot. The current WAL and snapshots are moved, not deleted, into
//! `<data-dir>/before-restore-<unix time>/`.
//!
//! Order matters for a crash half-way: the old snapshots go first, then the chosen one
//! is installed, then the WAL goes. Stopped after the install, recovery replays the old
//! WAL over the chosen snapshot (or refuses, if segments are missing) instead of
//! starting silently from an older state.

use super::confirm::confirm;
use super::files::{copy_atomic, files_in, fresh_dir, move_into, sync};
use super::snapshot::check;
use super::{file_name, locate_snapshot, lock, CliError, Folders};
use crate::clock::rfc3339;
use crate::store::snapshot::{self, SnapshotMeta};
use crate::store::wal::wal_dir;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct RestoreArgs {
    /// The snapshot to restore: a path, or a file name in the snapshot folder.
    #[arg(long, value_name = "FILE")]
    pub from: PathBuf,
    #[command(flatten)]
    pub folders: Folders,
    /// Go ahead without asking (needed when standard input is not a terminal).
    #[arg(long, short = 'y')]
    pub yes: bool,
}

/// Files recovery would look at in the snapshot folder (and temp files of writers).
fn is_snapshot_file(p: &Path) -> bool {
    let name = file_name(p);
    (name.starts_with("snapshot-") && name.ends_with(".dnid"))
        || name.starts_with(".tmp-snapshot-")
        || name.starts_with(".tmp-restore-")
}

/// The name the restored snapshot gets: its own if recovery would list it, else the
/// name the server would have given it.
fn target_name(src: &Path, meta: &SnapshotMeta) -> String {
    let name = file_name(src);
    if name.starts_with("snapshot-") && name.ends_with(".dnid") {
        name
    } else {
        snapshot::file_name(meta.created_at, meta.covered_seq)
    }
}

pub fn run(a: &RestoreArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let dirs = a.folders.resolve()?;
    let src = locate_snapshot(&a.from, &dirs.snapshot_dir);
    let (meta, body) = check(&src).map_err(CliError::InvalidSnapshot)?;
    let _lock = lock(&dirs.data_dir)?;
    let wal = wal_dir(&dirs.data_dir);
    let wal_files = files_in(&wal)?;
    let snap_files: Vec<PathBuf> = files_in(&dirs.snapshot_dir)?
        .into_iter()
        .filter(|p| is_snapshot_file(p))
        .collect();

    writeln!(out, "Restore snapshot {}", src.display())?;
    writeln!(
        out,
        "  created {}, covers WAL seq {}, {} pools",
        rfc3339(meta.created_at),
        meta.covered_seq,
        body.pools.len()
    )?;
    writeln!(
        out,
        "into data folder {} (snapshot folder {}).",
        dirs.data_dir.display(),
        dirs.snapshot_dir.display()
    )?;
    writeln!(
        out,
        "The current state is moved aside (not deleted) into {}/before-restore-<unix time>/:",
        dirs.data_dir.display()
    )?;
    writeln!(
        out,
        "  WAL: {} files from {}",
        wal_files.len(),
        wal.display()
    )?;
    writeln!(
        out,
        "  snapshots: {} files from {}",
        snap_files.len(),
        dirs.snapshot_dir.display()
    )?;
    writeln!(
        out,
        "Changes made after this snapshot was taken will be gone from the server's state."
    )?;
    confirm("Replace the server's state with this snapshot?", a.yes)?;

    let backup = fresh_dir(&dirs.data_dir, "before-restore")?;
    let mut source = src.clone();
    let src_canon = std::fs::canonicalize(&src).ok();
    if !snap_files.is_empty() {
        let to = make_dir(&backup.join("snapshots"))?;
        for f in &snap_files {
            let was = std::fs::canonicalize(f).ok();
            let moved = move_into(f, &to)?;
            if was.is_some() && was == src_canon {
                source = moved;
            }
        }
        sync(&to)?;
    }
    make_dir(&dirs.snapshot_dir)?;
    let mut dest = dirs.snapshot_dir.join(target_name(&src, &meta));
    if dest.exists() {
        dest = dirs
            .snapshot_dir
            .join(snapshot::file_name(meta.created_at, meta.covered_seq));
    }
    if dest.exists() {
        return Err(CliError::io("install the snapshot as", &dest)(
            std::io::ErrorKind::AlreadyExists.into(),
        ));
    }
    copy_atomic(&source, &dest)?;
    if !wal_files.is_empty() {
        let to = make_dir(&backup.join("wal"))?;
        for f in &wal_files {
            move_into(f, &to)?;
        }
        sync(&to)?;
        sync(&wal)?;
    }
    sync(&backup)?;
    check(&dest).map_err(CliError::InvalidSnapshot)?;

    writeln!(
        out,
        "restored: {} is the only snapshot and the WAL is empty; `dnid serve` starts from it.",
        dest.display()
    )?;
    writeln!(
        out,
        "The previous state is in {}. To undo: stop dnid, delete {}, and move the files back.",
        backup.display(),
        dest.display()
    )?;
    Ok(())
}

fn make_dir(dir: &Path) -> Result<PathBuf, CliError> {
    std::fs::create_dir_all(dir).map_err(CliError::io("create the folder", dir))?;
    Ok(dir.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_files_recovery_would_read_are_moved() {
        assert!(is_snapshot_file(Path::new("s/snapshot-1-2.dnid")));
        assert!(is_snapshot_file(Path::new("s/.tmp-snapshot-1-2.dnid")));
        assert!(!is_snapshot_file(Path::new("s/LOCK")));
        assert!(!is_snapshot_file(Path::new("s/admin_token")));
        assert!(!is_snapshot_file(Path::new("s/notes.txt")));
    }

    #[test]
    fn a_file_renamed_by_the_operator_gets_a_name_recovery_lists() {
        let meta = SnapshotMeta {
            path: "x".into(),
            created_at: 5,
            covered_seq: 7,
            body_len: 0,
            size: 0,
        };
        assert_eq!(
            target_name(Path::new("/b/snapshot-keep.dnid"), &meta),
            "snapshot-keep.dnid"
        );
        assert_eq!(
            target_name(Path::new("/b/backup.bin"), &meta),
            snapshot::file_name(5, 7)
        );
    }
}
