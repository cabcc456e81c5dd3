//! The `dnid` command: a thin front end over the library.

use anyhow::Context;
use clap::{Parser, Subcommand};
use dnid::cli::restore::RestoreArgs;
use dnid::cli::snapshot::SnapshotCommand;
use dnid::cli::wal::WalCommand;
use dnid::cli::{CliError, EXIT_FAILURE};
use dnid::clock::SystemClock;
use dnid::config::ServeArgs;
use dnid::http::auth::TokenSource;
use dnid::server::Server;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Parser)]
#[command(
    name = "dnid",
    version,
    about = "Dynamic Number Insertion server",
    after_help = "Exit codes: 0 success, 1 failure or invalid data, 2 usage error, 3 the data folder is locked by a running server."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    ///
    /// The admin token comes from DNID_ADMIN_TOKEN, or is generated on first start,
    /// printed once and stored in the data folder (mode 0600).
    Serve(Box<ServeArgs>),
    /// List, inspect, verify or take snapshots.
    #[command(subcommand)]
    Snapshot(SnapshotCommand),
    /// Replace the state of a stopped server's data folder with a snapshot.
    ///
    /// Verifies the snapshot, asks, then moves the current WAL and snapshots into
    /// `<data-dir>/before-restore-<unix time>/` and installs the snapshot as the only
    /// one: the next `dnid serve` starts from exactly that state. Refuses while a
    /// server holds the data folder (exit code 3).
    Restore(RestoreArgs),
    /// Inspect or repair the write-ahead log.
    #[command(subcommand)]
    Wal(WalCommand),
}

/// mimalloc rather than the system allocator: the tracking path allocates and frees
/// request-sized blocks while long-lived session data accumulates, and under that
/// mix glibc's malloc spent a quarter of a request's CPU sorting its free lists (load
/// profile, `new` workload); mimalloc's per-size free lists do not.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `ractor=warn`: ractor wraps every actor's message loop in an INFO span; left
/// enabled, each message pays a subscriber enter and exit (about 3 % of a tracking
/// request's CPU in the load profile) for a span no log line uses.
const DEFAULT_LOG_FILTER: &str = "info,ractor=warn";

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("DNID_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(DEFAULT_LOG_FILTER)),
        )
        .with_writer(std::io::stderr)
        .init();
    let result = match cli.command {
        Command::Serve(args) => {
            return match run_server(*args) {
                Ok(()) => ExitCode::SUCCESS,
                // As `main() -> anyhow::Result<()>` reports it.
                Err(e) => {
                    eprintln!("Error: {e:?}");
                    ExitCode::from(EXIT_FAILURE)
                }
            };
        }
        Command::Snapshot(cmd) => dnid::cli::snapshot::run(cmd, &mut std::io::stdout().lock()),
        Command::Restore(args) => dnid::cli::restore::run(&args, &mut std::io::stdout().lock()),
        Command::Wal(cmd) => dnid::cli::wal::run(cmd, &mut std::io::stdout().lock()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            ExitCode::from(EXIT_FAILURE)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

fn run_server(args: ServeArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(serve(args))
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let settings = args.resolve()?;
    let data_dir = settings.data_dir.clone();
    let env_token = std::env::var("DNID_ADMIN_TOKEN").ok();
    let server = Server::start(settings, Arc::new(SystemClock), env_token).await?;
    match server.token_source() {
        TokenSource::Generated => eprintln!(
            "\nA new admin token was generated and stored in {}:\n\n    {}\n\nUse it as `Authorization: Bearer <token>` on /api/v1 admin endpoints. It is shown only this once.\n",
            data_dir.join(dnid::http::auth::TOKEN_FILE).display(),
            server.admin_token().secret()
        ),
        TokenSource::File => tracing::info!(
            path = %data_dir.join(dnid::http::auth::TOKEN_FILE).display(),
            "admin token loaded from the data folder"
        ),
        TokenSource::Environment => tracing::info!("admin token taken from DNID_ADMIN_TOKEN"),
    }
    tracing::info!(addr = %server.local_addr(), "dnid listening");
    wait_for_signal().await?;
    tracing::info!("shutting down: finishing in-flight requests");
    server.shutdown().await;
    tracing::info!("stopped");
    Ok(())
}

async fn wait_for_signal() -> anyhow::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r.context("cannot listen for SIGINT")?,
        _ = term.recv() => {}
    }
    Ok(())
}
