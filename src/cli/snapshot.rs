//! `dnid snapshot list | inspect FILE | verify FILE | create`.

use super::create::CreateArgs;
use super::{file_name, locate_snapshot, printable, table, CliError, Folders};
use crate::clock::rfc3339;
use crate::store::snapshot::{self, SnapshotBody, SnapshotError, SnapshotMeta, FORMAT_VERSION};
use serde_json::json;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Subcommand)]
pub enum SnapshotCommand {
    /// List the snapshot files, newest first.
    ///
    /// From their headers: file, creation time, WAL position covered, size. Unreadable
    /// files are listed with their error. Only `verify` reads a file completely.
    List(ListArgs),
    /// Show what a snapshot holds.
    ///
    /// Its header, and every pool with its numbers, leases and the WAL position it
    /// covers. Checks the whole file first (exit code 1 if it is not valid).
    Inspect(FileArgs),
    /// Check a snapshot completely.
    ///
    /// Header, checksums, body, and that the header agrees with the body. Exit code 0
    /// and "OK" if valid, 1 and the reason if not.
    Verify(FileArgs),
    /// Ask a running server to take a snapshot now.
    ///
    /// POSTs /api/v1/snapshots with the admin token from DNID_ADMIN_TOKEN or
    /// `<data-dir>/admin_token`, and prints the answer. Exit code 1 with the server's
    /// message when it refuses, or when it cannot be reached.
    Create(CreateArgs),
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub folders: Folders,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct FileArgs {
    /// The snapshot file: a path, or a file name in the snapshot folder.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    #[command(flatten)]
    pub folders: Folders,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn run(cmd: SnapshotCommand, out: &mut dyn Write) -> Result<(), CliError> {
    match cmd {
        SnapshotCommand::List(a) => list(&a, out),
        SnapshotCommand::Inspect(a) => inspect(&a, out),
        SnapshotCommand::Verify(a) => verify(&a, out),
        SnapshotCommand::Create(a) => super::create::run(&a, out),
    }
}

/// Reads a snapshot completely, header and body agreeing; what `verify` and
/// `restore` accept (and what recovery starts from).
pub fn check(path: &Path) -> Result<(SnapshotMeta, SnapshotBody), SnapshotError> {
    snapshot::read(path)
}

fn list(a: &ListArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let dir = a.folders.resolve()?.snapshot_dir;
    let listing = snapshot::list(&dir).map_err(CliError::io("read the snapshot folder", &dir))?;
    if a.json {
        let items: Vec<_> = listing
            .iter()
            .map(|m| match m {
                Ok(m) => json!({
                    "file": file_name(&m.path),
                    "created_at": rfc3339(m.created_at),
                    "covered_seq": m.covered_seq,
                    "size_bytes": m.size,
                }),
                Err(e) => json!({"file": file_name(e.path()), "error": e.to_string()}),
            })
            .collect();
        let doc = json!({"snapshot_dir": dir.display().to_string(), "snapshots": items});
        writeln!(out, "{doc:#}")?;
        return Ok(());
    }
    if listing.is_empty() {
        writeln!(out, "no snapshots in {}", dir.display())?;
        return Ok(());
    }
    writeln!(out, "snapshots in {}, newest first:", dir.display())?;
    let mut rows = vec![vec![
        "FILE".to_string(),
        "CREATED".to_string(),
        "COVERED SEQ".to_string(),
        "SIZE".to_string(),
    ]];
    for m in &listing {
        rows.push(match m {
            Ok(m) => vec![
                file_name(&m.path),
                rfc3339(m.created_at),
                m.covered_seq.to_string(),
                format!("{} bytes", m.size),
            ],
            Err(e) => vec![file_name(e.path()), format!("unreadable: {}", reason(e))],
        });
    }
    table(out, "", &rows)?;
    Ok(())
}

/// The error without the path in front (the table shows the file already).
fn reason(e: &SnapshotError) -> String {
    match e {
        SnapshotError::Io { source, .. } => source.to_string(),
        SnapshotError::Invalid { reason, .. } => reason.clone(),
        SnapshotError::Decode { source, .. } => format!("body does not decode: {source}"),
    }
}

fn read_named(a: &FileArgs) -> Result<(SnapshotMeta, SnapshotBody), CliError> {
    let dirs = a.folders.resolve()?;
    let path = locate_snapshot(&a.file, &dirs.snapshot_dir);
    check(&path).map_err(CliError::InvalidSnapshot)
}

fn inspect(a: &FileArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let (meta, body) = read_named(a)?;
    if a.json {
        let pools: Vec<_> = body
            .pools
            .iter()
            .map(|p| {
                let s = p.pool.settings();
                json!({
                    "id": p.id.to_string(),
                    "name": s.name,
                    "website_url": s.website_url,
                    "target_number": s.target_number.as_str(),
                    "exhaustion_policy": s.exhaustion_policy.as_str(),
                    "numbers_total": p.pool.numbers_total(),
                    "numbers_free": p.pool.free_count(),
                    "leased": p.pool.leased_count(),
                    "covered_seq": p.covered_seq,
                    "stats": p.pool.stats(),
                })
            })
            .collect();
        let doc = json!({
            "file": meta.path.display().to_string(),
            "format_version": FORMAT_VERSION,
            "created_at": rfc3339(meta.created_at),
            "covered_seq": meta.covered_seq,
            "router_seq": body.router_seq,
            "size_bytes": meta.size,
            "body_bytes": meta.body_len,
            "pools": pools,
        });
        writeln!(out, "{doc:#}")?;
        return Ok(());
    }
    let facts = [
        ("file", meta.path.display().to_string()),
        ("format", format!("dnid snapshot version {FORMAT_VERSION}")),
        (
            "created",
            format!("{} (unix {})", rfc3339(meta.created_at), meta.created_at),
        ),
        (
            "covers",
            format!(
                "WAL seq {} (recovery replays the records after it)",
                meta.covered_seq
            ),
        ),
        ("router seq", body.router_seq.to_string()),
        (
            "size",
            format!("{} bytes ({} bytes of body)", meta.size, meta.body_len),
        ),
        ("pools", body.pools.len().to_string()),
    ];
    let rows: Vec<Vec<String>> = facts
        .into_iter()
        .map(|(k, v)| vec![format!("{k}:"), v])
        .collect();
    table(out, "", &rows)?;
    if body.pools.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    let mut rows = vec![[
        "POOL ID",
        "NAME",
        "NUMBERS",
        "FREE",
        "LEASED",
        "DRAINING",
        "COVERED SEQ",
    ]
    .map(String::from)
    .to_vec()];
    for p in &body.pools {
        let stats = p.pool.stats();
        rows.push(vec![
            p.id.to_string(),
            printable(&p.pool.settings().name),
            p.pool.numbers_total().to_string(),
            p.pool.free_count().to_string(),
            p.pool.leased_count().to_string(),
            stats.draining.to_string(),
            p.covered_seq.to_string(),
        ]);
    }
    table(out, "", &rows)?;
    Ok(())
}

fn verify(a: &FileArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let (meta, body) = read_named(a)?;
    if a.json {
        let doc = json!({
            "file": meta.path.display().to_string(),
            "valid": true,
            "created_at": rfc3339(meta.created_at),
            "covered_seq": meta.covered_seq,
            "pools": body.pools.len(),
            "size_bytes": meta.size,
        });
        writeln!(out, "{doc:#}")?;
    } else {
        writeln!(
            out,
            "OK {}: created {}, covers WAL seq {}, {} pools, {} bytes",
            meta.path.display(),
            rfc3339(meta.created_at),
            meta.covered_seq,
            body.pools.len(),
            meta.size
        )?;
    }
    Ok(())
}
