//! Assembles a running server: lock the data folder, recover the state, start the WAL
//! writer, the actors, the snapshot schedule and the HTTP listener. Used by
//! `dnid serve` and by the integration tests (on port 0, with a manual clock).

use crate::actors::calls_actor::{CallsActor, CallsArgs, CallsMsg};
use crate::actors::router::RouterArgs;
use crate::actors::snapshots::Snapshotter;
use crate::actors::{RouterActor, RouterMsg};
use crate::clock::SharedClock;
use crate::config::Settings;
use crate::http::auth::{AdminToken, TokenSource};
use crate::http::client::BotMatcher;
use crate::http::App;
use crate::store::fs::{FileSystem, RealFs};
use crate::store::recovery::{recover, RecoveryError, RecoveryReport};
use crate::store::wal::{wal_dir, WalOptions, WalThread};
use crate::store::Wal;
use ractor::{Actor, ActorRef};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_cron_scheduler::{Job, JobScheduler};

/// The lock file that keeps two servers (or a server and `dnid restore`) apart.
pub const LOCK_FILE: &str = "LOCK";

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot listen on {0}: {1}")]
    Listen(SocketAddr, std::io::Error),
    #[error("cannot read or create the admin token in {0}: {1}")]
    Token(PathBuf, std::io::Error),
    #[error("cannot use the data folder {0}: {1}")]
    DataDir(PathBuf, std::io::Error),
    #[error("another dnid holds the data folder {0} (lock file {1}); stop it first")]
    Locked(PathBuf, PathBuf),
    #[error(transparent)]
    Recovery(#[from] RecoveryError),
    #[error("cannot start the write-ahead log: {0}")]
    Wal(std::io::Error),
    #[error("cannot start the router actor: {0}")]
    Actor(String),
    #[error("cannot create the demo pool: {0}")]
    Demo(String),
    #[error("invalid snapshot schedule {0:?}: {1}")]
    Cron(String, String),
}

/// Takes the data folder's lock, or says who holds it.
pub fn lock_data_dir(data_dir: &Path) -> Result<std::fs::File, StartError> {
    std::fs::create_dir_all(data_dir).map_err(|e| StartError::DataDir(data_dir.into(), e))?;
    let path = data_dir.join(LOCK_FILE);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| StartError::DataDir(data_dir.into(), e))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(StartError::Locked(data_dir.into(), path)),
        Err(std::fs::TryLockError::Error(e)) => Err(StartError::DataDir(data_dir.into(), e)),
    }
}

/// A server that is accepting connections.
pub struct Server {
    addr: SocketAddr,
    token: AdminToken,
    token_source: TokenSource,
    recovery: RecoveryReport,
    shutdown: watch::Sender<bool>,
    http: JoinHandle<()>,
    router: ActorRef<RouterMsg>,
    router_done: JoinHandle<()>,
    calls: ActorRef<CallsMsg>,
    calls_done: JoinHandle<()>,
    wal: WalThread,
    scheduler: JobScheduler,
    snapshots: Arc<Snapshotter>,
    _lock: std::fs::File,
}

impl Server {
    /// Starts everything and returns once the listener is bound.
    pub async fn start(
        settings: Settings,
        clock: SharedClock,
        admin_token_env: Option<String>,
    ) -> Result<Server, StartError> {
        Self::start_with_fs(settings, clock, admin_token_env, Arc::new(RealFs)).await
    }

    /// Like [`Server::start`], with the WAL writing through `fs` (fault injection).
    pub async fn start_with_fs(
        settings: Settings,
        clock: SharedClock,
        admin_token_env: Option<String>,
        fs: Arc<dyn FileSystem>,
    ) -> Result<Server, StartError> {
        crate::telemetry::install();
        let lock = lock_data_dir(&settings.data_dir)?;
        if settings.twilio_auth_token.is_none() {
            tracing::warn!(
                "DNID_TWILIO_AUTH_TOKEN is not set: Twilio webhook signatures are not checked"
            );
        }
        let (token, token_source) = AdminToken::load_or_create(admin_token_env, &settings.data_dir)
            .map_err(|e| StartError::Token(settings.data_dir.clone(), e))?;
        let recovered = {
            let (data, snaps, now) = (
                settings.data_dir.clone(),
                settings.snapshot_dir.clone(),
                clock.now(),
            );
            tokio::task::spawn_blocking(move || {
                let recovered = recover(&data, &snaps, now)?;
                note_recovered_snapshot(&snaps, recovered.report.snapshot.as_deref());
                Ok::<_, RecoveryError>(recovered)
            })
            .await
            .map_err(|e| StartError::Actor(e.to_string()))??
        };
        let report = recovered.report;
        crate::telemetry::store::recovered(report.elapsed, report.records_replayed);
        tracing::info!(
            pools = recovered.pools.len(),
            records = report.records_replayed,
            snapshot = ?report.snapshot,
            millis = report.elapsed.as_millis() as u64,
            "state recovered"
        );
        let recovered_calls = recovered.calls;
        let wal_thread = Wal::start(
            WalOptions {
                dir: wal_dir(&settings.data_dir),
                mode: settings.fsync,
                segment_bytes: settings.wal_segment_bytes,
                fs,
            },
            recovered.wal,
        )
        .map_err(StartError::Wal)?;
        let wal = wal_thread.wal();
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
                wal: wal.clone(),
            },
            RouterArgs {
                pools: recovered.pools,
                router_seq: recovered.router_seq,
            },
        )
        .await
        .map_err(|e| StartError::Actor(e.to_string()))?;
        let (calls, calls_done) = Actor::spawn(
            None,
            CallsActor {
                clock: clock.clone(),
                wal: wal.clone(),
                router: router.clone(),
                sender: crate::calls::webhook::Sender::new(),
                retention_secs: settings.call_retention_days.saturating_mul(86_400),
                request_timeout: settings.request_timeout(),
            },
            CallsArgs {
                image: recovered_calls,
            },
        )
        .await
        .map_err(|e| StartError::Actor(e.to_string()))?;
        let snapshots = Arc::new(Snapshotter {
            calls: calls.clone(),
            router: router.clone(),
            wal: wal.clone(),
            dir: settings.snapshot_dir.clone(),
            retain: settings.snapshot_retain,
            clock: clock.clone(),
            timeout: Duration::from_secs(30),
            running: Default::default(),
        });
        let demo_pool = if settings.demo {
            // The demo page is served by dnid itself, so the pool's website is dnid's.
            let host = if addr.ip().is_unspecified() {
                "localhost".to_string()
            } else {
                addr.ip().to_string()
            };
            let id = crate::http::demo::ensure_pool(&router, &format!("http://{host}"))
                .await
                .map_err(StartError::Demo)?;
            tracing::info!(pool = %id, "demo pool ready: open http://{host}:{}/demo", addr.port());
            Some(id)
        } else {
            None
        };
        let scheduler = schedule_snapshots(&settings.snapshot_cron, snapshots.clone()).await?;
        let grace = Duration::from_secs(settings.shutdown_grace_secs);
        let app = Arc::new(App {
            router: router.clone(),
            calls: calls.clone(),
            clock,
            token: token.clone(),
            bots: BotMatcher::new(&settings.bot_user_agents),
            demo_pool,
            rate_limit: crate::http::rate_limit::SessionRateLimit::new(
                settings.session_rate_per_ip,
                settings.session_burst_per_ip,
            ),
            snapshots: snapshots.clone(),
            settings,
            draining: Default::default(),
        });
        let (shutdown, rx) = watch::channel(false);
        let http = tokio::spawn(crate::http::server::serve(listener, app, rx, grace));
        Ok(Server {
            addr,
            token,
            token_source,
            recovery: report,
            shutdown,
            http,
            router,
            router_done,
            calls: calls.clone(),
            calls_done,
            wal: wal_thread,
            scheduler,
            snapshots,
            _lock: lock,
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

    pub fn recovery(&self) -> &RecoveryReport {
        &self.recovery
    }

    pub fn snapshots(&self) -> &Snapshotter {
        &self.snapshots
    }

    /// Stops accepting, finishes in-flight requests (within the grace period), stops
    /// the snapshot schedule and the actors, and syncs the WAL.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        let _ = self.http.await;
        let _ = self.scheduler.shutdown().await;
        self.router.stop_children_and_wait(None, None).await;
        self.router.stop(None);
        let _ = self.router_done.await;
        self.calls.stop(None);
        let _ = self.calls_done.await;
        let wal = self.wal;
        let _ = tokio::task::spawn_blocking(move || wal.stop()).await;
    }
}

/// The snapshot recovery started from is the last good one until a new one is taken.
fn note_recovered_snapshot(dir: &Path, used: Option<&Path>) {
    let Some(used) = used else { return };
    let listing = crate::store::snapshot::list(dir).unwrap_or_default();
    if let Some(meta) = listing.into_iter().flatten().find(|m| m.path == used) {
        crate::telemetry::store::snapshot_found(meta.created_at, meta.size);
    }
}

async fn schedule_snapshots(
    cron: &str,
    snapshots: Arc<Snapshotter>,
) -> Result<JobScheduler, StartError> {
    let bad = |e: tokio_cron_scheduler::JobSchedulerError| {
        StartError::Cron(cron.to_string(), e.to_string())
    };
    let scheduler = JobScheduler::new().await.map_err(bad)?;
    let job = Job::new_async(cron, move |_id, _lock| {
        let snapshots = snapshots.clone();
        Box::pin(async move {
            if let Err(e) = snapshots.take().await {
                crate::telemetry::store::snapshot_failed();
                tracing::error!(error = %e, "scheduled snapshot failed");
            }
        })
    })
    .map_err(bad)?;
    scheduler.add(job).await.map_err(bad)?;
    scheduler.start().await.map_err(bad)?;
    Ok(scheduler)
}
