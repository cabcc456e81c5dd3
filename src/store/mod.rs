//! Durability: the write-ahead log, snapshots, and recovery (design §5).
//!
//! Every state change is a [`record::WalRecord`]. It is logged first; only once the
//! writer says it is durable is it applied to the pool and answered. So the state in
//! memory is always the replay of what is on disk, whatever fails in between.

pub mod codec;
pub mod fs;
pub mod record;
pub mod recovery;
pub mod segment;
pub mod snapshot;
pub mod wal;

#[cfg(test)]
mod tests;

pub use wal::{FsyncMode, Wal, WalError};
