//! The on-disk form of the WAL: segment files of framed records.
//!
//! A segment is `<first seq, 20 digits>.wal`: an 8-byte magic, then frames of
//! `length u32 | crc32c u32 | seq u64 | payload`, little-endian. The CRC covers the
//! sequence number and the payload. Sequence numbers are dense across segments.

use std::path::{Path, PathBuf};

pub const MAGIC: &[u8; 8] = b"DNIDWAL1";
pub const FRAME_HEADER: usize = 16;
pub use super::codec::MAX_RECORD_BYTES;

/// Appends one frame to `buf`.
pub fn frame(buf: &mut Vec<u8>, seq: u64, payload: &[u8]) {
    buf.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    buf.extend_from_slice(&crc(seq, payload).to_le_bytes());
    buf.extend_from_slice(&seq.to_le_bytes());
    buf.extend_from_slice(payload);
}

fn crc(seq: u64, payload: &[u8]) -> u32 {
    crc32c::crc32c_append(crc32c::crc32c(&seq.to_le_bytes()), payload)
}

pub fn segment_name(first_seq: u64) -> String {
    format!("{first_seq:020}.wal")
}

/// The segments in `dir`, oldest first, with their first sequence numbers.
pub fn list_segments(dir: &Path) -> std::io::Result<Vec<(u64, PathBuf)>> {
    let mut out = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let path = entry?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if let Some(first) = name
            .strip_suffix(".wal")
            .filter(|s| s.len() == 20)
            .and_then(|s| s.parse::<u64>().ok())
        {
            out.push((first, path));
        }
    }
    out.sort();
    Ok(out)
}

/// How a segment ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tail {
    /// Every byte belongs to a good frame.
    Clean,
    /// From `offset` on, the bytes are an incomplete or unchecked write with no good
    /// frame after it: a crash mid-write. Safe to cut.
    Torn { offset: u64 },
    /// A bad frame at `offset` with good frames after it: real damage.
    Corrupt { offset: u64, reason: String },
}

/// One good frame.
pub struct Frame<'a> {
    pub offset: u64,
    pub seq: u64,
    pub payload: &'a [u8],
}

/// Reads the sequence number in the frame header at `at`, if the header is there.
fn seq_at(bytes: &[u8], at: usize) -> Option<u64> {
    let head = bytes.get(at..at.checked_add(FRAME_HEADER)?)?;
    let mut s = [0u8; 8];
    s.copy_from_slice(&head[8..16]);
    Some(u64::from_le_bytes(s))
}

/// Reads the frame at `at`, if it is whole and its CRC holds.
fn frame_at(bytes: &[u8], at: usize) -> Result<Frame<'_>, String> {
    let head = bytes
        .get(at..at + FRAME_HEADER)
        .ok_or_else(|| "frame header cut short".to_string())?;
    let len = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize;
    let sum = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
    let seq = seq_at(bytes, at).unwrap_or_default();
    if len > MAX_RECORD_BYTES {
        return Err(format!(
            "frame length {len} is over the {MAX_RECORD_BYTES}-byte limit"
        ));
    }
    let payload = bytes
        .get(at + FRAME_HEADER..at + FRAME_HEADER + len)
        .ok_or_else(|| "frame payload cut short".to_string())?;
    if crc(seq, payload) != sum {
        return Err("checksum mismatch".to_string());
    }
    Ok(Frame {
        offset: at as u64,
        seq,
        payload,
    })
}

/// Walks the frames of one segment's bytes, calling `on_frame` for each good one in
/// order, and says how the segment ends. `expected_seq` is the sequence number the
/// first frame must carry (`None`: take the first frame's).
pub fn scan(
    bytes: &[u8],
    mut expected_seq: Option<u64>,
    mut on_frame: impl FnMut(&Frame<'_>),
) -> Tail {
    if bytes.len() < MAGIC.len() {
        // Created but the magic never fully landed.
        return Tail::Torn { offset: 0 };
    }
    if &bytes[..MAGIC.len()] != MAGIC {
        return Tail::Corrupt {
            offset: 0,
            reason: "not a dnid WAL segment (bad magic)".into(),
        };
    }
    let mut at = MAGIC.len();
    while at < bytes.len() {
        let problem = match frame_at(bytes, at) {
            Ok(f) if expected_seq.is_none_or(|e| f.seq == e) => match f.seq.checked_add(1) {
                Some(next) => {
                    on_frame(&f);
                    expected_seq = Some(next);
                    at += FRAME_HEADER + f.payload.len();
                    continue;
                }
                None => "sequence number at its maximum".to_string(),
            },
            // A whole, checked frame out of sequence is never a torn write.
            Ok(f) => {
                return Tail::Corrupt {
                    offset: at as u64,
                    reason: format!(
                        "sequence number {} where {} was expected",
                        f.seq,
                        expected_seq.unwrap_or_default()
                    ),
                }
            }
            Err(reason) => reason,
        };
        // A bad frame: torn if no good frame follows it, corrupt otherwise. Only a
        // frame carrying the very next sequence number counts: a record's payload
        // (a visitor's URL, say) could hold bytes that look like a frame, and must not
        // turn a crash mid-write into "damage". The number is checked before the CRC,
        // so damaged bytes cannot make this look-ahead slow.
        let next = expected_seq.and_then(|e| e.checked_add(1));
        let good_after = (at + 1..bytes.len()).any(|o| {
            seq_at(bytes, o).is_some_and(|s| next.is_none_or(|n| s == n))
                && frame_at(bytes, o).is_ok()
        });
        return if good_after {
            Tail::Corrupt {
                offset: at as u64,
                reason: problem,
            }
        } else {
            Tail::Torn { offset: at as u64 }
        };
    }
    Tail::Clean
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(seqs: std::ops::Range<u64>) -> Vec<u8> {
        let mut b = MAGIC.to_vec();
        for s in seqs {
            frame(
                &mut b,
                s,
                format!("record {s} with some payload").as_bytes(),
            );
        }
        b
    }

    fn seqs(bytes: &[u8]) -> (Vec<u64>, Tail) {
        let mut out = Vec::new();
        let tail = scan(bytes, Some(1), |f| out.push(f.seq));
        (out, tail)
    }

    #[test]
    fn a_clean_segment_yields_every_frame() {
        let (s, tail) = seqs(&segment(1..6));
        assert_eq!(s, vec![1, 2, 3, 4, 5]);
        assert_eq!(tail, Tail::Clean);
    }

    #[test]
    fn a_cut_at_any_byte_of_the_last_record_is_a_torn_tail() {
        let full = segment(1..5);
        let last_start = segment(1..4).len();
        for cut in last_start..full.len() {
            let (s, tail) = seqs(&full[..cut]);
            assert_eq!(s, vec![1, 2, 3], "cut at {cut}");
            if cut == last_start {
                assert_eq!(tail, Tail::Clean);
            } else {
                assert_eq!(
                    tail,
                    Tail::Torn {
                        offset: last_start as u64
                    },
                    "cut at {cut}"
                );
            }
        }
    }

    #[test]
    fn a_flipped_bit_in_the_middle_is_corruption_with_its_offset() {
        let mut b = segment(1..6);
        let second = MAGIC.len() + (FRAME_HEADER + "record 1 with some payload".len());
        for byte in [second, second + 5, second + 9, second + FRAME_HEADER + 3] {
            let mut c = b.clone();
            c[byte] ^= 0x10;
            let (s, tail) = seqs(&c);
            assert_eq!(s, vec![1], "flip at {byte}");
            assert!(
                matches!(tail, Tail::Corrupt { offset, .. } if offset == second as u64),
                "flip at {byte}: {tail:?}"
            );
        }
        b[2] = b'X';
        assert!(matches!(seqs(&b).1, Tail::Corrupt { offset: 0, .. }));
    }

    #[test]
    fn a_frame_planted_in_a_cut_payload_does_not_make_a_crash_look_like_damage() {
        let mut b = segment(1..3);
        // Record 3's payload holds a perfect frame with a far sequence number (what a
        // visitor could put in a landing URL); the write of record 3 is cut short.
        let mut planted = Vec::new();
        frame(&mut planted, 77, b"planted");
        let mut payload = b"https://shop.example/?x=".to_vec();
        payload.extend_from_slice(&planted);
        payload.extend_from_slice(&[b'y'; 64]);
        let start = b.len();
        frame(&mut b, 3, &payload);
        b.truncate(b.len() - 10);
        assert_eq!(
            seqs(&b),
            (
                vec![1, 2],
                Tail::Torn {
                    offset: start as u64
                }
            )
        );
    }

    #[test]
    fn the_largest_sequence_number_does_not_overflow() {
        let mut b = MAGIC.to_vec();
        frame(&mut b, u64::MAX, b"x");
        let mut out = Vec::new();
        let tail = scan(&b, None, |f| out.push(f.seq));
        assert!(out.is_empty());
        assert!(matches!(tail, Tail::Torn { .. } | Tail::Corrupt { .. }));
    }

    #[test]
    fn a_sequence_gap_is_corruption() {
        let mut b = MAGIC.to_vec();
        frame(&mut b, 1, b"a");
        frame(&mut b, 3, b"b");
        assert!(matches!(seqs(&b).1, Tail::Corrupt { .. }));
        frame(&mut b, 4, b"c");
        assert!(matches!(seqs(&b).1, Tail::Corrupt { .. }));
    }
}
