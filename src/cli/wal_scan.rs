//! Reading the WAL the way recovery does, for `wal inspect` and `wal repair`: every
//! segment with its frames, how it ends, and what recovery would make of it.

use super::CliError;
use crate::store::codec::decode_record;
use crate::store::record::WalRecord;
use crate::store::segment::{list_segments, scan, Tail, FRAME_HEADER, MAGIC, MAX_RECORD_BYTES};
use crate::store::snapshot;
use crate::store::wal::wal_dir;
use std::path::{Path, PathBuf};

/// One good frame of a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameAt {
    pub offset: u64,
    pub seq: u64,
}

/// One segment file as read.
#[derive(Debug)]
pub struct Segment {
    pub path: PathBuf,
    /// The sequence number in its name: what its first frame must carry.
    pub named_seq: u64,
    pub len: u64,
    /// Every good frame, in order (recovery's view: up to the first bad one).
    pub frames: Vec<FrameAt>,
    pub tail: Tail,
    /// The first frame whose payload is not a record: offset, seq, why.
    pub undecodable: Option<(u64, u64, String)>,
}

impl Segment {
    /// The sequence number the segment after this one must start with.
    pub fn next_seq(&self) -> u64 {
        self.frames.last().map_or(self.named_seq, |f| f.seq + 1)
    }

    /// The good frames before `offset`.
    pub fn frames_before(&self, offset: u64) -> &[FrameAt] {
        let n = self.frames.partition_point(|f| f.offset < offset);
        &self.frames[..n]
    }
}

/// How a segment ends, judged as recovery judges it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    Clean,
    /// An unfinished write at the end of the log: the next start cuts it off.
    TornEnd {
        offset: u64,
    },
    /// An unfinished write at the end of an older segment whose successor carries on
    /// without a gap: recovery skips it.
    TornSkipped {
        offset: u64,
    },
    /// Recovery refuses to start here.
    Damaged {
        offset: u64,
        reason: String,
    },
}

impl End {
    pub fn describe(&self) -> String {
        match self {
            End::Clean => "clean".into(),
            End::TornEnd { offset } => format!(
                "torn at offset {offset} (an unfinished write; the next start cuts it off)"
            ),
            End::TornSkipped { offset } => format!(
                "torn at offset {offset} (an unfinished write; the next segment carries on, so recovery skips it)"
            ),
            End::Damaged { offset, reason } => format!("corrupt at offset {offset}: {reason}"),
        }
    }
}

/// The whole log, with the snapshot recovery would start from.
pub struct Log {
    pub dir: PathBuf,
    pub segments: Vec<(Segment, End)>,
    /// The newest snapshot that reads completely, and the WAL seq it covers.
    pub snapshot: Option<(PathBuf, u64)>,
    /// The first segment recovery reads; those before hold only covered records.
    pub start: usize,
}

impl Log {
    pub fn covered(&self) -> u64 {
        self.snapshot.as_ref().map_or(0, |s| s.1)
    }

    /// Segments are missing before the first record recovery needs: (found, needed).
    pub fn missing_start(&self) -> Option<(u64, u64)> {
        let (first, _) = self.segments.get(self.start)?;
        (first.named_seq > self.covered() + 1).then(|| (first.named_seq, self.covered() + 1))
    }

    /// The log's last record is older than the snapshot's position: the server would
    /// write the next record after it with a gap in the numbering. (last, covered)
    pub fn behind_snapshot(&self) -> Option<(u64, u64)> {
        let (last, _) = self.segments.last()?;
        let last_seq = last.next_seq() - 1;
        (last_seq < self.covered()).then_some((last_seq, self.covered()))
    }
}

/// Reads every segment of the WAL in `data_dir`; `on_record` sees each good frame
/// and its decoded record, in order.
pub fn read_log(
    data_dir: &Path,
    snapshot_dir: &Path,
    mut on_record: impl FnMut(&Path, FrameAt, Result<WalRecord, String>),
) -> Result<Log, CliError> {
    let snapshot = newest_valid_snapshot(snapshot_dir)?;
    let covered = snapshot.as_ref().map_or(0, |s| s.1);
    let dir = wal_dir(data_dir);
    let listed = list_segments(&dir).map_err(CliError::io("read the WAL folder", &dir))?;
    let mut read = Vec::with_capacity(listed.len());
    for (named_seq, path) in listed {
        let seg = read_segment(named_seq, path, &mut on_record)?;
        read.push(seg);
    }
    // As recovery: start at the last segment that begins at or before the first
    // record the snapshot does not cover.
    let start = read
        .iter()
        .rposition(|s| s.named_seq <= covered + 1)
        .unwrap_or(0);
    let ends = judge(&read);
    Ok(Log {
        dir,
        segments: read.into_iter().zip(ends).collect(),
        snapshot,
        start,
    })
}

fn read_segment(
    named_seq: u64,
    path: PathBuf,
    on_record: &mut impl FnMut(&Path, FrameAt, Result<WalRecord, String>),
) -> Result<Segment, CliError> {
    let bytes = std::fs::read(&path).map_err(CliError::io("read", &path))?;
    let mut frames = Vec::new();
    let mut undecodable = None;
    let tail = scan(&bytes, Some(named_seq), |f| {
        let at = FrameAt {
            offset: f.offset,
            seq: f.seq,
        };
        frames.push(at);
        let rec = decode_record(f.payload).map_err(|e| e.to_string());
        if let (Err(e), None) = (&rec, &undecodable) {
            undecodable = Some((f.offset, f.seq, format!("record does not decode: {e}")));
        }
        on_record(&path, at, rec);
    });
    Ok(Segment {
        path,
        named_seq,
        len: bytes.len() as u64,
        frames,
        tail,
        undecodable,
    })
}

/// How each segment ends, with the next segment in view (as recovery sees it).
fn judge(segments: &[Segment]) -> Vec<End> {
    let mut ends = Vec::with_capacity(segments.len());
    for (i, s) in segments.iter().enumerate() {
        let next = segments.get(i + 1);
        let end = if let Some((offset, _, reason)) = &s.undecodable {
            End::Damaged {
                offset: *offset,
                reason: reason.clone(),
            }
        } else {
            match &s.tail {
                Tail::Clean => End::Clean,
                Tail::Corrupt { offset, reason } => End::Damaged {
                    offset: *offset,
                    reason: reason.clone(),
                },
                Tail::Torn { offset } => match next {
                    None => End::TornEnd { offset: *offset },
                    Some(n) if n.named_seq == s.next_seq() => End::TornSkipped { offset: *offset },
                    Some(_) => End::Damaged {
                        offset: *offset,
                        reason: "bad bytes at the end of a segment that is not the last".into(),
                    },
                },
            }
        };
        ends.push(end);
    }
    // A segment that does not carry on where the one before ended: records are
    // missing between them (recovery would replay past the hole).
    for i in 1..segments.len() {
        let (prev, this) = (&segments[i - 1], &segments[i]);
        let prev_ok = !matches!(ends[i - 1], End::Damaged { .. });
        if prev_ok
            && this.named_seq != prev.next_seq()
            && !matches!(ends[i], End::Damaged { offset: 0, .. })
        {
            ends[i] = End::Damaged {
                offset: 0,
                reason: format!(
                    "starts at seq {}, but the segment before ends at seq {}: records are missing",
                    this.named_seq,
                    prev.next_seq() - 1
                ),
            };
        }
    }
    ends
}

/// The snapshot recovery would use: the newest, by name, that reads completely.
pub fn newest_valid_snapshot(dir: &Path) -> Result<Option<(PathBuf, u64)>, CliError> {
    let listing = snapshot::list(dir).map_err(CliError::io("read the snapshot folder", dir))?;
    for meta in listing.into_iter().flatten() {
        if let Ok((m, body)) = snapshot::read(&meta.path) {
            return Ok(Some((m.path, body.covered_seq())));
        }
    }
    Ok(None)
}

/// Frames after a bad one at `from` whose checksums hold: what a cut there drops that
/// looks like real records. Found by trying every later offset, as `scan` does.
pub fn good_frames_after(bytes: &[u8], from: u64, min_seq: u64) -> Vec<u64> {
    let mut seqs = Vec::new();
    let mut at = from as usize + 1;
    while at + FRAME_HEADER <= bytes.len() {
        let found = frame_len_if_plausible(bytes, at, min_seq)
            .and_then(|len| checks(&bytes[at..at + FRAME_HEADER + len]).map(|seq| (seq, len)));
        match found {
            Some((seq, len)) => {
                seqs.push(seq);
                at += FRAME_HEADER + len;
            }
            None => at += 1,
        }
    }
    seqs
}

/// The payload length of a frame header at `at`, if the frame fits in `bytes` and its
/// sequence number is in range (a cheap filter before the checksum).
fn frame_len_if_plausible(bytes: &[u8], at: usize, min_seq: u64) -> Option<usize> {
    let head = bytes.get(at..at + FRAME_HEADER)?;
    let len = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize;
    let mut s = [0u8; 8];
    s.copy_from_slice(&head[8..16]);
    let seq = u64::from_le_bytes(s);
    let fits = len <= MAX_RECORD_BYTES && at + FRAME_HEADER + len <= bytes.len();
    (fits && seq >= min_seq && seq < min_seq.saturating_add(1 << 40)).then_some(len)
}

/// The frame's sequence number if these bytes are exactly one good frame (checked by
/// the store's own `scan`).
fn checks(frame: &[u8]) -> Option<u64> {
    let mut one = Vec::with_capacity(MAGIC.len() + frame.len());
    one.extend_from_slice(MAGIC);
    one.extend_from_slice(frame);
    let mut seq = None;
    (scan(&one, None, |f| seq = Some(f.seq)) == Tail::Clean)
        .then_some(seq)
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::segment::frame;

    #[test]
    fn good_frames_after_damage_are_found_again() {
        let mut b = MAGIC.to_vec();
        let mut starts = Vec::new();
        for s in 1..=5u64 {
            starts.push(b.len() as u64);
            frame(&mut b, s, format!("payload {s}").as_bytes());
        }
        b[starts[1] as usize + 5] ^= 0x40;
        assert_eq!(good_frames_after(&b, starts[1], 2), vec![3, 4, 5]);
        assert!(good_frames_after(&b, starts[4], 5).is_empty());
    }
}
