//! The call log's data: call flows, calls with their attribution, webhook
//! subscriptions and deliveries — and the records that change them.
//!
//! Like the pool engine, [`CallsState`] is pure: every change is a [`CallsRecord`]
//! applied by [`CallsState::apply`], the live path and WAL replay alike.

use crate::engine::{Attribution, PhoneNumber};
use crate::ids::{CallFlowId, CallId, DeliveryId, PoolId, WebhookId};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// How calls to a pool's numbers are routed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallFlow {
    pub id: CallFlowId,
    pub name: String,
    /// Where calls are forwarded.
    pub forward_to: PhoneNumber,
    pub ring_timeout_secs: u32,
    /// Record the call once it is answered.
    pub record: bool,
    pub created_at: u64,
}

pub const DEFAULT_RING_TIMEOUT_SECS: u32 = 30;
pub const RING_TIMEOUT_RANGE: std::ops::RangeInclusive<u32> = 5..=600;

/// How a call was matched to a web session (design §4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallStatus {
    /// The number was leased to a session when the call started.
    Attributed,
    /// No live lease, but its last holder's lease ended within the attribution window.
    Late,
    /// The number was recycled: two sessions are candidates.
    Ambiguous,
    /// The number called is a pool's fallback number.
    Fallback,
    Unattributed,
}

impl CallStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CallStatus::Attributed => "attributed",
            CallStatus::Late => "late",
            CallStatus::Ambiguous => "ambiguous",
            CallStatus::Fallback => "fallback",
            CallStatus::Unattributed => "unattributed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "attributed" => CallStatus::Attributed,
            "late" => CallStatus::Late,
            "ambiguous" => CallStatus::Ambiguous,
            "fallback" => CallStatus::Fallback,
            "unattributed" => CallStatus::Unattributed,
            _ => return None,
        })
    }
}

/// A copy of a visitor session's data, taken when the call came in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallSession {
    /// The public session id (as the snippet knows it).
    pub session_id: String,
    pub attribution: Attribution,
    pub first_seen: u64,
    pub last_seen: u64,
    pub duration_secs: u64,
    pub pages_viewed: u32,
}

/// One phone call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Call {
    pub id: CallId,
    /// `twilio` or `api`.
    pub provider: String,
    /// The provider's id (Twilio's CallSid).
    pub provider_call_id: Option<String>,
    pub pool_id: Option<PoolId>,
    pub tracking_number: PhoneNumber,
    /// As the provider gave it (may be `anonymous`).
    pub caller_number: String,
    pub started_at: u64,
    pub ended_at: Option<u64>,
    pub duration_secs: Option<u32>,
    /// The provider's call state: `ringing`, `in-progress`, `completed`, `busy`, …
    pub call_status: String,
    pub status: CallStatus,
    /// The session the call is attributed to (the current holder when ambiguous).
    pub session: Option<CallSession>,
    /// The other candidate of an ambiguous call (the holder the number was taken from).
    pub other_session: Option<CallSession>,
    pub first_call: bool,
    /// Earlier calls from the same caller number in the log.
    pub prior_calls: u32,
    pub forwarded_to: Option<PhoneNumber>,
}

impl Call {
    /// Whether the provider says the call is over.
    pub fn is_finished(&self) -> bool {
        is_final_call_status(&self.call_status)
    }
}

/// Provider call states after which nothing more happens.
pub fn is_final_call_status(s: &str) -> bool {
    matches!(
        s,
        "completed" | "busy" | "no-answer" | "failed" | "canceled"
    )
}

/// A post-call webhook subscription.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Webhook {
    pub id: WebhookId,
    pub pool_id: PoolId,
    pub url: String,
    /// Signs deliveries (HMAC-SHA256); shown once, when the webhook is created.
    pub secret: String,
    pub created_at: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    Pending,
    Delivered,
    /// Gave up after the last retry.
    Failed,
}

/// One call sent to one webhook, with its retries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub id: DeliveryId,
    pub webhook_id: WebhookId,
    pub call_id: CallId,
    pub created_at: u64,
    pub attempts: u32,
    pub state: DeliveryState,
    pub next_attempt_at: Option<u64>,
    pub last_attempt_at: Option<u64>,
    /// HTTP status of the last attempt, if it got one.
    pub last_status: Option<u16>,
    pub last_error: Option<String>,
}

/// A change to the call log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum CallsRecord {
    FlowPut(CallFlow),
    FlowDeleted(CallFlowId),
    /// Boxed: a call with two session copies is far larger than the other records.
    CallAdded(Box<Call>),
    CallUpdated {
        id: CallId,
        call_status: String,
        ended_at: Option<u64>,
        duration_secs: Option<u32>,
    },
    WebhookPut(Webhook),
    WebhookDeleted(WebhookId),
    DeliveryQueued(Delivery),
    DeliveryAttempted {
        id: DeliveryId,
        at: u64,
        status: Option<u16>,
        error: Option<String>,
        state: DeliveryState,
        next_attempt_at: Option<u64>,
    },
    /// Forget calls that started before `before`, and finished deliveries with them.
    Purge {
        before: u64,
    },
}

/// Finished deliveries kept for the delivery log.
pub const DELIVERY_LOG_LEN: usize = 10_000;

/// Everything the call log holds.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CallsState {
    pub flows: BTreeMap<CallFlowId, CallFlow>,
    /// Calls in the order they were logged, by a running position.
    calls: BTreeMap<u64, Call>,
    next_pos: u64,
    by_id: HashMap<CallId, u64>,
    by_provider_id: HashMap<String, CallId>,
    /// Calls per caller number, for repeat-caller facts.
    by_caller: HashMap<String, u32>,
    pub webhooks: BTreeMap<WebhookId, Webhook>,
    pub deliveries: BTreeMap<DeliveryId, Delivery>,
}

impl CallsState {
    pub fn apply(&mut self, rec: CallsRecord) {
        match rec {
            CallsRecord::FlowPut(f) => {
                self.flows.insert(f.id, f);
            }
            CallsRecord::FlowDeleted(id) => {
                self.flows.remove(&id);
            }
            CallsRecord::CallAdded(call) => {
                let pos = self.next_pos;
                self.next_pos += 1;
                self.by_id.insert(call.id, pos);
                if let Some(sid) = &call.provider_call_id {
                    self.by_provider_id.insert(sid.clone(), call.id);
                }
                *self
                    .by_caller
                    .entry(call.caller_number.clone())
                    .or_default() += 1;
                self.calls.insert(pos, *call);
            }
            CallsRecord::CallUpdated {
                id,
                call_status,
                ended_at,
                duration_secs,
            } => {
                if let Some(c) = self.call_mut(id) {
                    c.call_status = call_status;
                    c.ended_at = ended_at.or(c.ended_at);
                    c.duration_secs = duration_secs.or(c.duration_secs);
                }
            }
            CallsRecord::WebhookPut(w) => {
                self.webhooks.insert(w.id, w);
            }
            CallsRecord::WebhookDeleted(id) => {
                self.webhooks.remove(&id);
                for d in self.deliveries.values_mut() {
                    if d.webhook_id == id && d.state == DeliveryState::Pending {
                        d.state = DeliveryState::Failed;
                        d.next_attempt_at = None;
                        d.last_error = Some("webhook deleted".into());
                    }
                }
            }
            CallsRecord::DeliveryQueued(d) => {
                self.deliveries.insert(d.id, d);
            }
            CallsRecord::DeliveryAttempted {
                id,
                at,
                status,
                error,
                state,
                next_attempt_at,
            } => {
                if let Some(d) = self.deliveries.get_mut(&id) {
                    d.attempts += 1;
                    d.last_attempt_at = Some(at);
                    d.last_status = status;
                    d.last_error = error;
                    d.state = state;
                    d.next_attempt_at = next_attempt_at;
                }
                self.trim_delivery_log();
            }
            CallsRecord::Purge { before } => self.purge(before),
        }
    }

    pub fn call(&self, id: CallId) -> Option<&Call> {
        self.by_id.get(&id).and_then(|p| self.calls.get(p))
    }

    fn call_mut(&mut self, id: CallId) -> Option<&mut Call> {
        let pos = *self.by_id.get(&id)?;
        self.calls.get_mut(&pos)
    }

    pub fn call_by_provider_id(&self, provider_id: &str) -> Option<&Call> {
        self.by_provider_id
            .get(provider_id)
            .and_then(|id| self.call(*id))
    }

    /// Calls logged from this caller number so far.
    pub fn calls_from(&self, caller: &str) -> u32 {
        self.by_caller.get(caller).copied().unwrap_or(0)
    }

    /// Calls, newest first, starting after the cursor `before_pos` if given.
    pub fn newest_first(&self, before_pos: Option<u64>) -> impl Iterator<Item = (u64, &Call)> {
        let upper = before_pos.unwrap_or(u64::MAX);
        self.calls.range(..upper).rev().map(|(p, c)| (*p, c))
    }

    pub fn len(&self) -> usize {
        self.calls.len()
    }

    pub fn is_empty(&self) -> bool {
        self.calls.is_empty()
    }

    /// Deliveries still to be attempted.
    pub fn pending_deliveries(&self) -> impl Iterator<Item = &Delivery> {
        self.deliveries
            .values()
            .filter(|d| d.state == DeliveryState::Pending)
    }

    fn purge(&mut self, before: u64) {
        let old: Vec<u64> = self
            .calls
            .iter()
            .filter(|(_, c)| c.started_at < before)
            .map(|(p, _)| *p)
            .collect();
        for pos in old {
            if let Some(c) = self.calls.remove(&pos) {
                self.by_id.remove(&c.id);
                if let Some(sid) = &c.provider_call_id {
                    self.by_provider_id.remove(sid);
                }
                if let Some(n) = self.by_caller.get_mut(&c.caller_number) {
                    *n -= 1;
                    if *n == 0 {
                        self.by_caller.remove(&c.caller_number);
                    }
                }
                self.deliveries
                    .retain(|_, d| d.call_id != c.id || d.state == DeliveryState::Pending);
            }
        }
    }

    /// Keeps the newest finished deliveries only.
    fn trim_delivery_log(&mut self) {
        let finished = self
            .deliveries
            .values()
            .filter(|d| d.state != DeliveryState::Pending)
            .count();
        if finished <= DELIVERY_LOG_LEN {
            return;
        }
        let mut done: Vec<(u64, DeliveryId)> = self
            .deliveries
            .values()
            .filter(|d| d.state != DeliveryState::Pending)
            .map(|d| (d.last_attempt_at.unwrap_or(d.created_at), d.id))
            .collect();
        done.sort();
        for (_, id) in done.into_iter().take(finished - DELIVERY_LOG_LEN) {
            self.deliveries.remove(&id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(id: u64, caller: &str, started_at: u64) -> Call {
        Call {
            id: CallId(id),
            provider: "api".into(),
            provider_call_id: Some(format!("CA{id}")),
            pool_id: None,
            tracking_number: PhoneNumber::parse("+15550001001").unwrap(),
            caller_number: caller.into(),
            started_at,
            ended_at: None,
            duration_secs: None,
            call_status: "ringing".into(),
            status: CallStatus::Unattributed,
            session: None,
            other_session: None,
            first_call: true,
            prior_calls: 0,
            forwarded_to: None,
        }
    }

    #[test]
    fn calls_are_listed_newest_first_and_counted_per_caller() {
        let mut s = CallsState::default();
        for (i, who) in ["+1", "+2", "+1"].iter().enumerate() {
            s.apply(CallsRecord::CallAdded(Box::new(call(
                i as u64 + 1,
                who,
                100 + i as u64,
            ))));
        }
        let ids: Vec<u64> = s.newest_first(None).map(|(_, c)| c.id.0).collect();
        assert_eq!(ids, vec![3, 2, 1]);
        let (pos, _) = s.newest_first(None).nth(1).unwrap();
        let after: Vec<u64> = s.newest_first(Some(pos)).map(|(_, c)| c.id.0).collect();
        assert_eq!(after, vec![1]);
        assert_eq!(s.calls_from("+1"), 2);
        assert_eq!(s.call_by_provider_id("CA2").unwrap().id, CallId(2));
    }

    #[test]
    fn status_updates_and_purge() {
        let mut s = CallsState::default();
        s.apply(CallsRecord::CallAdded(Box::new(call(1, "+1", 100))));
        s.apply(CallsRecord::CallAdded(Box::new(call(2, "+1", 200))));
        s.apply(CallsRecord::CallUpdated {
            id: CallId(2),
            call_status: "completed".into(),
            ended_at: Some(260),
            duration_secs: Some(60),
        });
        assert!(s.call(CallId(2)).unwrap().is_finished());
        assert_eq!(s.call(CallId(2)).unwrap().duration_secs, Some(60));
        s.apply(CallsRecord::Purge { before: 150 });
        assert!(s.call(CallId(1)).is_none());
        assert_eq!(s.len(), 1);
        assert_eq!(s.calls_from("+1"), 1);
        assert!(s.call_by_provider_id("CA1").is_none());
    }
}
