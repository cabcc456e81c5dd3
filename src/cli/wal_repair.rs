//! `dnid wal repair`: cuts the WAL at its first bad frame, so that the server starts
//! again with every record before it. Nothing is deleted: cut segments are copied,
//! and later ones moved, into `<data-dir>/wal-cut-<unix time>/`.

use super::confirm::confirm;
use super::files::{copy_into, fresh_dir, move_into, sync};
use super::wal_scan::{good_frames_after, read_log, End, Log};
use super::{file_name, lock, CliError, Folders};
use std::io::Write;

#[derive(Debug, clap::Args)]
pub struct RepairArgs {
    #[command(flatten)]
    pub folders: Folders,
    /// Go ahead without asking (needed when standard input is not a terminal).
    #[arg(long, short = 'y')]
    pub yes: bool,
}

/// A segment cut short at `offset`; the rest of it goes.
#[derive(Debug)]
struct Cut {
    index: usize,
    offset: u64,
    damaged: bool,
}

/// What the repair does, worked out before anything is touched.
#[derive(Debug, Default)]
struct Plan {
    cuts: Vec<Cut>,
    /// Segments moved aside whole: (index, why).
    aside: Vec<(usize, &'static str)>,
}

const AFTER_DAMAGE: &str = "after the damage";
const NOTHING_KEPT: &str = "nothing in it is kept";
const COVERED: &str = "covered by the snapshot";

impl Plan {
    fn is_empty(&self) -> bool {
        self.cuts.is_empty() && self.aside.is_empty()
    }

    /// Cuts at every torn end and at the first damage (recovery's view: from the
    /// first segment it reads), and moves every later segment aside.
    fn new(log: &Log) -> Plan {
        let mut plan = Plan::default();
        let trim = |plan: &mut Plan, index: usize, offset: u64, damaged: bool| {
            if log.segments[index].0.frames_before(offset).is_empty() {
                plan.aside.push((index, NOTHING_KEPT));
            } else {
                plan.cuts.push(Cut {
                    index,
                    offset,
                    damaged,
                });
            }
        };
        for i in log.start..log.segments.len() {
            match &log.segments[i].1 {
                End::Clean => {}
                End::TornEnd { offset } | End::TornSkipped { offset } => {
                    trim(&mut plan, i, *offset, false)
                }
                End::Damaged { offset, .. } => {
                    trim(&mut plan, i, *offset, true);
                    plan.aside
                        .extend((i + 1..log.segments.len()).map(|j| (j, AFTER_DAMAGE)));
                    break;
                }
            }
        }
        // The server numbers new records after the snapshot's position; if what is
        // left ends before it, the next record would follow a gap. Everything left is
        // in the snapshot then: set it aside too.
        let kept_last = (0..log.segments.len())
            .rev()
            .find(|i| !plan.aside.iter().any(|(j, _)| j == i))
            .map(|i| plan.last_seq_kept(log, i));
        if kept_last.is_some_and(|last| last < log.covered()) {
            plan.cuts.clear();
            for i in 0..log.segments.len() {
                if !plan.aside.iter().any(|(j, _)| *j == i) {
                    plan.aside.push((i, COVERED));
                }
            }
            plan.aside.sort();
        }
        plan
    }

    fn last_seq_kept(&self, log: &Log, index: usize) -> u64 {
        let seg = &log.segments[index].0;
        match self.cuts.iter().find(|c| c.index == index) {
            Some(c) => seg
                .frames_before(c.offset)
                .last()
                .map_or(seg.named_seq.saturating_sub(1), |f| f.seq),
            None => seg.next_seq().saturating_sub(1),
        }
    }
}

pub fn run(a: &RepairArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let dirs = a.folders.resolve()?;
    if !dirs.data_dir.is_dir() {
        return Err(CliError::NoDataDir(dirs.data_dir));
    }
    let _lock = lock(&dirs.data_dir)?;
    let log = read_log(&dirs.data_dir, &dirs.snapshot_dir, |_, _, _| {})?;
    if let Some((found, needed)) = log.missing_start() {
        return Err(CliError::Unrepairable(format!(
            "the log in {} starts at seq {found}, but the newest valid snapshot needs the records from seq {needed}; they are gone. Restore a snapshot instead (`dnid restore --from FILE`)",
            log.dir.display()
        )));
    }
    let plan = Plan::new(&log);
    for (seg, end) in &log.segments[..log.start] {
        if let End::Damaged { offset, reason } = end {
            writeln!(out, "ignored: {} is corrupt at offset {offset} ({reason}), but the snapshot covers all of it: recovery does not read it", file_name(&seg.path))?;
        }
    }
    if plan.is_empty() {
        writeln!(
            out,
            "the write-ahead log in {} is clean: nothing to repair",
            log.dir.display()
        )?;
        return Ok(());
    }
    describe(&plan, &log, out)?;
    confirm("Cut the write-ahead log as described?", a.yes)?;
    let backup = fresh_dir(&dirs.data_dir, "wal-cut")?;
    for cut in &plan.cuts {
        let path = &log.segments[cut.index].0.path;
        copy_into(path, &backup)?;
        std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .and_then(|f| {
                f.set_len(cut.offset)?;
                f.sync_all()
            })
            .map_err(CliError::io("cut", path))?;
    }
    for (index, _) in &plan.aside {
        move_into(&log.segments[*index].0.path, &backup)?;
    }
    sync(&log.dir)?;
    sync(&backup)?;
    writeln!(
        out,
        "repaired. What was cut is kept in {} (whole original segments); `dnid serve` can start now.",
        backup.display()
    )?;
    Ok(())
}

fn describe(plan: &Plan, log: &Log, out: &mut dyn Write) -> Result<(), CliError> {
    writeln!(
        out,
        "The write-ahead log in {} needs repair:",
        log.dir.display()
    )?;
    for (seg, end) in &log.segments[log.start..] {
        if *end != End::Clean {
            writeln!(out, "  {}: {}", file_name(&seg.path), end.describe())?;
        }
    }
    if let Some((last, covered)) = log.behind_snapshot() {
        writeln!(
            out,
            "  the log ends at seq {last}, before the snapshot's seq {covered}"
        )?;
    }
    writeln!(out, "Repair will:")?;
    for cut in &plan.cuts {
        let seg = &log.segments[cut.index].0;
        let bytes = seg.len - cut.offset;
        let what = if cut.damaged {
            let data = std::fs::read(&seg.path).map_err(CliError::io("read", &seg.path))?;
            let after = good_frames_after(&data, cut.offset, seg.named_seq);
            match (after.first(), after.last()) {
                (Some(a), Some(b)) => format!(
                    "the damaged frame and {} intact-looking records after it (seq {a}..={b})",
                    after.len()
                ),
                _ => "the damaged frame; nothing after it looks like a record".to_string(),
            }
        } else {
            "an unfinished write that was never acknowledged".to_string()
        };
        writeln!(
            out,
            "  cut {} at offset {}: drop {bytes} bytes, {what}",
            file_name(&seg.path),
            cut.offset
        )?;
    }
    for (index, why) in &plan.aside {
        let seg = &log.segments[*index].0;
        let span = match (seg.frames.first(), seg.frames.last()) {
            (Some(a), Some(b)) => {
                format!("{} records, seq {}..={}", seg.frames.len(), a.seq, b.seq)
            }
            _ => "no intact records".to_string(),
        };
        writeln!(out, "  set aside {} ({span}): {why}", file_name(&seg.path))?;
    }
    let kept = (0..log.segments.len())
        .rev()
        .find(|i| !plan.aside.iter().any(|(j, _)| j == i))
        .map(|i| plan.last_seq_kept(log, i));
    let base = match &log.snapshot {
        Some((path, _)) => format!("snapshot {}", file_name(path)),
        None => "an empty state (there is no valid snapshot)".to_string(),
    };
    match kept {
        Some(last) => writeln!(
            out,
            "Afterwards the log ends at seq {last}: the server starts from {base} and the records up to there."
        )?,
        None => writeln!(
            out,
            "Afterwards no segment is left: the server starts from {base} alone."
        )?,
    }
    if plan.cuts.iter().any(|c| c.damaged) || plan.aside.iter().any(|(_, w)| *w == AFTER_DAMAGE) {
        writeln!(out, "Changes acknowledged after the damage are lost; everything removed is kept in {}/wal-cut-<unix time>/.", log.dir.parent().unwrap_or(&log.dir).display())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::PoolId;
    use crate::store::codec::encode_record;
    use crate::store::record::{RouterRecord, WalRecord};
    use crate::store::segment::{frame, segment_name, MAGIC};
    use crate::store::snapshot::{self, SnapshotBody};
    use crate::store::wal::wal_dir;
    use std::ops::RangeInclusive;
    use std::path::{Path, PathBuf};

    /// Writes a segment of records `seqs`; returns its path and frame offsets.
    fn segment(data: &Path, seqs: RangeInclusive<u64>) -> (PathBuf, Vec<u64>) {
        let mut b = MAGIC.to_vec();
        let mut offsets = Vec::new();
        for s in seqs.clone() {
            offsets.push(b.len() as u64);
            let rec = WalRecord::Router(RouterRecord::DeletePool {
                id: PoolId(s),
                at: s,
            });
            frame(&mut b, s, &encode_record(&rec).unwrap());
        }
        let dir = wal_dir(data);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(segment_name(*seqs.start()));
        std::fs::write(&path, b).unwrap();
        (path, offsets)
    }

    fn flip(path: &Path, at: u64) {
        let mut b = std::fs::read(path).unwrap();
        b[at as usize] ^= 0x08;
        std::fs::write(path, b).unwrap();
    }

    fn snapshot_covering(data: &Path, seq: u64) {
        let body = SnapshotBody {
            calls: crate::store::snapshot::CallsImage {
                covered_seq: seq,
                ..Default::default()
            },
            created_at: 1,
            router_seq: seq,
            pools: Vec::new(),
        };
        snapshot::write(&data.join("snapshots"), &body).unwrap();
    }

    fn plan(data: &Path) -> (Log, Plan) {
        let log = read_log(data, &data.join("snapshots"), |_, _, _| {}).unwrap();
        let plan = Plan::new(&log);
        (log, plan)
    }

    fn repair(data: &Path) -> String {
        let args = RepairArgs {
            folders: Folders {
                config: None,
                data_dir: Some(data.to_path_buf()),
                snapshot_dir: Some(data.join("snapshots")),
            },
            yes: true,
        };
        let mut out = Vec::new();
        run(&args, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_clean_log_needs_nothing() {
        let d = tempfile::tempdir().unwrap();
        segment(d.path(), 1..=5);
        segment(d.path(), 6..=10);
        assert!(plan(d.path()).1.is_empty());
        assert!(repair(d.path()).contains("clean"));
    }

    #[test]
    fn damage_cuts_its_segment_and_sets_the_later_ones_aside() {
        let d = tempfile::tempdir().unwrap();
        segment(d.path(), 1..=5);
        let (mid, offsets) = segment(d.path(), 6..=10);
        let (last, _) = segment(d.path(), 11..=15);
        flip(&mid, offsets[1] + 20);
        let (_, p) = plan(d.path());
        assert_eq!(p.cuts.len(), 1);
        assert_eq!((p.cuts[0].index, p.cuts[0].offset), (1, offsets[1]));
        assert!(p.cuts[0].damaged);
        assert_eq!(p.aside, vec![(2, AFTER_DAMAGE)]);
        let said = repair(d.path());
        assert!(
            said.contains("3 intact-looking records after it (seq 8..=10)"),
            "{said}"
        );
        assert!(said.contains("5 records, seq 11..=15"), "{said}");
        assert_eq!(std::fs::metadata(&mid).unwrap().len(), offsets[1]);
        assert!(!last.exists());
        let (log, p) = plan(d.path());
        assert!(p.is_empty());
        assert_eq!(log.segments.last().unwrap().0.next_seq(), 7);
    }

    #[test]
    fn a_torn_end_is_trimmed_and_nothing_else_goes() {
        let d = tempfile::tempdir().unwrap();
        segment(d.path(), 1..=5);
        let (last, _) = segment(d.path(), 6..=8);
        let len = std::fs::metadata(&last).unwrap().len();
        let mut b = std::fs::read(&last).unwrap();
        b.extend_from_slice(&[7, 0, 0, 0, 1, 2]);
        std::fs::write(&last, b).unwrap();
        let (_, p) = plan(d.path());
        assert_eq!(p.cuts.len(), 1);
        assert_eq!((p.cuts[0].index, p.cuts[0].offset), (1, len));
        assert!(!p.cuts[0].damaged);
        assert!(p.aside.is_empty());
    }

    #[test]
    fn a_torn_older_segment_whose_successor_carries_on_keeps_the_successor() {
        let d = tempfile::tempdir().unwrap();
        let (first, _) = segment(d.path(), 1..=5);
        let len = std::fs::metadata(&first).unwrap().len();
        let mut b = std::fs::read(&first).unwrap();
        b.extend_from_slice(&[9, 9, 9]);
        std::fs::write(&first, b).unwrap();
        segment(d.path(), 6..=8);
        let (_, p) = plan(d.path());
        assert_eq!(p.cuts.len(), 1);
        assert_eq!((p.cuts[0].index, p.cuts[0].offset), (0, len));
        assert!(p.aside.is_empty());
    }

    #[test]
    fn a_missing_segment_in_the_middle_is_damage_at_the_next_one() {
        let d = tempfile::tempdir().unwrap();
        segment(d.path(), 1..=5);
        segment(d.path(), 8..=10);
        let (log, p) = plan(d.path());
        assert!(matches!(log.segments[1].1, End::Damaged { offset: 0, .. }));
        assert!(p.cuts.is_empty());
        assert_eq!(p.aside, vec![(1, NOTHING_KEPT)]);
    }

    #[test]
    fn damage_in_a_segment_the_snapshot_covers_is_left_alone() {
        let d = tempfile::tempdir().unwrap();
        let (old, offsets) = segment(d.path(), 1..=5);
        segment(d.path(), 6..=12);
        flip(&old, offsets[2] + 20);
        snapshot_covering(d.path(), 10);
        let (log, p) = plan(d.path());
        assert_eq!(log.start, 1);
        assert!(p.is_empty());
        assert!(repair(d.path()).contains("ignored"));
    }

    #[test]
    fn a_log_that_ends_before_the_snapshot_is_set_aside_whole() {
        let d = tempfile::tempdir().unwrap();
        segment(d.path(), 1..=5);
        snapshot_covering(d.path(), 10);
        let (log, p) = plan(d.path());
        assert_eq!(log.behind_snapshot(), Some((5, 10)));
        assert_eq!(p.aside, vec![(0, COVERED)]);
        repair(d.path());
        assert!(list_segments_in(d.path()).is_empty());
    }

    #[test]
    fn a_cut_that_leaves_the_log_behind_the_snapshot_sets_it_all_aside() {
        let d = tempfile::tempdir().unwrap();
        let (seg, offsets) = segment(d.path(), 1..=20);
        flip(&seg, offsets[5] + 20);
        snapshot_covering(d.path(), 10);
        let (_, p) = plan(d.path());
        assert!(p.cuts.is_empty());
        assert_eq!(p.aside, vec![(0, COVERED)]);
    }

    fn list_segments_in(data: &Path) -> Vec<(u64, PathBuf)> {
        crate::store::segment::list_segments(&wal_dir(data)).unwrap()
    }
}
