//! `RouterActor`: owns the map from pool id to pool actor, creates and stops pool
//! actors, supervises them, and keeps the rule that a number belongs to at most one
//! pool (design §2 rule 8).

use super::messages::{PoolError, PoolMsg, RouterMsg};
use super::pool_actor::{PoolActor, PoolArgs};
use crate::clock::SharedClock;
use crate::engine::{PhoneNumber, Pool, Removal};
use crate::ids::PoolId;
use crate::store::codec::encode_record;
use crate::store::record::{RouterRecord, WalRecord};
use crate::store::recovery::RecoveredPool;
use crate::store::Wal;
use ractor::rpc::CallResult;
use ractor::{Actor, ActorId, ActorProcessingErr, ActorRef, MessagingErr, SupervisionEvent};
use std::collections::BTreeMap;
use std::collections::HashMap;
use std::time::Duration;

pub struct RouterActor {
    pub clock: SharedClock,
    /// How long the router waits for a pool during an admin change.
    pub request_timeout: Duration,
    pub wal: Wal,
}

/// Startup inputs: the pools recovered from disk.
#[derive(Default)]
pub struct RouterArgs {
    pub pools: BTreeMap<PoolId, RecoveredPool>,
    /// The sequence number of the last pool creation or deletion applied.
    pub router_seq: u64,
}

/// A pool as the router knows it.
enum PoolEntry {
    Running(ActorRef<PoolMsg>),
    /// Its actor failed; requests get `pool_unavailable` until it is deleted.
    Failed,
}

#[derive(Default)]
pub struct RouterState {
    pools: HashMap<PoolId, PoolEntry>,
    /// Which pool each running actor serves, to read supervision events.
    by_actor: HashMap<ActorId, PoolId>,
    /// Which pool each tracking number belongs to, draining numbers included.
    owners: HashMap<PhoneNumber, PoolId>,
    /// The sequence number of the last pool creation or deletion applied.
    router_seq: u64,
}

impl Actor for RouterActor {
    type Msg = RouterMsg;
    type State = RouterState;
    type Arguments = RouterArgs;

    async fn pre_start(
        &self,
        myself: ActorRef<RouterMsg>,
        args: RouterArgs,
    ) -> Result<RouterState, ActorProcessingErr> {
        let mut state = RouterState {
            router_seq: args.router_seq,
            ..Default::default()
        };
        for (id, p) in args.pools {
            let numbers: Vec<PhoneNumber> = p.pool.numbers().map(|(n, _, _)| n.clone()).collect();
            self.spawn_pool(&myself, &mut state, id, p.pool, p.applied_seq)
                .await
                .map_err(|e| format!("cannot start recovered pool {id}: {e}"))?;
            for n in numbers {
                state.owners.insert(n, id);
            }
        }
        Ok(state)
    }

    async fn handle(
        &self,
        myself: ActorRef<RouterMsg>,
        msg: RouterMsg,
        state: &mut RouterState,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            RouterMsg::Dispatch(id, msg) => state.dispatch(id, msg),
            RouterMsg::Create {
                settings,
                numbers,
                reply,
            } => {
                let r = self.create(&myself, state, settings, numbers).await;
                let _ = reply.send(r);
            }
            RouterMsg::Delete(id, reply) => {
                let r = self.delete(state, id).await;
                let _ = reply.send(r);
            }
            RouterMsg::Snapshot(barrier, reply) => {
                // Router changes are applied only once durable and one at a time, so
                // every one logged before the barrier is reflected here.
                let covered = state.router_seq.max(barrier);
                let pools: Result<Vec<_>, PoolError> = state
                    .pools
                    .iter()
                    .map(|(id, e)| state.entry_ref(*id, e).map(|a| (*id, a)))
                    .collect();
                let _ = reply.send(pools.map(|p| (covered, p)));
            }
            RouterMsg::List(reply) => {
                let mut list: Vec<_> = state
                    .pools
                    .iter()
                    .map(|(id, e)| (*id, state.entry_ref(*id, e)))
                    .collect();
                list.sort_by_key(|(id, _)| *id);
                let _ = reply.send(list);
            }
            RouterMsg::AddNumbers(id, numbers, reply) => {
                let r = self.add_numbers(state, id, numbers).await;
                let _ = reply.send(r);
            }
            RouterMsg::RemoveNumber {
                pool,
                number,
                force,
                reply,
            } => {
                let r = self.remove_number(state, pool, number, force).await;
                let _ = reply.send(r);
            }
            RouterMsg::FindNumber(number, reply) => {
                let _ = reply.send(state.owners.get(&number).copied());
            }
            RouterMsg::Departed(id, numbers) => {
                for n in numbers {
                    if state.owners.get(&n) == Some(&id) {
                        state.owners.remove(&n);
                    }
                }
            }
        }
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        _myself: ActorRef<RouterMsg>,
        evt: SupervisionEvent,
        state: &mut RouterState,
    ) -> Result<(), ActorProcessingErr> {
        // A pool actor that dies must not take the router (and so every other pool)
        // with it: mark the pool unavailable and keep serving the others.
        match evt {
            SupervisionEvent::ActorFailed(cell, err) => {
                if let Some(id) = state.by_actor.remove(&cell.get_id()) {
                    tracing::error!(pool = %id, error = %err, "pool actor failed; requests for this pool now get 503 pool_unavailable");
                    state.pools.insert(id, PoolEntry::Failed);
                }
            }
            // Pool actors stop only when told to: on deletion (already unmapped) or
            // at shutdown. Either way its requests can no longer be served.
            SupervisionEvent::ActorTerminated(cell, _, reason) => {
                if let Some(id) = state.by_actor.remove(&cell.get_id()) {
                    tracing::debug!(pool = %id, ?reason, "pool actor stopped");
                    state.pools.insert(id, PoolEntry::Failed);
                }
            }
            _ => {}
        }
        Ok(())
    }
}

impl RouterState {
    fn dispatch(&self, id: PoolId, msg: PoolMsg) {
        match self.pools.get(&id) {
            Some(PoolEntry::Running(actor)) => {
                if let Err(MessagingErr::SendErr(msg)) = actor.send_message(msg) {
                    msg.reject(PoolError::PoolUnavailable(id));
                }
            }
            Some(PoolEntry::Failed) => msg.reject(PoolError::PoolUnavailable(id)),
            None => msg.reject(PoolError::PoolNotFound(id)),
        }
    }

    fn running(&self, id: PoolId) -> Result<ActorRef<PoolMsg>, PoolError> {
        match self.pools.get(&id) {
            Some(e) => self.entry_ref(id, e),
            None => Err(PoolError::PoolNotFound(id)),
        }
    }

    fn entry_ref(&self, id: PoolId, e: &PoolEntry) -> Result<ActorRef<PoolMsg>, PoolError> {
        match e {
            PoolEntry::Running(a) => Ok(a.clone()),
            PoolEntry::Failed => Err(PoolError::PoolUnavailable(id)),
        }
    }

    /// Refuses numbers that another pool owns.
    fn check_unowned(&self, id: PoolId, numbers: &[PhoneNumber]) -> Result<(), PoolError> {
        for n in numbers {
            match self.owners.get(n) {
                Some(owner) if *owner != id => {
                    return Err(PoolError::NumberInOtherPool(n.clone(), *owner))
                }
                _ => {}
            }
        }
        Ok(())
    }
}

impl RouterActor {
    async fn create(
        &self,
        myself: &ActorRef<RouterMsg>,
        state: &mut RouterState,
        settings: crate::engine::PoolSettings,
        numbers: Vec<PhoneNumber>,
    ) -> Result<PoolId, PoolError> {
        settings.validate()?;
        let mut id = PoolId::random();
        while state.pools.contains_key(&id) {
            id = PoolId::random();
        }
        state.check_unowned(id, &numbers)?;
        let at = self.clock.now();
        let mut pool = Pool::new(settings.clone(), at);
        pool.add_numbers(&numbers, at)?;
        let record = RouterRecord::CreatePool {
            id,
            settings,
            numbers,
            at,
        };
        let seq = self.log(record.clone()).await?;
        state.router_seq = seq;
        self.spawn_pool(myself, state, id, pool, seq).await?;
        if let RouterRecord::CreatePool { numbers, .. } = record {
            for n in numbers {
                state.owners.insert(n, id);
            }
        }
        Ok(id)
    }

    async fn delete(&self, state: &mut RouterState, id: PoolId) -> Result<(), PoolError> {
        if !state.pools.contains_key(&id) {
            return Err(PoolError::PoolNotFound(id));
        }
        let at = self.clock.now();
        state.router_seq = self.log(RouterRecord::DeletePool { id, at }).await?;
        if let Some(PoolEntry::Running(actor)) = state.pools.remove(&id) {
            state.by_actor.remove(&actor.get_id());
            actor.stop(Some("pool deleted".into()));
        }
        state.owners.retain(|_, owner| *owner != id);
        Ok(())
    }

    /// Logs a router record and waits until it is durable.
    async fn log(&self, record: RouterRecord) -> Result<u64, PoolError> {
        let bytes = encode_record(&WalRecord::Router(record))
            .map_err(|e| PoolError::Storage(e.to_string()))?;
        self.wal
            .append_durable(bytes)
            .await
            .map_err(|e| PoolError::Storage(e.to_string()))
    }

    async fn spawn_pool(
        &self,
        myself: &ActorRef<RouterMsg>,
        state: &mut RouterState,
        id: PoolId,
        pool: Pool,
        applied_seq: u64,
    ) -> Result<(), PoolError> {
        let actor = PoolActor {
            id,
            clock: self.clock.clone(),
            router: myself.clone(),
            wal: self.wal.clone(),
        };
        let args = PoolArgs { pool, applied_seq };
        let (pool_ref, _) = Actor::spawn_linked(None, actor, args, myself.get_cell())
            .await
            .map_err(|e| {
                tracing::error!(pool = %id, error = %e, "could not start pool actor");
                PoolError::PoolUnavailable(id)
            })?;
        state.by_actor.insert(pool_ref.get_id(), id);
        state.pools.insert(id, PoolEntry::Running(pool_ref));
        Ok(())
    }

    async fn add_numbers(
        &self,
        state: &mut RouterState,
        id: PoolId,
        numbers: Vec<PhoneNumber>,
    ) -> Result<(), PoolError> {
        let actor = state.running(id)?;
        state.check_unowned(id, &numbers)?;
        let keep = numbers.clone();
        self.ask(id, &actor, |tx| PoolMsg::AddNumbers(numbers, tx))
            .await?;
        for n in keep {
            state.owners.insert(n, id);
        }
        Ok(())
    }

    async fn remove_number(
        &self,
        state: &mut RouterState,
        id: PoolId,
        number: PhoneNumber,
        force: bool,
    ) -> Result<Removal, PoolError> {
        let actor = state.running(id)?;
        let n = number.clone();
        let removal = self
            .ask(id, &actor, |reply| PoolMsg::RemoveNumber {
                number,
                force,
                reply,
            })
            .await?;
        if removal == Removal::Removed {
            state.owners.remove(&n);
        }
        Ok(removal)
    }

    /// Asks a pool and waits, within the request timeout.
    async fn ask<T: Send + 'static>(
        &self,
        id: PoolId,
        actor: &ActorRef<PoolMsg>,
        msg: impl FnOnce(ractor::RpcReplyPort<Result<T, PoolError>>) -> PoolMsg,
    ) -> Result<T, PoolError> {
        match actor.call(msg, Some(self.request_timeout)).await {
            Ok(CallResult::Success(r)) => r,
            _ => Err(PoolError::PoolUnavailable(id)),
        }
    }
}
