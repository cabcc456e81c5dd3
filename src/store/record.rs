//! WAL records: the inputs of every state change, so that replaying them through the
//! same deterministic engine rebuilds the same state.
//!
//! A record carries everything the change needs that is not in the state already —
//! the time, the fresh session id drawn from the RNG, the attribution — and nothing it
//! computes, so the live path and recovery share one `apply`.

use crate::calls::CallsRecord;
use crate::engine::{
    AddError, Assignment, Attribution, NotInPool, PhoneNumber, Pool, PoolSettings, Removal,
    SessionId, SessionNotFound,
};
use crate::ids::PoolId;
use serde::{Deserialize, Serialize};

/// A change to one pool.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum PoolRecord {
    Assign {
        session: Option<SessionId>,
        fresh: SessionId,
        /// Present when the session is new to the pool.
        attribution: Option<Attribution>,
        at: u64,
    },
    PageView {
        session: SessionId,
        counts_page: bool,
        at: u64,
    },
    Release {
        session: SessionId,
        at: u64,
    },
    AddNumbers {
        numbers: Vec<PhoneNumber>,
        at: u64,
    },
    RemoveNumber {
        number: PhoneNumber,
        force: bool,
        at: u64,
    },
    Update {
        settings: PoolSettings,
        at: u64,
    },
}

/// A change to the set of pools.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum RouterRecord {
    CreatePool {
        id: PoolId,
        settings: PoolSettings,
        numbers: Vec<PhoneNumber>,
        at: u64,
    },
    DeletePool {
        id: PoolId,
        at: u64,
    },
}

/// One entry of the write-ahead log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum WalRecord {
    Router(RouterRecord),
    Pool(PoolId, PoolRecord),
    Calls(CallsRecord),
}

/// What applying a pool record did, for the reply.
#[derive(Debug, Clone, PartialEq)]
pub enum Applied {
    Assigned(Assignment),
    PageView(Result<Assignment, SessionNotFound>),
    Released(Result<(), SessionNotFound>),
    Added(Result<(), AddError>),
    Removed(Result<Removal, NotInPool>),
    Updated,
}

impl PoolRecord {
    /// Applies the record to `pool`. The live path and recovery both call this.
    pub fn apply(self, pool: &mut Pool) -> Applied {
        match self {
            PoolRecord::Assign {
                session,
                fresh,
                attribution,
                at,
            } => Applied::Assigned(pool.assign(
                session,
                fresh,
                || attribution.unwrap_or_default(),
                at,
            )),
            PoolRecord::PageView {
                session,
                counts_page,
                at,
            } => Applied::PageView(pool.page_view(session, counts_page, at)),
            PoolRecord::Release { session, at } => Applied::Released(pool.release(session, at)),
            PoolRecord::AddNumbers { numbers, at } => {
                Applied::Added(pool.add_numbers(&numbers, at))
            }
            PoolRecord::RemoveNumber { number, force, at } => {
                Applied::Removed(pool.remove_number(&number, force, at))
            }
            PoolRecord::Update { settings, at } => {
                pool.set_settings(settings);
                pool.advance(at);
                Applied::Updated
            }
        }
    }
}
