//! What the HTTP layer asks of the actors, and what it gets back.
//!
//! Every request carries its own reply port. A request's error (unknown session, bad
//! number…) goes back in that reply as `Err(PoolError)`; an actor only fails for real
//! faults.

use crate::engine::{
    AddError, AssignKind, Attribution, ExhaustionPolicy, Holder, NotInPool, PhoneNumber,
    PoolSettings, PoolStats, Removal, Session, SessionId, SettingsError,
};
use crate::ids::PoolId;
use crate::store::record::PoolRecord;
use crate::store::snapshot::PoolImage;
use ractor::RpcReplyPort;
use serde::Deserialize;

/// Why a request to a pool failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PoolError {
    #[error("pool {0} not found")]
    PoolNotFound(PoolId),
    #[error("pool {0} is unavailable after an internal fault; see the server log")]
    PoolUnavailable(PoolId),
    #[error("session not found")]
    SessionNotFound,
    #[error(transparent)]
    Add(#[from] AddError),
    #[error(transparent)]
    NotInPool(#[from] NotInPool),
    #[error("number {0} already belongs to pool {1}")]
    NumberInOtherPool(PhoneNumber, PoolId),
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error("{field}: {error}")]
    InvalidNumber {
        field: &'static str,
        error: crate::engine::NumberError,
    },
    #[error(
        "origin {0} may not use this pool: it is not the pool's website or one of its subdomains"
    )]
    OriginNotAllowed(String),
    /// The change could not be made durable; nothing was changed.
    #[error("{0}")]
    Storage(String),
}

/// A page load from the tracking snippet.
#[derive(Debug, Clone)]
pub struct AssignInput {
    pub session: Option<SessionId>,
    pub page_url: String,
    pub referrer: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub bot: bool,
    /// The browser's `Origin` header; checked against the pool's website.
    pub origin: Option<String>,
}

impl AssignInput {
    pub fn attribution(&self) -> Attribution {
        Attribution::from_landing(
            &self.page_url,
            self.referrer.as_deref(),
            self.ip.as_deref(),
            self.user_agent.as_deref(),
        )
    }
}

/// What the visitor is told.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionAnswer {
    pub session: SessionId,
    pub kind: AssignKind,
    /// The number to show: the leased one, the fallback, the target (bots), or none
    /// (`no_swap`).
    pub number: Option<PhoneNumber>,
    pub expires_at: Option<u64>,
}

/// A pool as the admin API shows it.
#[derive(Debug, Clone)]
pub struct PoolInfo {
    pub id: PoolId,
    pub settings: PoolSettings,
    pub stats: PoolStats,
    /// Every number with (leased, draining); empty unless asked for.
    pub numbers: Vec<(PhoneNumber, bool, bool)>,
}

/// A live session as the admin API shows it.
#[derive(Debug, Clone)]
pub struct SessionView {
    pub session: SessionId,
    pub number: PhoneNumber,
    pub expires_at: u64,
    pub data: Session,
}

/// A call's match against a pool's leases.
#[derive(Debug, Clone)]
pub struct CallMatch {
    pub holder: Holder,
    /// Copies of the candidate sessions, in the order `holder` names them.
    pub sessions: Vec<(SessionId, Session)>,
}

/// A partial update of a pool's settings (`PATCH /api/v1/pools/{id}`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolPatch {
    pub name: Option<String>,
    pub website_url: Option<String>,
    pub target_number: Option<String>,
    /// `null` clears it; absent leaves it.
    #[serde(default, deserialize_with = "present")]
    pub fallback_number: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub call_flow_id: Option<Option<String>>,
    pub session_timeout_secs: Option<u64>,
    pub attribution_window_secs: Option<u64>,
    pub exhaustion_policy: Option<ExhaustionPolicy>,
}

/// Tells `"field": null` (Some(None)) from a missing field (None).
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

impl PoolPatch {
    /// The settings after this patch, validated.
    pub fn apply(self, mut s: PoolSettings) -> Result<PoolSettings, PoolError> {
        if let Some(v) = self.name {
            s.name = v;
        }
        if let Some(v) = self.website_url {
            s.website_url = v;
        }
        if let Some(v) = self.target_number {
            s.target_number = parse_number("target_number", &v)?;
        }
        if let Some(v) = self.fallback_number {
            s.fallback_number = v.map(|v| parse_number("fallback_number", &v)).transpose()?;
        }
        if let Some(v) = self.call_flow_id {
            s.call_flow_id = v;
        }
        if let Some(v) = self.session_timeout_secs {
            s.session_timeout_secs = v;
        }
        if let Some(v) = self.attribution_window_secs {
            s.attribution_window_secs = v;
        }
        if let Some(v) = self.exhaustion_policy {
            s.exhaustion_policy = v;
        }
        s.validate()?;
        Ok(s)
    }
}

/// Parses a number from a request field, naming the field in the error.
pub fn parse_number(field: &'static str, value: &str) -> Result<PhoneNumber, PoolError> {
    PhoneNumber::parse(value).map_err(|error| PoolError::InvalidNumber { field, error })
}

type Reply<T> = RpcReplyPort<Result<T, PoolError>>;

/// Where the answer to a logged request goes once its record is applied.
pub enum PendingReply {
    Session(Reply<SessionAnswer>),
    Unit(Reply<()>),
    Removal(Reply<Removal>),
    Info(Reply<PoolInfo>),
}

impl PendingReply {
    pub fn fail(self, err: PoolError) {
        // The asker may have timed out and gone: nothing to do then.
        match self {
            PendingReply::Session(r) => drop(r.send(Err(err))),
            PendingReply::Unit(r) => drop(r.send(Err(err))),
            PendingReply::Removal(r) => drop(r.send(Err(err))),
            PendingReply::Info(r) => drop(r.send(Err(err))),
        }
    }
}

/// Messages a pool actor handles.
pub enum PoolMsg {
    Assign(AssignInput, Reply<SessionAnswer>),
    PageView {
        session: SessionId,
        heartbeat: bool,
        reply: Reply<SessionAnswer>,
    },
    EndSession(SessionId, Reply<()>),
    AddNumbers(Vec<PhoneNumber>, Reply<()>),
    RemoveNumber {
        number: PhoneNumber,
        force: bool,
        reply: Reply<Removal>,
    },
    Info {
        with_numbers: bool,
        reply: Reply<PoolInfo>,
    },
    Update(PoolPatch, Reply<PoolInfo>),
    Sessions {
        limit: usize,
        reply: Reply<Vec<SessionView>>,
    },
    /// Who held `number` at time `at`.
    Lookup {
        number: PhoneNumber,
        at: u64,
        reply: Reply<CallMatch>,
    },
    /// A logged record is durable (or failed): apply it and answer.
    Committed {
        record: PoolRecord,
        reply: PendingReply,
        result: Result<u64, crate::store::WalError>,
    },
    /// A consistent copy of the pool for a snapshot taken at WAL position `barrier`.
    Snapshot {
        barrier: u64,
        reply: Reply<PoolImage>,
    },
    /// Moves the pool's time forward (sent every second by the actor's own timer).
    Tick,
    /// Fails the actor, to test supervision.
    #[cfg(test)]
    Crash,
}

impl PoolMsg {
    /// Answers the request with `err` without handling it (its pool is gone).
    pub fn reject(self, err: PoolError) {
        fn send<T>(port: Reply<T>, err: PoolError) {
            // The asker may have timed out and gone: nothing to do then.
            let _ = port.send(Err(err));
        }
        match self {
            PoolMsg::Assign(_, r) | PoolMsg::PageView { reply: r, .. } => send(r, err),
            PoolMsg::EndSession(_, r) | PoolMsg::AddNumbers(_, r) => send(r, err),
            PoolMsg::RemoveNumber { reply, .. } => send(reply, err),
            PoolMsg::Info { reply, .. } | PoolMsg::Update(_, reply) => send(reply, err),
            PoolMsg::Sessions { reply, .. } => send(reply, err),
            PoolMsg::Lookup { reply, .. } => send(reply, err),
            PoolMsg::Committed { reply, .. } => reply.fail(err),
            PoolMsg::Snapshot { reply, .. } => send(reply, err),
            PoolMsg::Tick => {}
            #[cfg(test)]
            PoolMsg::Crash => {}
        }
    }
}

/// A pool id with its actor, or the error that makes it unavailable.
pub type PoolListing = (PoolId, Result<ractor::ActorRef<PoolMsg>, PoolError>);

/// The router's part of a snapshot: the WAL position its pool set covers, and every
/// pool's actor.
pub type SnapshotPlan = (u64, Vec<(PoolId, ractor::ActorRef<PoolMsg>)>);

/// Messages the router handles.
pub enum RouterMsg {
    /// Forward a request to a pool (the hot path: one lookup, one send).
    Dispatch(PoolId, PoolMsg),
    Create {
        settings: PoolSettings,
        numbers: Vec<PhoneNumber>,
        reply: Reply<PoolId>,
    },
    Delete(PoolId, Reply<()>),
    /// Every pool id with its actor, or the error that makes it unavailable.
    List(RpcReplyPort<Vec<PoolListing>>),
    AddNumbers(PoolId, Vec<PhoneNumber>, Reply<()>),
    RemoveNumber {
        pool: PoolId,
        number: PhoneNumber,
        force: bool,
        reply: Reply<Removal>,
    },
    /// Which pool owns a number (tracking numbers only).
    FindNumber(PhoneNumber, RpcReplyPort<Option<PoolId>>),
    /// Sent by a pool when drained numbers have left it.
    Departed(PoolId, Vec<PhoneNumber>),
    /// For a snapshot at WAL position `barrier`: the router's covered position and
    /// every pool's actor. Fails if a pool is unavailable (its state would be missing).
    Snapshot(u64, Reply<SnapshotPlan>),
}
