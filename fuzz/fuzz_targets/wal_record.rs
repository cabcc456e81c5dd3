//! The WAL decoders on arbitrary bytes: `codec::decode_record` (one record's payload)
//! and `segment::scan` (a whole segment file). Neither may panic, and neither may
//! allocate without bound (run with `-malloc_limit_mb=256`, see README.md).
//!
//! Each input is used three ways:
//! 1. as one record's payload: it decodes or is refused; whatever decodes encodes
//!    again and decodes to the same record;
//! 2. as a segment file, raw and behind the segment magic;
//! 3. as the content of a *well-formed* segment — the bytes cut into frames with
//!    correct CRCs — then cut short at a point the input chooses, so the paths behind
//!    the checksum are reached without forging CRC32C. The whole segment must scan
//!    clean and give back every frame; a segment cut short must give back a prefix of
//!    the frames and end clean (cut between frames) or at the first missing frame.
#![no_main]

use dnid::store::codec::{decode_record, encode_record};
use dnid::store::segment::{frame, scan, Tail, MAGIC};
use libfuzzer_sys::fuzz_target;

/// Most frames built from one input.
const MAX_FRAMES: usize = 64;
/// Splits the input into payloads.
const DELIMITER: u8 = 0xa5;

fn check_record(bytes: &[u8]) {
    if let Ok(rec) = decode_record(bytes) {
        // Phone numbers are normalised on the way in, so the bytes may differ once;
        // the record may not.
        let again = encode_record(&rec).expect("a decoded record encodes");
        let back = decode_record(&again).expect("a re-encoded record decodes");
        assert_eq!(back, rec, "record changed across encode/decode");
    }
}

fn well_formed(data: &[u8]) {
    let Some((head, rest)) = data.split_first_chunk::<10>() else {
        return;
    };
    // Below 2^63: a frame numbered u64::MAX overflows `seq + 1` in `scan` (a known
    // finding, see README.md); kept out of this path so that it does not hide the
    // rest. The raw-bytes paths above still reach it.
    let first_seq = u64::from_le_bytes(head[..8].try_into().unwrap()) >> 1;
    let cut = u16::from_le_bytes([head[8], head[9]]) as usize;
    let payloads: Vec<&[u8]> = rest.split(|&b| b == DELIMITER).take(MAX_FRAMES).collect();
    let mut seg = MAGIC.to_vec();
    let mut ends = Vec::new();
    for (i, p) in payloads.iter().enumerate() {
        frame(&mut seg, first_seq + i as u64, p);
        ends.push(seg.len());
    }

    let mut got = Vec::new();
    let tail = scan(&seg, Some(first_seq), |f| {
        got.push((f.offset as usize, f.seq, f.payload.to_vec()))
    });
    assert_eq!(tail, Tail::Clean, "a well-formed segment scans clean");
    assert_eq!(got.len(), payloads.len());
    for (i, (offset, seq, payload)) in got.iter().enumerate() {
        let start = if i == 0 { MAGIC.len() } else { ends[i - 1] };
        assert_eq!(*offset, start);
        assert_eq!(*seq, first_seq + i as u64);
        assert_eq!(payload.as_slice(), payloads[i]);
    }

    // Cut short anywhere after the magic: a torn write.
    let at = MAGIC.len() + cut % (seg.len() - MAGIC.len() + 1);
    let whole = ends.iter().filter(|&&e| e <= at).count();
    let mut seen = 0;
    let tail = scan(&seg[..at], Some(first_seq), |f| {
        assert_eq!(f.payload, payloads[seen], "frames come back in order");
        seen += 1;
    });
    assert_eq!(seen, whole, "every whole frame before the cut comes back");
    let boundary = if whole == 0 {
        MAGIC.len()
    } else {
        ends[whole - 1]
    };
    match tail {
        Tail::Clean => assert_eq!(at, boundary, "clean only when cut between frames"),
        Tail::Torn { offset } => assert_eq!(offset as usize, boundary),
        // A payload may itself hold bytes that look like a good frame; then the cut
        // is reported as damage — but at the first missing frame, never earlier.
        Tail::Corrupt { offset, .. } => assert_eq!(offset as usize, boundary),
    }
}

fuzz_target!(|data: &[u8]| {
    check_record(data);

    let _ = scan(data, None, |f| check_record(f.payload));
    let mut seg = MAGIC.to_vec();
    seg.extend_from_slice(data);
    let _ = scan(&seg, None, |f| check_record(f.payload));
    let _ = scan(&seg, Some(1), |_| {});

    well_formed(data);
});
