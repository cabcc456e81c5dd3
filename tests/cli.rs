//! The operator commands, run as the real `dnid` binary against data folders that a
//! real server (in this process, with a manual clock) filled and stopped.

mod common;

use common::{TestServer, TOKEN};
use dnid::config::Settings;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Stdio;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Runs `dnid ARGS` on the data folder `dir` (snapshots in `dir/snapshots`), with
/// standard input closed (not a terminal).
async fn dnid(dir: &Path, args: &[&str]) -> Run {
    dnid_env(dir, args, &[]).await
}

async fn dnid_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_dnid"));
    cmd.args(args)
        .env("DNID_DATA_DIR", dir)
        .env("DNID_SNAPSHOT_DIR", dir.join("snapshots"))
        .env("DNID_LOG", "warn")
        .env_remove("DNID_CONFIG")
        .env_remove("DNID_URL")
        .env_remove("DNID_ADMIN_TOKEN")
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().await.expect("dnid runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// No scheduled snapshots during a test: only the ones it asks for.
fn quiet(s: &mut Settings) {
    s.snapshot_cron = "0 0 0 1 1 *".into();
}

async fn snapshot(s: &TestServer) -> String {
    let r = s.admin("POST", "/api/v1/snapshots", None).await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    r.json()["file"].as_str().unwrap().to_string()
}

async fn pool_names(s: &TestServer) -> Vec<String> {
    let list = s.admin("GET", "/api/v1/pools", None).await.json();
    let mut names: Vec<String> = list["pools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap_or("?").to_string())
        .collect();
    names.sort();
    names
}

fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn folder_starting(dir: &Path, prefix: &str) -> PathBuf {
    let found: Vec<_> = files(dir)
        .into_iter()
        .filter(|n| n.starts_with(prefix))
        .collect();
    assert_eq!(found.len(), 1, "one {prefix}* folder in {dir:?}: {found:?}");
    dir.join(&found[0])
}

/// A stopped server's folder: pool "Old" in the first snapshot, "New" in the second,
/// "Newest" in the WAL only. Returns the folder, the clock, and the two snapshot files.
async fn three_generations() -> (tempfile::TempDir, dnid::clock::ManualClock, String, String) {
    let s = TestServer::start_with(quiet).await;
    s.create_pool(&["+15550001001", "+15550001002"], json!({"name": "Old"}))
        .await;
    let first = snapshot(&s).await;
    s.clock.advance(60);
    s.create_pool(&["+15550002001"], json!({"name": "New"}))
        .await;
    let second = snapshot(&s).await;
    s.create_pool(&["+15550003001"], json!({"name": "Newest"}))
        .await;
    let (dir, clock) = s.stop().await;
    (dir, clock, first, second)
}

#[tokio::test]
async fn snapshot_list_inspect_and_verify_describe_the_files() {
    let (dir, _clock, first, second) = three_generations().await;
    let d = dir.path();

    let list = dnid(d, &["snapshot", "list"]).await;
    assert_eq!(list.code, 0, "{list}");
    let (at_second, at_first) = (
        list.stdout.find(&second).expect("second listed"),
        list.stdout.find(&first).expect("first listed"),
    );
    assert!(at_second < at_first, "newest first: {list}");
    assert!(list.stdout.contains("2026-11-29T00:00:00Z"), "{list}");
    assert!(list.stdout.contains("2026-11-29T00:01:00Z"), "{list}");

    // An unreadable file is listed with its error, and the listing still succeeds.
    std::fs::write(d.join("snapshots/snapshot-garbage.dnid"), b"nope").unwrap();
    let json = dnid(d, &["snapshot", "list", "--json"]).await;
    assert_eq!(json.code, 0, "{json}");
    let doc: Value = serde_json::from_str(&json.stdout).unwrap();
    let items = doc["snapshots"].as_array().unwrap();
    assert_eq!(items.len(), 3, "{doc}");
    let ok: Vec<&Value> = items.iter().filter(|i| i["error"].is_null()).collect();
    assert_eq!(ok[0]["file"], second.as_str());
    assert_eq!(ok[1]["created_at"], "2026-11-29T00:00:00Z");
    assert!(ok[1]["covered_seq"].as_u64().unwrap() >= 1);
    assert!(ok[1]["size_bytes"].as_u64().unwrap() > 44);
    let bad = items
        .iter()
        .find(|i| i["file"] == "snapshot-garbage.dnid")
        .unwrap();
    assert!(bad["error"].as_str().unwrap().contains("snapshot-garbage"));

    // A bare file name is looked up in the snapshot folder.
    let inspect = dnid(d, &["snapshot", "inspect", &second]).await;
    assert_eq!(inspect.code, 0, "{inspect}");
    for want in ["Old", "New", "NUMBERS", "COVERED SEQ", "pools:"] {
        assert!(inspect.stdout.contains(want), "{want}: {inspect}");
    }
    assert!(!inspect.stdout.contains("Newest"), "{inspect}");
    let path = d.join("snapshots").join(&first);
    let inspect = dnid(
        d,
        &["snapshot", "inspect", "--json", path.to_str().unwrap()],
    )
    .await;
    assert_eq!(inspect.code, 0, "{inspect}");
    let doc: Value = serde_json::from_str(&inspect.stdout).unwrap();
    let pools = doc["pools"].as_array().unwrap();
    assert_eq!(pools.len(), 1);
    assert_eq!(pools[0]["name"], "Old");
    assert_eq!(pools[0]["numbers_total"], 2);
    assert_eq!(pools[0]["leased"], 0);
    assert_eq!(pools[0]["id"].as_str().unwrap().len(), 16);

    let verify = dnid(d, &["snapshot", "verify", &first]).await;
    assert_eq!(verify.code, 0, "{verify}");
    assert!(verify.stdout.starts_with("OK "), "{verify}");
    let garbage = dnid(d, &["snapshot", "verify", "snapshot-garbage.dnid"]).await;
    assert_eq!(garbage.code, 1, "{garbage}");
}

#[tokio::test]
async fn verify_of_a_damaged_copy_fails_with_the_reason() {
    let (dir, _clock, first, _) = three_generations().await;
    let d = dir.path();
    let mut bytes = std::fs::read(d.join("snapshots").join(&first)).unwrap();
    let mid = bytes.len() / 2 + 10;
    bytes[mid] ^= 0x20;
    let copy = d.join("damaged.dnid");
    std::fs::write(&copy, &bytes).unwrap();
    let verify = dnid(d, &["snapshot", "verify", copy.to_str().unwrap()]).await;
    assert_eq!(verify.code, 1, "{verify}");
    assert!(verify.stderr.contains("checksum"), "{verify}");
    assert!(verify.stderr.contains("damaged.dnid"), "{verify}");
    assert!(!verify.stdout.contains("OK"), "{verify}");
    let inspect = dnid(d, &["snapshot", "inspect", copy.to_str().unwrap()]).await;
    assert_eq!(inspect.code, 1, "{inspect}");
    let missing = dnid(d, &["snapshot", "verify", "no-such-file.dnid"]).await;
    assert_eq!(missing.code, 1, "{missing}");
}

#[tokio::test]
async fn restore_and_repair_refuse_while_a_server_runs() {
    let s = TestServer::start_with(quiet).await;
    s.create_pool(&["+15550001001"], json!({})).await;
    let file = snapshot(&s).await;
    let d = s.data_dir.path().to_path_buf();
    let wal_before = files(&d.join("wal"));

    let restore = dnid(&d, &["restore", "--from", &file, "--yes"]).await;
    assert_eq!(restore.code, 3, "{restore}");
    assert!(
        restore.stderr.contains("LOCK"),
        "names the lock file: {restore}"
    );
    let repair = dnid(&d, &["wal", "repair", "--yes"]).await;
    assert_eq!(repair.code, 3, "{repair}");
    assert!(repair.stderr.contains("LOCK"), "{repair}");
    assert_eq!(files(&d.join("wal")), wal_before);
    assert_eq!(files(&d.join("snapshots")), vec![file]);
    // Reading is fine while it runs.
    let inspect = dnid(&d, &["wal", "inspect"]).await;
    assert_eq!(inspect.code, 0, "{inspect}");
    // And the server was not disturbed.
    assert_eq!(pool_names(&s).await, vec!["Shop"]);
    s.shutdown().await;
}

#[tokio::test]
async fn restore_brings_back_the_older_state_and_keeps_the_current_one_aside() {
    let (dir, clock, first, second) = three_generations().await;
    let d = dir.path().to_path_buf();
    let wal_before = files(&d.join("wal"));
    assert!(!wal_before.is_empty());

    // Without a terminal and without --yes nothing happens.
    let asked = dnid(&d, &["restore", "--from", &first]).await;
    assert_eq!(asked.code, 1, "{asked}");
    assert!(asked.stderr.contains("--yes"), "{asked}");
    assert_eq!(files(&d.join("wal")), wal_before);
    assert_eq!(files(&d.join("snapshots")).len(), 2);

    let restore = dnid(&d, &["restore", "--from", &first, "--yes"]).await;
    assert_eq!(restore.code, 0, "{restore}");
    assert!(restore.stdout.contains("before-restore-"), "{restore}");
    assert_eq!(files(&d.join("snapshots")), vec![first.clone()]);
    assert!(files(&d.join("wal")).is_empty());
    let backup = folder_starting(&d, "before-restore-");
    assert_eq!(files(&backup.join("wal")), wal_before);
    assert_eq!(
        files(&backup.join("snapshots")),
        vec![first.clone(), second]
    );

    // The server starts from exactly that snapshot: the later pools are gone.
    let s = TestServer::start_in(dir, clock, quiet).await.unwrap();
    assert_eq!(pool_names(&s).await, vec!["Old"]);
    assert_eq!(s.server().recovery().records_replayed, 0);
    // It carries on from there, across a restart.
    s.create_pool(&["+15550004001"], json!({"name": "After"}))
        .await;
    let (dir, clock) = s.stop().await;
    let s = TestServer::start_in(dir, clock, quiet).await.unwrap();
    assert_eq!(pool_names(&s).await, vec!["After", "Old"]);
    s.shutdown().await;
}

#[tokio::test]
async fn restore_refuses_an_invalid_snapshot_and_changes_nothing() {
    let (dir, _clock, first, _) = three_generations().await;
    let d = dir.path();
    let wal_before = files(&d.join("wal"));
    let bad = d.join("bad.dnid");
    let mut bytes = std::fs::read(d.join("snapshots").join(&first)).unwrap();
    bytes.truncate(bytes.len() - 3);
    std::fs::write(&bad, bytes).unwrap();
    let r = dnid(d, &["restore", "--from", bad.to_str().unwrap(), "--yes"]).await;
    assert_eq!(r.code, 1, "{r}");
    assert!(r.stderr.contains("not a valid snapshot"), "{r}");
    assert_eq!(files(&d.join("wal")), wal_before);
    assert_eq!(files(&d.join("snapshots")).len(), 2);
    assert!(!files(d).iter().any(|n| n.starts_with("before-restore")));
}

#[tokio::test]
async fn a_snapshot_outside_the_folder_with_any_name_is_restored_under_a_listed_name() {
    let (dir, clock, first, _) = three_generations().await;
    let d = dir.path().to_path_buf();
    let elsewhere = tempfile::tempdir().unwrap();
    let copy = elsewhere.path().join("backup-copy.bin");
    std::fs::copy(d.join("snapshots").join(&first), &copy).unwrap();
    let r = dnid(&d, &["restore", "--from", copy.to_str().unwrap(), "-y"]).await;
    assert_eq!(r.code, 0, "{r}");
    let installed = files(&d.join("snapshots"));
    assert_eq!(installed.len(), 1);
    assert!(installed[0].starts_with("snapshot-"), "{installed:?}");
    assert!(copy.exists(), "the source is copied, not moved");
    let s = TestServer::start_in(dir, clock, quiet).await.unwrap();
    assert_eq!(pool_names(&s).await, vec!["Old"]);
    s.shutdown().await;
}

#[tokio::test]
async fn wal_inspect_shows_a_clean_log_and_its_records() {
    let (dir, _clock, _, _) = three_generations().await;
    let d = dir.path();
    let r = dnid(d, &["wal", "inspect"]).await;
    assert_eq!(r.code, 0, "{r}");
    assert!(r.stdout.contains("clean"), "{r}");
    assert!(r.stdout.contains(".wal: seq "), "{r}");
    assert!(r.stdout.contains("0 problems"), "{r}");
    assert!(r.stdout.contains("newest valid snapshot"), "{r}");
    let r = dnid(d, &["wal", "inspect", "--records"]).await;
    assert_eq!(r.code, 0, "{r}");
    assert!(r.stdout.contains("Router CreatePool pool="), "{r}");
    assert!(r.stdout.contains("name=\"Newest\""), "{r}");
    assert!(r.stdout.contains("offset 8  "), "{r}");
    let repair = dnid(d, &["wal", "repair"]).await;
    assert_eq!(repair.code, 0, "{repair}");
    assert!(repair.stdout.contains("clean"), "{repair}");
    assert!(!files(d).iter().any(|n| n.starts_with("wal-cut")));
}

/// One `seq N  offset O  summary` line of `wal inspect --records`.
type Record = (u64, u64, String);

/// The records of `wal inspect --records`, per segment file.
fn records(inspect: &str) -> Vec<(String, Vec<Record>)> {
    let mut out: Vec<(String, Vec<Record>)> = Vec::new();
    for line in inspect.lines() {
        if let Some((name, _)) = line.split_once(".wal: ") {
            out.push((format!("{name}.wal"), Vec::new()));
        } else if let Some(rest) = line.trim_start().strip_prefix("seq ") {
            let mut parts = rest.splitn(3, "  ");
            let seq = parts.next().unwrap().parse().unwrap();
            let offset = parts
                .next()
                .unwrap()
                .trim_start_matches("offset ")
                .parse()
                .unwrap();
            let what = parts.next().unwrap().to_string();
            out.last_mut().unwrap().1.push((seq, offset, what));
        }
    }
    out
}

#[tokio::test]
async fn wal_repair_cuts_a_flipped_byte_so_the_server_starts_with_the_records_before_it() {
    let settings = |s: &mut Settings| {
        quiet(s);
        s.wal_segment_bytes = 4096;
    };
    let s = TestServer::start_with(settings).await;
    let numbers: Vec<String> = (0..80).map(|i| format!("+1555010{i:04}")).collect();
    let refs: Vec<&str> = numbers.iter().map(String::as_str).collect();
    let pool = s.create_pool(&refs, json!({})).await;
    for i in 0..70 {
        s.new_session(
            &pool,
            None,
            &format!("https://shop.example/?utm_source=s{i}"),
        )
        .await;
    }
    let (dir, clock) = s.stop().await;
    let d = dir.path().to_path_buf();

    let before = dnid(&d, &["wal", "inspect", "--records"]).await;
    assert_eq!(before.code, 0, "{before}");
    let segments = records(&before.stdout);
    assert!(segments.len() >= 3, "several segments: {before}");
    let (last_name, last) = segments.last().unwrap();
    assert!(last.len() >= 3, "frames in the last segment: {before}");
    let (bad_seq, bad_offset, _) = last[last.len() / 2];
    let kept_assigns = segments
        .iter()
        .flat_map(|(_, r)| r)
        .filter(|(seq, _, what)| *seq < bad_seq && what.contains("Assign"))
        .count();
    let seg_path = d.join("wal").join(last_name);
    let mut bytes = std::fs::read(&seg_path).unwrap();
    bytes[bad_offset as usize + 20] ^= 0x04;
    std::fs::write(&seg_path, &bytes).unwrap();

    // The server refuses to start, and says what to run.
    let refused = dnid::server::Server::start(
        Settings {
            listen: "127.0.0.1:0".parse().unwrap(),
            data_dir: d.clone(),
            snapshot_dir: d.join("snapshots"),
            ..Settings::default()
        },
        std::sync::Arc::new(clock.clone()),
        Some(TOKEN.into()),
    )
    .await;
    let err = refused
        .err()
        .expect("a damaged WAL stops the start")
        .to_string();
    assert!(err.contains("dnid wal repair"), "{err}");

    let inspect = dnid(&d, &["wal", "inspect"]).await;
    assert_eq!(inspect.code, 1, "{inspect}");
    assert!(
        inspect
            .stdout
            .contains(&format!("corrupt at offset {bad_offset}")),
        "{inspect}"
    );
    assert!(inspect.stderr.contains("dnid wal repair"), "{inspect}");

    // Not confirmed: nothing changes.
    let asked = dnid(&d, &["wal", "repair"]).await;
    assert_eq!(asked.code, 1, "{asked}");
    assert!(
        asked
            .stdout
            .contains(&format!("cut {last_name} at offset {bad_offset}")),
        "{asked}"
    );
    assert!(asked.stderr.contains("--yes"), "{asked}");
    assert_eq!(std::fs::read(&seg_path).unwrap(), bytes);

    let repair = dnid(&d, &["wal", "repair", "--yes"]).await;
    assert_eq!(repair.code, 0, "{repair}");
    assert!(repair.stdout.contains("intact-looking records"), "{repair}");
    assert_eq!(std::fs::metadata(&seg_path).unwrap().len(), bad_offset);
    let kept = folder_starting(&d, "wal-cut-");
    assert_eq!(std::fs::read(kept.join(last_name)).unwrap(), bytes);
    let after = dnid(&d, &["wal", "inspect"]).await;
    assert_eq!(after.code, 0, "{after}");

    // The server starts with every record before the damage.
    let s = TestServer::start_in(dir, clock, settings).await.unwrap();
    let stats = s
        .admin("GET", &format!("/api/v1/pools/{pool}/stats"), None)
        .await
        .json();
    assert_eq!(stats["active_sessions"], kept_assigns as u64, "{stats}");
    assert!(kept_assigns > 0);
    // And the log carries on cleanly across another restart.
    s.new_session(&pool, None, "https://shop.example/").await;
    let s = s.restart().await;
    let stats = s
        .admin("GET", &format!("/api/v1/pools/{pool}/stats"), None)
        .await
        .json();
    assert_eq!(stats["active_sessions"], kept_assigns as u64 + 1, "{stats}");
    let (dir, _) = s.stop().await;
    let clean = dnid(dir.path(), &["wal", "inspect"]).await;
    assert_eq!(clean.code, 0, "{clean}");
}

#[tokio::test]
async fn snapshot_create_asks_a_running_server() {
    let s = TestServer::start_with(quiet).await;
    s.create_pool(&["+15550001001"], json!({})).await;
    let d = s.data_dir.path().to_path_buf();
    let url = s.base.clone();

    let ok = dnid_env(
        &d,
        &["snapshot", "create", "--url", &url],
        &[("DNID_ADMIN_TOKEN", TOKEN)],
    )
    .await;
    assert_eq!(ok.code, 0, "{ok}");
    assert!(ok.stdout.contains("snapshot taken: snapshot-"), "{ok}");
    assert_eq!(files(&d.join("snapshots")).len(), 1);

    // The token can come from the token file of a data folder, and the URL from DNID_URL.
    let other = tempfile::tempdir().unwrap();
    std::fs::write(other.path().join("admin_token"), format!("{TOKEN}\n")).unwrap();
    s.clock.advance(1);
    let json = dnid_env(
        other.path(),
        &["snapshot", "create", "--json"],
        &[("DNID_URL", &url)],
    )
    .await;
    assert_eq!(json.code, 0, "{json}");
    let doc: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(doc["pools"], 1);
    assert!(doc["file"].as_str().unwrap().starts_with("snapshot-"));

    let wrong = dnid_env(
        &d,
        &["snapshot", "create", "--url", &url],
        &[("DNID_ADMIN_TOKEN", "wrong")],
    )
    .await;
    assert_eq!(wrong.code, 1, "{wrong}");
    assert!(wrong.stderr.contains("the server answered 40"), "{wrong}");
    s.shutdown().await;

    let unreachable = dnid_env(
        &d,
        &["snapshot", "create", "--url", &url],
        &[("DNID_ADMIN_TOKEN", TOKEN)],
    )
    .await;
    assert_eq!(unreachable.code, 1, "{unreachable}");
    assert!(
        unreachable.stderr.contains("cannot reach dnid"),
        "{unreachable}"
    );
    let no_token = dnid(
        other.path().join("nothing").as_path(),
        &["snapshot", "create"],
    )
    .await;
    assert_eq!(no_token.code, 1, "{no_token}");
    assert!(no_token.stderr.contains("DNID_ADMIN_TOKEN"), "{no_token}");
}

#[tokio::test]
async fn every_command_has_help_and_usage_errors_exit_2() {
    let d = tempfile::tempdir().unwrap();
    for args in [
        vec!["--help"],
        vec!["snapshot", "--help"],
        vec!["snapshot", "list", "--help"],
        vec!["snapshot", "inspect", "--help"],
        vec!["snapshot", "verify", "--help"],
        vec!["snapshot", "create", "--help"],
        vec!["restore", "--help"],
        vec!["wal", "--help"],
        vec!["wal", "inspect", "--help"],
        vec!["wal", "repair", "--help"],
    ] {
        let r = dnid(d.path(), &args).await;
        assert_eq!(r.code, 0, "{args:?}: {r}");
        assert!(r.stdout.contains("Usage: dnid"), "{args:?}: {r}");
    }
    let top = dnid(d.path(), &["--help"]).await;
    assert!(top.stdout.contains("Exit codes"), "{top}");
    for args in [
        vec!["snapshot"],
        vec!["snapshot", "bogus"],
        vec!["snapshot", "verify"],
        vec!["restore"],
        vec!["wal", "inspect", "--bogus"],
    ] {
        let r = dnid(d.path(), &args).await;
        assert_eq!(r.code, 2, "{args:?}: {r}");
    }
    // Repair needs an existing data folder; it does not make one.
    let missing = d.path().join("missing");
    let r = dnid(&missing, &["wal", "repair", "--yes"]).await;
    assert_eq!(r.code, 1, "{r}");
    assert!(!missing.exists());
}
