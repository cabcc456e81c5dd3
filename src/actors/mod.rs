//! The actor layer (ractor): one [`PoolActor`] per pool, and a [`RouterActor`] that
//! owns them all and dispatches requests to them.

pub mod calls_actor;
pub mod messages;
pub mod pool_actor;
pub mod router;
pub mod snapshots;

#[cfg(test)]
mod tests;

pub use messages::{
    AssignInput, CallMatch, PoolError, PoolInfo, PoolMsg, PoolPatch, RouterMsg, SessionAnswer,
    SessionView,
};
pub use pool_actor::PoolActor;
pub use router::RouterActor;
