//! Every byte dnid writes to disk is encoded here, with bincode 2 (serde) in one fixed
//! configuration. Decoding is bounded so that a corrupt length can never make recovery
//! allocate without limit.

use super::record::{PoolRecord, RouterRecord, WalRecord};
use crate::calls::CallsRecord;
use crate::ids::PoolId;
use bincode::config::{self, Configuration, Fixint, Limit, LittleEndian};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Largest single WAL record (a batch of 10,000 numbers with room to spare).
pub const MAX_RECORD_BYTES: usize = 4 << 20;
/// Largest snapshot body.
pub const MAX_SNAPSHOT_BYTES: usize = 16 << 30;

const RECORD: Configuration<LittleEndian, Fixint, Limit<MAX_RECORD_BYTES>> = config::standard()
    .with_little_endian()
    .with_fixed_int_encoding()
    .with_limit::<MAX_RECORD_BYTES>();

const SNAPSHOT: Configuration<LittleEndian, Fixint, Limit<MAX_SNAPSHOT_BYTES>> = config::standard()
    .with_little_endian()
    .with_fixed_int_encoding()
    .with_limit::<MAX_SNAPSHOT_BYTES>();

#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("cannot encode: {0}")]
    Encode(#[from] bincode::error::EncodeError),
    #[error("cannot decode: {0}")]
    Decode(#[from] bincode::error::DecodeError),
    #[error("{0} trailing bytes after the value")]
    Trailing(usize),
}

pub fn encode_record(r: &WalRecord) -> Result<Vec<u8>, CodecError> {
    Ok(bincode::serde::encode_to_vec(r, RECORD)?)
}

/// Same variant names and order as [`WalRecord`], so the same bytes: lets the live
/// path encode a record it keeps (to apply once durable) without cloning it.
#[derive(Serialize)]
enum Borrowed<'a> {
    #[allow(dead_code)]
    Router(&'a RouterRecord),
    Pool(PoolId, &'a PoolRecord),
    Calls(&'a CallsRecord),
}

/// Encodes `WalRecord::Pool(id, record)` from a borrowed record.
pub fn encode_pool_record(id: PoolId, r: &PoolRecord) -> Result<Vec<u8>, CodecError> {
    Ok(bincode::serde::encode_to_vec(
        Borrowed::Pool(id, r),
        RECORD,
    )?)
}

/// Encodes `WalRecord::Calls(record)` from a borrowed record.
pub fn encode_calls_record(r: &CallsRecord) -> Result<Vec<u8>, CodecError> {
    Ok(bincode::serde::encode_to_vec(Borrowed::Calls(r), RECORD)?)
}

pub fn decode_record(bytes: &[u8]) -> Result<WalRecord, CodecError> {
    decode_exact(bytes, RECORD)
}

pub fn encode_snapshot<T: Serialize>(v: &T) -> Result<Vec<u8>, CodecError> {
    Ok(bincode::serde::encode_to_vec(v, SNAPSHOT)?)
}

/// Decodes a snapshot body. The decode limit grows with the input: bincode allocates
/// a string or vector as long as its length prefix says before reading it, so a
/// damaged prefix in a small file must not be able to ask for gigabytes. A real body
/// never needs more than 64 bytes of memory per byte of input under these tiers.
pub fn decode_snapshot<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, CodecError> {
    const MIB: usize = 1 << 20;
    fn tier<T: DeserializeOwned, const N: usize>(bytes: &[u8]) -> Result<T, CodecError> {
        let c = config::standard()
            .with_little_endian()
            .with_fixed_int_encoding()
            .with_limit::<N>();
        decode_exact(bytes, c)
    }
    match bytes.len() {
        n if n <= MIB => tier::<T, { 64 * MIB }>(bytes),
        n if n <= 16 * MIB => tier::<T, { 1024 * MIB }>(bytes),
        n if n <= 256 * MIB => tier::<T, { 16 * 1024 * MIB }>(bytes),
        _ => decode_exact(bytes, SNAPSHOT),
    }
}

fn decode_exact<T: DeserializeOwned, C: bincode::config::Config>(
    bytes: &[u8],
    c: C,
) -> Result<T, CodecError> {
    // Borrowing: strings are handed to the visitor as slices of `bytes`, so a type
    // that packs them (`Attribution`) allocates once, not once per string.
    let (v, used) = bincode::serde::borrow_decode_from_slice(bytes, c)?;
    if used != bytes.len() {
        return Err(CodecError::Trailing(bytes.len() - used));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{PhoneNumber, SessionId};

    #[test]
    fn records_round_trip() {
        let r = WalRecord::Pool(
            PoolId(7),
            PoolRecord::Assign {
                session: Some(SessionId([1; 16])),
                fresh: SessionId([2; 16]),
                attribution: Some(crate::engine::Attribution::from_landing(
                    "https://x.example/?utm_source=a",
                    None,
                    Some("1.2.3.4"),
                    None,
                )),
                at: 99,
            },
        );
        let bytes = encode_record(&r).unwrap();
        assert_eq!(decode_record(&bytes).unwrap(), r);
        let n = WalRecord::Pool(
            PoolId(1),
            PoolRecord::AddNumbers {
                numbers: vec![PhoneNumber::parse("+15550001001").unwrap()],
                at: 1,
            },
        );
        assert_eq!(decode_record(&encode_record(&n).unwrap()).unwrap(), n);
    }

    #[test]
    fn borrowed_pool_records_encode_like_owned_ones() {
        let rec = PoolRecord::PageView {
            session: SessionId([9; 16]),
            counts_page: true,
            at: 5,
        };
        let owned = encode_record(&WalRecord::Pool(PoolId(3), rec.clone())).unwrap();
        assert_eq!(encode_pool_record(PoolId(3), &rec).unwrap(), owned);
    }

    #[test]
    fn garbage_and_trailing_bytes_are_errors_not_panics() {
        assert!(decode_record(&[]).is_err());
        assert!(decode_record(&[0xff; 64]).is_err());
        let mut bytes = encode_record(&WalRecord::Router(
            crate::store::record::RouterRecord::DeletePool {
                id: PoolId(3),
                at: 4,
            },
        ))
        .unwrap();
        bytes.push(0);
        assert!(matches!(
            decode_record(&bytes),
            Err(CodecError::Trailing(1))
        ));
    }

    #[test]
    fn a_small_snapshot_claiming_a_huge_string_is_refused_without_allocating_it() {
        // The fuzzer's reproducer: one pool, then a name length of 2^32.
        let body = [
            0u8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
        ];
        let r: Result<crate::store::snapshot::SnapshotBody, _> = decode_snapshot(&body);
        // Refused by the limit, before any allocation — not by running out of input.
        assert!(
            matches!(
                r,
                Err(CodecError::Decode(
                    bincode::error::DecodeError::LimitExceeded
                ))
            ),
            "{r:?}"
        );
    }

    #[test]
    fn a_huge_declared_length_does_not_allocate() {
        // Variant 1 (Pool), pool id, variant 3 (AddNumbers), then a vector length of
        // 2^60 elements: the limit refuses it before any allocation.
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&1u32.to_le_bytes());
        bytes.extend_from_slice(&1u64.to_le_bytes());
        bytes.extend_from_slice(&3u32.to_le_bytes());
        bytes.extend_from_slice(&(1u64 << 60).to_le_bytes());
        assert!(decode_record(&bytes).is_err());
    }
}
