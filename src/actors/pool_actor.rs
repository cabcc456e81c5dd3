//! `PoolActor`: owns one engine [`Pool`] and answers its requests in order.
//!
//! The pool is only ever touched from this actor's handler, so it needs no lock.
//! Every change is logged before it is applied: the actor turns a request into a
//! [`PoolRecord`] and logs it. In modes `everysec` and `never` the actor writes it
//! itself and applies it — and answers — at once. In mode `always` it hands it to the
//! WAL writer and applies it when the writer reports it durable
//! ([`PoolMsg::Committed`]); completions arrive in log order. Either way the pool in
//! memory is always the replay of the log.
//!
//! Time: every record is stamped with a clock reading that never goes backwards. A
//! one-second timer (and read requests) move the pool's time forward only while no
//! record is in flight, so a record is never applied at a time earlier than the pool
//! has already reached — which is what makes replay land on the same state.

use super::messages::{
    CallMatch, PendingReply, PoolError, PoolInfo, PoolMsg, RouterMsg, SessionAnswer, SessionView,
};
use crate::clock::SharedClock;
use crate::engine::origin::{origin_allowed, site_host};
use crate::engine::{AssignKind, Assignment, Holder, Pool, SessionId};
use crate::ids::PoolId;
use crate::store::codec::encode_pool_record;
use crate::store::record::{Applied, PoolRecord};
use crate::store::snapshot::PoolImage;
use crate::store::{Wal, WalError};
use crate::telemetry::pool::PoolMetrics;
use ractor::{Actor, ActorProcessingErr, ActorRef};
use std::time::Duration;
use tokio::task::JoinHandle;

/// How often an idle pool moves its time forward.
pub const TICK: Duration = Duration::from_secs(1);

pub struct PoolActor {
    pub id: PoolId,
    pub clock: SharedClock,
    /// Told when drained numbers leave, so it can release their ownership.
    pub router: ActorRef<RouterMsg>,
    pub wal: Wal,
}

/// Startup inputs: the pool (new, or recovered) and the last record applied to it.
pub struct PoolArgs {
    pub pool: Pool,
    pub applied_seq: u64,
}

pub struct PoolState {
    pool: Pool,
    /// The website's host, parsed once per settings change for the origin check.
    site_host: Option<String>,
    ticker: Option<JoinHandle<()>>,
    /// Records handed to the WAL and not yet applied.
    in_flight: usize,
    /// The sequence number of the last record applied.
    applied_seq: u64,
    /// The latest time stamped on a record or used to advance the pool.
    last_stamp: u64,
    metrics: PoolMetrics,
}

impl PoolState {
    /// A clock reading that never goes backwards.
    fn stamp(&mut self, clock: &SharedClock) -> u64 {
        self.last_stamp = self.last_stamp.max(clock.now()).max(self.pool.now());
        self.last_stamp
    }

    /// Moves the pool's time forward, unless records are in flight (they will).
    fn advance_if_idle(&mut self, clock: &SharedClock) {
        if self.in_flight == 0 {
            let now = self.stamp(clock);
            self.pool.advance(now);
        }
    }
}

impl Actor for PoolActor {
    type Msg = PoolMsg;
    type State = PoolState;
    type Arguments = PoolArgs;

    async fn pre_start(
        &self,
        _myself: ActorRef<PoolMsg>,
        args: PoolArgs,
    ) -> Result<PoolState, ActorProcessingErr> {
        let pool = args.pool;
        let mut metrics = PoolMetrics::new(self.id, &pool);
        metrics.update(&pool);
        metrics.update_sizing(pool.recommended_size());
        Ok(PoolState {
            site_host: site_host(&pool.settings().website_url),
            last_stamp: pool.now(),
            metrics,
            pool,
            ticker: None,
            in_flight: 0,
            applied_seq: args.applied_seq,
        })
    }

    async fn post_start(
        &self,
        myself: ActorRef<PoolMsg>,
        state: &mut PoolState,
    ) -> Result<(), ActorProcessingErr> {
        state.ticker = Some(myself.send_interval(TICK, || PoolMsg::Tick));
        Ok(())
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<PoolMsg>,
        state: &mut PoolState,
    ) -> Result<(), ActorProcessingErr> {
        if let Some(t) = state.ticker.take() {
            t.abort();
        }
        state.metrics.zero();
        Ok(())
    }

    async fn handle(
        &self,
        myself: ActorRef<PoolMsg>,
        msg: PoolMsg,
        state: &mut PoolState,
    ) -> Result<(), ActorProcessingErr> {
        let tick = matches!(msg, PoolMsg::Tick);
        match msg {
            PoolMsg::Assign(input, reply) => {
                if let Some(origin) = input.origin.as_deref() {
                    let host = state.site_host.as_deref().unwrap_or_default();
                    if !origin_allowed(origin, host) {
                        let origin = origin.chars().take(100).collect();
                        let _ = reply.send(Err(PoolError::OriginNotAllowed(origin)));
                        return Ok(());
                    }
                }
                if input.bot {
                    // Bots change nothing but a counter: answered now, not logged.
                    let now = if state.in_flight == 0 {
                        state.stamp(&self.clock)
                    } else {
                        state.pool.now()
                    };
                    state.pool.bot(now);
                    state.metrics.assigned(AssignKind::Bot);
                    let _ = reply.send(Ok(SessionAnswer {
                        session: input.session.unwrap_or_else(SessionId::random),
                        kind: AssignKind::Bot,
                        number: Some(state.pool.settings().target_number.clone()),
                        expires_at: None,
                    }));
                    return Ok(());
                }
                let at = state.stamp(&self.clock);
                let known = input.session.filter(|s| state.pool.retains_session(s, at));
                let record = PoolRecord::Assign {
                    session: known,
                    fresh: SessionId::random(),
                    attribution: known.is_none().then(|| input.attribution()),
                    at,
                };
                self.log(&myself, state, record, PendingReply::Session(reply));
            }
            PoolMsg::PageView {
                session,
                heartbeat,
                reply,
            } => {
                let at = state.stamp(&self.clock);
                if !state.pool.retains_session(&session, at) {
                    let _ = reply.send(Err(PoolError::SessionNotFound));
                    return Ok(());
                }
                let record = PoolRecord::PageView {
                    session,
                    counts_page: !heartbeat,
                    at,
                };
                self.log(&myself, state, record, PendingReply::Session(reply));
            }
            PoolMsg::EndSession(session, reply) => {
                let at = state.stamp(&self.clock);
                if !state.pool.retains_session(&session, at) {
                    let _ = reply.send(Err(PoolError::SessionNotFound));
                    return Ok(());
                }
                let record = PoolRecord::Release { session, at };
                self.log(&myself, state, record, PendingReply::Unit(reply));
            }
            PoolMsg::AddNumbers(numbers, reply) => {
                let at = state.stamp(&self.clock);
                let record = PoolRecord::AddNumbers { numbers, at };
                self.log(&myself, state, record, PendingReply::Unit(reply));
            }
            PoolMsg::RemoveNumber {
                number,
                force,
                reply,
            } => {
                let at = state.stamp(&self.clock);
                let record = PoolRecord::RemoveNumber { number, force, at };
                self.log(&myself, state, record, PendingReply::Removal(reply));
            }
            PoolMsg::Update(patch, reply) => match patch.apply(state.pool.settings().clone()) {
                Ok(settings) => {
                    let at = state.stamp(&self.clock);
                    let record = PoolRecord::Update { settings, at };
                    self.log(&myself, state, record, PendingReply::Info(reply));
                }
                Err(e) => {
                    let _ = reply.send(Err(e));
                }
            },
            PoolMsg::Committed {
                record,
                reply,
                result,
            } => {
                state.in_flight -= 1;
                self.commit(state, record, reply, result);
            }
            PoolMsg::Info {
                with_numbers,
                reply,
            } => {
                state.advance_if_idle(&self.clock);
                let _ = reply.send(Ok(self.info(&state.pool, with_numbers)));
            }
            PoolMsg::Sessions { limit, reply } => {
                state.advance_if_idle(&self.clock);
                let pool = &state.pool;
                let views = pool
                    .live_sessions(limit)
                    .into_iter()
                    .filter_map(|l| {
                        Some(SessionView {
                            session: l.session_id,
                            number: pool.number_of(l.slot)?.clone(),
                            expires_at: l.expires_at,
                            data: l.session.clone(),
                        })
                    })
                    .collect();
                let _ = reply.send(Ok(views));
            }
            PoolMsg::Lookup { number, at, reply } => {
                state.advance_if_idle(&self.clock);
                let pool = &state.pool;
                let holder = pool.who_held(&number, at).unwrap_or(Holder::Nobody);
                let ids: Vec<SessionId> = match &holder {
                    Holder::Attributed(a) | Holder::Late(a) => vec![*a],
                    Holder::Ambiguous(a, b) => vec![*a, *b],
                    Holder::Nobody => vec![],
                };
                let sessions = ids
                    .into_iter()
                    .filter_map(|id| Some((id, pool.session_snapshot(&id)?)))
                    .collect();
                let _ = reply.send(Ok(CallMatch { holder, sessions }));
            }
            PoolMsg::Snapshot { barrier, reply } => {
                // With nothing in flight, every record of this pool logged before the
                // barrier has been applied, so the copy covers up to the barrier.
                let covered_seq = if state.in_flight == 0 {
                    state.applied_seq.max(barrier)
                } else {
                    state.applied_seq
                };
                let _ = reply.send(Ok(PoolImage {
                    id: self.id,
                    covered_seq,
                    pool: state.pool.clone(),
                }));
            }
            PoolMsg::Tick => state.advance_if_idle(&self.clock),
            #[cfg(test)]
            PoolMsg::Crash => panic!("crash requested by a test"),
        }
        let departed = state.pool.take_departed();
        if !departed.is_empty() {
            self.router
                .send_message(RouterMsg::Departed(self.id, departed))?;
        }
        state.metrics.update(&state.pool);
        if tick {
            state.metrics.update_sizing(state.pool.recommended_size());
        }
        Ok(())
    }
}

impl PoolActor {
    /// Logs `record`, then applies and answers it: now if the WAL wrote it on this
    /// thread, else on `Committed`.
    fn log(
        &self,
        myself: &ActorRef<PoolMsg>,
        state: &mut PoolState,
        record: PoolRecord,
        reply: PendingReply,
    ) {
        let bytes = match encode_pool_record(self.id, &record) {
            Ok(b) => b,
            Err(e) => {
                reply.fail(PoolError::Storage(e.to_string()));
                return;
            }
        };
        if let Some(result) = self.wal.write_now(&bytes) {
            return self.commit(state, record, reply, result);
        }
        state.in_flight += 1;
        let me = myself.clone();
        self.wal.append(
            bytes,
            Box::new(move |result| {
                // If the actor is gone, so is the asker's reply port: nothing to do.
                let _ = me.send_message(PoolMsg::Committed {
                    record,
                    reply,
                    result,
                });
            }),
        );
    }

    /// Applies a logged record and answers it, or refuses it if it was not logged.
    fn commit(
        &self,
        state: &mut PoolState,
        record: PoolRecord,
        reply: PendingReply,
        result: Result<u64, WalError>,
    ) {
        match result {
            Ok(seq) => {
                state.applied_seq = seq;
                let applied = record.apply(&mut state.pool);
                if let Applied::Assigned(a) | Applied::PageView(Ok(a)) = &applied {
                    state.metrics.assigned(a.kind);
                }
                if matches!(applied, Applied::Updated) {
                    state.site_host = site_host(&state.pool.settings().website_url);
                }
                self.answer(state, applied, reply);
            }
            Err(e) => reply.fail(PoolError::Storage(e.to_string())),
        }
    }

    fn answer(&self, state: &PoolState, applied: Applied, reply: PendingReply) {
        let pool = &state.pool;
        match (applied, reply) {
            (Applied::Assigned(a), PendingReply::Session(r)) => {
                let _ = r.send(Ok(answer(pool, a)));
            }
            (Applied::PageView(a), PendingReply::Session(r)) => {
                let _ = r.send(
                    a.map(|a| answer(pool, a))
                        .map_err(|_| PoolError::SessionNotFound),
                );
            }
            (Applied::Released(x), PendingReply::Unit(r)) => {
                let _ = r.send(x.map_err(|_| PoolError::SessionNotFound));
            }
            (Applied::Added(x), PendingReply::Unit(r)) => {
                let _ = r.send(x.map_err(PoolError::from));
            }
            (Applied::Removed(x), PendingReply::Removal(r)) => {
                let _ = r.send(x.map_err(PoolError::from));
            }
            (Applied::Updated, PendingReply::Info(r)) => {
                let _ = r.send(Ok(self.info(pool, false)));
            }
            (_, reply) => reply.fail(PoolError::Storage(
                "internal: a record's outcome did not match its request".into(),
            )),
        }
    }

    fn info(&self, pool: &Pool, with_numbers: bool) -> PoolInfo {
        PoolInfo {
            id: self.id,
            settings: pool.settings().clone(),
            stats: pool.stats(),
            numbers: if with_numbers {
                pool.numbers().map(|(n, l, d)| (n.clone(), l, d)).collect()
            } else {
                Vec::new()
            },
        }
    }
}

/// Turns the engine's assignment into what the visitor is shown.
fn answer(pool: &Pool, a: Assignment) -> SessionAnswer {
    let number = match (a.kind, a.lease) {
        (_, Some((slot, _))) => pool.number_of(slot).cloned(),
        (AssignKind::Fallback, None) => Some(pool.settings().fallback_or_target().clone()),
        (AssignKind::Bot, None) => Some(pool.settings().target_number.clone()),
        _ => None,
    };
    SessionAnswer {
        session: a.session_id,
        kind: a.kind,
        number,
        expires_at: a.lease.map(|(_, e)| e),
    }
}
