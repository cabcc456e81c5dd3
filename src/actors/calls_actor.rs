//! `CallsActor`: owns the call log — call flows, calls, webhooks and deliveries.
//!
//! Calls are rare next to page views, so this actor keeps it simple: each change is
//! logged and waited for (`append_durable`) inside the handler, then applied. Nothing
//! is ever in flight, so a snapshot copy covers everything logged before its barrier.
//! To attribute a call it asks the router which pool owns the number and that pool who
//! held it (design §4). Webhook deliveries run as spawned tasks; their outcomes come
//! back as messages and are logged, so retries survive a restart.

use super::messages::{CallMatch, PoolError, PoolInfo, PoolMsg, RouterMsg};
use crate::calls::model::{
    is_final_call_status, CallFlow, DeliveryState, DEFAULT_RING_TIMEOUT_SECS,
};
use crate::calls::webhook::{self, Sender};
use crate::calls::{
    json, Call, CallSession, CallStatus, CallsRecord, CallsState, Delivery, Webhook,
};
use crate::clock::SharedClock;
use crate::engine::{Holder, PhoneNumber};
use crate::ids::{CallFlowId, CallId, DeliveryId, PoolId, SessionToken, WebhookId};
use crate::store::codec::encode_calls_record;
use crate::store::snapshot::CallsImage;
use crate::store::Wal;
use ractor::rpc::CallResult;
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use std::collections::HashSet;
use std::time::Duration;
use tokio::task::JoinHandle;

/// How often due webhook retries and call retention are checked.
pub const TICK: Duration = Duration::from_millis(500);

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CallsError {
    #[error("call flow {0} not found")]
    FlowNotFound(CallFlowId),
    #[error("call flow {0} is used by pool {1}; change the pool's call_flow_id first")]
    FlowInUse(CallFlowId, PoolId),
    #[error("number {0} is not a tracking or fallback number of any pool")]
    UnknownNumber(PhoneNumber),
    #[error("call {0} not found")]
    CallNotFound(String),
    #[error("webhook {0} not found")]
    WebhookNotFound(WebhookId),
    #[error("delivery {0} not found")]
    DeliveryNotFound(DeliveryId),
    #[error(transparent)]
    Pool(#[from] PoolError),
    #[error("{0}")]
    Storage(String),
}

type Reply<T> = RpcReplyPort<Result<T, CallsError>>;

/// A call as a provider reports it.
#[derive(Debug, Clone)]
pub struct NewCall {
    pub provider: &'static str,
    pub provider_call_id: Option<String>,
    pub tracking_number: PhoneNumber,
    pub caller_number: String,
    /// When it started; the clock's now when the provider does not say.
    pub started_at: Option<u64>,
    pub call_status: String,
    pub duration_secs: Option<u32>,
}

/// Where a call is forwarded.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    pub forward_to: PhoneNumber,
    pub ring_timeout_secs: u32,
    pub record: bool,
}

/// Filters of the call log.
#[derive(Debug, Clone, Default)]
pub struct CallQuery {
    pub pool_id: Option<PoolId>,
    pub from: Option<u64>,
    pub to: Option<u64>,
    pub status: Option<CallStatus>,
    pub caller: Option<String>,
    /// Continue after this position (from a previous page's cursor).
    pub cursor: Option<u64>,
    /// At most this many; `None` for all (CSV export).
    pub limit: Option<usize>,
}

pub enum CallsMsg {
    /// Create (`id: None`) or replace a call flow.
    PutFlow {
        id: Option<CallFlowId>,
        name: String,
        forward_to: PhoneNumber,
        ring_timeout_secs: Option<u32>,
        record: bool,
        reply: Reply<CallFlow>,
    },
    DeleteFlow(CallFlowId, Reply<()>),
    Flows(RpcReplyPort<Vec<CallFlow>>),
    /// Records a new call with its attribution; answers it and where to forward it.
    Record(NewCall, Reply<(Call, Route)>),
    /// A provider's status update (Twilio status callback).
    Status {
        provider_call_id: String,
        call_status: String,
        duration_secs: Option<u32>,
        reply: Reply<Call>,
    },
    Query(CallQuery, RpcReplyPort<(Vec<Call>, Option<u64>)>),
    Get(CallId, Reply<Call>),
    PutWebhook {
        pool_id: PoolId,
        url: String,
        secret: Option<String>,
        reply: Reply<Webhook>,
    },
    DeleteWebhook(WebhookId, Reply<()>),
    Webhooks(RpcReplyPort<Vec<Webhook>>),
    Deliveries {
        limit: usize,
        reply: RpcReplyPort<Vec<Delivery>>,
    },
    /// Attempt a pending or failed delivery now.
    Retry(DeliveryId, Reply<Delivery>),
    /// The outcome of one delivery attempt.
    Attempted {
        id: DeliveryId,
        at: u64,
        result: Result<u16, String>,
    },
    Tick,
    Snapshot {
        barrier: u64,
        reply: RpcReplyPort<CallsImage>,
    },
}

pub struct CallsActor {
    pub clock: SharedClock,
    pub wal: Wal,
    pub router: ActorRef<RouterMsg>,
    pub sender: Sender,
    /// Calls older than this are forgotten.
    pub retention_secs: u64,
    pub request_timeout: Duration,
}

pub struct CallsArgs {
    pub image: CallsImage,
}

pub struct CallsActorState {
    calls: CallsState,
    applied_seq: u64,
    /// Deliveries with an attempt under way.
    attempting: HashSet<DeliveryId>,
    last_purge_check: u64,
    ticker: Option<JoinHandle<()>>,
}

impl Actor for CallsActor {
    type Msg = CallsMsg;
    type State = CallsActorState;
    type Arguments = CallsArgs;

    async fn pre_start(
        &self,
        _myself: ActorRef<CallsMsg>,
        args: CallsArgs,
    ) -> Result<CallsActorState, ActorProcessingErr> {
        Ok(CallsActorState {
            calls: args.image.state,
            applied_seq: args.image.covered_seq,
            attempting: HashSet::new(),
            last_purge_check: 0,
            ticker: None,
        })
    }

    async fn post_start(
        &self,
        myself: ActorRef<CallsMsg>,
        state: &mut CallsActorState,
    ) -> Result<(), ActorProcessingErr> {
        state.ticker = Some(myself.send_interval(TICK, || CallsMsg::Tick));
        Ok(())
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<CallsMsg>,
        state: &mut CallsActorState,
    ) -> Result<(), ActorProcessingErr> {
        if let Some(t) = state.ticker.take() {
            t.abort();
        }
        Ok(())
    }

    async fn handle(
        &self,
        myself: ActorRef<CallsMsg>,
        msg: CallsMsg,
        st: &mut CallsActorState,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            CallsMsg::PutFlow {
                id,
                name,
                forward_to,
                ring_timeout_secs,
                record,
                reply,
            } => {
                let r = self
                    .put_flow(st, id, name, forward_to, ring_timeout_secs, record)
                    .await;
                let _ = reply.send(r);
            }
            CallsMsg::DeleteFlow(id, reply) => {
                let r = self.delete_flow(st, id).await;
                let _ = reply.send(r);
            }
            CallsMsg::Flows(reply) => {
                let _ = reply.send(st.calls.flows.values().cloned().collect());
            }
            CallsMsg::Record(new, reply) => {
                let r = self.record(&myself, st, new).await;
                let _ = reply.send(r);
            }
            CallsMsg::Status {
                provider_call_id,
                call_status,
                duration_secs,
                reply,
            } => {
                let r = self
                    .status(&myself, st, &provider_call_id, call_status, duration_secs)
                    .await;
                let _ = reply.send(r);
            }
            CallsMsg::Query(q, reply) => {
                let _ = reply.send(query(&st.calls, &q));
            }
            CallsMsg::Get(id, reply) => {
                let r = st
                    .calls
                    .call(id)
                    .cloned()
                    .ok_or_else(|| CallsError::CallNotFound(id.to_string()));
                let _ = reply.send(r);
            }
            CallsMsg::PutWebhook {
                pool_id,
                url,
                secret,
                reply,
            } => {
                let r = self.put_webhook(st, pool_id, url, secret).await;
                let _ = reply.send(r);
            }
            CallsMsg::DeleteWebhook(id, reply) => {
                let r = if st.calls.webhooks.contains_key(&id) {
                    self.commit(st, CallsRecord::WebhookDeleted(id)).await
                } else {
                    Err(CallsError::WebhookNotFound(id))
                };
                let _ = reply.send(r);
            }
            CallsMsg::Webhooks(reply) => {
                let _ = reply.send(st.calls.webhooks.values().cloned().collect());
            }
            CallsMsg::Deliveries { limit, reply } => {
                let mut all: Vec<Delivery> = st.calls.deliveries.values().cloned().collect();
                all.sort_by_key(|d| std::cmp::Reverse((d.created_at, d.id)));
                all.truncate(limit);
                let _ = reply.send(all);
            }
            CallsMsg::Retry(id, reply) => {
                let r = self.retry(&myself, st, id).await;
                let _ = reply.send(r);
            }
            CallsMsg::Attempted { id, at, result } => {
                st.attempting.remove(&id);
                if let Err(e) = self.attempted(st, id, at, result).await {
                    tracing::error!(delivery = %id, error = %e, "could not log a delivery attempt; it will be retried");
                }
            }
            CallsMsg::Tick => self.tick(&myself, st).await,
            CallsMsg::Snapshot { barrier, reply } => {
                let _ = reply.send(CallsImage {
                    covered_seq: st.applied_seq.max(barrier),
                    state: st.calls.clone(),
                });
            }
        }
        Ok(())
    }
}

impl CallsActor {
    /// Logs `rec`, waits until it is durable, then applies it.
    async fn commit(&self, st: &mut CallsActorState, rec: CallsRecord) -> Result<(), CallsError> {
        let bytes = encode_calls_record(&rec).map_err(|e| CallsError::Storage(e.to_string()))?;
        let seq = self
            .wal
            .append_durable(bytes)
            .await
            .map_err(|e| CallsError::Storage(e.to_string()))?;
        st.calls.apply(rec);
        st.applied_seq = seq;
        Ok(())
    }

    async fn ask_router<T: Send + 'static>(
        &self,
        msg: impl FnOnce(RpcReplyPort<T>) -> RouterMsg,
    ) -> Result<T, CallsError> {
        match self.router.call(msg, Some(self.request_timeout)).await {
            Ok(CallResult::Success(v)) => Ok(v),
            _ => Err(CallsError::Storage("the router did not answer".into())),
        }
    }

    async fn ask_pool<T: Send + 'static>(
        &self,
        pool: PoolId,
        msg: impl FnOnce(RpcReplyPort<Result<T, PoolError>>) -> PoolMsg,
    ) -> Result<T, CallsError> {
        Ok(self
            .ask_router(|tx| RouterMsg::Dispatch(pool, msg(tx)))
            .await??)
    }

    /// Every running pool's settings and figures.
    async fn pools(&self) -> Result<Vec<PoolInfo>, CallsError> {
        let mut out = Vec::new();
        for (id, actor) in self.ask_router(RouterMsg::List).await? {
            if actor.is_ok() {
                if let Ok(info) = self
                    .ask_pool(id, |reply| PoolMsg::Info {
                        with_numbers: false,
                        reply,
                    })
                    .await
                {
                    out.push(info);
                }
            }
        }
        Ok(out)
    }

    async fn put_flow(
        &self,
        st: &mut CallsActorState,
        id: Option<CallFlowId>,
        name: String,
        forward_to: PhoneNumber,
        ring_timeout_secs: Option<u32>,
        record: bool,
    ) -> Result<CallFlow, CallsError> {
        let (id, created_at) = match id {
            Some(id) => {
                let old = st
                    .calls
                    .flows
                    .get(&id)
                    .ok_or(CallsError::FlowNotFound(id))?;
                (id, old.created_at)
            }
            None => (CallFlowId::random(), self.clock.now()),
        };
        let flow = CallFlow {
            id,
            name,
            forward_to,
            ring_timeout_secs: ring_timeout_secs.unwrap_or(DEFAULT_RING_TIMEOUT_SECS),
            record,
            created_at,
        };
        self.commit(st, CallsRecord::FlowPut(flow.clone())).await?;
        Ok(flow)
    }

    async fn delete_flow(
        &self,
        st: &mut CallsActorState,
        id: CallFlowId,
    ) -> Result<(), CallsError> {
        if !st.calls.flows.contains_key(&id) {
            return Err(CallsError::FlowNotFound(id));
        }
        let flow_id = id.to_string();
        if let Some(p) = self
            .pools()
            .await?
            .into_iter()
            .find(|p| p.settings.call_flow_id.as_deref() == Some(flow_id.as_str()))
        {
            return Err(CallsError::FlowInUse(id, p.id));
        }
        self.commit(st, CallsRecord::FlowDeleted(id)).await
    }

    /// Finds the pool of a number, and how the call matches its sessions.
    async fn attribute(
        &self,
        number: &PhoneNumber,
        at: u64,
    ) -> Result<(PoolInfo, CallStatus, Vec<CallSession>), CallsError> {
        let owner = self
            .ask_router(|reply| RouterMsg::FindNumber(number.clone(), reply))
            .await?;
        if let Some(pool) = owner {
            let info = self
                .ask_pool(pool, |reply| PoolMsg::Info {
                    with_numbers: false,
                    reply,
                })
                .await?;
            let m: CallMatch = self
                .ask_pool(pool, |reply| PoolMsg::Lookup {
                    number: number.clone(),
                    at,
                    reply,
                })
                .await?;
            let status = match m.holder {
                Holder::Attributed(_) => CallStatus::Attributed,
                Holder::Late(_) => CallStatus::Late,
                Holder::Ambiguous(..) => CallStatus::Ambiguous,
                Holder::Nobody => CallStatus::Unattributed,
            };
            let sessions = m
                .sessions
                .into_iter()
                .map(|(id, s)| CallSession {
                    session_id: SessionToken { pool, session: id }.to_string(),
                    duration_secs: s.duration_secs(),
                    attribution: s.attribution,
                    first_seen: s.first_seen,
                    last_seen: s.last_seen,
                    pages_viewed: s.pages_viewed,
                })
                .collect();
            return Ok((info, status, sessions));
        }
        for info in self.pools().await? {
            if info.settings.fallback_number.as_ref() == Some(number) {
                return Ok((info, CallStatus::Fallback, Vec::new()));
            }
        }
        Err(CallsError::UnknownNumber(number.clone()))
    }

    async fn record(
        &self,
        myself: &ActorRef<CallsMsg>,
        st: &mut CallsActorState,
        new: NewCall,
    ) -> Result<(Call, Route), CallsError> {
        let now = self.clock.now();
        let started_at = new.started_at.unwrap_or(now);
        let (info, status, mut sessions) = self.attribute(&new.tracking_number, started_at).await?;
        let route = match info
            .settings
            .call_flow_id
            .as_deref()
            .and_then(|f| f.parse::<CallFlowId>().ok())
            .and_then(|f| st.calls.flows.get(&f))
        {
            Some(f) => Route {
                forward_to: f.forward_to.clone(),
                ring_timeout_secs: f.ring_timeout_secs,
                record: f.record,
            },
            // No call flow: ring the business's own number, the one the site shows.
            None => Route {
                forward_to: info.settings.target_number.clone(),
                ring_timeout_secs: DEFAULT_RING_TIMEOUT_SECS,
                record: false,
            },
        };
        // A provider retrying its webhook gets the call it already reported.
        if let Some(existing) = new
            .provider_call_id
            .as_deref()
            .and_then(|sid| st.calls.call_by_provider_id(sid))
        {
            return Ok((existing.clone(), route));
        }
        let prior_calls = st.calls.calls_from(&new.caller_number);
        let other_session = (sessions.len() > 1).then(|| sessions.remove(1));
        let finished = is_final_call_status(&new.call_status);
        let call = Call {
            id: CallId::random(),
            provider: new.provider.to_string(),
            provider_call_id: new.provider_call_id,
            pool_id: Some(info.id),
            tracking_number: new.tracking_number,
            caller_number: new.caller_number,
            started_at,
            ended_at: finished.then(|| started_at + u64::from(new.duration_secs.unwrap_or(0))),
            duration_secs: new.duration_secs,
            call_status: new.call_status,
            status,
            session: sessions.into_iter().next(),
            other_session,
            first_call: prior_calls == 0,
            prior_calls,
            forwarded_to: Some(route.forward_to.clone()),
        };
        self.commit(st, CallsRecord::CallAdded(Box::new(call.clone())))
            .await?;
        crate::telemetry::record_call(call.pool_id, call.status.as_str());
        if finished {
            self.queue_deliveries(myself, st, &call).await;
        }
        Ok((call, route))
    }

    async fn status(
        &self,
        myself: &ActorRef<CallsMsg>,
        st: &mut CallsActorState,
        provider_call_id: &str,
        call_status: String,
        duration_secs: Option<u32>,
    ) -> Result<Call, CallsError> {
        let call = st
            .calls
            .call_by_provider_id(provider_call_id)
            .cloned()
            .ok_or_else(|| CallsError::CallNotFound(provider_call_id.to_string()))?;
        let was_finished = call.is_finished();
        let finished = is_final_call_status(&call_status);
        let ended_at = (finished && !was_finished).then(|| self.clock.now());
        self.commit(
            st,
            CallsRecord::CallUpdated {
                id: call.id,
                call_status,
                ended_at,
                duration_secs,
            },
        )
        .await?;
        let call = st
            .calls
            .call(call.id)
            .cloned()
            .ok_or_else(|| CallsError::CallNotFound(provider_call_id.to_string()))?;
        if finished && !was_finished {
            self.queue_deliveries(myself, st, &call).await;
        }
        Ok(call)
    }

    /// One delivery per webhook of the call's pool, attempted at once.
    async fn queue_deliveries(
        &self,
        myself: &ActorRef<CallsMsg>,
        st: &mut CallsActorState,
        call: &Call,
    ) {
        let hooks: Vec<WebhookId> = st
            .calls
            .webhooks
            .values()
            .filter(|w| Some(w.pool_id) == call.pool_id)
            .map(|w| w.id)
            .collect();
        for webhook_id in hooks {
            let now = self.clock.now();
            let d = Delivery {
                id: DeliveryId::random(),
                webhook_id,
                call_id: call.id,
                created_at: now,
                attempts: 0,
                state: DeliveryState::Pending,
                next_attempt_at: Some(now),
                last_attempt_at: None,
                last_status: None,
                last_error: None,
            };
            let id = d.id;
            match self.commit(st, CallsRecord::DeliveryQueued(d)).await {
                Ok(()) => self.attempt(myself, st, id),
                Err(e) => {
                    tracing::error!(call = %call.id, error = %e, "could not queue a webhook delivery")
                }
            }
        }
    }

    /// Starts one attempt of a delivery, unless one is under way.
    fn attempt(&self, myself: &ActorRef<CallsMsg>, st: &mut CallsActorState, id: DeliveryId) {
        let Some(d) = st.calls.deliveries.get(&id) else {
            return;
        };
        let (Some(hook), Some(call)) = (
            st.calls.webhooks.get(&d.webhook_id),
            st.calls.call(d.call_id),
        ) else {
            return;
        };
        if !st.attempting.insert(id) {
            return;
        }
        let body = serde_json::json!({
            "event": "call.completed",
            "delivery_id": id.to_string(),
            "call": json::call(call),
        });
        let body = bytes::Bytes::from(body.to_string());
        let (url, secret) = (hook.url.clone(), hook.secret.clone());
        let sender = self.sender.clone();
        let at = self.clock.now();
        let me = myself.clone();
        tokio::spawn(async move {
            let started = std::time::Instant::now();
            let result = sender.send(&url, &secret, at, &id.to_string(), body).await;
            crate::telemetry::record_webhook_attempt(
                matches!(result, Ok(s) if (200..300).contains(&s)),
                started.elapsed(),
            );
            let _ = me.send_message(CallsMsg::Attempted { id, at, result });
        });
    }

    async fn attempted(
        &self,
        st: &mut CallsActorState,
        id: DeliveryId,
        at: u64,
        result: Result<u16, String>,
    ) -> Result<(), CallsError> {
        let Some(d) = st.calls.deliveries.get(&id) else {
            return Ok(());
        };
        let attempts = d.attempts + 1;
        let ok = matches!(result, Ok(s) if (200..300).contains(&s));
        let (state, next_attempt_at) = if ok {
            (DeliveryState::Delivered, None)
        } else if attempts >= webhook::MAX_ATTEMPTS {
            (DeliveryState::Failed, None)
        } else {
            let delay = webhook::retry_delay(attempts, rand::random::<f64>());
            (DeliveryState::Pending, Some(at + delay))
        };
        let (status, error) = match result {
            Ok(s) if ok => (Some(s), None),
            Ok(s) => (Some(s), Some(format!("the receiver answered HTTP {s}"))),
            Err(e) => (None, Some(e)),
        };
        match state {
            DeliveryState::Delivered => crate::telemetry::record_webhook_delivery(true),
            DeliveryState::Failed => crate::telemetry::record_webhook_delivery(false),
            DeliveryState::Pending => crate::telemetry::record_webhook_retry(),
        }
        if !ok {
            tracing::warn!(delivery = %id, attempts, error = ?error, "webhook delivery failed");
        }
        self.commit(
            st,
            CallsRecord::DeliveryAttempted {
                id,
                at,
                status,
                error,
                state,
                next_attempt_at,
            },
        )
        .await
    }

    async fn retry(
        &self,
        myself: &ActorRef<CallsMsg>,
        st: &mut CallsActorState,
        id: DeliveryId,
    ) -> Result<Delivery, CallsError> {
        let d = st
            .calls
            .deliveries
            .get(&id)
            .cloned()
            .ok_or(CallsError::DeliveryNotFound(id))?;
        if d.state != DeliveryState::Delivered {
            if d.state == DeliveryState::Failed {
                // Give it a fresh round of attempts.
                let mut again = d.clone();
                again.state = DeliveryState::Pending;
                again.attempts = 0;
                again.next_attempt_at = Some(self.clock.now());
                self.commit(st, CallsRecord::DeliveryQueued(again)).await?;
            }
            self.attempt(myself, st, id);
        }
        st.calls
            .deliveries
            .get(&id)
            .cloned()
            .ok_or(CallsError::DeliveryNotFound(id))
    }

    async fn put_webhook(
        &self,
        st: &mut CallsActorState,
        pool_id: PoolId,
        url: String,
        secret: Option<String>,
    ) -> Result<Webhook, CallsError> {
        let exists = self
            .ask_router(RouterMsg::List)
            .await?
            .iter()
            .any(|(id, _)| *id == pool_id);
        if !exists {
            return Err(CallsError::Pool(PoolError::PoolNotFound(pool_id)));
        }
        let hook = Webhook {
            id: WebhookId::random(),
            pool_id,
            url,
            secret: secret.unwrap_or_else(webhook::new_secret),
            created_at: self.clock.now(),
        };
        self.commit(st, CallsRecord::WebhookPut(hook.clone()))
            .await?;
        Ok(hook)
    }

    async fn tick(&self, myself: &ActorRef<CallsMsg>, st: &mut CallsActorState) {
        let now = self.clock.now();
        let due: Vec<DeliveryId> = st
            .calls
            .pending_deliveries()
            .filter(|d| d.next_attempt_at.is_some_and(|t| t <= now))
            .map(|d| d.id)
            .collect();
        for id in due {
            self.attempt(myself, st, id);
        }
        if now >= st.last_purge_check + 60 {
            st.last_purge_check = now;
            let before = now.saturating_sub(self.retention_secs);
            let stale = st
                .calls
                .newest_first(None)
                .last()
                .is_some_and(|(_, c)| c.started_at < before);
            if stale {
                if let Err(e) = self.commit(st, CallsRecord::Purge { before }).await {
                    tracing::warn!(error = %e, "could not purge old calls");
                }
            }
        }
    }
}

/// Applies the call-log filters, newest first; with the cursor of the next page when
/// more calls match.
pub fn query(calls: &CallsState, q: &CallQuery) -> (Vec<Call>, Option<u64>) {
    let limit = q.limit.unwrap_or(usize::MAX);
    let mut out: Vec<(u64, Call)> = Vec::new();
    let mut more = false;
    for (pos, c) in calls.newest_first(q.cursor) {
        let keep = q.pool_id.is_none_or(|p| c.pool_id == Some(p))
            && q.from.is_none_or(|f| c.started_at >= f)
            && q.to.is_none_or(|t| c.started_at <= t)
            && q.status.is_none_or(|s| c.status == s)
            && q.caller.as_deref().is_none_or(|k| c.caller_number == k);
        if !keep {
            continue;
        }
        if out.len() == limit {
            more = true;
            break;
        }
        out.push((pos, c.clone()));
    }
    let next = if more {
        out.last().map(|(p, _)| *p)
    } else {
        None
    };
    (out.into_iter().map(|(_, c)| c).collect(), next)
}
