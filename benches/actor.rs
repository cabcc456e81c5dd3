//! Assign through the actors, in process: HTTP handler's view minus HTTP.
//!
//! Three paths, measured in the same run so their ratio means something on a noisy
//! machine:
//! - `ractor_echo`: a bare ractor `call` round trip to an actor that only replies
//!   (the floor any actor design pays);
//! - `pool_actor/assign`: a new session through the router and the pool actor,
//!   including its WAL record (mode `never`: the pool actor writes it itself, no
//!   fsync; the figure is the design's own cost);
//! - `pool_actor/renew`: a page view of a live session, same path.
//!
//! `cargo bench --bench actor`

/// The dnid binary's allocator, so that allocation costs are the server's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{criterion_group, criterion_main, Criterion};
use dnid::actors::router::RouterArgs;
use dnid::actors::{AssignInput, PoolMsg, RouterActor, RouterMsg};
use dnid::clock::SystemClock;
use dnid::engine::{ExhaustionPolicy, PhoneNumber, PoolSettings};
use dnid::store::fs::RealFs;
use dnid::store::wal::{WalOptions, WalStart};
use dnid::store::{FsyncMode, Wal};
use ractor::rpc::CallResult;
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use std::sync::Arc;
use std::time::Duration;

struct Echo;

impl Actor for Echo {
    type Msg = RpcReplyPort<u64>;
    type State = ();
    type Arguments = ();
    async fn pre_start(&self, _: ActorRef<Self::Msg>, _: ()) -> Result<(), ActorProcessingErr> {
        Ok(())
    }
    async fn handle(
        &self,
        _: ActorRef<Self::Msg>,
        reply: RpcReplyPort<u64>,
        _: &mut (),
    ) -> Result<(), ActorProcessingErr> {
        let _ = reply.send(1);
        Ok(())
    }
}

const T: Option<Duration> = Some(Duration::from_secs(5));

fn input(session: Option<dnid::engine::SessionId>) -> AssignInput {
    AssignInput {
        session,
        page_url: "https://shop.example/landing?utm_source=google&utm_medium=cpc&utm_campaign=spring&gclid=Cj0KCQiA".into(),
        referrer: Some("https://www.google.com/".into()),
        ip: Some("203.0.113.7".into()),
        user_agent: Some("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36".into()),
        bot: false,
        origin: None,
    }
}

fn bench(c: &mut Criterion) {
    // One thread, as on each worker of the server: a request's task and the actors it
    // calls wake each other on the same worker (tokio's LIFO slot). Driving the calls
    // from criterion's own thread into a multi-thread runtime would measure two
    // cross-thread futex wake-ups per call (≈ 5 µs each on this VM) instead.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let wal = Wal::start(
        WalOptions {
            dir: dir.path().join("wal"),
            mode: FsyncMode::Never,
            segment_bytes: 256 << 20,
            fs: Arc::new(RealFs),
        },
        WalStart {
            next_seq: 1,
            tail: None,
            segments: vec![],
        },
    )
    .unwrap();
    let (echo, router, pool) = rt.block_on(async {
        let (echo, _) = Actor::spawn(None, Echo, ()).await.unwrap();
        let (router, _) = Actor::spawn(
            None,
            RouterActor {
                clock: Arc::new(SystemClock),
                request_timeout: Duration::from_secs(5),
                wal: wal.wal(),
            },
            RouterArgs::default(),
        )
        .await
        .unwrap();
        let mut settings = PoolSettings::new(
            "bench",
            "https://shop.example",
            PhoneNumber::parse("+12345678900").unwrap(),
        );
        // A full pool recycles on every new session, so the measured path always
        // makes a lease, however many iterations criterion runs.
        settings.exhaustion_policy = ExhaustionPolicy::RecycleOldest;
        let numbers = (0..100_000)
            .map(|i| PhoneNumber::parse(&format!("+1555{i:07}")).unwrap())
            .collect();
        let pool = match router
            .call(
                |reply| RouterMsg::Create {
                    settings,
                    numbers,
                    reply,
                },
                T,
            )
            .await
            .unwrap()
        {
            CallResult::Success(Ok(id)) => id,
            _ => panic!("pool not created"),
        };
        (echo, router, pool)
    });

    let mut g = c.benchmark_group("actor");
    g.bench_function("ractor_echo", |b| {
        b.to_async(&rt)
            .iter(|| async { echo.call(|r| r, T).await.unwrap() })
    });
    g.bench_function("pool_actor/assign", |b| {
        b.to_async(&rt).iter(|| async {
            match router
                .call(
                    |reply| RouterMsg::Dispatch(pool, PoolMsg::Assign(input(None), reply)),
                    T,
                )
                .await
                .unwrap()
            {
                CallResult::Success(Ok(a)) => a,
                _ => panic!("assign failed"),
            }
        })
    });
    // Throughput view: 64 assignments in flight at once share WAL batches; the
    // figure is wall time per assignment.
    g.bench_function("pool_actor/assign_64_concurrent_per_op", |b| {
        b.to_async(&rt).iter_custom(|iters| {
            let router = router.clone();
            async move {
                let start = std::time::Instant::now();
                let rounds = iters.div_ceil(64);
                for _ in 0..rounds {
                    let calls = (0..64).map(|_| {
                        let router = router.clone();
                        async move {
                            router
                                .call(
                                    |reply| {
                                        RouterMsg::Dispatch(
                                            pool,
                                            PoolMsg::Assign(input(None), reply),
                                        )
                                    },
                                    T,
                                )
                                .await
                        }
                    });
                    for r in futures_join_all(calls).await {
                        assert!(matches!(r, Ok(CallResult::Success(Ok(_)))));
                    }
                }
                // Criterion divides by `iters`; `rounds * 64` assignments ran.
                start.elapsed().mul_f64(iters as f64 / (rounds * 64) as f64)
            }
        })
    });
    let live = rt.block_on(async {
        match router
            .call(
                |reply| RouterMsg::Dispatch(pool, PoolMsg::Assign(input(None), reply)),
                T,
            )
            .await
            .unwrap()
        {
            CallResult::Success(Ok(a)) => a.session,
            _ => panic!("assign failed"),
        }
    });
    g.bench_function("pool_actor/renew", |b| {
        b.to_async(&rt).iter(|| async {
            match router
                .call(
                    |reply| {
                        RouterMsg::Dispatch(
                            pool,
                            PoolMsg::PageView {
                                session: live,
                                heartbeat: false,
                                reply,
                            },
                        )
                    },
                    T,
                )
                .await
                .unwrap()
            {
                CallResult::Success(Ok(a)) => a,
                _ => panic!("renew failed"),
            }
        })
    });
    g.finish();
    drop(rt);
    wal.stop();
}

/// Awaits all futures concurrently (no extra dependency for one helper).
async fn futures_join_all<F>(fs: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = fs.map(tokio::spawn).collect();
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        out.push(h.await.expect("task"));
    }
    out
}

criterion_group!(benches, bench);
criterion_main!(benches);
