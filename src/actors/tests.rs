//! Actor-level tests: routing, ownership of numbers across pools, and supervision.

use super::*;
use crate::clock::ManualClock;
use crate::engine::{AssignKind, PhoneNumber, PoolSettings};
use crate::ids::PoolId;
use ractor::rpc::CallResult;
use ractor::{Actor, ActorRef};
use std::sync::Arc;
use std::time::Duration;

const T: Option<Duration> = Some(Duration::from_secs(5));

fn n(s: &str) -> PhoneNumber {
    PhoneNumber::parse(s).unwrap()
}

async fn router() -> (ActorRef<RouterMsg>, ManualClock) {
    let clock = ManualClock::new(1_000_000);
    let dir = tempfile::tempdir().unwrap().keep();
    let wal = crate::store::Wal::start(
        crate::store::wal::WalOptions {
            dir,
            mode: crate::store::FsyncMode::Never,
            segment_bytes: 1 << 20,
            fs: Arc::new(crate::store::fs::RealFs),
        },
        crate::store::wal::WalStart {
            next_seq: 1,
            tail: None,
            segments: vec![],
        },
    )
    .unwrap();
    let (r, _) = Actor::spawn(
        None,
        RouterActor {
            clock: Arc::new(clock.clone()),
            request_timeout: Duration::from_secs(5),
            wal: wal.wal(),
        },
        Default::default(),
    )
    .await
    .unwrap();
    // The writer thread lives as long as the test process.
    std::mem::forget(wal);
    (r, clock)
}

async fn create(r: &ActorRef<RouterMsg>, numbers: &[&str]) -> Result<PoolId, PoolError> {
    let settings = PoolSettings::new("p", "https://shop.example", n("+12345678900"));
    let numbers = numbers.iter().map(|s| n(s)).collect();
    match r
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
        CallResult::Success(x) => x,
        _ => panic!("router did not answer"),
    }
}

async fn assign(r: &ActorRef<RouterMsg>, pool: PoolId) -> Result<SessionAnswer, PoolError> {
    let input = AssignInput {
        session: None,
        page_url: "https://shop.example/".into(),
        referrer: None,
        ip: None,
        user_agent: None,
        bot: false,
        origin: None,
    };
    match r
        .call(
            |reply| RouterMsg::Dispatch(pool, PoolMsg::Assign(input, reply)),
            T,
        )
        .await
        .unwrap()
    {
        CallResult::Success(x) => x,
        // The pool died with the request in its mailbox (the HTTP layer answers 503).
        CallResult::SenderError => Err(PoolError::PoolUnavailable(pool)),
        CallResult::Timeout => panic!("no answer"),
    }
}

#[tokio::test]
async fn requests_are_routed_to_their_pool() {
    let (r, _) = router().await;
    let a = create(&r, &["+15550001001"]).await.unwrap();
    let b = create(&r, &["+15550002001"]).await.unwrap();
    let x = assign(&r, a).await.unwrap();
    let y = assign(&r, b).await.unwrap();
    assert_eq!(x.number, Some(n("+15550001001")));
    assert_eq!(y.number, Some(n("+15550002001")));
    assert_eq!(x.kind, AssignKind::New);
    let missing = assign(&r, PoolId(42)).await.unwrap_err();
    assert_eq!(missing, PoolError::PoolNotFound(PoolId(42)));
}

#[tokio::test]
async fn a_number_belongs_to_at_most_one_pool() {
    let (r, _) = router().await;
    let a = create(&r, &["+15550001001"]).await.unwrap();
    let err = create(&r, &["+15550001001"]).await.unwrap_err();
    assert_eq!(err, PoolError::NumberInOtherPool(n("+15550001001"), a));
    let b = create(&r, &[]).await.unwrap();
    let add = r
        .call(
            |reply| RouterMsg::AddNumbers(b, vec![n("+15550001001")], reply),
            T,
        )
        .await
        .unwrap();
    assert!(matches!(
        add,
        CallResult::Success(Err(PoolError::NumberInOtherPool(_, p))) if p == a
    ));
    // Once the pool is deleted, its numbers are free to join another.
    let del = r
        .call(|reply| RouterMsg::Delete(a, reply), T)
        .await
        .unwrap();
    assert!(matches!(del, CallResult::Success(Ok(()))));
    let add = r
        .call(
            |reply| RouterMsg::AddNumbers(b, vec![n("+15550001001")], reply),
            T,
        )
        .await
        .unwrap();
    assert!(matches!(add, CallResult::Success(Ok(()))));
}

#[tokio::test]
async fn a_drained_number_is_released_by_its_pool_when_its_lease_ends() {
    let (r, clock) = router().await;
    let a = create(&r, &["+15550001001"]).await.unwrap();
    assign(&r, a).await.unwrap();
    let removal = r
        .call(
            |reply| RouterMsg::RemoveNumber {
                pool: a,
                number: n("+15550001001"),
                force: false,
                reply,
            },
            T,
        )
        .await
        .unwrap();
    assert!(matches!(
        removal,
        CallResult::Success(Ok(crate::engine::Removal::Draining))
    ));
    // Still owned while draining.
    let owner = r
        .call(|reply| RouterMsg::FindNumber(n("+15550001001"), reply), T)
        .await
        .unwrap();
    assert!(matches!(owner, CallResult::Success(Some(p)) if p == a));
    clock.advance(1800);
    // Any request moves the pool's time; the expired lease lets the number go.
    assign(&r, a).await.unwrap();
    let owner = r
        .call(|reply| RouterMsg::FindNumber(n("+15550001001"), reply), T)
        .await
        .unwrap();
    assert!(matches!(owner, CallResult::Success(None)));
}

#[tokio::test]
async fn a_panicking_pool_is_unavailable_and_the_others_keep_working() {
    let (r, _) = router().await;
    let bad = create(&r, &["+15550001001"]).await.unwrap();
    let good = create(&r, &["+15550002001"]).await.unwrap();
    r.send_message(RouterMsg::Dispatch(bad, PoolMsg::Crash))
        .unwrap();
    // The failure reaches the router as a supervision event; poll until it has.
    let mut outcome = None;
    for _ in 0..200 {
        match assign(&r, bad).await {
            Err(e @ PoolError::PoolUnavailable(_)) => {
                outcome = Some(e);
                break;
            }
            _ => tokio::task::yield_now().await,
        }
    }
    assert_eq!(outcome, Some(PoolError::PoolUnavailable(bad)));
    assert_eq!(r.get_status(), ractor::ActorStatus::Running);
    let ok = assign(&r, good).await.unwrap();
    assert_eq!(ok.number, Some(n("+15550002001")));
    let list = r.call(RouterMsg::List, T).await.unwrap();
    let CallResult::Success(list) = list else {
        panic!("no list")
    };
    assert!(list
        .iter()
        .any(|(id, e)| *id == bad && matches!(e, Err(PoolError::PoolUnavailable(_)))));
}
