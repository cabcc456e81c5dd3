//! The accept loop: HTTP/1.1 keep-alive connections, a bound on requests in flight
//! (answered 503 + `Retry-After` past it), and graceful shutdown that stops accepting,
//! lets in-flight requests finish within a deadline, then closes what is left.

use super::routes::{overloaded, route, route_of};
use super::App;
use crate::telemetry::http::{self as metrics, InFlight, OVERLOADED};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use std::convert::Infallible;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};

/// How long a client may take to send its request headers (slow-loris guard).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves until `shutdown` turns true, then drains for at most `grace`.
pub async fn serve(
    listener: TcpListener,
    app: Arc<App>,
    mut shutdown: watch::Receiver<bool>,
    grace: Duration,
) {
    let inflight = Arc::new(Semaphore::new(app.settings.max_inflight));
    let graceful = GracefulShutdown::new();
    let sweeper = {
        let app = app.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_secs(60));
            loop {
                every.tick().await;
                app.rate_limit.forget_idle();
            }
        })
    };
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: say so, back off briefly
                    // rather than spin, and keep serving the connections we have.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => break,
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let inflight = inflight.clone();
        let service = service_fn(move |req| {
            let app = app.clone();
            let inflight = inflight.clone();
            async move {
                let _counted = InFlight::enter();
                // Health probes and scrapes bypass admission control: an overloaded
                // server is alive, and saying otherwise would get it restarted under
                // load; its metrics are most wanted then.
                let probe = matches!(req.uri().path(), "/healthz" | "/readyz" | "/metrics");
                let _permit = match inflight.try_acquire_owned() {
                    Ok(p) => Some(p),
                    Err(_) if probe => None,
                    Err(_) => {
                        let started = Instant::now();
                        tracing::debug!("request refused: too many in flight");
                        metrics::rejected(OVERLOADED);
                        let resp = overloaded();
                        metrics::request(
                            route_of(req.uri().path()),
                            req.method(),
                            resp.status().as_u16(),
                            started.elapsed(),
                        );
                        return Ok::<_, Infallible>(resp);
                    }
                };
                Ok::<_, Infallible>(route(&app, peer, req).await)
            }
        });
        let conn = http1::Builder::new()
            .keep_alive(true)
            .timer(TokioTimer::new())
            .header_read_timeout(HEADER_READ_TIMEOUT)
            .serve_connection(TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    app.draining.store(true, Ordering::SeqCst);
    sweeper.abort();
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => tracing::info!("all connections finished"),
        _ = tokio::time::sleep(grace) => {
            tracing::warn!(grace_secs = grace.as_secs(), "shutdown deadline passed; closing remaining connections");
        }
    }
}
