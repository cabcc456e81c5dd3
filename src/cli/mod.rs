//! Operator commands: `dnid snapshot …`, `dnid restore`, `dnid wal …`.
//!
//! Each command writes its report to the writer it is given and returns a
//! [`CliError`] when it fails; [`CliError::exit_code`] is the process exit code:
//! 0 success, 1 failure or invalid data, 2 usage (clap), 3 the data folder is locked
//! by a running server.

pub mod confirm;
pub mod create;
pub mod files;
pub mod restore;
pub mod snapshot;
pub mod wal;
pub mod wal_repair;
pub mod wal_scan;

use crate::config::{ConfigError, ServeArgs};
use crate::server::StartError;
use crate::store::snapshot::SnapshotError;
use std::path::{Path, PathBuf};

/// Exit code: done.
pub const EXIT_OK: u8 = 0;
/// Exit code: the command failed or found invalid data.
pub const EXIT_FAILURE: u8 = 1;
/// Exit code: the command line is wrong (clap's own code).
pub const EXIT_USAGE: u8 = 2;
/// Exit code: a running server holds the data folder.
pub const EXIT_LOCKED: u8 = 3;

/// The folders a command works on, found the way `dnid serve` finds them.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct Folders {
    /// TOML configuration file of `dnid serve`; its data_dir and snapshot_dir are used
    /// unless the flags below say otherwise.
    #[arg(long, env = "DNID_CONFIG")]
    pub config: Option<PathBuf>,
    /// Folder for the WAL, admin token and lock file [default: ./data].
    #[arg(long, env = "DNID_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Folder for snapshots [default: ./snapshots].
    #[arg(long, env = "DNID_SNAPSHOT_DIR")]
    pub snapshot_dir: Option<PathBuf>,
}

/// Resolved folders.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dirs {
    pub data_dir: PathBuf,
    pub snapshot_dir: PathBuf,
}

impl Folders {
    /// Defaults, then the configuration file, then flags and environment.
    pub fn resolve(&self) -> Result<Dirs, CliError> {
        let settings = ServeArgs {
            config: self.config.clone(),
            data_dir: self.data_dir.clone(),
            snapshot_dir: self.snapshot_dir.clone(),
            ..ServeArgs::default()
        }
        .resolve()?;
        Ok(Dirs {
            data_dir: settings.data_dir,
            snapshot_dir: settings.snapshot_dir,
        })
    }
}

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Taking the data folder's lock failed; exit code 3 when a server holds it.
    #[error(transparent)]
    Lock(StartError),
    #[error("not a valid snapshot: {0}")]
    InvalidSnapshot(SnapshotError),
    #[error("cannot {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("there is no data folder at {0}")]
    NoDataDir(PathBuf),
    #[error("nothing was changed: standard input is not a terminal, so there is no one to ask; pass --yes to go ahead without asking")]
    NoTerminal,
    #[error("nothing was changed (not confirmed)")]
    NotConfirmed,
    #[error("{0}")]
    WalDamaged(String),
    #[error("cannot repair: {0}")]
    Unrepairable(String),
    #[error("invalid --url {url:?}: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("no admin token: DNID_ADMIN_TOKEN is not set and {path} cannot be read: {source}")]
    NoToken {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot reach dnid at {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("the server answered {status}: {message}{}", code_suffix(.code))]
    Server {
        status: u16,
        code: String,
        message: String,
    },
    #[error("cannot write the output: {0}")]
    Output(std::io::Error),
}

fn code_suffix(code: &str) -> String {
    if code.is_empty() {
        String::new()
    } else {
        format!(" ({code})")
    }
}

impl CliError {
    /// The process exit code for this failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Lock(StartError::Locked(..)) => EXIT_LOCKED,
            _ => EXIT_FAILURE,
        }
    }

    pub(crate) fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.to_path_buf();
        move |source| CliError::Io {
            action,
            path,
            source,
        }
    }
}

impl From<std::io::Error> for CliError {
    /// Only for writes to the command's output.
    fn from(e: std::io::Error) -> Self {
        CliError::Output(e)
    }
}

/// Takes the data folder's lock, as a server would: fails with exit code 3 while a
/// server runs on it. Hold the returned file for as long as the folder is changed.
pub fn lock(data_dir: &Path) -> Result<std::fs::File, CliError> {
    crate::server::lock_data_dir(data_dir).map_err(CliError::Lock)
}

/// A snapshot named on the command line: the path as given, or, for a bare file name
/// that does not exist here, that name in the snapshot folder (as `snapshot list`
/// shows them).
pub fn locate_snapshot(file: &Path, snapshot_dir: &Path) -> PathBuf {
    let bare = file.components().count() == 1;
    if !file.exists() && bare {
        let there = snapshot_dir.join(file);
        if there.exists() {
            return there;
        }
    }
    file.to_path_buf()
}

/// The last component of a path, for tables.
pub(crate) fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| p.display().to_string())
}

/// Writes rows as left-aligned columns, two spaces apart.
pub(crate) fn table(
    out: &mut dyn std::io::Write,
    indent: &str,
    rows: &[Vec<String>],
) -> std::io::Result<()> {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in rows {
        let mut line = String::from(indent);
        for (c, cell) in row.iter().enumerate() {
            if c + 1 == row.len() {
                line.push_str(cell);
            } else {
                let pad = widths[c].saturating_sub(cell.chars().count()) + 2;
                line.push_str(cell);
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// Text from the data (a pool name) made safe for a terminal.
pub(crate) fn printable(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// Seconds since the Unix epoch, for the names of folders that keep moved files.
pub(crate) fn unix_now() -> u64 {
    use crate::clock::Clock;
    crate::clock::SystemClock.now()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_name_is_found_in_the_snapshot_folder() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("snapshot-1.dnid"), b"x").unwrap();
        let found = locate_snapshot(Path::new("snapshot-1.dnid"), dir.path());
        assert_eq!(found, dir.path().join("snapshot-1.dnid"));
        let missing = locate_snapshot(Path::new("nope.dnid"), dir.path());
        assert_eq!(missing, PathBuf::from("nope.dnid"));
    }

    #[test]
    fn only_a_running_server_is_exit_code_3() {
        let locked = CliError::Lock(StartError::Locked("d".into(), "d/LOCK".into()));
        assert_eq!(locked.exit_code(), EXIT_LOCKED);
        assert_eq!(CliError::NotConfirmed.exit_code(), EXIT_FAILURE);
    }

    #[test]
    fn tables_line_up() {
        let mut out = Vec::new();
        let rows = vec![
            vec!["A".to_string(), "BB".to_string(), "C".to_string()],
            vec!["AAA".to_string(), "B".to_string(), "C".to_string()],
        ];
        table(&mut out, "", &rows).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "A    BB  C\nAAA  B   C\n");
    }
}
