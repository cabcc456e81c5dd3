//! HTTP load harness (issue #7): the real `dnid` server, driven over loopback by
//! hyper's HTTP/1.1 client on N keep-alive connections, against a bare hyper baseline
//! measured in the same run.
//!
//! ```sh
//! cargo build --release                      # the server binary under test
//! cargo bench --bench load                   # full run (~5-8 min on 2 cores)
//! DNID_LOAD_QUICK=1 cargo bench --bench load # smoke run (~1 s per measurement)
//! scripts/bench-load.sh                      # the same, plus a load-average check
//! ```
//!
//! What it measures:
//!
//! - **Workloads** against a fresh server (fresh temporary data folder) each:
//!   `new` (every request a new visitor; the pool is sized so it never runs dry),
//!   `mixed` (each visitor: one new session, then nine page views), `exhausted`
//!   (a pool of 10 numbers under the `new` load: the fallback path); each with
//!   `--fsync never` and `--fsync always`.
//! - **Closed loop**: every connection sends its next request when the previous answer
//!   is in (the maximum rate). **Open loop**: requests are scheduled at a fixed rate
//!   (80 % of that configuration's closed-loop rate) and each latency is measured from
//!   the time the request *should* have been sent, so a stall is charged to every
//!   request it delayed (no coordinated omission). One pacer task releases the slots
//!   (spinning for the last 2 ms, as tokio's timer has 1 ms ticks), idle connections
//!   take them in order; `pacer lag` is the client's own timing error, `conn wait` the
//!   time a due request waited for one of the connections to come free. For the
//!   baseline and `new`/never, extra open-loop rates (`DNID_LOAD_SWEEP`, % of the
//!   maximum) show where p99 crosses 2 ms.
//! - **Baseline**: a bare hyper server (this same bench binary, re-executed with
//!   `DNID_LOAD_BASELINE=1`) that reads the body with the same limit, parses the same
//!   JSON with serde and answers a body of the same size with the same headers. It is
//!   measured before and after the dnid rows; ratios are to their mean.
//! - **Placement**: the load generator (this process, all threads, one current-thread
//!   tokio runtime) is pinned to CPU `DNID_LOAD_CLIENT_CPU` (0); the server under test
//!   — dnid or the baseline, each a separate process started through `taskset -c` —
//!   to CPU `DNID_LOAD_SERVER_CPU` (1). Both servers use tokio's default multi-thread
//!   runtime, which sees one CPU, so one worker thread each.
//! - **WAL**: records per batch, fdatasync count, mean and slow ones, from dnid's own
//!   `/metrics`, per phase.
//! - **Scaling** (`--fsync never`): 1, 100 and 10,000 pools; 10 … 1,000,000 numbers in
//!   a pool. Pools use `exhaustion_policy: recycle_oldest` and are filled to capacity
//!   first, so every measured new session takes the same path (recycle the oldest
//!   lease) whatever the size; page views renew random live sessions.
//! - **Memory**: resident memory of the server before and after creating 1,000,000
//!   live sessions with a typical attribution (landing URL with UTM + gclid, referrer,
//!   Chrome User-Agent), divided by the count.
//!
//! Budgets (design §7, issue #7) are checked and printed PASS/FAIL, never asserted.
//!
//! Environment:
//!
//! | variable | meaning |
//! |---|---|
//! | `DNID_LOAD_QUICK=1` | ~1 s per measurement, smaller scaling and memory runs |
//! | `DNID_LOAD_ONLY` | comma list of parts: `baseline`, `new-never`, `new-always`, `mixed-never`, `mixed-always`, `exhausted-never`, `exhausted-always`, `pools`, `sizes` (sizes includes memory) |
//! | `DNID_LOAD_SECS` | seconds per measured phase (overrides quick/full) |
//! | `DNID_LOAD_CONNS` | connections (default 64) |
//! | `DNID_LOAD_OPEN_PCT` | open-loop rate in % of the closed-loop maximum (default 80) |
//! | `DNID_LOAD_SWEEP` | extra open-loop rates for baseline and `new`/never, % of max (default `25,50,65`; quick `50`) |
//! | `DNID_LOAD_CLIENT_CPU`, `DNID_LOAD_SERVER_CPU` | placement (default 0 and 1) |
//! | `DNID_LOAD_MEM_SESSIONS` | live sessions for the memory figure (default 1,000,000) |
//! | `DNID_LOAD_SERVER_WRAP` | command prefix for the dnid process, e.g. `perf record -g -o f --` (the profile run in `scripts/bench-load.sh`) |
//! | `DNID_LOAD_PERF_CTL` | a `perf record --control fifo:` path: the harness sends `enable`/`disable` around each closed-loop measured window |
//! | `DNID_BIN` | the server binary (default `target/release/dnid`) |

/// The same allocator as the dnid binary, so the baseline server (this binary) is not
/// handicapped by a slower one.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use bytes::Bytes;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full, Limited};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

const TOKEN: &str = "load-bench-admin-token";
const UA: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";
const ORIGIN: &str = "https://shop.example";
/// A typical paid-search landing page: 150 characters, five UTM parameters and a gclid.
const LANDING: &str = "https://shop.example/sale/running-shoes?utm_source=google&utm_medium=cpc&utm_campaign=spring_sale&utm_term=running+shoes&gclid=EAIaIQobChMI8rWb4t2e";
const REFERRER: &str = "https://www.google.com/";
const PAGE: &str = "https://shop.example/sale/running-shoes/pegasus-41?size=44";
/// Most numbers one admin request may carry.
const NUMBERS_PER_REQUEST: u64 = 10_000;
/// An unreachable snapshot schedule (1 January, midnight): snapshot cost is measured by
/// the durability bench, and a snapshot landing in one run and not another is noise.
const NO_SNAPSHOTS: &str = "0 0 0 1 1 *";

// ---------------------------------------------------------------------------------
// Settings

#[derive(Clone)]
struct Opts {
    quick: bool,
    warm: Duration,
    secs: Duration,
    conns: usize,
    open_pct: f64,
    client_cpu: String,
    server_cpu: String,
    only: Option<Vec<String>>,
    mem_sessions: u64,
    /// Extra open-loop rates (% of the closed-loop maximum) for baseline and new/never.
    sweep: Vec<f64>,
    wrap: Vec<String>,
    bin: PathBuf,
}

impl Opts {
    fn from_env() -> Opts {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let quick = var("DNID_LOAD_QUICK").is_some_and(|v| v != "0");
        let secs = var("DNID_LOAD_SECS")
            .and_then(|v| v.parse::<f64>().ok())
            .map(Duration::from_secs_f64)
            .unwrap_or(if quick {
                Duration::from_secs(1)
            } else {
                Duration::from_secs(5)
            });
        let bin = var("DNID_BIN").map(PathBuf::from).unwrap_or_else(|| {
            let target = var("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
            target.join("release").join("dnid")
        });
        Opts {
            quick,
            warm: if quick {
                Duration::from_millis(300)
            } else {
                Duration::from_secs(1)
            },
            secs,
            conns: var("DNID_LOAD_CONNS")
                .and_then(|v| v.parse().ok())
                .unwrap_or(64),
            open_pct: var("DNID_LOAD_OPEN_PCT")
                .and_then(|v| v.parse().ok())
                .unwrap_or(80.0),
            client_cpu: var("DNID_LOAD_CLIENT_CPU").unwrap_or_else(|| "0".into()),
            server_cpu: var("DNID_LOAD_SERVER_CPU").unwrap_or_else(|| "1".into()),
            only: var("DNID_LOAD_ONLY")
                .map(|v| v.split(',').map(|s| s.trim().to_string()).collect()),
            mem_sessions: var("DNID_LOAD_MEM_SESSIONS")
                .and_then(|v| v.parse().ok())
                .unwrap_or(if quick { 100_000 } else { 1_000_000 }),
            sweep: var("DNID_LOAD_SWEEP")
                .map(|v| v.split(',').filter_map(|x| x.trim().parse().ok()).collect())
                .unwrap_or_else(|| {
                    if quick {
                        vec![50.0]
                    } else {
                        vec![25.0, 50.0, 65.0]
                    }
                }),
            wrap: var("DNID_LOAD_SERVER_WRAP")
                .map(|v| v.split_whitespace().map(str::to_string).collect())
                .unwrap_or_default(),
            bin,
        }
    }

    fn wants(&self, part: &str) -> bool {
        self.only
            .as_ref()
            .is_none_or(|o| o.iter().any(|p| p == part))
    }
}

// ---------------------------------------------------------------------------------
// The baseline server (runs in a child process: this binary with DNID_LOAD_BASELINE=1)

/// The same body shape as dnid's `POST /api/v1/tracking/sessions`.
#[derive(Deserialize)]
#[allow(dead_code)]
struct NewSessionBody {
    pool_id: String,
    session_id: Option<String>,
    page_url: String,
    referrer: Option<String>,
}

#[derive(Deserialize, Default)]
#[allow(dead_code)]
struct PageViewBody {
    page_url: Option<String>,
    #[serde(default)]
    heartbeat: bool,
}

/// The same shape and size as dnid's answer.
#[derive(Serialize)]
struct ReplyBody {
    session_id: &'static str,
    number: Option<&'static str>,
    formatted: Option<&'static str>,
    expires_at: Option<&'static str>,
    leased: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'static str>,
    result: &'static str,
}

const BASELINE_LIMIT: usize = 16 << 10;

async fn baseline_handle(
    req: Request<hyper::body::Incoming>,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    let origin = req.headers().get(header::ORIGIN).cloned();
    let path = req.uri().path().to_string();
    let renew = path.ends_with("/pageviews");
    let known = path == "/api/v1/tracking/sessions" || renew;
    let bytes = match Limited::new(req.into_body(), BASELINE_LIMIT)
        .collect()
        .await
    {
        Ok(c) => c.to_bytes(),
        Err(_) => Bytes::new(),
    };
    let parsed = if renew {
        serde_json::from_slice::<PageViewBody>(&bytes).is_ok()
    } else {
        serde_json::from_slice::<NewSessionBody>(&bytes).is_ok()
    };
    let (status, body) = if known && parsed {
        let reply = ReplyBody {
            session_id: "t9nOIVCJbemZL-LlkbkCJdMGZHZTywn0",
            number: Some("+15550000001"),
            formatted: Some("+1 (555) 000-0001"),
            expires_at: Some("2026-11-29T17:43:14Z"),
            leased: true,
            reason: None,
            result: if renew { "renewed" } else { "new" },
        };
        (
            StatusCode::OK,
            Bytes::from(serde_json::to_vec(&reply).unwrap_or_default()),
        )
    } else {
        (
            StatusCode::BAD_REQUEST,
            Bytes::from_static(br#"{"error":{"code":"invalid_request","message":"bad"}}"#),
        )
    };
    let mut resp = Response::new(Full::new(body));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    match origin {
        Some(o) => {
            h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, o);
            h.insert(header::VARY, HeaderValue::from_static("Origin"));
        }
        None => {
            h.insert(
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            );
        }
    }
    Ok(resp)
}

/// Serves like dnid's accept loop (keep-alive, no delay, the same header timeout),
/// minus everything dnid does per request.
fn run_baseline_server() {
    // As dnid's main: a default multi-thread runtime (one worker per allowed CPU).
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        eprintln!("baseline listening addr={addr}");
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .keep_alive(true)
                    .timer(TokioTimer::new())
                    .header_read_timeout(Duration::from_secs(10))
                    .serve_connection(
                        TokioIo::new(stream),
                        hyper::service::service_fn(baseline_handle),
                    )
                    .await;
            });
        }
    });
}

// ---------------------------------------------------------------------------------
// Processes

/// A server under test: dnid or the baseline, in its own process.
struct ServerProc {
    child: Child,
    /// The process that serves (dnid itself, also when wrapped by a profiler).
    pid: u32,
    addr: SocketAddr,
    _dir: Option<tempfile::TempDir>,
}

fn proc_comm(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .unwrap_or_default()
        .trim()
        .to_string()
}

fn proc_children(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
        for t in tasks.flatten() {
            let p = t.path().join("children");
            if let Ok(s) = std::fs::read_to_string(p) {
                out.extend(s.split_whitespace().filter_map(|x| x.parse::<u32>().ok()));
            }
        }
    }
    out
}

/// `root` or the first descendant whose command name is `comm`.
fn find_process(root: u32, comm: &str) -> Option<u32> {
    let mut todo = vec![root];
    while let Some(p) = todo.pop() {
        if proc_comm(p) == comm {
            return Some(p);
        }
        todo.extend(proc_children(p));
    }
    None
}

fn status_field(pid: u32, field: &str) -> Option<String> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find(|l| l.starts_with(field))
        .map(|l| l[field.len()..].trim().to_string())
}

fn rss_kib(pid: u32) -> u64 {
    status_field(pid, "VmRSS:")
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// User + system CPU time of a process, in seconds.
fn cpu_secs(pid: u32) -> f64 {
    let Ok(s) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // Fields after the command name (which may hold spaces) start at field 3.
    let rest = s.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime is field 14, stime 15 (1-based); `rest` starts at field 3.
    (ticks(11) + ticks(12)) / 100.0
}

fn loadavg1() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0)
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// Reads stderr until the "listening" line; keeps draining afterwards.
async fn wait_listening(child: &mut Child) -> SocketAddr {
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let addr = loop {
        let line = tokio::time::timeout(Duration::from_secs(120), lines.next_line())
            .await
            .expect("the server reports its address in time")
            .expect("stderr readable")
            .unwrap_or_else(|| panic!("the server exited before listening"));
        if !line.contains("listening") {
            continue;
        }
        if let Some(i) = line.find("127.0.0.1:") {
            let rest = &line[i..];
            let end = rest
                .char_indices()
                .skip("127.0.0.1:".len())
                .find(|(_, c)| !c.is_ascii_digit())
                .map_or(rest.len(), |(j, _)| j);
            break rest[..end].parse().expect("address");
        }
    };
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            if line.contains("ERROR") || line.contains("WARN") && !line.contains("TWILIO") {
                eprintln!("  [server] {line}");
            }
        }
    });
    addr
}

impl ServerProc {
    async fn dnid(o: &Opts, fsync: &str) -> ServerProc {
        let dir = tempfile::Builder::new()
            .prefix("dnid-load-")
            .tempdir()
            .expect("temp dir");
        let mut cmd = Command::new(o.wrap.first().map_or("taskset", String::as_str));
        if !o.wrap.is_empty() {
            cmd.args(&o.wrap[1..]).arg("taskset");
        }
        cmd.args(["-c", &o.server_cpu])
            .arg(&o.bin)
            .args(["serve", "--listen", "127.0.0.1:0", "--fsync", fsync])
            .arg("--data-dir")
            .arg(dir.path())
            .arg("--snapshot-dir")
            .arg(dir.path().join("s"))
            .args(["--snapshot-cron", NO_SNAPSHOTS])
            .args(["--session-rate-per-ip", "0"])
            .env("DNID_ADMIN_TOKEN", TOKEN)
            .env("NO_COLOR", "1")
            .env_remove("DNID_LOG")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd.spawn().expect("dnid starts");
        let addr = wait_listening(&mut child).await;
        let root = child.id().expect("pid");
        let pid = find_process(root, "dnid").unwrap_or(root);
        ServerProc {
            child,
            pid,
            addr,
            _dir: Some(dir),
        }
    }

    async fn baseline(o: &Opts) -> ServerProc {
        let exe = std::env::current_exe().expect("own path");
        let mut child = Command::new("taskset")
            .args(["-c", &o.server_cpu])
            .arg(exe)
            .env("DNID_LOAD_BASELINE", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("baseline starts");
        let addr = wait_listening(&mut child).await;
        let pid = child.id().expect("pid");
        ServerProc {
            child,
            pid,
            addr,
            _dir: None,
        }
    }

    fn describe(&self) -> String {
        format!(
            "pid {} ({}), CPUs {}, {} threads",
            self.pid,
            proc_comm(self.pid),
            status_field(self.pid, "Cpus_allowed_list:").unwrap_or_default(),
            status_field(self.pid, "Threads:").unwrap_or_default()
        )
    }

    /// SIGTERM (graceful: a profiler wrapping dnid gets to write its data), then kill.
    async fn stop(mut self) {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status();
        if tokio::time::timeout(Duration::from_secs(60), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.start_kill();
            let _ = self.child.wait().await;
        }
    }
}

// ---------------------------------------------------------------------------------
// The client: one hyper HTTP/1.1 connection per worker, no pool in between.

struct Conn {
    tx: SendRequest<Full<Bytes>>,
    host: HeaderValue,
}

static UA_H: HeaderValue = HeaderValue::from_static(UA);
static JSON_H: HeaderValue = HeaderValue::from_static("application/json");
static ORIGIN_H: HeaderValue = HeaderValue::from_static(ORIGIN);

impl Conn {
    async fn open(addr: SocketAddr) -> Conn {
        let stream = TcpStream::connect(addr).await.expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        let (tx, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .expect("handshake");
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Conn {
            tx,
            host: HeaderValue::from_str(&addr.to_string()).expect("host"),
        }
    }

    async fn send(
        &mut self,
        method: Method,
        path: &str,
        body: Bytes,
        admin: bool,
    ) -> Result<(u16, Bytes), String> {
        let mut req = Request::new(Full::new(body));
        *req.method_mut() = method;
        *req.uri_mut() = path.parse().map_err(|e| format!("{e}"))?;
        let h = req.headers_mut();
        h.insert(header::HOST, self.host.clone());
        h.insert(header::USER_AGENT, UA_H.clone());
        h.insert(header::CONTENT_TYPE, JSON_H.clone());
        if admin {
            h.insert(
                header::AUTHORIZATION,
                HeaderValue::from_static(concat!("Bearer ", "load-bench-admin-token")),
            );
        } else {
            h.insert(header::ORIGIN, ORIGIN_H.clone());
        }
        self.tx.ready().await.map_err(|e| e.to_string())?;
        let resp = self.tx.send_request(req).await.map_err(|e| e.to_string())?;
        let status = resp.status().as_u16();
        let body = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        Ok((status, body))
    }

    async fn admin(
        &mut self,
        method: Method,
        path: &str,
        body: serde_json::Value,
    ) -> serde_json::Value {
        let bytes = if body.is_null() {
            Bytes::new()
        } else {
            Bytes::from(body.to_string())
        };
        let (status, b) = self
            .send(method, path, bytes, true)
            .await
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        assert!(
            (200..300).contains(&status),
            "{path}: {status} {}",
            String::from_utf8_lossy(&b)
        );
        serde_json::from_slice(&b).unwrap_or(serde_json::Value::Null)
    }
}

// ---------------------------------------------------------------------------------
// Pools

struct Dnid {
    proc: ServerProc,
    admin: Conn,
    next_number: u64,
}

fn numbers(from: u64, n: u64) -> Vec<String> {
    (from..from + n).map(|i| format!("+1555{i:07}")).collect()
}

impl Dnid {
    async fn start(o: &Opts, fsync: &str) -> Dnid {
        let proc = ServerProc::dnid(o, fsync).await;
        let admin = Conn::open(proc.addr).await;
        Dnid {
            proc,
            admin,
            next_number: 0,
        }
    }

    fn take_numbers(&mut self, n: u64) -> Vec<String> {
        let v = numbers(self.next_number, n);
        self.next_number += n;
        v
    }

    /// Creates a pool of `size` numbers (added 10,000 per request).
    async fn pool(&mut self, policy: &str, size: u64) -> String {
        let first = self.take_numbers(size.min(NUMBERS_PER_REQUEST));
        let v = self
            .admin
            .admin(
                Method::POST,
                "/api/v1/pools",
                serde_json::json!({
                    "name": "load", "website_url": ORIGIN, "target_number": "+12345678900",
                    "fallback_number": "+18005550100", "exhaustion_policy": policy,
                    "numbers": first,
                }),
            )
            .await;
        let id = v["id"].as_str().expect("pool id").to_string();
        self.add_numbers(&id, size.saturating_sub(NUMBERS_PER_REQUEST))
            .await;
        id
    }

    async fn add_numbers(&mut self, id: &str, mut n: u64) {
        while n > 0 {
            let k = n.min(NUMBERS_PER_REQUEST);
            let nums = self.take_numbers(k);
            self.admin
                .admin(
                    Method::POST,
                    &format!("/api/v1/pools/{id}/numbers"),
                    serde_json::json!({ "numbers": nums }),
                )
                .await;
            n -= k;
        }
    }

    async fn free(&mut self, id: &str) -> u64 {
        let s = self
            .admin
            .admin(
                Method::GET,
                &format!("/api/v1/pools/{id}/stats"),
                serde_json::Value::Null,
            )
            .await;
        s["numbers_free"].as_u64().unwrap_or(0)
    }

    /// Adds numbers until at least `needed` are free.
    async fn ensure_free(&mut self, id: &str, needed: u64) {
        let free = self.free(id).await;
        if free < needed {
            self.add_numbers(id, needed - free).await;
        }
    }

    /// Counters from dnid's `/metrics`: WAL batches, records, fsyncs, fsync seconds,
    /// fsyncs ≤ 2.5 ms, fsyncs ≤ 10 ms; tracking requests, ≤ 2.5 ms and ≤ 10 ms as
    /// dnid itself timed them.
    async fn server_stats(&mut self) -> [f64; 9] {
        let text = match self
            .admin
            .send(Method::GET, "/metrics", Bytes::new(), false)
            .await
        {
            Ok((200, b)) => String::from_utf8_lossy(&b).into_owned(),
            _ => String::new(),
        };
        let value = |l: &str| l.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok());
        let get = |name: &str| {
            text.lines()
                .find(|l| l.strip_prefix(name).is_some_and(|r| r.starts_with(' ')))
                .and_then(value)
                .unwrap_or(0.0)
        };
        // Summed over the tracking routes, every method and status.
        let http = |suffix: &str, le: Option<&str>| {
            text.lines()
                .filter(|l| l.starts_with(&format!("dnid_http_request_duration_seconds_{suffix}")))
                .filter(|l| l.contains("route=\"/api/v1/tracking"))
                .filter(|l| le.is_none_or(|le| l.contains(&format!("le=\"{le}\""))))
                .filter_map(value)
                .sum::<f64>()
        };
        [
            get("dnid_wal_batch_records_count"),
            get("dnid_wal_batch_records_sum"),
            get("dnid_wal_fsync_duration_seconds_count"),
            get("dnid_wal_fsync_duration_seconds_sum"),
            get("dnid_wal_fsync_duration_seconds_bucket{le=\"0.0025\"}"),
            get("dnid_wal_fsync_duration_seconds_bucket{le=\"0.01\"}"),
            http("count", None),
            http("bucket", Some("0.0025")),
            http("bucket", Some("0.01")),
        ]
    }

    async fn stop(self) {
        drop(self.admin);
        self.proc.stop().await;
    }
}

/// What the WAL writer did during a phase.
#[derive(Clone, Copy, Default)]
struct WalPhase {
    batches: f64,
    records: f64,
    fsyncs: f64,
    fsync_secs: f64,
    /// fdatasyncs that took more than 2.5 ms, and more than 10 ms.
    slow: f64,
    very_slow: f64,
    /// Tracking requests, and those dnid itself timed at over 2.5 ms and over 10 ms
    /// (from routing to the response; not the time in socket buffers or hyper).
    requests: f64,
    req_slow: f64,
    req_very_slow: f64,
}

impl WalPhase {
    fn between(a: [f64; 9], b: [f64; 9]) -> WalPhase {
        let d = |i: usize| b[i] - a[i];
        WalPhase {
            batches: d(0),
            records: d(1),
            fsyncs: d(2),
            fsync_secs: d(3),
            slow: d(2) - d(4),
            very_slow: d(2) - d(5),
            requests: d(6),
            req_slow: d(6) - d(7),
            req_very_slow: d(6) - d(8),
        }
    }

    fn show_server(&self) -> String {
        format!(
            "{:.2}% over 2.5 ms, {:.2}% over 10 ms",
            100.0 * self.req_slow / self.requests.max(1.0),
            100.0 * self.req_very_slow / self.requests.max(1.0)
        )
    }

    fn show(&self) -> String {
        let per = self.records / self.batches.max(1.0);
        let sync = if self.fsyncs > 0.0 {
            format!(
                "{:.0} fdatasyncs, mean {:.3} ms, {:.0} over 2.5 ms, {:.0} over 10 ms",
                self.fsyncs,
                self.fsync_secs * 1e3 / self.fsyncs,
                self.slow,
                self.very_slow
            )
        } else {
            "no fdatasync".into()
        };
        format!(
            "{:.0} batches, {:.1} records/batch, {sync}",
            self.batches, per
        )
    }
}

fn new_session_body(pool: &str) -> Bytes {
    Bytes::from(
        serde_json::json!({"pool_id": pool, "page_url": LANDING, "referrer": REFERRER}).to_string(),
    )
}

fn page_view_body() -> Bytes {
    Bytes::from(serde_json::json!({ "page_url": PAGE }).to_string())
}

// ---------------------------------------------------------------------------------
// Workloads and the drivers

#[derive(Clone)]
enum Work {
    /// A new visitor per request, pools taken in turn.
    New(Arc<Vec<Bytes>>),
    /// Each visitor: one new session, then nine page views.
    Mixed(Arc<Vec<Bytes>>),
    /// Page views of random live sessions.
    PageViews(Arc<Vec<String>>),
}

/// One connection's position in its workload.
struct Cursor {
    i: u64,
    visitor: Option<String>,
    step: u32,
    rng: u64,
}

impl Cursor {
    fn new(seed: u64) -> Cursor {
        Cursor {
            i: seed,
            visitor: None,
            step: 0,
            rng: seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1,
        }
    }
    fn rand(&mut self) -> u64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng
    }
}

const SESSIONS_PATH: &str = "/api/v1/tracking/sessions";

impl Work {
    fn next(&self, c: &mut Cursor, pv: &Bytes) -> (String, Bytes) {
        c.i += 1;
        match self {
            Work::New(bodies) => (
                SESSIONS_PATH.to_string(),
                bodies[(c.i % bodies.len() as u64) as usize].clone(),
            ),
            Work::Mixed(bodies) => match (&c.visitor, c.step) {
                (Some(v), 1..) => (format!("{SESSIONS_PATH}/{v}/pageviews"), pv.clone()),
                _ => {
                    c.step = 0;
                    (
                        SESSIONS_PATH.to_string(),
                        bodies[(c.i % bodies.len() as u64) as usize].clone(),
                    )
                }
            },
            Work::PageViews(ids) => {
                let k = (c.rand() % ids.len() as u64) as usize;
                (format!("{SESSIONS_PATH}/{}/pageviews", ids[k]), pv.clone())
            }
        }
    }

    fn after(&self, c: &mut Cursor, body: &[u8]) {
        if let Work::Mixed(_) = self {
            if c.step == 0 {
                c.visitor = json_str(body, "session_id").map(str::to_string);
                c.step = if c.visitor.is_some() { 1 } else { 0 };
            } else {
                c.step = if c.step >= 9 { 0 } else { c.step + 1 };
            }
        }
    }
}

/// The string value of `"key":"…"` in a flat JSON object, without a parser.
fn json_str<'a>(body: &'a [u8], key: &str) -> Option<&'a str> {
    let pat = format!("\"{key}\":\"");
    let at = body.windows(pat.len()).position(|w| w == pat.as_bytes())? + pat.len();
    let len = body[at..].iter().position(|&b| b == b'"')?;
    std::str::from_utf8(&body[at..at + len]).ok()
}

/// What the answers said: `result` kinds, and failures by status.
#[derive(Default, Clone)]
struct Tally(BTreeMap<String, u64>);

impl Tally {
    fn note(&mut self, status: u16, body: &[u8]) {
        let key = if status == 200 {
            json_str(body, "result").unwrap_or("?").to_string()
        } else {
            format!("HTTP {status}")
        };
        *self.0.entry(key).or_default() += 1;
    }
    fn merge(&mut self, o: &Tally) {
        for (k, v) in &o.0 {
            *self.0.entry(k.clone()).or_default() += v;
        }
    }
    fn failures(&self) -> u64 {
        self.0
            .iter()
            .filter(|(k, _)| k.starts_with("HTTP") || k.as_str() == "error")
            .map(|(_, v)| v)
            .sum()
    }
    fn count(&self, k: &str) -> u64 {
        self.0.get(k).copied().unwrap_or(0)
    }
    fn show(&self) -> String {
        self.0
            .iter()
            .map(|(k, v)| format!("{k}:{v}"))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

fn hist() -> Histogram<u64> {
    Histogram::new_with_bounds(1_000, 120_000_000_000, 3).expect("histogram")
}

/// One measured phase.
#[derive(Clone)]
struct Run {
    /// Requests answered in the measured window, per second.
    rps: f64,
    /// The scheduled rate (open loop).
    rate: Option<f64>,
    lat: Histogram<u64>,
    /// Open loop: how late the pacer released slots (client timing error), and how
    /// long released slots waited for a free connection.
    lag: Option<(Histogram<u64>, Histogram<u64>)>,
    tally: Tally,
    server_cpu: f64,
    client_cpu: f64,
    /// The 1-minute load average when the phase ended (this run adds about 2).
    load: f64,
    /// CPU used by anything else during the window, in cores, and steal.
    other_cpu: f64,
    steal: f64,
    /// TCP segments retransmitted during the window.
    retrans: f64,
    /// dnid's own counters over the phase (dnid rows only).
    srv: Option<WalPhase>,
}

impl Run {
    fn p(&self, q: f64) -> f64 {
        self.lat.value_at_quantile(q) as f64 / 1e6
    }
}

async fn connect_all(addr: SocketAddr, n: usize) -> Vec<Conn> {
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        v.push(Conn::open(addr).await);
    }
    v
}

/// Samples the CPU time of the server and of this process over [from, to].
/// With `profile` and `DNID_LOAD_PERF_CTL` set (a `perf record --control fifo:…`
/// path), also turns the profiler on for exactly that window, so that set-up is not in
/// the profile. Only closed-loop windows are profiled: perf shares the load
/// generator's CPU, and an open-loop client must keep its schedule.
async fn cpu_window(server: u32, from: Instant, to: Instant, profile: bool) -> Window {
    let perf = |cmd: &str| {
        if let Some(ctl) = std::env::var_os("DNID_LOAD_PERF_CTL").filter(|_| profile) {
            use std::io::Write;
            let sent = std::fs::OpenOptions::new()
                .write(true)
                .open(&ctl)
                .and_then(|mut f| f.write_all(format!("{cmd}\n").as_bytes()));
            if let Err(e) = sent {
                eprintln!("warning: perf control {}: {e}", Path::new(&ctl).display());
            }
        }
    };
    tokio::time::sleep_until(from.into()).await;
    perf("enable");
    let me = std::process::id();
    let (s0, c0, y0, t0) = (cpu_secs(server), cpu_secs(me), sys_stat(), Instant::now());
    tokio::time::sleep_until(to.into()).await;
    let dt = t0.elapsed().as_secs_f64().max(1e-9);
    let (server_cpu, client_cpu) = ((cpu_secs(server) - s0) / dt, (cpu_secs(me) - c0) / dt);
    let y1 = sys_stat();
    perf("disable");
    Window {
        server_cpu,
        client_cpu,
        other_cpu: ((y1[0] - y0[0]) / dt - server_cpu - client_cpu).max(0.0),
        steal: (y1[1] - y0[1]) / dt,
        retrans: y1[2] - y0[2],
    }
}

/// What the machine did during a measured window, besides the two processes.
struct Window {
    server_cpu: f64,
    client_cpu: f64,
    /// CPU busy on any core but not charged to the server or the load generator (other
    /// processes, and interrupt time), in cores.
    other_cpu: f64,
    /// Time the hypervisor ran something else, in cores.
    steal: f64,
    /// TCP segments retransmitted machine-wide (a lost loopback segment costs ≥ 200 ms).
    retrans: f64,
}

/// Machine-wide busy seconds (all CPUs, steal excluded), steal seconds, and TCP
/// retransmitted segments.
fn sys_stat() -> [f64; 3] {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let f: Vec<f64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    let at = |i: usize| f.get(i).copied().unwrap_or(0.0) / 100.0;
    // user nice system idle iowait irq softirq steal
    let busy = at(0) + at(1) + at(2) + at(5) + at(6);
    let snmp = std::fs::read_to_string("/proc/net/snmp").unwrap_or_default();
    let mut tcp = snmp.lines().filter(|l| l.starts_with("Tcp:"));
    let retrans = match (tcp.next(), tcp.next()) {
        (Some(names), Some(values)) => names
            .split_whitespace()
            .zip(values.split_whitespace())
            .find(|(n, _)| *n == "RetransSegs")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0.0),
        _ => 0.0,
    };
    [busy, at(7), retrans]
}

/// Every connection sends its next request as soon as the last is answered.
async fn closed_loop(o: &Opts, server: &ServerProc, work: &Work) -> Run {
    let conns = connect_all(server.addr, o.conns).await;
    let start = Instant::now();
    let from = start + o.warm;
    let to = from + o.secs;
    let cpu = tokio::spawn(cpu_window(server.pid, from, to, true));
    let pv = page_view_body();
    let tasks: Vec<_> = conns
        .into_iter()
        .enumerate()
        .map(|(k, mut conn)| {
            let work = work.clone();
            let pv = pv.clone();
            tokio::spawn(async move {
                let mut h = hist();
                let mut tally = Tally::default();
                let mut c = Cursor::new(k as u64 * 7919 + 1);
                loop {
                    let s = Instant::now();
                    if s >= to {
                        break;
                    }
                    let (path, body) = work.next(&mut c, &pv);
                    let r = conn.send(Method::POST, &path, body, false).await;
                    let e = Instant::now();
                    match &r {
                        Ok((st, b)) => {
                            work.after(&mut c, b);
                            if s >= from {
                                h.saturating_record((e - s).as_nanos() as u64);
                                tally.note(*st, b);
                            }
                        }
                        Err(_) => {
                            if s >= from {
                                *tally.0.entry("error".into()).or_default() += 1;
                            }
                            break;
                        }
                    }
                }
                (h, tally)
            })
        })
        .collect();
    let mut lat = hist();
    let mut tally = Tally::default();
    for t in tasks {
        let (h, t) = t.await.expect("task");
        lat.add(&h).expect("merge");
        tally.merge(&t);
    }
    let w = cpu.await.expect("cpu");
    Run {
        rps: lat.len() as f64 / o.secs.as_secs_f64(),
        rate: None,
        lat,
        lag: None,
        tally,
        server_cpu: w.server_cpu,
        client_cpu: w.client_cpu,
        load: loadavg1(),
        other_cpu: w.other_cpu,
        steal: w.steal,
        retrans: w.retrans,
        srv: None,
    }
}

/// Waits until `t` with sub-millisecond precision: tokio's timer ticks in whole
/// milliseconds, so the last stretch is spent yielding (which also polls I/O).
async fn wait_until(t: Instant) {
    loop {
        let now = Instant::now();
        if now >= t {
            return;
        }
        if t - now > Duration::from_micros(2_000) {
            tokio::time::sleep(t - now - Duration::from_micros(1_500)).await;
        } else {
            tokio::task::yield_now().await;
        }
    }
}

/// Scheduled send times handed from the pacer to idle connections.
struct Slots {
    due: std::sync::Mutex<std::collections::VecDeque<Option<Instant>>>,
    ready: tokio::sync::Semaphore,
}

impl Slots {
    fn push(&self, due: Option<Instant>) {
        self.due.lock().expect("slots").push_back(due);
        self.ready.add_permits(1);
    }
    async fn pop(&self) -> Option<Instant> {
        self.ready.acquire().await.ok()?.forget();
        self.due.lock().expect("slots").pop_front().flatten()
    }
}

/// Requests scheduled at `rate` per second; each latency counts from its scheduled
/// send time, so a stall is charged to every request it held up (no coordinated
/// omission). One pacer task releases the slots on time (the only task that spins);
/// idle connections take them in order. `lag` is how late the pacer released a slot
/// (the client's own timing error); `wait` how long a released slot then waited for a
/// free connection (all 64 busy: the server's doing, and part of the latency).
async fn open_loop(o: &Opts, server: &ServerProc, work: &Work, rate: f64) -> Run {
    let conns = connect_all(server.addr, o.conns).await;
    let start = Instant::now() + Duration::from_millis(5);
    let from = start + o.warm;
    let to = from + o.secs;
    let cpu = tokio::spawn(cpu_window(server.pid, from, to, false));
    let interval = 1e9 / rate;
    let slots = Arc::new(Slots {
        due: Default::default(),
        ready: tokio::sync::Semaphore::new(0),
    });
    let pacer = {
        let slots = slots.clone();
        let n = conns.len();
        tokio::spawn(async move {
            let mut lag = hist();
            let mut i: u64 = 0;
            loop {
                let due = start + Duration::from_nanos((i as f64 * interval) as u64);
                if due >= to {
                    break;
                }
                wait_until(due).await;
                // Release every slot that is due (several when the client was late).
                let now = Instant::now();
                loop {
                    let due = start + Duration::from_nanos((i as f64 * interval) as u64);
                    if due > now || due >= to {
                        break;
                    }
                    if due >= from {
                        lag.saturating_record((now - due).as_nanos() as u64);
                    }
                    slots.push(Some(due));
                    i += 1;
                }
            }
            for _ in 0..n {
                slots.push(None);
            }
            lag
        })
    };
    let pv = page_view_body();
    let tasks: Vec<_> = conns
        .into_iter()
        .enumerate()
        .map(|(k, mut conn)| {
            let work = work.clone();
            let pv = pv.clone();
            let slots = slots.clone();
            tokio::spawn(async move {
                let mut h = hist();
                let mut wait = hist();
                let mut tally = Tally::default();
                let mut c = Cursor::new(k as u64 * 7919 + 1);
                let mut last = from;
                while let Some(due) = slots.pop().await {
                    let sent = Instant::now();
                    let (path, body) = work.next(&mut c, &pv);
                    let r = conn.send(Method::POST, &path, body, false).await;
                    let e = Instant::now();
                    match &r {
                        Ok((st, b)) => {
                            work.after(&mut c, b);
                            if due >= from {
                                h.saturating_record((e - due).as_nanos() as u64);
                                wait.saturating_record((sent - due).as_nanos() as u64);
                                tally.note(*st, b);
                                last = last.max(e);
                            }
                        }
                        Err(_) => {
                            if due >= from {
                                *tally.0.entry("error".into()).or_default() += 1;
                            }
                            break;
                        }
                    }
                }
                (h, wait, tally, last)
            })
        })
        .collect();
    let mut lat = hist();
    let mut wait = hist();
    let mut tally = Tally::default();
    let mut last = to;
    for t in tasks {
        let (h, w, t, e) = t.await.expect("task");
        lat.add(&h).expect("merge");
        wait.add(&w).expect("merge");
        tally.merge(&t);
        last = last.max(e);
    }
    let lag = pacer.await.expect("pacer");
    let w = cpu.await.expect("cpu");
    Run {
        rps: lat.len() as f64 / (last - from).as_secs_f64(),
        rate: Some(rate),
        lat,
        lag: Some((lag, wait)),
        tally,
        server_cpu: w.server_cpu,
        client_cpu: w.client_cpu,
        load: loadavg1(),
        other_cpu: w.other_cpu,
        steal: w.steal,
        retrans: w.retrans,
        srv: None,
    }
}

/// Creates exactly `count` new sessions (as fast as it goes), request `i` in pool
/// `pools[i % pools.len()]`; returns their ids.
async fn fill(o: &Opts, addr: SocketAddr, pools: &[String], count: u64) -> Vec<String> {
    let conns = connect_all(addr, o.conns).await;
    let next = Arc::new(AtomicU64::new(0));
    let bodies: Arc<Vec<Bytes>> = Arc::new(pools.iter().map(|p| new_session_body(p)).collect());
    let tasks: Vec<_> = conns
        .into_iter()
        .map(|mut conn| {
            let next = next.clone();
            let bodies = bodies.clone();
            tokio::spawn(async move {
                let mut ids = Vec::new();
                let mut other = 0u64;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= count {
                        break;
                    }
                    let body = bodies[(i % bodies.len() as u64) as usize].clone();
                    match conn.send(Method::POST, SESSIONS_PATH, body, false).await {
                        Ok((200, b)) if json_str(&b, "result") == Some("new") => {
                            ids.push(json_str(&b, "session_id").unwrap_or_default().to_string())
                        }
                        _ => other += 1,
                    }
                }
                (ids, other)
            })
        })
        .collect();
    let mut ids = Vec::with_capacity(count as usize);
    let mut other = 0;
    for t in tasks {
        let (v, n) = t.await.expect("task");
        ids.extend(v);
        other += n;
    }
    if other > 0 {
        eprintln!("  warning: {other} of {count} fill requests did not make a new lease");
    }
    ids
}

// ---------------------------------------------------------------------------------
// Reporting

fn ms(ns: u64) -> String {
    let v = ns as f64 / 1e6;
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

struct Row {
    name: String,
    fsync: String,
    closed: Run,
    open: Run,
    /// The WAL writer during the closed and the open phase (warm-up included).
    wal: (WalPhase, WalPhase),
}

const HEAD: &str = "| workload | fsync | loop | rate req/s | req/s | p50 ms | p99 ms | p99.9 ms | max ms | ×base req/s | ×base p99 | server CPU | client CPU | other CPU | answers |";
const SEP: &str = "|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|";

fn line(name: &str, fsync: &str, r: &Run, base: Option<&Run>) -> String {
    let loop_ = if r.rate.is_some() { "open" } else { "closed" };
    let rate = r.rate.map_or("max".to_string(), |x| format!("{x:.0}"));
    let (xr, xp) = match base {
        Some(b) => (
            format!("{:.2}", r.rps / b.rps),
            format!("{:.2}", r.p(0.99) / b.p(0.99)),
        ),
        None => ("-".into(), "-".into()),
    };
    let lag = r.lag.as_ref().map_or(String::new(), |(l, w)| {
        format!(
            " (pacer lag p99 {} ms, conn wait p99 {} ms)",
            ms(l.value_at_quantile(0.99)),
            ms(w.value_at_quantile(0.99))
        )
    });
    format!(
        "| {name} | {fsync} | {loop_} | {rate} | {:.0} | {} | {} | {} | {} | {xr} | {xp} | {:.0}% | {:.0}% | {:.0}%{} | {}{lag}{} |",
        r.rps,
        ms(r.lat.value_at_quantile(0.5)),
        ms(r.lat.value_at_quantile(0.99)),
        ms(r.lat.value_at_quantile(0.999)),
        ms(r.lat.max()),
        r.server_cpu * 100.0,
        r.client_cpu * 100.0,
        r.other_cpu * 100.0,
        if r.steal > 0.005 {
            format!(" (steal {:.0}%)", r.steal * 100.0)
        } else {
            String::new()
        },
        r.tally.show(),
        if r.retrans > 0.0 {
            format!(" **{:.0} TCP retransmits**", r.retrans)
        } else {
            String::new()
        },
    )
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "PASS"
    } else {
        "FAIL"
    }
}

/// Averages two baseline runs (before and after the dnid rows) into one reference.
fn mean_run(a: &Run, b: Option<&Run>) -> Run {
    let Some(b) = b else { return a.clone() };
    let mut lat = a.lat.clone();
    lat.add(&b.lat).expect("merge");
    let mut tally = a.tally.clone();
    tally.merge(&b.tally);
    Run {
        rps: (a.rps + b.rps) / 2.0,
        rate: a.rate.zip(b.rate).map(|(x, y)| (x + y) / 2.0),
        lat,
        lag: None,
        tally,
        server_cpu: (a.server_cpu + b.server_cpu) / 2.0,
        client_cpu: (a.client_cpu + b.client_cpu) / 2.0,
        load: a.load.max(b.load),
        other_cpu: (a.other_cpu + b.other_cpu) / 2.0,
        steal: (a.steal + b.steal) / 2.0,
        retrans: a.retrans + b.retrans,
        srv: None,
    }
}

// ---------------------------------------------------------------------------------
// The parts of the run

async fn measure_baseline(o: &Opts, sweep: &[f64]) -> (Run, Run, Vec<Run>) {
    let server = ServerProc::baseline(o).await;
    println!("baseline server: {}", server.describe());
    let work = Work::New(Arc::new(vec![new_session_body("0123456789abcdef")]));
    let closed = closed_loop(o, &server, &work).await;
    let mut swept = Vec::new();
    for pct in sweep {
        swept.push(open_loop(o, &server, &work, closed.rps * pct / 100.0).await);
    }
    let open = open_loop(o, &server, &work, closed.rps * o.open_pct / 100.0).await;
    server.stop().await;
    (closed, open, swept)
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    New,
    Mixed,
    Exhausted,
}

async fn measure_dnid(
    o: &Opts,
    kind: Kind,
    fsync: &str,
    rate_bound: f64,
    sweep: &[f64],
) -> (Run, Run, (WalPhase, WalPhase), Vec<Run>) {
    let mut d = Dnid::start(o, fsync).await;
    println!("dnid server ({fsync}): {}", d.proc.describe());
    let phase = (o.warm + o.secs).as_secs_f64();
    // New sessions a phase may make at most (the baseline's rate bounds dnid's).
    let per_request = if kind == Kind::Mixed { 0.1 } else { 1.0 };
    let bound = |rate: f64| (rate * phase * per_request * 1.2) as u64 + 1_000;
    let pool = match kind {
        Kind::Exhausted => d.pool("fallback", 10).await,
        _ => d.pool("fallback", bound(rate_bound)).await,
    };
    let bodies = Arc::new(vec![new_session_body(&pool)]);
    let work = match kind {
        Kind::Mixed => Work::Mixed(bodies),
        _ => Work::New(bodies),
    };
    let w0 = d.server_stats().await;
    let closed = closed_loop(o, &d.proc, &work).await;
    let w1 = d.server_stats().await;
    let rate = closed.rps * o.open_pct / 100.0;
    let mut swept = Vec::new();
    for pct in sweep {
        let r = closed.rps * pct / 100.0;
        if kind != Kind::Exhausted {
            d.ensure_free(&pool, bound(r)).await;
        }
        let s0 = d.server_stats().await;
        let mut run = open_loop(o, &d.proc, &work, r).await;
        run.srv = Some(WalPhase::between(s0, d.server_stats().await));
        swept.push(run);
    }
    if kind != Kind::Exhausted {
        d.ensure_free(&pool, bound(rate)).await;
    }
    let w2 = d.server_stats().await;
    let mut open = open_loop(o, &d.proc, &work, rate).await;
    let w3 = d.server_stats().await;
    open.srv = Some(WalPhase::between(w2, w3));
    d.stop().await;
    (
        closed,
        open,
        (WalPhase::between(w0, w1), WalPhase::between(w2, w3)),
        swept,
    )
}

struct ScaleRow {
    /// `count` (how many pools) or `size` (numbers in the pool).
    group: &'static str,
    what: String,
    work: &'static str,
    closed: Run,
    open: Run,
}

async fn scale_measure(o: &Opts, d: &Dnid, work: &Work) -> (Run, Run) {
    let closed = closed_loop(o, &d.proc, work).await;
    let open = open_loop(o, &d.proc, work, closed.rps * o.open_pct / 100.0).await;
    (closed, open)
}

/// 1, 100 and 10,000 pools of 10 numbers each, full, recycle_oldest; new sessions
/// spread evenly over the pools.
async fn scale_pools(o: &Opts, rows: &mut Vec<ScaleRow>) {
    let counts: &[u64] = if o.quick {
        &[1, 100, 1_000]
    } else {
        &[1, 100, 10_000]
    };
    for &n in counts {
        let mut d = Dnid::start(o, "never").await;
        let t = Instant::now();
        let mut ids = Vec::new();
        for _ in 0..n {
            ids.push(d.pool("recycle_oldest", 10).await);
        }
        fill(o, d.proc.addr, &ids, 10 * n).await;
        let took = t.elapsed().as_secs_f64();
        // What the pools cost with no traffic at all (timers, metrics upkeep).
        let (c0, t0) = (cpu_secs(d.proc.pid), Instant::now());
        tokio::time::sleep(Duration::from_secs(3)).await;
        let idle = (cpu_secs(d.proc.pid) - c0) / t0.elapsed().as_secs_f64();
        let rss = rss_kib(d.proc.pid);
        println!(
            "  {n} pools created and filled in {took:.1} s; server RSS {} MiB; idle server CPU {:.1}%",
            rss / 1024,
            idle * 100.0
        );
        let bodies = Arc::new(ids.iter().map(|p| new_session_body(p)).collect());
        let (closed, open) = scale_measure(o, &d, &Work::New(bodies)).await;
        rows.push(ScaleRow {
            group: "count",
            what: format!("{n} pool{} × 10 numbers", if n == 1 { "" } else { "s" }),
            work: "new (recycle)",
            closed,
            open,
        });
        d.stop().await;
    }
}

/// One pool of 10 … 1,000,000 numbers, every number leased; page views of random live
/// sessions, then new sessions (each recycles the oldest lease). The largest size is
/// also the memory measurement.
async fn scale_sizes(o: &Opts, rows: &mut Vec<ScaleRow>) -> Option<(u64, u64, u64)> {
    let sizes: Vec<u64> = if o.quick {
        vec![10, 1_000, o.mem_sessions]
    } else {
        vec![10, 1_000, 100_000, o.mem_sessions]
    };
    let mut memory = None;
    for &n in &sizes {
        let mut d = Dnid::start(o, "never").await;
        let last = n == *sizes.last().unwrap_or(&0);
        // The memory figure: RSS once the server is warm, then after `n` sessions.
        let warm = if last { 1_000 } else { 0 };
        let pool = d.pool("recycle_oldest", n + warm).await;
        if warm > 0 {
            fill(o, d.proc.addr, std::slice::from_ref(&pool), warm).await;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        let rss0 = rss_kib(d.proc.pid);
        let t = Instant::now();
        let ids = fill(o, d.proc.addr, std::slice::from_ref(&pool), n).await;
        let took = t.elapsed().as_secs_f64();
        tokio::time::sleep(Duration::from_secs(1)).await;
        let rss1 = rss_kib(d.proc.pid);
        println!(
            "  pool of {n} numbers filled with {} sessions in {took:.1} s ({:.0}/s); server RSS {} → {} MiB",
            ids.len(),
            ids.len() as f64 / took,
            rss0 / 1024,
            rss1 / 1024
        );
        if last {
            memory = Some((rss0, rss1, ids.len() as u64));
        }
        let (closed, open) = scale_measure(o, &d, &Work::PageViews(Arc::new(ids))).await;
        rows.push(ScaleRow {
            group: "size",
            what: format!("1 pool × {n} numbers"),
            work: "page view",
            closed,
            open,
        });
        let bodies = Arc::new(vec![new_session_body(&pool)]);
        let (closed, open) = scale_measure(o, &d, &Work::New(bodies)).await;
        rows.push(ScaleRow {
            group: "size",
            what: format!("1 pool × {n} numbers"),
            work: "new (recycle)",
            closed,
            open,
        });
        d.stop().await;
    }
    memory
}

fn flat(rows: &[&ScaleRow]) -> (f64, f64, bool) {
    let rps: Vec<f64> = rows.iter().map(|r| r.closed.rps).collect();
    let p99: Vec<f64> = rows.iter().map(|r| r.open.p(0.99).max(0.001)).collect();
    let spread = |v: &[f64]| {
        v.iter().cloned().fold(f64::MIN, f64::max) / v.iter().cloned().fold(f64::MAX, f64::min)
    };
    let (a, b) = (spread(&rps), spread(&p99));
    (a, b, a <= 1.5 && b <= 1.5)
}

// ---------------------------------------------------------------------------------

fn pin_self(cpu: &str) {
    let ok = std::process::Command::new("taskset")
        .args(["-a", "-p", "-c", cpu, &std::process::id().to_string()])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("warning: could not pin the load generator with taskset; results are unplaced");
    }
}

/// Says so when a source file the binary was built from (cargo's dep-info file beside
/// it) is newer than the binary.
fn stale_binary_warning(bin: &Path) {
    let Ok(built) = std::fs::metadata(bin).and_then(|m| m.modified()) else {
        return;
    };
    let Ok(deps) = std::fs::read_to_string(bin.with_extension("d")) else {
        return;
    };
    let newer: Vec<&str> = deps
        .split_once(": ")
        .map_or("", |(_, d)| d)
        .split_whitespace()
        .filter(|f| {
            std::fs::metadata(f)
                .and_then(|m| m.modified())
                .is_ok_and(|m| m > built)
        })
        .collect();
    if let Some(f) = newer.first() {
        println!(
            "note: {} was built before {f} (and {} more) changed — run `cargo build --release` to measure the current code",
            bin.display(),
            newer.len() - 1
        );
    }
}

fn main() {
    if std::env::var_os("DNID_LOAD_BASELINE").is_some() {
        run_baseline_server();
        return;
    }
    let o = Opts::from_env();
    if !o.bin.exists() {
        eprintln!(
            "{} not found: build the server first with `cargo build --release` (or set DNID_BIN)",
            o.bin.display()
        );
        std::process::exit(2);
    }
    stale_binary_warning(&o.bin);
    pin_self(&o.client_cpu);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(run(o));
}

async fn run(o: Opts) {
    let started = Instant::now();
    println!("# dnid load harness (issue #7)\n");
    println!(
        "mode: {}; {} connections; warm-up {:.1} s + {:.1} s measured per phase; open loop at {:.0}% of the closed-loop rate",
        if o.quick { "quick" } else { "full" },
        o.conns,
        o.warm.as_secs_f64(),
        o.secs.as_secs_f64(),
        o.open_pct
    );
    println!(
        "placement: load generator = this process (1 current-thread tokio runtime), CPUs {}; server under test (dnid or baseline, own process via `taskset -c {}`), CPU {}",
        status_field(std::process::id(), "Cpus_allowed_list:").unwrap_or_default(),
        o.server_cpu,
        o.server_cpu
    );
    println!(
        "server binary: {}; snapshots off (`--snapshot-cron \"{NO_SNAPSHOTS}\"`), per-IP limit off",
        o.bin.display()
    );
    if !o.wrap.is_empty() {
        println!("server wrapped in: {}", o.wrap.join(" "));
    }
    println!("load average at start: {}\n", loadavg());

    // --- the table -------------------------------------------------------------
    let mut base1 = None;
    let mut sweeps: Vec<(&str, Run, Vec<Run>, Run)> = Vec::new();
    if o.wants("baseline") {
        let (c, op, sw) = measure_baseline(&o, &o.sweep).await;
        sweeps.push(("baseline", c.clone(), sw, op.clone()));
        base1 = Some((c, op));
    }
    let bound = base1.as_ref().map_or(80_000.0, |b| b.0.rps * 1.25);
    let cases = [
        ("new", Kind::New, "never"),
        ("new", Kind::New, "always"),
        ("mixed", Kind::Mixed, "never"),
        ("mixed", Kind::Mixed, "always"),
        ("exhausted", Kind::Exhausted, "never"),
        ("exhausted", Kind::Exhausted, "always"),
    ];
    let mut rows = Vec::new();
    for (name, kind, fsync) in cases {
        if !o.wants(&format!("{name}-{fsync}")) {
            continue;
        }
        let sweep: &[f64] = if (name, fsync) == ("new", "never") {
            &o.sweep
        } else {
            &[]
        };
        let (closed, open, wal, swept) = measure_dnid(&o, kind, fsync, bound, sweep).await;
        if !swept.is_empty() {
            sweeps.push(("new/never", closed.clone(), swept, open.clone()));
        }
        println!(
            "  {name}/{fsync}: closed {:.0} req/s p99 {:.2} ms; open at {:.0}/s p99 {:.2} ms",
            closed.rps,
            closed.p(0.99),
            open.rate.unwrap_or(0.0),
            open.p(0.99)
        );
        rows.push(Row {
            name: name.into(),
            fsync: fsync.into(),
            closed,
            open,
            wal,
        });
    }
    let mut base2 = None;
    if o.wants("baseline") && !rows.is_empty() {
        let (c, op, _) = measure_baseline(&o, &[]).await;
        base2 = Some((c, op));
    }
    let base = base1.as_ref().map(|(c, op)| {
        (
            mean_run(c, base2.as_ref().map(|b| &b.0)),
            mean_run(op, base2.as_ref().map(|b| &b.1)),
        )
    });

    // --- scaling and memory ----------------------------------------------------
    let mut scale = Vec::new();
    if o.wants("pools") {
        println!("scaling: pool count");
        scale_pools(&o, &mut scale).await;
    }
    let mut memory = None;
    if o.wants("sizes") {
        println!("scaling: pool size (and memory)");
        memory = scale_sizes(&o, &mut scale).await;
    }

    // --- report ------------------------------------------------------------------
    println!("\n## Results (latencies in ms; open loop measured from the scheduled send time)\n");
    println!("{HEAD}\n{SEP}");
    let (bc, bo) = (base.as_ref().map(|b| &b.0), base.as_ref().map(|b| &b.1));
    if let Some((c1, op1)) = &base1 {
        println!("{}", line("baseline (before)", "-", c1, bc));
        println!("{}", line("baseline (before)", "-", op1, bo));
    }
    if let Some((c2, op2)) = &base2 {
        println!("{}", line("baseline (after)", "-", c2, bc));
        println!("{}", line("baseline (after)", "-", op2, bo));
    }
    for r in &rows {
        let b = base.as_ref();
        println!("{}", line(&r.name, &r.fsync, &r.closed, b.map(|b| &b.0)));
        println!("{}", line(&r.name, &r.fsync, &r.open, b.map(|b| &b.1)));
    }
    if let Some((bc, bo)) = &base {
        println!(
            "\nbaseline reference (mean of before/after): closed {:.0} req/s, open {:.0} req/s p99 {:.2} ms",
            bc.rps,
            bo.rps,
            bo.p(0.99)
        );
    }

    if !rows.is_empty() {
        println!("\nWAL writer (from dnid's /metrics; each phase with its warm-up):");
        for r in &rows {
            println!(
                "- {}/{}: closed: {}; open: {}",
                r.name,
                r.fsync,
                r.wal.0.show(),
                r.wal.1.show()
            );
        }
        println!("\nTracking requests as dnid timed them (route → response; each phase with its warm-up), against the client's view:");
        for r in &rows {
            println!(
                "- {}/{}: closed: server {} (client p99 {} ms); open: server {} (client p99 {} ms)",
                r.name,
                r.fsync,
                r.wal.0.show_server(),
                ms(r.closed.lat.value_at_quantile(0.99)),
                r.wal.1.show_server(),
                ms(r.open.lat.value_at_quantile(0.99)),
            );
        }
    }

    if !sweeps.is_empty() {
        println!("\n## Latency against offered rate (open loop)\n");
        println!("| server | offered % of max | offered req/s | answered req/s | p50 ms | p99 ms | p99.9 ms | server CPU | client CPU | pacer lag p99 ms | other CPU | TCP retrans | dnid-timed |");
        println!("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|");
        for (name, closed, swept, open) in &sweeps {
            let mut all: Vec<&Run> = swept.iter().collect();
            all.push(open);
            for r in &all {
                let rate = r.rate.unwrap_or(0.0);
                println!(
                    "| {name} | {:.0}% | {rate:.0} | {:.0} | {} | {} | {} | {:.0}% | {:.0}% | {} | {:.0}% | {:.0} | {} |",
                    rate * 100.0 / closed.rps,
                    r.rps,
                    ms(r.lat.value_at_quantile(0.5)),
                    ms(r.lat.value_at_quantile(0.99)),
                    ms(r.lat.value_at_quantile(0.999)),
                    r.server_cpu * 100.0,
                    r.client_cpu * 100.0,
                    r.lag.as_ref().map_or("-".into(), |(l, _)| ms(l.value_at_quantile(0.99))),
                    r.other_cpu * 100.0,
                    r.retrans,
                    r.srv.map_or("-".into(), |s| s.show_server())
                );
            }
            let best = all
                .iter()
                .filter(|r| r.p(0.99) <= 2.0)
                .map(|r| r.rate.unwrap_or(0.0))
                .fold(0.0, f64::max);
            println!(
                "| {name}: highest offered rate measured with p99 ≤ 2 ms | {:.0}% | {best:.0} | | | | | | | | | | |",
                best * 100.0 / closed.rps
            );
        }
    }

    println!("\n## Budgets\n");
    let find = |n: &str, f: &str| rows.iter().find(|r| r.name == n && r.fsync == f);
    if let (Some(r), Some((bc, _))) = (find("new", "never"), &base) {
        let x = r.closed.rps / bc.rps;
        println!(
            "- {} HTTP `new`, fsync never ≥ 70% of bare hyper: {:.0} / {:.0} req/s = {:.0}%",
            verdict(x >= 0.7),
            r.closed.rps,
            bc.rps,
            x * 100.0
        );
    }
    if let (Some(a), Some(n)) = (find("new", "always"), find("new", "never")) {
        let x = a.closed.rps / n.closed.rps;
        println!(
            "- {} HTTP `new`, fsync always at {} connections ≥ 50% of fsync never: {:.0} / {:.0} req/s = {:.0}%",
            verdict(x >= 0.5),
            o.conns,
            a.closed.rps,
            n.closed.rps,
            x * 100.0
        );
    }
    for r in &rows {
        let p99 = r.open.p(0.99);
        println!(
            "- {} p99 ≤ 2 ms open loop at {:.0}% of max, {}/{}: {:.2} ms at {:.0} req/s",
            verdict(p99 <= 2.0),
            o.open_pct,
            r.name,
            r.fsync,
            p99,
            r.open.rate.unwrap_or(0.0)
        );
    }
    if let Some((rss0, rss1, n)) = memory {
        let per = (rss1.saturating_sub(rss0)) as f64 * 1024.0 / n.max(1) as f64;
        println!(
            "- {} memory per live session ≤ 1 KiB: ({} − {} KiB RSS) / {n} sessions = {per:.0} B",
            verdict(per <= 1024.0),
            rss1,
            rss0
        );
    }
    for r in &rows {
        let bad = r.closed.tally.failures() + r.open.tally.failures();
        let dry = if r.name == "new" {
            r.closed.tally.count("fallback") + r.open.tally.count("fallback")
        } else {
            0
        };
        if bad > 0 || dry > 0 {
            println!(
                "- WARNING {}/{}: {bad} failed requests, {dry} fallbacks (pool ran dry)",
                r.name, r.fsync
            );
        }
    }

    if !scale.is_empty() {
        println!(
            "\n## Scaling (fsync never; closed loop, then open loop at {:.0}% of that row's max)\n",
            o.open_pct
        );
        println!("| pools × numbers | workload | closed req/s | closed p50 | closed p99 | open rate | open p50 | open p99 | open p99.9 | open: other CPU, TCP retrans | answers |");
        println!("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|---|");
        for s in &scale {
            println!(
                "| {} | {} | {:.0} | {} | {} | {:.0} | {} | {} | {} | {:.0}%, {:.0} | {} |",
                s.what,
                s.work,
                s.closed.rps,
                ms(s.closed.lat.value_at_quantile(0.5)),
                ms(s.closed.lat.value_at_quantile(0.99)),
                s.open.rps,
                ms(s.open.lat.value_at_quantile(0.5)),
                ms(s.open.lat.value_at_quantile(0.99)),
                ms(s.open.lat.value_at_quantile(0.999)),
                s.open.other_cpu * 100.0,
                s.open.retrans,
                s.closed.tally.show()
            );
        }
        println!();
        let groups = [
            ("pool count, new (recycle)", "count", "new (recycle)"),
            ("pool size, page view", "size", "page view"),
            ("pool size, new (recycle)", "size", "new (recycle)"),
        ];
        for (label, group, work) in groups {
            let g: Vec<&ScaleRow> = scale
                .iter()
                .filter(|s| s.group == group && s.work == work)
                .collect();
            if g.len() < 2 {
                continue;
            }
            let (r, p, ok) = flat(&g);
            println!(
                "- {} flat, {label}: max/min closed req/s {r:.2}×, max/min open p99 {p:.2}× (criterion: within 1.5×, as design §7 asks of the engine)",
                verdict(ok)
            );
        }
    }
    if let Some((rss0, rss1, n)) = memory {
        println!(
            "\nmemory: server RSS {:.1} MiB before, {:.1} MiB after {n} live sessions → {:.0} B per session",
            rss0 as f64 / 1024.0,
            rss1 as f64 / 1024.0,
            (rss1.saturating_sub(rss0)) as f64 * 1024.0 / n.max(1) as f64
        );
    }
    println!(
        "\nload average at end: {}; total {:.0} s",
        loadavg(),
        started.elapsed().as_secs_f64()
    );
}
