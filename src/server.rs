//! Assembles a running server: the router actor, the admin token, the HTTP listener.
//! Used by `dnid serve` and by the integration tests (on port 0, with a manual clock).

use crate::actors::RouterActor;
use crate::clock::SharedClock;
use crate::config::Settings;
use crate::http::auth::{AdminToken, TokenSource};
use crate::http::client::BotMatcher;
use crate::http::App;
use ractor::Actor;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot listen on {0}: {1}")]
    Listen(SocketAddr, std::io::Error),
    #[error("cannot read or create the admin token in {0}: {1}")]
    Token(std::path::PathBuf, std::io::Error),
    #[error("cannot start the router actor: {0}")]
    Actor(String),
}

/// A server that is accepting connections.
pub struct Server {
    addr: SocketAddr,
    token: AdminToken,
    token_source: TokenSource,
    shutdown: watch::Sender<bool>,
    http: JoinHandle<()>,
    router: ractor::ActorRef<crate::actors::RouterMsg>,
    router_done: JoinHandle<()>,
}

impl Server {
    /// Starts everything and returns once the listener is bound.
    pub async fn start(
        settings: Settings,
        clock: SharedClock,
        admin_token_env: Option<String>,
    ) -> Result<Server, StartError> {
        let (token, token_source) = AdminToken::load_or_create(admin_token_env, &settings.data_dir)
            .map_err(|e| StartError::Token(settings.data_dir.clone(), e))?;
        let listener = tokio::net::TcpListener::bind(settings.listen)
            .await
            .map_err(|e| StartError::Listen(settings.listen, e))?;
        let addr = listener
            .local_addr()
            .map_err(|e| StartError::Listen(settings.listen, e))?;
        let (router, router_done) = Actor::spawn(
            None,
            RouterActor {
                clock: clock.clone(),
                request_timeout: settings.request_timeout(),
            },
            (),
        )
        .await
        .map_err(|e| StartError::Actor(e.to_string()))?;
        let grace = Duration::from_secs(settings.shutdown_grace_secs);
        let app = Arc::new(App {
            router: router.clone(),
            clock,
            token: token.clone(),
            bots: BotMatcher::new(&settings.bot_user_agents),
            settings,
            draining: Default::default(),
        });
        let (shutdown, rx) = watch::channel(false);
        let http = tokio::spawn(crate::http::server::serve(listener, app, rx, grace));
        Ok(Server {
            addr,
            token,
            token_source,
            shutdown,
            http,
            router,
            router_done,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn admin_token(&self) -> &AdminToken {
        &self.token
    }

    pub fn token_source(&self) -> TokenSource {
        self.token_source
    }

    /// Stops accepting, finishes in-flight requests (within the grace period), then
    /// stops the actors.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.http.await;
        self.router.stop_children_and_wait(None, None).await;
        self.router.stop(None);
        let _ = self.router_done.await;
    }
}
