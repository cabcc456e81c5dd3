//! The pool engine: pure, synchronous data structures that apply the lease rules of
//! design §2. No I/O and no clock: callers pass `now` in unix seconds.

pub mod attribution;
pub mod inventory;
pub mod lookup;
pub mod number;
pub mod origin;
pub mod pool;
pub mod session;
pub mod settings;
pub mod slot_queue;
pub mod stats;
pub mod wheel;

#[cfg(test)]
mod rules_tests;

pub use attribution::Field;
pub use inventory::{AddError, NotInPool, Removal};
pub use lookup::Holder;
pub use number::{NumberError, PhoneNumber};
pub use pool::{AssignKind, Assignment, Lease, PastHolder, Pool, SessionNotFound, Slot};
pub use session::{Attribution, BadSessionId, Session, SessionId};
pub use settings::{ExhaustionPolicy, PoolSettings, SettingsError};
pub use stats::{Counters, LiveSession, PoolStats};
