//! Taking a snapshot: a consistent copy of every pool, written atomically, then the
//! WAL segments it makes unnecessary are deleted.
//!
//! Consistency without stopping the world: the WAL writer first answers a barrier (the
//! last sequence number handed out); then each pool actor, between two messages, hands
//! over a copy of its state with the position it covers (see `PoolMsg::Snapshot`).
//! Recovery replays, per pool, only the records after that position. Allocation in a
//! pool stops only while that pool's copy is made.

use super::calls_actor::CallsMsg;
use super::messages::{PoolError, PoolMsg, RouterMsg};
use crate::clock::SharedClock;
use crate::store::snapshot::{self, PoolImage, SnapshotBody, SnapshotError, SnapshotMeta};
use crate::store::{Wal, WalError};
use ractor::rpc::CallResult;
use ractor::ActorRef;
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum SnapshotFailure {
    #[error(transparent)]
    Wal(#[from] WalError),
    #[error("pool state could not be copied: {0}")]
    Pool(#[from] PoolError),
    #[error("an actor did not answer in time")]
    Timeout,
    #[error(transparent)]
    Write(#[from] SnapshotError),
    #[error("snapshot task failed: {0}")]
    Task(String),
}

/// Takes snapshots, one at a time.
pub struct Snapshotter {
    pub router: ActorRef<RouterMsg>,
    pub calls: ActorRef<CallsMsg>,
    pub wal: Wal,
    pub dir: PathBuf,
    pub retain: usize,
    pub clock: SharedClock,
    pub timeout: Duration,
    /// Held for the whole of a snapshot: the cron job and `POST /snapshots` may race.
    pub running: tokio::sync::Mutex<()>,
}

/// What a snapshot took, for logs and the API.
#[derive(Debug, Clone)]
pub struct Taken {
    pub meta: SnapshotMeta,
    pub pools: usize,
    pub duration: Duration,
    /// The longest time one pool was busy copying its state.
    pub longest_copy: Duration,
}

async fn ask<T: Send + 'static, M: ractor::Message>(
    actor: &ActorRef<M>,
    timeout: Duration,
    msg: impl FnOnce(ractor::RpcReplyPort<Result<T, PoolError>>) -> M,
) -> Result<T, SnapshotFailure> {
    match actor.call(msg, Some(timeout)).await {
        Ok(CallResult::Success(r)) => Ok(r?),
        _ => Err(SnapshotFailure::Timeout),
    }
}

impl Snapshotter {
    pub async fn take(&self) -> Result<Taken, SnapshotFailure> {
        let _one_at_a_time = self.running.lock().await;
        let started = Instant::now();
        let barrier = self.wal.barrier().await?;
        let (router_seq, actors) = ask(&self.router, self.timeout, |r| {
            RouterMsg::Snapshot(barrier, r)
        })
        .await?;
        let mut pools: Vec<PoolImage> = Vec::with_capacity(actors.len());
        let mut longest_copy = Duration::ZERO;
        for (id, actor) in actors {
            let t = Instant::now();
            match ask(&actor, self.timeout, |reply| PoolMsg::Snapshot {
                barrier,
                reply,
            })
            .await
            {
                Ok(image) => pools.push(image),
                // Deleted since the listing: its deletion is in the WAL after the barrier.
                Err(_) if actor.get_status() != ractor::ActorStatus::Running => {
                    tracing::debug!(pool = %id, "pool went away during the snapshot");
                }
                Err(e) => return Err(e),
            }
            longest_copy = longest_copy.max(t.elapsed());
        }
        let calls = match self
            .calls
            .call(
                |reply| CallsMsg::Snapshot { barrier, reply },
                Some(self.timeout),
            )
            .await
        {
            Ok(CallResult::Success(image)) => image,
            _ => return Err(SnapshotFailure::Timeout),
        };
        let body = SnapshotBody {
            calls,
            created_at: self.clock.now(),
            router_seq,
            pools,
        };
        let count = body.pools.len();
        let dir = self.dir.clone();
        let retain = self.retain;
        let meta = tokio::task::spawn_blocking(move || -> Result<_, SnapshotFailure> {
            let meta = snapshot::write(&dir, &body)?;
            snapshot::retain(&dir, retain).map_err(|source| SnapshotError::Io {
                path: dir.clone(),
                source,
            })?;
            Ok(meta)
        })
        .await
        .map_err(|e| SnapshotFailure::Task(e.to_string()))??;
        // Keep the WAL needed by the previous snapshot too: if the newest turns out
        // corrupt at the next start, the older one plus the longer WAL still recover.
        let listing = snapshot::list(&self.dir).unwrap_or_default();
        if let Some(Ok(previous)) = listing.get(1) {
            self.wal.compact(previous.covered_seq);
        }
        let taken = Taken {
            meta,
            pools: count,
            duration: started.elapsed(),
            longest_copy,
        };
        crate::telemetry::store::snapshot_taken(taken.duration, taken.meta.size);
        tracing::info!(
            file = %taken.meta.path.display(),
            pools = taken.pools,
            bytes = taken.meta.size,
            millis = taken.duration.as_millis() as u64,
            "snapshot written"
        );
        Ok(taken)
    }
}
