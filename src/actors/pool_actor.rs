//! `PoolActor`: owns one engine [`Pool`] and answers its requests in order.
//!
//! The pool is only ever touched from this actor's handler, so it needs no lock.
//! Time comes from the injected clock on every message, and a one-second timer moves
//! time forward when nobody asks, so expiries happen on time in an idle pool too.

use super::messages::{
    CallMatch, PoolError, PoolInfo, PoolMsg, RouterMsg, SessionAnswer, SessionView,
};
use crate::clock::SharedClock;
use crate::engine::origin::{origin_allowed, site_host};
use crate::engine::{AssignKind, Assignment, Holder, Pool, SessionId};
use crate::ids::PoolId;
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
}

pub struct PoolState {
    pool: Pool,
    /// The website's host, parsed once per settings change for the origin check.
    site_host: Option<String>,
    ticker: Option<JoinHandle<()>>,
}

impl Actor for PoolActor {
    type Msg = PoolMsg;
    type State = PoolState;
    type Arguments = Pool;

    async fn pre_start(
        &self,
        _myself: ActorRef<PoolMsg>,
        pool: Pool,
    ) -> Result<PoolState, ActorProcessingErr> {
        Ok(PoolState {
            site_host: site_host(&pool.settings().website_url),
            pool,
            ticker: None,
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
        Ok(())
    }

    async fn handle(
        &self,
        _myself: ActorRef<PoolMsg>,
        msg: PoolMsg,
        state: &mut PoolState,
    ) -> Result<(), ActorProcessingErr> {
        let now = self.clock.now();
        let pool = &mut state.pool;
        match msg {
            PoolMsg::Assign(input, reply) => {
                if let Some(origin) = input.origin.as_deref() {
                    let host = state.site_host.as_deref().unwrap_or_default();
                    if !origin_allowed(origin, host) {
                        let _ = reply.send(Err(PoolError::OriginNotAllowed(
                            origin.chars().take(100).collect(),
                        )));
                        return Ok(());
                    }
                }
                let answer = if input.bot {
                    pool.bot(now);
                    SessionAnswer {
                        session: input.session.unwrap_or_else(SessionId::random),
                        kind: AssignKind::Bot,
                        number: Some(pool.settings().target_number.clone()),
                        expires_at: None,
                    }
                } else {
                    let a = pool.assign(
                        input.session,
                        SessionId::random(),
                        || input.attribution(),
                        now,
                    );
                    answer(pool, a)
                };
                let _ = reply.send(Ok(answer));
            }
            PoolMsg::PageView {
                session,
                heartbeat,
                reply,
            } => {
                let r = pool
                    .page_view(session, !heartbeat, now)
                    .map(|a| answer(pool, a))
                    .map_err(|_| PoolError::SessionNotFound);
                let _ = reply.send(r);
            }
            PoolMsg::EndSession(session, reply) => {
                let r = pool
                    .release(session, now)
                    .map_err(|_| PoolError::SessionNotFound);
                let _ = reply.send(r);
            }
            PoolMsg::AddNumbers(numbers, reply) => {
                let _ = reply.send(pool.add_numbers(&numbers, now).map_err(PoolError::from));
            }
            PoolMsg::RemoveNumber {
                number,
                force,
                reply,
            } => {
                let _ = reply.send(
                    pool.remove_number(&number, force, now)
                        .map_err(PoolError::from),
                );
            }
            PoolMsg::Info {
                with_numbers,
                reply,
            } => {
                pool.advance(now);
                let _ = reply.send(Ok(self.info(pool, with_numbers)));
            }
            PoolMsg::Update(patch, reply) => {
                let r = patch.apply(pool.settings().clone()).map(|s| {
                    state.site_host = site_host(&s.website_url);
                    pool.set_settings(s);
                    pool.advance(now);
                    self.info(pool, false)
                });
                let _ = reply.send(r);
            }
            PoolMsg::Sessions { limit, reply } => {
                pool.advance(now);
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
                pool.advance(now);
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
            PoolMsg::Tick => {
                pool.advance(now);
            }
            #[cfg(test)]
            PoolMsg::Crash => panic!("crash requested by a test"),
        }
        let departed = pool.take_departed();
        if !departed.is_empty() {
            self.router
                .send_message(RouterMsg::Departed(self.id, departed))?;
        }
        Ok(())
    }
}

impl PoolActor {
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
