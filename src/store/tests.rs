//! Round trips and torn tails, at the level of the store.

use super::codec::encode_record;
use super::fs::RealFs;
use super::record::{PoolRecord, RouterRecord, WalRecord};
use super::recovery::recover;
use super::snapshot::{self, PoolImage, SnapshotBody};
use super::wal::{wal_dir, Wal, WalOptions, WalStart};
use super::FsyncMode;
use crate::engine::{Attribution, PhoneNumber, Pool, PoolSettings, SessionId};
use crate::ids::PoolId;
use std::sync::Arc;

fn n(s: &str) -> PhoneNumber {
    PhoneNumber::parse(s).unwrap()
}

fn settings() -> PoolSettings {
    PoolSettings::new("p", "https://shop.example", n("+12345678900"))
}

/// A sequence of records with some of everything.
fn records(id: PoolId) -> Vec<WalRecord> {
    let mut out = vec![WalRecord::Router(RouterRecord::CreatePool {
        id,
        settings: settings(),
        numbers: (0..5).map(|i| n(&format!("+1555000100{i}"))).collect(),
        at: 1000,
    })];
    for i in 0..8u8 {
        out.push(WalRecord::Pool(
            id,
            PoolRecord::Assign {
                session: None,
                fresh: SessionId([i; 16]),
                attribution: Some(Attribution::from_landing(
                    &format!("https://shop.example/?utm_source={i}"),
                    None,
                    None,
                    None,
                )),
                at: 1000 + u64::from(i) * 100,
            },
        ));
    }
    out.push(WalRecord::Pool(
        id,
        PoolRecord::PageView {
            session: SessionId([1; 16]),
            counts_page: true,
            at: 2000,
        },
    ));
    out.push(WalRecord::Pool(
        id,
        PoolRecord::RemoveNumber {
            number: n("+15550001002"),
            force: false,
            at: 2100,
        },
    ));
    out
}

/// The same records applied directly, as the live path would.
fn live_state(recs: &[WalRecord]) -> Pool {
    let mut pool = None;
    for r in recs.iter().cloned() {
        match r {
            WalRecord::Router(RouterRecord::CreatePool {
                settings,
                numbers,
                at,
                ..
            }) => {
                let mut p = Pool::new(settings, at);
                p.add_numbers(&numbers, at).unwrap();
                pool = Some(p);
            }
            WalRecord::Pool(_, rec) => {
                rec.apply(pool.as_mut().unwrap());
            }
            WalRecord::Router(_) | WalRecord::Calls(_) => {}
        }
    }
    pool.unwrap()
}

/// A real WAL writer on `data`'s WAL folder, in mode `always`.
fn start_wal(data: &std::path::Path, start: WalStart) -> super::wal::WalThread {
    Wal::start(
        WalOptions {
            dir: wal_dir(data),
            mode: FsyncMode::Always,
            segment_bytes: 1 << 20,
            fs: Arc::new(RealFs),
        },
        start,
    )
    .unwrap()
}

/// Appends one record durably through a writer started at `start`; its seq.
fn append_one(data: &std::path::Path, start: WalStart, rec: &WalRecord) -> u64 {
    let thread = start_wal(data, start);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let seq = rt
        .block_on(thread.wal().append_durable(encode_record(rec).unwrap()))
        .unwrap();
    thread.stop();
    seq
}

/// Writes `recs` through a real WAL writer into `data`.
fn write_wal(data: &std::path::Path, recs: &[WalRecord]) {
    let thread = start_wal(
        data,
        WalStart {
            next_seq: 1,
            tail: None,
            segments: vec![],
        },
    );
    let wal = thread.wal();
    let (tx, rx) = std::sync::mpsc::channel();
    for r in recs {
        let tx = tx.clone();
        wal.append(
            encode_record(r).unwrap(),
            Box::new(move |res| tx.send(res).unwrap()),
        );
    }
    for _ in recs {
        assert!(rx.recv().unwrap().is_ok());
    }
    thread.stop();
}

#[test]
fn state_to_wal_to_replay_is_equal() {
    let id = PoolId(9);
    let recs = records(id);
    let data = tempfile::tempdir().unwrap();
    write_wal(data.path(), &recs);
    let now = 2100;
    let got = recover(data.path(), &data.path().join("snapshots"), now).unwrap();
    let mut want = live_state(&recs);
    want.advance(now);
    assert_eq!(got.pools[&id].pool, want);
    assert_eq!(got.pools[&id].applied_seq, recs.len() as u64);
    assert_eq!(got.wal.next_seq, recs.len() as u64 + 1);
}

#[test]
fn state_to_snapshot_to_state_is_equal() {
    let id = PoolId(4);
    let pool = live_state(&records(id));
    let body = SnapshotBody {
        calls: crate::store::snapshot::CallsImage {
            covered_seq: 1,
            ..Default::default()
        },
        created_at: 5,
        router_seq: 1,
        pools: vec![PoolImage {
            id,
            covered_seq: 11,
            pool: pool.clone(),
        }],
    };
    let dir = tempfile::tempdir().unwrap();
    let meta = snapshot::write(dir.path(), &body).unwrap();
    assert_eq!(meta.covered_seq, 1);
    let (read_meta, read_body) = snapshot::read(&meta.path).unwrap();
    assert_eq!(read_meta, meta);
    assert_eq!(read_body, body);
    assert_eq!(read_body.pools[0].pool, pool);
}

#[test]
fn a_torn_last_record_is_cut_at_every_byte_and_earlier_records_are_kept() {
    let id = PoolId(5);
    let recs = records(id);
    let full = tempfile::tempdir().unwrap();
    write_wal(full.path(), &recs);
    let seg_path = std::fs::read_dir(wal_dir(full.path()))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let bytes = std::fs::read(&seg_path).unwrap();
    let last_len = 16 + encode_record(recs.last().unwrap()).unwrap().len();
    let last_start = bytes.len() - last_len;
    let want = live_state(&recs[..recs.len() - 1]);
    for cut in last_start..bytes.len() {
        let data = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(wal_dir(data.path())).unwrap();
        let seg = wal_dir(data.path()).join(seg_path.file_name().unwrap());
        std::fs::write(&seg, &bytes[..cut]).unwrap();
        let got = recover(data.path(), &data.path().join("s"), 0).unwrap();
        assert_eq!(got.pools[&id].pool, want, "cut at {cut}");
        let torn = cut > last_start;
        assert_eq!(got.report.torn_tail.is_some(), torn, "cut at {cut}");
        assert_eq!(got.wal.tail.as_ref().unwrap().2, last_start as u64);
        assert_eq!(got.wal.next_seq, recs.len() as u64);
    }
}

#[test]
fn recovery_continues_the_sequence_after_a_torn_tail() {
    let id = PoolId(6);
    let recs = records(id);
    let data = tempfile::tempdir().unwrap();
    write_wal(data.path(), &recs);
    let seg = std::fs::read_dir(wal_dir(data.path()))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let mut bytes = std::fs::read(&seg).unwrap();
    bytes.extend_from_slice(&[7, 0, 0, 0, 1, 2, 3]);
    std::fs::write(&seg, &bytes).unwrap();
    let got = recover(data.path(), &data.path().join("s"), 0).unwrap();
    assert!(got.report.torn_tail.is_some());
    // Append one more record after recovery: it must land where the torn bytes were.
    let extra = WalRecord::Router(RouterRecord::DeletePool { id, at: 3000 });
    let seq = append_one(data.path(), got.wal, &extra);
    assert_eq!(seq, recs.len() as u64 + 1);
    let again = recover(data.path(), &data.path().join("s"), 0).unwrap();
    assert!(again.report.torn_tail.is_none());
    assert!(
        again.pools.is_empty(),
        "the deletion after the repair replays"
    );
}

#[test]
fn a_segment_whose_header_never_landed_is_replaced_not_appended_to() {
    let id = PoolId(8);
    let recs = records(id);
    let data = tempfile::tempdir().unwrap();
    write_wal(data.path(), &recs);
    // A crash right after the next segment was created.
    let next = recs.len() as u64 + 1;
    let torn = wal_dir(data.path()).join(super::segment::segment_name(next));
    std::fs::write(&torn, b"DNID").unwrap();
    let got = recover(data.path(), &data.path().join("s"), 0).unwrap();
    assert!(
        got.wal.tail.is_none(),
        "the writer must start a fresh segment"
    );
    assert_eq!(got.wal.next_seq, next);
    let extra = WalRecord::Router(RouterRecord::DeletePool { id, at: 3000 });
    append_one(data.path(), got.wal, &extra);
    let again = recover(data.path(), &data.path().join("s"), 0).unwrap();
    assert!(again.pools.is_empty());
    assert_eq!(again.wal.next_seq, next + 1);
}

#[test]
fn a_hole_between_segments_stops_recovery() {
    let id = PoolId(10);
    let recs = records(id);
    let data = tempfile::tempdir().unwrap();
    write_wal(data.path(), &recs);
    let mut seg = super::segment::MAGIC.to_vec();
    super::segment::frame(
        &mut seg,
        recs.len() as u64 + 5,
        &encode_record(&WalRecord::Router(RouterRecord::DeletePool { id, at: 1 })).unwrap(),
    );
    let path = wal_dir(data.path()).join(super::segment::segment_name(recs.len() as u64 + 5));
    std::fs::write(&path, seg).unwrap();
    let err = recover(data.path(), &data.path().join("s"), 0)
        .err()
        .expect("a hole is damage")
        .to_string();
    assert!(err.contains(&path.display().to_string()), "{err}");
}

#[test]
fn a_log_that_ends_before_the_snapshot_gets_a_new_segment() {
    let id = PoolId(11);
    let recs = records(id);
    let data = tempfile::tempdir().unwrap();
    write_wal(data.path(), &recs[..3]);
    // The snapshot covers more than survived in the log (power loss in mode never).
    let pool = live_state(&recs);
    snapshot::write(
        &data.path().join("s"),
        &SnapshotBody {
            calls: crate::store::snapshot::CallsImage {
                covered_seq: 20,
                ..Default::default()
            },
            created_at: 1,
            router_seq: 20,
            pools: vec![PoolImage {
                id,
                covered_seq: 20,
                pool: pool.clone(),
            }],
        },
    )
    .unwrap();
    let got = recover(data.path(), &data.path().join("s"), 0).unwrap();
    assert_eq!(got.wal.next_seq, 21);
    assert!(got.wal.tail.is_none());
    assert_eq!(got.pools[&id].pool, pool);
}

#[test]
fn a_snapshot_whose_header_and_body_disagree_is_refused_even_with_good_checksums() {
    let body = SnapshotBody {
        calls: crate::store::snapshot::CallsImage::default(),
        created_at: 5,
        router_seq: 3,
        pools: vec![],
    };
    let dir = tempfile::tempdir().unwrap();
    let meta = snapshot::write(dir.path(), &body).unwrap();
    assert!(snapshot::read(&meta.path).is_ok());
    // Say it covers one record more, and re-seal the header's own checksum.
    let mut bytes = std::fs::read(&meta.path).unwrap();
    bytes[20..28].copy_from_slice(&(meta.covered_seq + 1).to_le_bytes());
    let crc = crc32c::crc32c(&bytes[..40]);
    bytes[40..44].copy_from_slice(&crc.to_le_bytes());
    std::fs::write(&meta.path, &bytes).unwrap();
    let err = snapshot::read(&meta.path).unwrap_err().to_string();
    assert!(err.contains("covers WAL seq"), "{err}");
}

/// Counts the fsyncs of every file it opens (and of their sync handles).
#[derive(Default)]
struct SyncCounter(std::sync::atomic::AtomicUsize);

struct CountedFile(Box<dyn super::fs::LogFile>, Arc<SyncCounter>);

impl super::fs::LogFile for CountedFile {
    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.0.write_all(buf)
    }
    fn sync_data(&mut self) -> std::io::Result<()> {
        self.1 .0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.0.sync_data()
    }
    fn truncate(&mut self, len: u64) -> std::io::Result<()> {
        self.0.truncate(len)
    }
    fn sync_handle(&self) -> std::io::Result<Box<dyn super::fs::LogFile>> {
        Ok(Box::new(CountedFile(self.0.sync_handle()?, self.1.clone())))
    }
}

struct CountingFs(Arc<SyncCounter>);

impl super::fs::FileSystem for CountingFs {
    fn open_log(&self, path: &std::path::Path) -> std::io::Result<Box<dyn super::fs::LogFile>> {
        Ok(Box::new(CountedFile(
            RealFs.open_log(path)?,
            self.0.clone(),
        )))
    }
    fn sync_dir(&self, dir: &std::path::Path) -> std::io::Result<()> {
        super::fs::sync_dir(dir)
    }
}

/// Modes `never` and `everysec`: the caller's own write is in the file when
/// `write_now` returns (no fsync on the way), and stopping syncs what was written.
#[test]
fn inline_writes_are_in_the_file_at_once_and_synced_on_stop() {
    for mode in [FsyncMode::Never, FsyncMode::Everysec] {
        let data = tempfile::tempdir().unwrap();
        let syncs = Arc::new(SyncCounter::default());
        let thread = Wal::start(
            WalOptions {
                dir: wal_dir(data.path()),
                mode,
                segment_bytes: 1 << 20,
                fs: Arc::new(CountingFs(syncs.clone())),
            },
            WalStart {
                next_seq: 1,
                tail: None,
                segments: vec![],
            },
        )
        .unwrap();
        let wal = thread.wal();
        let count = || syncs.0.load(std::sync::atomic::Ordering::SeqCst);
        let recs = records(PoolId(3));
        let bytes: Vec<Vec<u8>> = recs.iter().map(|r| encode_record(r).unwrap()).collect();
        // The first write opens the segment (whose header is synced).
        assert_eq!(wal.write_now(&bytes[0]).unwrap().unwrap(), 1);
        let after_open = count();
        for (i, b) in bytes.iter().enumerate().skip(1) {
            assert_eq!(wal.write_now(b).unwrap().unwrap(), i as u64 + 1);
        }
        assert_eq!(count(), after_open, "{mode:?}: no fsync on the write path");
        // Readable by recovery before any sync: the records are in the file.
        let got = recover(data.path(), &data.path().join("snapshots"), 2100).unwrap();
        assert_eq!(got.wal.next_seq, recs.len() as u64 + 1, "{mode:?}");
        thread.stop();
        assert!(
            count() > after_open,
            "{mode:?}: stop syncs what was written"
        );
    }
}
