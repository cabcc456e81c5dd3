//! The snapshot reader on arbitrary bytes: `snapshot::read` of a file holding them,
//! and `codec::decode_snapshot::<SnapshotBody>` on them directly. Neither may panic,
//! and neither may allocate without bound (run with `-malloc_limit_mb=256`, see
//! README.md).
//!
//! Each input is used three ways:
//! 1. decoded directly as a snapshot body; whatever decodes encodes again and decodes
//!    to the same body;
//! 2. written as a whole snapshot file and read (header checks);
//! 3. written as the body of a file whose header is correct for it (magic, version,
//!    length and both CRC32Cs), so the fuzzer reaches the body decoder through
//!    `snapshot::read` without forging checksums.
#![no_main]

use dnid::store::codec::{decode_snapshot, encode_snapshot};
use dnid::store::snapshot::{self, SnapshotBody, FORMAT_VERSION, HEADER_LEN, MAGIC};
use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use std::sync::OnceLock;

/// One scratch file per fuzzing process, rewritten for every input and removed after
/// it (a process killed mid-input, e.g. by the malloc limit, leaves one behind).
fn scratch() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        std::env::temp_dir().join(format!("dnid-fuzz-snapshot-{}.dnid", std::process::id()))
    })
}

/// `body` behind a header that is correct for it (the layout of `snapshot::write`).
fn with_good_header(body: &[u8]) -> Vec<u8> {
    let mut file = Vec::with_capacity(HEADER_LEN + body.len());
    file.extend_from_slice(MAGIC);
    file.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    file.extend_from_slice(&1_700_000_000u64.to_le_bytes());
    file.extend_from_slice(&7u64.to_le_bytes());
    file.extend_from_slice(&(body.len() as u64).to_le_bytes());
    file.extend_from_slice(&crc32c::crc32c(body).to_le_bytes());
    let head = crc32c::crc32c(&file);
    file.extend_from_slice(&head.to_le_bytes());
    assert_eq!(file.len(), HEADER_LEN);
    file.extend_from_slice(body);
    file
}

fuzz_target!(|data: &[u8]| {
    if let Ok(body) = decode_snapshot::<SnapshotBody>(data) {
        let again = encode_snapshot(&body).expect("a decoded body encodes");
        let back = decode_snapshot::<SnapshotBody>(&again).expect("a re-encoded body decodes");
        assert_eq!(back, body, "body changed across encode/decode");
    }

    let path = scratch();
    std::fs::write(path, data).expect("scratch file");
    let _ = snapshot::read(path);

    std::fs::write(path, with_good_header(data)).expect("scratch file");
    if let Ok((meta, body)) = snapshot::read(path) {
        assert_eq!(meta.body_len, data.len() as u64);
        assert_eq!(meta.covered_seq, 7);
        assert_eq!(decode_snapshot::<SnapshotBody>(data).ok(), Some(body));
    }
    let _ = std::fs::remove_file(path);
});
