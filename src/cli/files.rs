//! Moving files aside without losing them: fresh folders, moves that fall back to
//! copy-and-delete across file systems, atomic copies, folder syncs.

use super::CliError;
use crate::store::fs::sync_dir;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

/// Creates `<parent>/<prefix>-<unix time>` (`-2`, `-3`, … if that is taken).
pub fn fresh_dir(parent: &Path, prefix: &str) -> Result<PathBuf, CliError> {
    let base = format!("{prefix}-{}", super::unix_now());
    for n in 1u32.. {
        let name = if n == 1 {
            base.clone()
        } else {
            format!("{base}-{n}")
        };
        let dir = parent.join(name);
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(CliError::io("create the folder", &dir)(e)),
        }
    }
    unreachable!("u32 range exhausted")
}

/// Moves `file` into `dir` under the same name; never overwrites. Returns the new path.
pub fn move_into(file: &Path, dir: &Path) -> Result<PathBuf, CliError> {
    let name = file
        .file_name()
        .ok_or_else(|| CliError::io("move", file)(ErrorKind::InvalidInput.into()))?;
    let dest = dir.join(name);
    if dest.exists() {
        return Err(CliError::io("move a file to", &dest)(
            ErrorKind::AlreadyExists.into(),
        ));
    }
    match std::fs::rename(file, &dest) {
        Ok(()) => Ok(dest),
        Err(e) if e.kind() == ErrorKind::CrossesDevices => {
            copy_synced(file, &dest)?;
            std::fs::remove_file(file).map_err(CliError::io("remove", file))?;
            Ok(dest)
        }
        Err(e) => Err(CliError::io("move", file)(e)),
    }
}

/// Copies `file` into `dir` under the same name (synced); never overwrites.
pub fn copy_into(file: &Path, dir: &Path) -> Result<PathBuf, CliError> {
    let dest = dir.join(super::file_name(file));
    if dest.exists() {
        return Err(CliError::io("copy a file to", &dest)(
            ErrorKind::AlreadyExists.into(),
        ));
    }
    copy_synced(file, &dest)?;
    Ok(dest)
}

/// Copies `src` to `dest` through a temp file beside it: `dest` appears whole or not
/// at all.
pub fn copy_atomic(src: &Path, dest: &Path) -> Result<(), CliError> {
    let dir = dest.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(".tmp-restore-{}", super::file_name(dest)));
    copy_synced(src, &tmp)?;
    std::fs::rename(&tmp, dest).map_err(CliError::io("rename into place", dest))?;
    sync(dir)
}

fn copy_synced(src: &Path, dest: &Path) -> Result<(), CliError> {
    std::fs::copy(src, dest).map_err(CliError::io("copy", src))?;
    std::fs::File::open(dest)
        .and_then(|f| f.sync_all())
        .map_err(CliError::io("sync", dest))
}

/// `fsync` of a folder, so renames in it survive a crash.
pub fn sync(dir: &Path) -> Result<(), CliError> {
    sync_dir(dir).map_err(CliError::io("sync the folder", dir))
}

/// The files (not folders) directly in `dir`, sorted; none if it does not exist.
pub fn files_in(dir: &Path) -> Result<Vec<PathBuf>, CliError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(CliError::io("read the folder", dir)(e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(CliError::io("read the folder", dir))?;
        let is_file = entry
            .file_type()
            .map_err(CliError::io("read the folder", dir))?
            .is_file();
        if is_file {
            out.push(entry.path());
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_never_overwrite_and_fresh_dirs_never_collide() {
        let root = tempfile::tempdir().unwrap();
        let a = fresh_dir(root.path(), "x").unwrap();
        let b = fresh_dir(root.path(), "x").unwrap();
        assert_ne!(a, b);
        let f = root.path().join("f");
        std::fs::write(&f, b"1").unwrap();
        let moved = move_into(&f, &a).unwrap();
        assert_eq!(std::fs::read(&moved).unwrap(), b"1");
        std::fs::write(&f, b"2").unwrap();
        assert!(move_into(&f, &a).is_err());
        assert_eq!(std::fs::read(&moved).unwrap(), b"1");
        assert_eq!(files_in(&a).unwrap(), vec![moved]);
    }
}
