//! Server configuration: built-in defaults, overridden by an optional TOML file,
//! overridden by flags and their environment variables.

use crate::store::FsyncMode;
use ipnet::IpNet;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// The resolved configuration of `dnid serve`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Folder for the WAL, the admin token and the lock file.
    pub data_dir: PathBuf,
    /// Folder for snapshots.
    pub snapshot_dir: PathBuf,
    /// When a change is acknowledged: after fdatasync (`always`), after the write with
    /// a sync each second (`everysec`), or after the write (`never`).
    pub fsync: FsyncMode,
    /// When snapshots are taken (cron with seconds: `sec min hour day month weekday`).
    pub snapshot_cron: String,
    /// Snapshots kept.
    pub snapshot_retain: usize,
    /// Size at which a new WAL segment is started.
    pub wal_segment_bytes: u64,
    /// Requests handled at once; more are answered 503 with `Retry-After`.
    pub max_inflight: usize,
    /// Largest request body accepted on admin endpoints.
    pub max_body_bytes: usize,
    /// Largest request body accepted on public tracking endpoints.
    pub max_public_body_bytes: usize,
    /// How long a request may wait for a pool before it fails with 503.
    pub request_timeout_ms: u64,
    /// How long shutdown waits for in-flight requests.
    pub shutdown_grace_secs: u64,
    /// Peers whose `X-Forwarded-For` is believed (CIDR list).
    pub trusted_proxies: Vec<IpNet>,
    /// User-Agent substrings (case-insensitive) that mark crawlers and headless tools.
    pub bot_user_agents: Vec<String>,
    /// New-session requests allowed per client IP per minute (0: no limit).
    pub session_rate_per_ip: u32,
    /// How many of those may come at once.
    pub session_burst_per_ip: u32,
    /// Create a demo pool with fictional numbers and serve `/demo`.
    pub demo: bool,
    /// The URL the outside world uses to reach dnid (Twilio signs it; TwiML callbacks
    /// point at it). Unset: `http://<Host header>`.
    pub public_url: Option<String>,
    /// Twilio's auth token; unset: signatures are not checked (a warning is logged).
    pub twilio_auth_token: Option<Secret>,
    /// Calls older than this many days are forgotten.
    pub call_retention_days: u64,
}

/// A secret setting: never shown by `Debug`.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Every minute, at second 0.
pub const DEFAULT_SNAPSHOT_CRON: &str = "0 * * * * *";

/// Crawlers and headless tools that get the target number and consume nothing.
/// `curl` and `wget` are deliberately absent so the README walk-through leases numbers.
pub const DEFAULT_BOTS: &[&str] = &[
    "googlebot",
    "adsbot-google",
    "mediapartners-google",
    "google-inspectiontool",
    "bingbot",
    "bingpreview",
    "duckduckbot",
    "yandexbot",
    "baiduspider",
    "ahrefsbot",
    "semrushbot",
    "mj12bot",
    "dotbot",
    "petalbot",
    "applebot",
    "slurp",
    "facebookexternalhit",
    "facebot",
    "twitterbot",
    "linkedinbot",
    "pinterestbot",
    "bytespider",
    "gptbot",
    "ccbot",
    "headlesschrome",
    "phantomjs",
    "lighthouse",
    "chrome-lighthouse",
    "pingdom",
    "uptimerobot",
];

impl Default for Settings {
    fn default() -> Self {
        Settings {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./data"),
            snapshot_dir: PathBuf::from("./snapshots"),
            fsync: FsyncMode::Always,
            snapshot_cron: DEFAULT_SNAPSHOT_CRON.to_string(),
            snapshot_retain: crate::store::snapshot::DEFAULT_RETAIN,
            wal_segment_bytes: 64 << 20,
            max_inflight: 4096,
            max_body_bytes: 1 << 20,
            max_public_body_bytes: 16 << 10,
            request_timeout_ms: 5_000,
            shutdown_grace_secs: 10,
            trusted_proxies: Vec::new(),
            bot_user_agents: DEFAULT_BOTS.iter().map(|s| s.to_string()).collect(),
            session_rate_per_ip: 120,
            session_burst_per_ip: 60,
            demo: false,
            public_url: None,
            twilio_auth_token: None,
            call_retention_days: 90,
        }
    }
}

impl Settings {
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }
}

/// Flags of `dnid serve`. Each also reads the environment variable named beside it.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct ServeArgs {
    /// TOML file with any of the settings below (flags and environment win over it).
    #[arg(long, env = "DNID_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "DNID_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Folder for the WAL, admin token and lock file [default: ./data].
    #[arg(long, env = "DNID_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Folder for snapshots [default: ./snapshots].
    #[arg(long, env = "DNID_SNAPSHOT_DIR")]
    pub snapshot_dir: Option<PathBuf>,
    /// When changes are acknowledged: always (after fdatasync), everysec, never [default: always].
    #[arg(long, env = "DNID_FSYNC", value_enum)]
    pub fsync: Option<FsyncMode>,
    /// Snapshot schedule, cron with seconds [default: "0 * * * * *", every minute].
    #[arg(long, env = "DNID_SNAPSHOT_CRON")]
    pub snapshot_cron: Option<String>,
    /// Snapshots kept [default: 24].
    #[arg(long, env = "DNID_SNAPSHOT_RETAIN")]
    pub snapshot_retain: Option<usize>,
    /// Requests handled at once; more get 503 + Retry-After [default: 4096].
    #[arg(long, env = "DNID_MAX_INFLIGHT")]
    pub max_inflight: Option<usize>,
    /// Largest admin request body in bytes [default: 1048576].
    #[arg(long, env = "DNID_MAX_BODY_BYTES")]
    pub max_body_bytes: Option<usize>,
    /// Largest public tracking request body in bytes [default: 16384].
    #[arg(long, env = "DNID_MAX_PUBLIC_BODY_BYTES")]
    pub max_public_body_bytes: Option<usize>,
    /// Milliseconds a request may wait for its pool [default: 5000].
    #[arg(long, env = "DNID_REQUEST_TIMEOUT_MS")]
    pub request_timeout_ms: Option<u64>,
    /// Seconds shutdown waits for in-flight requests [default: 10].
    #[arg(long, env = "DNID_SHUTDOWN_GRACE_SECS")]
    pub shutdown_grace_secs: Option<u64>,
    /// Comma-separated CIDRs of proxies whose X-Forwarded-For is trusted [default: none].
    #[arg(long, env = "DNID_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Option<Vec<IpNet>>,
    /// Comma-separated User-Agent substrings treated as bots [default: built-in crawler list].
    #[arg(long, env = "DNID_BOT_USER_AGENTS", value_delimiter = ',')]
    pub bot_user_agents: Option<Vec<String>>,
    /// New-session requests per client IP per minute; 0 = unlimited [default: 120].
    #[arg(long, env = "DNID_SESSION_RATE_PER_IP")]
    pub session_rate_per_ip: Option<u32>,
    /// Burst allowed above that rate [default: 60].
    #[arg(long, env = "DNID_SESSION_BURST_PER_IP")]
    pub session_burst_per_ip: Option<u32>,
    /// Create a demo pool with fictional numbers and serve the demo page at /demo.
    #[arg(long, env = "DNID_DEMO")]
    pub demo: bool,
    /// The URL the outside world uses to reach dnid, e.g. https://dnid.example.com (Twilio signs it) [default: http://<Host header>].
    #[arg(long, env = "DNID_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Days of calls kept in the call log [default: 90].
    #[arg(long, env = "DNID_CALL_RETENTION_DAYS")]
    pub call_retention_days: Option<u64>,
}

/// The configuration file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {0}: {1}")]
    Read(PathBuf, std::io::Error),
    #[error("config file {0} is not valid: {1}")]
    Parse(PathBuf, toml::de::Error),
    #[error("{0}")]
    Invalid(String),
}

impl ServeArgs {
    /// Defaults, then the file, then flags and environment.
    pub fn resolve(&self) -> Result<Settings, ConfigError> {
        let mut s = match &self.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| ConfigError::Read(path.clone(), e))?;
                toml::from_str(&text).map_err(|e| ConfigError::Parse(path.clone(), e))?
            }
            None => Settings::default(),
        };
        macro_rules! take {
            ($($f:ident),*) => {$( if let Some(v) = &self.$f { s.$f = v.clone(); } )*};
        }
        take!(
            listen,
            data_dir,
            snapshot_dir,
            fsync,
            snapshot_cron,
            snapshot_retain,
            max_inflight,
            max_body_bytes,
            max_public_body_bytes,
            request_timeout_ms,
            shutdown_grace_secs,
            trusted_proxies,
            bot_user_agents,
            session_rate_per_ip,
            session_burst_per_ip,
            call_retention_days
        );
        s.demo |= self.demo;
        if let Some(u) = &self.public_url {
            s.public_url = Some(u.clone());
        }
        if let Some(u) = &s.public_url {
            if !crate::calls::webhook::valid_url(u) {
                return Err(ConfigError::Invalid(format!(
                    "public_url must be an absolute http(s) URL, got {u:?}"
                )));
            }
        }
        // A secret: from the environment (or the file), never from a flag.
        if let Ok(t) = std::env::var("DNID_TWILIO_AUTH_TOKEN") {
            if !t.trim().is_empty() {
                s.twilio_auth_token = Some(Secret(t.trim().to_string()));
            }
        }
        if s.max_inflight == 0 {
            return Err(ConfigError::Invalid(
                "max_inflight must be at least 1".into(),
            ));
        }
        if s.snapshot_retain == 0 {
            return Err(ConfigError::Invalid(
                "snapshot_retain must be at least 1".into(),
            ));
        }
        if s.wal_segment_bytes < 4096 {
            return Err(ConfigError::Invalid(
                "wal_segment_bytes must be at least 4096".into(),
            ));
        }
        if s.request_timeout_ms == 0 {
            return Err(ConfigError::Invalid(
                "request_timeout_ms must be at least 1".into(),
            ));
        }
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn defaults_match_the_documentation() {
        let s = ServeArgs::default().resolve().unwrap();
        assert_eq!(s.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(s.data_dir, PathBuf::from("./data"));
        assert!(s.bot_user_agents.iter().any(|b| b == "googlebot"));
    }

    #[test]
    fn flags_override_the_file_which_overrides_defaults() {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        writeln!(
            f,
            "listen = \"0.0.0.0:9000\"\nmax_inflight = 7\ntrusted_proxies = [\"10.0.0.0/8\"]"
        )
        .unwrap();
        let args = ServeArgs {
            config: Some(f.path().to_path_buf()),
            max_inflight: Some(9),
            ..Default::default()
        };
        let s = args.resolve().unwrap();
        assert_eq!(s.listen.to_string(), "0.0.0.0:9000");
        assert_eq!(s.max_inflight, 9);
        assert_eq!(
            s.trusted_proxies,
            vec!["10.0.0.0/8".parse::<IpNet>().unwrap()]
        );
    }

    #[test]
    fn a_bad_file_is_a_clear_error() {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        writeln!(f, "listen = 5\nbogus = 1").unwrap();
        let args = ServeArgs {
            config: Some(f.path().to_path_buf()),
            ..Default::default()
        };
        let err = args.resolve().unwrap_err().to_string();
        assert!(err.contains("is not valid"), "{err}");
        let zero = ServeArgs {
            max_inflight: Some(0),
            ..Default::default()
        };
        assert!(zero.resolve().is_err());
    }
}
