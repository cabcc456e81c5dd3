//! The HTTP API (hyper 1): routing, JSON bodies, admin auth, the public tracking
//! endpoints, and the server loop with its admission control and graceful shutdown.

pub mod admin;
pub mod admin_ui;
pub mod auth;
pub mod body;
pub mod calls;
pub mod client;
pub mod demo;
pub mod error;
pub mod openapi;
pub mod rate_limit;
pub mod routes;
pub mod server;
pub mod snapshots;
pub mod snippet;
pub mod telephony;
pub mod tracking;

pub use body::{empty, json_response};
pub use error::ApiError;

use crate::actors::{PoolError, PoolMsg, RouterMsg};
use crate::clock::SharedClock;
use crate::config::Settings;
use crate::ids::PoolId;
use auth::AdminToken;
use bytes::Bytes;
use ractor::rpc::CallResult;
use ractor::{ActorRef, RpcReplyPort};

/// Every response body is a single buffer.
pub type Body = http_body_util::Full<Bytes>;

/// What every request handler can reach. Shared read-only across connections; all
/// mutable state lives in the actors.
pub struct App {
    pub router: ActorRef<RouterMsg>,
    pub calls: ActorRef<crate::actors::calls_actor::CallsMsg>,
    pub clock: SharedClock,
    pub token: AdminToken,
    pub settings: Settings,
    pub bots: client::BotMatcher,
    pub rate_limit: rate_limit::SessionRateLimit,
    /// The demo pool, when started with `--demo`.
    pub demo_pool: Option<PoolId>,
    pub snapshots: std::sync::Arc<crate::actors::snapshots::Snapshotter>,
    /// Set when shutdown begins: `/readyz` turns 503 so balancers stop sending.
    pub draining: std::sync::atomic::AtomicBool,
}

impl App {
    /// Sends a request to a pool through the router and waits for its answer, within
    /// the request timeout.
    pub async fn ask_pool<T: Send + 'static>(
        &self,
        id: PoolId,
        msg: impl FnOnce(RpcReplyPort<Result<T, PoolError>>) -> PoolMsg,
    ) -> Result<T, ApiError> {
        self.ask_router(|tx| RouterMsg::Dispatch(id, msg(tx)))
            .await?
            .map_err(ApiError::from)
    }

    /// Sends a request to the router and waits, within the request timeout.
    pub async fn ask_router<T: Send + 'static>(
        &self,
        msg: impl FnOnce(RpcReplyPort<T>) -> RouterMsg,
    ) -> Result<T, ApiError> {
        match self
            .router
            .call(msg, Some(self.settings.request_timeout()))
            .await
        {
            Ok(CallResult::Success(r)) => Ok(r),
            Ok(CallResult::Timeout) => Err(ApiError::unavailable(
                "timeout",
                "the pool did not answer in time; try again",
            )),
            // The reply port was dropped: the actor died while handling the request.
            Ok(CallResult::SenderError) => Err(ApiError::unavailable(
                "pool_unavailable",
                "the pool failed while handling the request",
            )),
            Err(_) => Err(ApiError::unavailable(
                "shutting_down",
                "the server is shutting down",
            )),
        }
    }
}
