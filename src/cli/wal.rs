//! `dnid wal inspect | repair`.

use super::wal_repair::RepairArgs;
use super::wal_scan::{read_log, End, FrameAt};
use super::{file_name, printable, CliError, Folders};
use crate::clock::rfc3339;
use crate::store::record::{PoolRecord, RouterRecord, WalRecord};
use std::io::Write;

#[derive(Debug, clap::Subcommand)]
pub enum WalCommand {
    /// Show every WAL segment and how it ends.
    ///
    /// Per segment: first and last seq, records, bytes, and how it ends (clean, torn
    /// at an offset, or corrupt at an offset and why). Exit code 1 if any segment is
    /// corrupt. Only reads: safe while the server runs.
    Inspect(InspectArgs),
    /// Cut the WAL at its first bad frame, so that the server can start again.
    ///
    /// Says exactly what it will cut and asks first. Cut segments are copied, and later
    /// ones moved, into `<data-dir>/wal-cut-<unix time>/`. Refuses while a server
    /// holds the data folder (exit code 3).
    Repair(RepairArgs),
}

#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    #[command(flatten)]
    pub folders: Folders,
    /// Also list every record: seq, offset and a short summary.
    #[arg(long)]
    pub records: bool,
}

pub fn run(cmd: WalCommand, out: &mut dyn Write) -> Result<(), CliError> {
    match cmd {
        WalCommand::Inspect(a) => inspect(&a, out),
        WalCommand::Repair(a) => super::wal_repair::run(&a, out),
    }
}

fn inspect(a: &InspectArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let dirs = a.folders.resolve()?;
    let mut lines: Vec<(std::path::PathBuf, String)> = Vec::new();
    let log = read_log(&dirs.data_dir, &dirs.snapshot_dir, |path, f, rec| {
        if a.records {
            lines.push((path.to_path_buf(), record_line(f, &rec)));
        }
    })?;
    writeln!(out, "WAL folder: {}", log.dir.display())?;
    match &log.snapshot {
        Some((path, covered)) => writeln!(
            out,
            "newest valid snapshot: {} covers seq {covered}; recovery replays from seq {}",
            file_name(path),
            covered + 1
        )?,
        None => writeln!(out, "no valid snapshot: recovery replays the whole log")?,
    }
    if log.segments.is_empty() {
        writeln!(out, "no segments")?;
    }
    let mut problems = 0;
    let mut records = 0;
    let mut lines = lines.into_iter().peekable();
    for (i, (seg, end)) in log.segments.iter().enumerate() {
        records += seg.frames.len();
        let span = match (seg.frames.first(), seg.frames.last()) {
            (Some(a), Some(b)) => format!("seq {}..={}", a.seq, b.seq),
            _ => "no records".to_string(),
        };
        writeln!(
            out,
            "{}: {span}, {} records, {} bytes, {}",
            file_name(&seg.path),
            seg.frames.len(),
            seg.len,
            end.describe()
        )?;
        if matches!(end, End::Damaged { .. }) {
            problems += 1;
            if i < log.start {
                writeln!(out, "  (every record recovery needs from here is in the snapshot: recovery does not read this segment)")?;
            }
        }
        while let Some((_, line)) = lines.next_if(|(p, _)| *p == seg.path) {
            writeln!(out, "  {line}")?;
        }
    }
    if let Some((found, needed)) = log.missing_start() {
        problems += 1;
        writeln!(out, "the log starts at seq {found}, but recovery needs the records from seq {needed}: segments are missing")?;
    }
    if let Some((last, covered)) = log.behind_snapshot() {
        problems += 1;
        writeln!(out, "the log ends at seq {last}, before the snapshot's seq {covered}: the server would number new records past a gap (`dnid wal repair` sets the covered segments aside)")?;
    }
    writeln!(
        out,
        "{} segments, {records} records, {problems} problems",
        log.segments.len()
    )?;
    if problems > 0 {
        return Err(CliError::WalDamaged(format!(
            "the write-ahead log in {} has {problems} problem(s); stop the server and run `dnid wal repair --data-dir {}` (it says what it will cut and asks first)",
            log.dir.display(),
            dirs.data_dir.display()
        )));
    }
    Ok(())
}

fn record_line(f: FrameAt, rec: &Result<WalRecord, String>) -> String {
    let what = match rec {
        Ok(r) => summary(r),
        Err(e) => format!("UNDECODABLE: {e}"),
    };
    format!("seq {}  offset {}  {what}", f.seq, f.offset)
}

/// One line about a record: its kind, its pool, and when.
pub fn summary(rec: &WalRecord) -> String {
    match rec {
        WalRecord::Router(RouterRecord::CreatePool {
            id,
            settings,
            numbers,
            at,
        }) => format!(
            "Router CreatePool pool={id} name={:?} numbers={} at={}",
            printable(&settings.name),
            numbers.len(),
            rfc3339(*at)
        ),
        WalRecord::Router(RouterRecord::DeletePool { id, at }) => {
            format!("Router DeletePool pool={id} at={}", rfc3339(*at))
        }
        WalRecord::Pool(id, r) => format!("Pool({id}) {}", pool_summary(r)),
        WalRecord::Calls(r) => format!("Calls {}", calls_summary(r)),
    }
}

fn calls_summary(r: &crate::calls::CallsRecord) -> String {
    use crate::calls::CallsRecord as C;
    match r {
        C::FlowPut(f) => format!("FlowPut flow={} forward_to={}", f.id, f.forward_to),
        C::FlowDeleted(id) => format!("FlowDeleted flow={id}"),
        C::CallAdded(c) => format!(
            "CallAdded call={} to={} status={} at={}",
            c.id,
            c.tracking_number,
            c.status.as_str(),
            rfc3339(c.started_at)
        ),
        C::CallUpdated {
            id, call_status, ..
        } => {
            format!(
                "CallUpdated call={id} call_status={}",
                printable(call_status)
            )
        }
        C::WebhookPut(w) => format!("WebhookPut webhook={} pool={}", w.id, w.pool_id),
        C::WebhookDeleted(id) => format!("WebhookDeleted webhook={id}"),
        C::DeliveryQueued(d) => format!("DeliveryQueued delivery={} call={}", d.id, d.call_id),
        C::DeliveryAttempted { id, state, at, .. } => {
            format!(
                "DeliveryAttempted delivery={id} state={state:?} at={}",
                rfc3339(*at)
            )
        }
        C::Purge { before } => format!("Purge before={}", rfc3339(*before)),
    }
}

fn pool_summary(r: &PoolRecord) -> String {
    match r {
        PoolRecord::Assign {
            session,
            attribution,
            at,
            ..
        } => format!(
            "Assign {} session{} at={}",
            if session.is_some() { "known" } else { "new" },
            if attribution.is_some() {
                ", with attribution"
            } else {
                ""
            },
            rfc3339(*at)
        ),
        PoolRecord::PageView {
            counts_page, at, ..
        } => format!(
            "PageView{} at={}",
            if *counts_page { "" } else { " (not counted)" },
            rfc3339(*at)
        ),
        PoolRecord::Release { at, .. } => format!("Release at={}", rfc3339(*at)),
        PoolRecord::AddNumbers { numbers, at } => {
            format!("AddNumbers count={} at={}", numbers.len(), rfc3339(*at))
        }
        PoolRecord::RemoveNumber { number, force, at } => format!(
            "RemoveNumber number={} force={force} at={}",
            number.as_str(),
            rfc3339(*at)
        ),
        PoolRecord::Update { settings, at } => format!(
            "Update name={:?} at={}",
            printable(&settings.name),
            rfc3339(*at)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::PoolId;

    #[test]
    fn summaries_name_kind_pool_and_time() {
        let r = WalRecord::Router(RouterRecord::DeletePool {
            id: PoolId(0xab),
            at: 0,
        });
        assert_eq!(
            summary(&r),
            "Router DeletePool pool=00000000000000ab at=1970-01-01T00:00:00Z"
        );
        let r = WalRecord::Pool(
            PoolId(1),
            PoolRecord::Release {
                session: crate::engine::SessionId([0; 16]),
                at: 60,
            },
        );
        assert_eq!(
            summary(&r),
            "Pool(0000000000000001) Release at=1970-01-01T00:01:00Z"
        );
    }
}
