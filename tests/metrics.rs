//! Telemetry: `/metrics` (checked by `promtool`), the alert rules, a real Prometheus
//! scraping a running dnid and evaluating every dashboard and alert query, and the
//! pool sizing figures of the stats endpoint.
//!
//! `promtool` and `prometheus` come from Debian's `prometheus` package (`.ci/run`
//! installs it). Without them these tests fail when `CI` is set, and otherwise say
//! SKIPPED on stderr and pass.

mod common;

use common::{TestServer, BROWSER_UA};
use serde_json::{json, Value};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const PROMTOOL: &str = "promtool";
const PROMETHEUS: &str = "/usr/bin/prometheus";

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// The tool's path, or `None` after saying SKIPPED (outside CI only).
fn tool(name: &str, test: &str) -> Option<PathBuf> {
    let found = if name.contains('/') {
        Some(PathBuf::from(name)).filter(|p| p.exists())
    } else {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join(name))
                .find(|p| p.exists())
        })
    };
    if found.is_none() {
        if std::env::var_os("CI").is_some() {
            panic!("{name} is missing (Debian package `prometheus`; .ci/run installs it)");
        }
        // Straight to the process's stderr: the test harness would swallow eprintln!.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED {test}: {name} not found (apt-get install prometheus)"
        );
    }
    found
}

fn run_promtool(args: &[&str], stdin: Option<&str>) -> (bool, String) {
    let mut child = Command::new(PROMTOOL)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool runs");
    {
        let mut input = child.stdin.take().unwrap();
        if let Some(s) = stdin {
            input.write_all(s.as_bytes()).unwrap();
        }
    }
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

async fn metrics_text(s: &TestServer) -> String {
    let r = s.raw("GET", "/metrics", &[], "").await;
    assert_eq!(r.status, 200, "/metrics needs no token");
    assert!(r.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    String::from_utf8(r.body.to_vec()).unwrap()
}

/// The value of the sample `name{labels}` (labels as rendered, in order).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

/// Some traffic of every kind on a two-number pool; returns (pool, session ids).
async fn traffic(s: &TestServer) -> (String, Vec<String>) {
    let pool = s
        .create_pool(&["+15550001001", "+15550001002"], json!({}))
        .await;
    let a = s
        .new_session(&pool, None, "https://shop.example/?utm_source=google")
        .await;
    let b = s.new_session(&pool, None, "https://shop.example/").await;
    let sid = a["session_id"].as_str().unwrap().to_string();
    s.new_session(&pool, Some(&sid), "https://shop.example/again")
        .await; // sticky
    assert_eq!(s.page_view(&sid).await.status, 200); // renewed
    let c = s.new_session(&pool, None, "https://shop.example/").await; // fallback
    assert_eq!(c["result"], "fallback");
    let bot = s
        .raw(
            "POST",
            "/api/v1/tracking/sessions",
            &[
                ("user-agent", "Googlebot/2.1"),
                ("content-type", "application/json"),
            ],
            json!({"pool_id": pool, "page_url": "https://shop.example/"}).to_string(),
        )
        .await;
    assert_eq!(bot.json()["result"], "bot");
    let ids = [&a, &b, &c]
        .iter()
        .map(|v| v["session_id"].as_str().unwrap().to_string())
        .collect();
    (pool, ids)
}

#[tokio::test]
async fn metrics_follow_the_traffic_and_name_no_session_or_number() {
    let s = TestServer::start().await;
    let (pool, sessions) = traffic(&s).await;
    assert_eq!(s.admin("POST", "/api/v1/snapshots", None).await.status, 201);
    assert_eq!(s.raw("GET", "/nope", &[], "").await.status, 404);
    let text = metrics_text(&s).await;
    let assigned = |result: &str| {
        sample(
            &text,
            &format!("dnid_sessions_assigned_total{{pool=\"{pool}\",result=\"{result}\"}}"),
        )
    };
    assert_eq!(assigned("new"), Some(2.0));
    assert_eq!(assigned("sticky"), Some(1.0));
    assert_eq!(assigned("renewed"), Some(1.0));
    assert_eq!(assigned("fallback"), Some(1.0));
    assert_eq!(assigned("bot"), Some(1.0));
    assert_eq!(
        assigned("recycled"),
        Some(0.0),
        "every result exists from the start"
    );
    let gauge = |name: &str| sample(&text, &format!("{name}{{pool=\"{pool}\"}}"));
    assert_eq!(gauge("dnid_pool_active_sessions"), Some(2.0));
    assert_eq!(gauge("dnid_pool_numbers"), Some(2.0));
    assert_eq!(gauge("dnid_pool_utilization_ratio"), Some(1.0));
    assert_eq!(
        sample(
            &text,
            &format!("dnid_calls_total{{pool=\"{pool}\",status=\"attributed\"}}")
        ),
        Some(0.0)
    );
    // Route templates, never raw paths.
    assert!(text.contains(
        "dnid_http_requests_total{route=\"/api/v1/tracking/sessions/{session_id}/pageviews\",method=\"POST\",status=\"200\"}"
    ));
    assert!(text.contains("route=\"unmatched\""));
    assert!(!text.contains("/nope"));
    assert!(!text.contains(&format!("/api/v1/pools/{pool}")));
    for sid in &sessions {
        assert!(
            !text.contains(sid.as_str()),
            "a session id is in the metrics"
        );
    }
    assert!(
        !text.contains("555000100"),
        "a phone number is in the metrics"
    );
    for name in [
        "dnid_assign_duration_seconds_bucket{le=\"0.000001\"}",
        "dnid_http_request_duration_seconds_bucket",
        "dnid_wal_batch_records_bucket",
        "dnid_wal_fsync_duration_seconds_bucket",
        "dnid_snapshot_duration_seconds_count",
        "dnid_snapshot_size_bytes",
        "dnid_snapshot_last_success_timestamp_seconds",
        "dnid_recovery_duration_seconds",
        "dnid_start_time_seconds",
        "dnid_http_requests_in_flight",
        "dnid_http_rejected_requests_total{reason=\"rate_limited\"}",
        "dnid_webhook_deliveries_total{result=\"failed\"}",
        "# HELP dnid_sessions_assigned_total",
        "# TYPE dnid_assign_duration_seconds histogram",
    ] {
        assert!(text.contains(name), "{name} missing from /metrics");
    }
    s.shutdown().await;
}

#[tokio::test]
async fn refusals_are_counted_by_reason() {
    let rejected = |text: &str, reason: &str| {
        sample(
            text,
            &format!("dnid_http_rejected_requests_total{{reason=\"{reason}\"}}"),
        )
        .unwrap_or(0.0)
    };
    // One new session per minute per address: the second is refused with 429.
    let s = TestServer::start_with(|c| {
        c.session_rate_per_ip = 1;
        c.session_burst_per_ip = 1;
    })
    .await;
    let pool = s.create_pool(&["+15550004001"], json!({})).await;
    let before = metrics_text(&s).await;
    s.new_session(&pool, None, "https://shop.example/").await;
    let body = json!({"pool_id": pool, "page_url": "https://shop.example/"});
    let r = s.public("POST", "/api/v1/tracking/sessions", body).await;
    assert_eq!(r.status, 429);
    let after = metrics_text(&s).await;
    assert_eq!(
        rejected(&after, "rate_limited") - rejected(&before, "rate_limited"),
        1.0
    );
    s.shutdown().await;
    // Nothing may be in flight: every request is refused with 503, except probes and
    // scrapes.
    let s = TestServer::start_with(|c| c.max_inflight = 0).await;
    let before = metrics_text(&s).await;
    for _ in 0..3 {
        assert_eq!(s.admin("GET", "/api/v1/pools", None).await.status, 503);
    }
    let after = metrics_text(&s).await;
    assert_eq!(
        rejected(&after, "overloaded") - rejected(&before, "overloaded"),
        3.0
    );
    let answered =
        "dnid_http_requests_total{route=\"/api/v1/pools\",method=\"GET\",status=\"503\"}";
    assert!(sample(&after, answered).unwrap_or(0.0) >= 3.0, "{after}");
    s.shutdown().await;
}

#[tokio::test]
async fn metrics_pass_promtool_check_metrics() {
    let Some(_) = tool(PROMTOOL, "metrics_pass_promtool_check_metrics") else {
        return;
    };
    let s = TestServer::start().await;
    traffic(&s).await;
    assert_eq!(s.admin("POST", "/api/v1/snapshots", None).await.status, 201);
    let text = metrics_text(&s).await;
    let (ok, out) = run_promtool(&["check", "metrics"], Some(&text));
    assert!(
        ok && out.trim().is_empty(),
        "promtool check metrics:\n{out}"
    );
    s.shutdown().await;
}

#[test]
fn alert_rules_pass_promtool_check_and_their_unit_tests() {
    let Some(_) = tool(
        PROMTOOL,
        "alert_rules_pass_promtool_check_and_their_unit_tests",
    ) else {
        return;
    };
    let rules = repo("grafana/alerts.yml");
    let (ok, out) = run_promtool(&["check", "rules", rules.to_str().unwrap()], None);
    assert!(ok, "promtool check rules:\n{out}");
    let tests = repo("grafana/alerts_test.yml");
    let (ok, out) = run_promtool(&["test", "rules", tests.to_str().unwrap()], None);
    assert!(ok, "promtool test rules:\n{out}");
}

#[tokio::test]
async fn a_deleted_pools_gauges_read_zero() {
    let s = TestServer::start().await;
    let pool = s.create_pool(&["+15550002001"], json!({})).await;
    s.new_session(&pool, None, "https://shop.example/").await;
    let active = format!("dnid_pool_active_sessions{{pool=\"{pool}\"}}");
    assert_eq!(sample(&metrics_text(&s).await, &active), Some(1.0));
    let r = s
        .admin("DELETE", &format!("/api/v1/pools/{pool}"), None)
        .await;
    assert_eq!(r.status, 204);
    // The actor stops after the answer: wait for it, boundedly.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = metrics_text(&s).await;
        let zero = |name: &str| {
            sample(&text, &format!("{name}{{pool=\"{pool}\"}}")).is_none_or(|v| v == 0.0)
        };
        if [
            "dnid_pool_active_sessions",
            "dnid_pool_numbers",
            "dnid_pool_utilization_ratio",
        ]
        .into_iter()
        .all(zero)
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "gauges of a deleted pool:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    s.shutdown().await;
}

#[tokio::test]
async fn stats_report_peaks_exhaustion_and_the_recommended_size() {
    let s = TestServer::start().await;
    let (pool, _) = traffic(&s).await;
    let stats = s
        .admin("GET", &format!("/api/v1/pools/{pool}/stats"), None)
        .await
        .json();
    assert_eq!(stats["numbers_total"], 2);
    assert_eq!(stats["peak_active_1h"], 2);
    assert_eq!(stats["peak_active_24h"], 2);
    assert_eq!(stats["peak_active_7d"], 2);
    assert_eq!(stats["exhausted_1h"], 1);
    assert_eq!(stats["exhausted_7d"], 1);
    assert_eq!(stats["secs_above_80pct_1h"], 0, "the clock has not moved");
    // Visitors were turned away: at least a quarter more than the pool has.
    assert_eq!(stats["recommended_size"], 3);
    assert_eq!(stats["needs_more_numbers"], true);
    assert!(stats["counters"].get("sizing").is_none(), "{stats}");
    // Full for 10 minutes (the manual clock moves; the pool ticks every second).
    s.clock.advance(600);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let st = s
            .admin("GET", &format!("/api/v1/pools/{pool}/stats"), None)
            .await
            .json();
        if st["secs_above_80pct_1h"] == 600 {
            break;
        }
        assert!(Instant::now() < deadline, "{st}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let list = s.admin("GET", "/api/v1/pools", None).await.json();
    let listed = list["pools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == pool.as_str())
        .unwrap()
        .clone();
    assert_eq!(listed["needs_more_numbers"], true);
    assert_eq!(listed["recommended_size"], 3);
    // A roomy pool does not need more.
    let roomy = s
        .create_pool(&["+15550003001", "+15550003002", "+15550003003"], json!({}))
        .await;
    s.new_session(&roomy, None, "https://shop.example/").await;
    let st = s
        .admin("GET", &format!("/api/v1/pools/{roomy}/stats"), None)
        .await
        .json();
    assert_eq!(st["recommended_size"], 2);
    assert_eq!(st["needs_more_numbers"], false);
    // The history survives a restart (snapshot + WAL).
    assert_eq!(s.admin("POST", "/api/v1/snapshots", None).await.status, 201);
    s.new_session(&pool, None, "https://shop.example/").await; // one more fallback
    let s = s.restart().await;
    let st = s
        .admin("GET", &format!("/api/v1/pools/{pool}/stats"), None)
        .await
        .json();
    assert_eq!(st["peak_active_7d"], 2);
    assert_eq!(st["exhausted_7d"], 2, "{st}");
    assert!(st["secs_above_80pct_1h"].as_u64().unwrap() >= 600, "{st}");
    s.shutdown().await;
}

// ---------------------------------------------------------------------------------
// A real Prometheus.

/// Kills the child when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A port that was free a moment ago (Prometheus cannot listen on port 0).
fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

async fn get_json(url: &str) -> Option<Value> {
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Full<bytes::Bytes>>();
    let uri: hyper::Uri = url.parse().ok()?;
    let resp = tokio::time::timeout(Duration::from_secs(5), client.get(uri))
        .await
        .ok()?
        .ok()?;
    use http_body_util::BodyExt;
    let body = resp.into_body().collect().await.ok()?.to_bytes();
    serde_json::from_slice(&body).ok()
}

fn encode(q: &str) -> String {
    url::form_urlencoded::byte_serialize(q.as_bytes()).collect()
}

async fn query(base: &str, q: &str) -> Value {
    get_json(&format!("{base}/api/v1/query?query={}", encode(q)))
        .await
        .unwrap_or(Value::Null)
}

/// Polls `check` until it holds, at most `limit`.
async fn until<F, Fut>(what: &str, limit: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Grafana's variables, as the dashboard would send them for a 1 s scrape interval.
fn grafana_expr(expr: &str) -> String {
    expr.replace("$__rate_interval", "10s")
        .replace("$__interval", "2s")
        .replace("$__range", "1m")
        .replace("$pool", ".*")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_scrapes_dnid_and_evaluates_every_dashboard_and_alert_query() {
    let test = "prometheus_scrapes_dnid_and_evaluates_every_dashboard_and_alert_query";
    let Some(prometheus) = tool(PROMETHEUS, test) else {
        return;
    };
    let s = TestServer::start().await;
    let (pool, _) = traffic(&s).await;

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
             rule_files:\n  - {rules}\n\
             scrape_configs:\n  - job_name: dnid\n    static_configs:\n      - targets: ['{target}']\n",
            rules = repo("grafana/alerts.yml").display(),
            target = s.addr,
        ),
    )
    .unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let _prom = Proc(
        Command::new(prometheus)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--log.level=warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("prometheus starts"),
    );

    // A little load while Prometheus starts and scrapes.
    let load = {
        let base = s.base.clone();
        let pool = pool.clone();
        tokio::spawn(async move {
            let client =
                hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                    .build_http::<http_body_util::Full<bytes::Bytes>>();
            for i in 0..300u32 {
                let body =
                    json!({"pool_id": pool, "page_url": format!("https://shop.example/{i}")});
                let req = hyper::Request::post(format!("{base}/api/v1/tracking/sessions"))
                    .header("user-agent", BROWSER_UA)
                    .header("content-type", "application/json")
                    .body(http_body_util::Full::new(bytes::Bytes::from(
                        body.to_string(),
                    )))
                    .unwrap();
                let _ = client.request(req).await;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };

    until(
        "Prometheus to be ready",
        Duration::from_secs(15),
        || async {
            get_json(&format!("{base}/api/v1/status/buildinfo"))
                .await
                .is_some()
        },
    )
    .await;
    until(
        "the dnid target to be up",
        Duration::from_secs(10),
        || async {
            let r = query(&base, "up{job=\"dnid\"}").await;
            r["data"]["result"][0]["value"][1] == "1"
        },
    )
    .await;
    until(
        "a few scrapes and a rate",
        Duration::from_secs(15),
        || async {
            let n = query(&base, "count_over_time(up{job=\"dnid\"}[1m])").await;
            let scrapes: f64 = n["data"]["result"][0]["value"][1]
                .as_str()
                .and_then(|v| v.parse().ok())
                .unwrap_or(0.0);
            let rate = query(&base, "sum(rate(dnid_sessions_assigned_total[10s])) > 0").await;
            scrapes >= 4.0
                && rate["data"]["result"]
                    .as_array()
                    .is_some_and(|a| !a.is_empty())
        },
    )
    .await;

    // Every panel query of the dashboard is valid; the core panels have data.
    let dashboard: Value = serde_json::from_str(
        &std::fs::read_to_string(repo("grafana/dashboards/dnid.json")).unwrap(),
    )
    .unwrap();
    let core = [
        "Active sessions vs pool size",
        "Assignments per second, by result",
        "HTTP requests per second, by route",
        "Utilization",
    ];
    let mut checked = 0;
    let mut core_seen = 0;
    for panel in dashboard["panels"].as_array().unwrap() {
        let Some(targets) = panel["targets"].as_array() else {
            continue;
        };
        let title = panel["title"].as_str().unwrap();
        for t in targets {
            let expr = grafana_expr(t["expr"].as_str().unwrap());
            let r = query(&base, &expr).await;
            assert_eq!(r["status"], "success", "panel {title:?}: {expr}\n{r}");
            checked += 1;
            if core.contains(&title) {
                let n = r["data"]["result"].as_array().map_or(0, Vec::len);
                assert!(n > 0, "core panel {title:?} has no data: {expr}");
                core_seen += 1;
            }
        }
    }
    assert!(checked >= 20, "only {checked} panel queries");
    assert!(core_seen >= core.len());
    // The pool variable's query.
    let pools = query(&base, "dnid_pool_numbers").await;
    assert!(pools["data"]["result"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["metric"]["pool"] == pool.as_str()));

    // Every alert expression is valid, and Prometheus evaluates the rule file cleanly.
    let rules = std::fs::read_to_string(repo("grafana/alerts.yml")).unwrap();
    let exprs: Vec<&str> = rules
        .lines()
        .filter_map(|l| l.trim().strip_prefix("expr: "))
        .collect();
    assert!(exprs.len() >= 5);
    for expr in &exprs {
        let r = query(&base, expr).await;
        assert_eq!(r["status"], "success", "alert expr {expr}\n{r}");
    }
    until(
        "the alert rules to be evaluated",
        Duration::from_secs(10),
        || async {
            let r = get_json(&format!("{base}/api/v1/rules"))
                .await
                .unwrap_or_default();
            let rules: Vec<&Value> = r["data"]["groups"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|g| g["rules"].as_array().into_iter().flatten())
                .collect();
            rules.len() == exprs.len()
                && rules.iter().all(|r| {
                    assert_ne!(r["health"], "err", "rule {r}");
                    r["health"] == "ok"
                })
        },
    )
    .await;
    // The pool is full: its utilization alert is pending (it fires after 10 minutes).
    let alerts = get_json(&format!("{base}/api/v1/alerts")).await.unwrap();
    assert!(
        alerts["data"]["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| {
                a["labels"]["alertname"] == "DnidPoolUtilizationHigh"
                    && a["labels"]["pool"] == pool.as_str()
            }),
        "{alerts}"
    );
    load.abort();
    s.shutdown().await;
}
