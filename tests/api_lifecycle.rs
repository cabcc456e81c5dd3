//! The HTTP API end to end against a real server on port 0: pools, numbers, sessions,
//! stickiness, renewal, expiry (manual clock) and the exhaustion policies.

mod common;

use common::{TestServer, T0};
use serde_json::json;

#[tokio::test]
async fn whole_lifecycle_create_pool_lease_renew_expire_and_delete() {
    let s = TestServer::start().await;
    let pool = s
        .create_pool(&["+1 (555) 000-1001", "555.000.1002"], json!({}))
        .await;

    let got = s.admin("GET", &format!("/api/v1/pools/{pool}"), None).await;
    assert_eq!(got.status, 200);
    let p = got.json();
    assert_eq!(p["target_number"], "+12345678900");
    assert_eq!(p["session_timeout_secs"], 1800);
    assert_eq!(p["exhaustion_policy"], "fallback");
    assert_eq!(p["numbers_total"], 2);
    assert_eq!(p["numbers"][0]["number"], "+15550001001");

    let a = s
        .new_session(
            &pool,
            None,
            "https://shop.example/?utm_source=google&utm_medium=cpc&gclid=G1",
        )
        .await;
    assert_eq!(a["leased"], true);
    assert_eq!(a["result"], "new");
    assert_eq!(a["number"], "+15550001001", "longest-free number first");
    assert_eq!(a["formatted"], "+1 (555) 000-1001");
    assert_eq!(a["expires_at"], dnid::clock::rfc3339(T0 + 1800));
    let sid = a["session_id"].as_str().unwrap().to_string();
    assert_eq!(sid.len(), 32);

    // Sliding lifetime: a page view 10 minutes later moves the expiry.
    s.clock.advance(600);
    let r = s.page_view(&sid).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["number"], "+15550001001");
    assert_eq!(r.json()["result"], "renewed");
    assert_eq!(
        r.json()["expires_at"],
        dnid::clock::rfc3339(T0 + 600 + 1800)
    );

    let list = s.admin("GET", "/api/v1/pools", None).await.json();
    assert_eq!(list["pools"][0]["active_sessions"], 1);
    assert_eq!(list["pools"][0]["numbers_total"], 2);

    let sessions = s
        .admin("GET", &format!("/api/v1/pools/{pool}/sessions"), None)
        .await
        .json();
    let live = &sessions["sessions"][0];
    assert_eq!(live["session_id"], sid.as_str());
    assert_eq!(live["number"], "+15550001001");
    assert_eq!(live["pages_viewed"], 2);
    assert_eq!(live["duration_secs"], 600);
    assert_eq!(live["attribution"]["utm_source"], "google");
    assert_eq!(live["attribution"]["utm_medium"], "cpc");
    assert_eq!(live["attribution"]["gclid"], "G1");
    assert_eq!(live["attribution"]["ip"], "127.0.0.1");
    assert_eq!(live["attribution"]["user_agent"], common::BROWSER_UA);

    // One second before the renewed expiry the lease holds; at expiry it is gone.
    s.clock.advance(1799);
    let stats = s
        .admin("GET", &format!("/api/v1/pools/{pool}/stats"), None)
        .await
        .json();
    assert_eq!(stats["active_sessions"], 1);
    s.clock.advance(1);
    let stats = s
        .admin("GET", &format!("/api/v1/pools/{pool}/stats"), None)
        .await
        .json();
    assert_eq!(stats["active_sessions"], 0);
    assert_eq!(stats["numbers_free"], 2);
    assert_eq!(stats["peak_active"], 1);
    assert_eq!(stats["counters"]["expired"], 1);

    let del = s
        .admin("DELETE", &format!("/api/v1/pools/{pool}"), None)
        .await;
    assert_eq!(del.status, 204);
    let gone = s.admin("GET", &format!("/api/v1/pools/{pool}"), None).await;
    assert_eq!(gone.status, 404);
    assert_eq!(gone.code(), "pool_not_found");
    s.shutdown().await;
}

#[tokio::test]
async fn a_live_session_is_sticky_and_an_expired_one_gets_its_old_number_back() {
    let s = TestServer::start().await;
    let pool = s
        .create_pool(&["+15550001001", "+15550001002", "+15550001003"], json!({}))
        .await;
    let a = s
        .new_session(&pool, None, "https://shop.example/?utm_source=bing")
        .await;
    let sid = a["session_id"].as_str().unwrap();
    let again = s
        .new_session(&pool, Some(sid), "https://shop.example/other")
        .await;
    assert_eq!(again["number"], a["number"]);
    assert_eq!(again["session_id"], sid);
    assert_eq!(again["result"], "sticky");

    // Expired, number still free: the same session id gets the same number.
    s.clock.advance(1800);
    let back = s
        .new_session(&pool, Some(sid), "https://shop.example/")
        .await;
    assert_eq!(back["session_id"], sid);
    assert_eq!(back["number"], a["number"]);
    assert_eq!(back["result"], "regranted");
    let sessions = s
        .admin("GET", &format!("/api/v1/pools/{pool}/sessions"), None)
        .await
        .json();
    assert_eq!(
        sessions["sessions"][0]["attribution"]["utm_source"], "bing",
        "attribution is kept across the re-grant"
    );
    s.shutdown().await;
}

#[tokio::test]
async fn an_expired_session_whose_number_was_taken_gets_a_new_one() {
    let s = TestServer::start().await;
    let pool = s
        .create_pool(&["+15550001001", "+15550001002"], json!({}))
        .await;
    let a = s.new_session(&pool, None, "https://shop.example/").await;
    let sid = a["session_id"].as_str().unwrap();
    s.clock.advance(1800);
    // Two new visitors: the first takes the longest-free number (…002), the second
    // takes …001, which went to the back of the free list when it expired.
    let b = s.new_session(&pool, None, "https://shop.example/").await;
    let c = s.new_session(&pool, None, "https://shop.example/").await;
    assert_eq!(b["number"], "+15550001002");
    assert_eq!(c["number"], "+15550001001");
    s.admin(
        "DELETE",
        &format!(
            "/api/v1/pools/{pool}/sessions/{}",
            b["session_id"].as_str().unwrap()
        ),
        None,
    )
    .await;
    let back = s
        .new_session(&pool, Some(sid), "https://shop.example/")
        .await;
    assert_eq!(back["session_id"], sid);
    assert_eq!(back["number"], "+15550001002");
    assert_eq!(back["result"], "reassigned");
    s.shutdown().await;
}

#[tokio::test]
async fn page_view_of_an_unknown_session_is_404() {
    let s = TestServer::start().await;
    let pool = s.create_pool(&["+15550001001"], json!({})).await;
    let a = s.new_session(&pool, None, "https://shop.example/").await;
    let sid = a["session_id"].as_str().unwrap();
    // Same pool, another session id.
    let mut other = sid.chars().collect::<Vec<_>>();
    other[0] = if other[0] == 'A' { 'B' } else { 'A' };
    let other: String = other.into_iter().collect();
    let r = s.page_view(&other).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.code(), "session_not_found");
    // Unknown pool.
    let r = s.page_view("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").await;
    assert_eq!(r.status, 404);
    assert_eq!(r.code(), "session_not_found");
    s.shutdown().await;
}

#[tokio::test]
async fn exhausted_pool_with_fallback_policy_shows_the_fallback_number() {
    let s = TestServer::start().await;
    let pool = s.create_pool(&["+15550001001"], json!({})).await;
    s.new_session(&pool, None, "https://shop.example/").await;
    let b = s.new_session(&pool, None, "https://shop.example/").await;
    assert_eq!(b["leased"], false);
    assert_eq!(b["reason"], "exhausted");
    assert_eq!(b["number"], "+18005550100");
    assert_eq!(b["expires_at"], serde_json::Value::Null);
    let stats = s
        .admin("GET", &format!("/api/v1/pools/{pool}/stats"), None)
        .await
        .json();
    assert_eq!(stats["exhausted"], 1);
    assert_eq!(stats["active_sessions"], 1);
    // The turned-away visitor gets a number on the next page once one is free.
    s.clock.advance(1800);
    let again = s
        .new_session(&pool, b["session_id"].as_str(), "https://shop.example/")
        .await;
    assert_eq!(again["leased"], true);
    assert_eq!(again["session_id"], b["session_id"]);
    s.shutdown().await;
}

#[tokio::test]
async fn exhausted_pool_with_no_swap_policy_answers_no_number() {
    let s = TestServer::start().await;
    let pool = s
        .create_pool(&["+15550001001"], json!({"exhaustion_policy": "no_swap"}))
        .await;
    s.new_session(&pool, None, "https://shop.example/").await;
    let b = s.new_session(&pool, None, "https://shop.example/").await;
    assert_eq!(b["leased"], false);
    assert_eq!(b["reason"], "exhausted");
    assert_eq!(b["number"], serde_json::Value::Null);
    assert_eq!(b["result"], "no_swap");
    s.shutdown().await;
}

#[tokio::test]
async fn exhausted_pool_with_recycle_oldest_takes_the_least_recently_active_lease() {
    let s = TestServer::start().await;
    let pool = s
        .create_pool(
            &["+15550001001", "+15550001002"],
            json!({"exhaustion_policy": "recycle_oldest"}),
        )
        .await;
    let a = s.new_session(&pool, None, "https://shop.example/").await;
    s.clock.advance(10);
    let b = s.new_session(&pool, None, "https://shop.example/").await;
    s.clock.advance(10);
    // `a` browses again: now `b` is the least recently active.
    s.page_view(a["session_id"].as_str().unwrap()).await;
    let c = s.new_session(&pool, None, "https://shop.example/").await;
    assert_eq!(c["leased"], true);
    assert_eq!(c["result"], "recycled");
    assert_eq!(c["number"], b["number"]);
    let stats = s
        .admin("GET", &format!("/api/v1/pools/{pool}/stats"), None)
        .await
        .json();
    assert_eq!(stats["counters"]["recycled"], 1);
    assert_eq!(stats["active_sessions"], 2);
    s.shutdown().await;
}

#[tokio::test]
async fn bots_get_the_target_number_and_consume_nothing() {
    let s = TestServer::start().await;
    let pool = s.create_pool(&["+15550001001"], json!({})).await;
    let r = s
        .raw(
            "POST",
            "/api/v1/tracking/sessions",
            &[(
                "user-agent",
                "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            )],
            json!({"pool_id": pool, "page_url": "https://shop.example/"}).to_string(),
        )
        .await;
    assert_eq!(r.status, 200);
    let b = r.json();
    assert_eq!(b["leased"], false);
    assert_eq!(b["reason"], "bot");
    assert_eq!(b["number"], "+12345678900");
    let stats = s
        .admin("GET", &format!("/api/v1/pools/{pool}/stats"), None)
        .await
        .json();
    assert_eq!(stats["active_sessions"], 0);
    assert_eq!(stats["counters"]["bots"], 1);
    s.shutdown().await;
}

#[tokio::test]
async fn numbers_are_added_and_removed_with_drain_or_force() {
    let s = TestServer::start().await;
    let pool = s.create_pool(&["+15550001001"], json!({})).await;
    let r = s
        .admin(
            "POST",
            &format!("/api/v1/pools/{pool}/numbers"),
            Some(json!({"numbers": ["+15550001002", "(555) 000-1003"]})),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["numbers_total"], 3);

    let a = s.new_session(&pool, None, "https://shop.example/").await;
    assert_eq!(a["number"], "+15550001001");
    // Leased: removal drains it.
    let r = s
        .admin(
            "DELETE",
            &format!("/api/v1/pools/{pool}/numbers/%2B15550001001"),
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["status"], "draining");
    let p = s
        .admin("GET", &format!("/api/v1/pools/{pool}"), None)
        .await
        .json();
    assert_eq!(p["numbers"][0]["draining"], true);
    // The holder keeps it while browsing...
    let again = s.page_view(a["session_id"].as_str().unwrap()).await.json();
    assert_eq!(again["number"], "+15550001001");
    // ...and it leaves the pool when the lease ends.
    s.clock.advance(1800);
    let p = s
        .admin("GET", &format!("/api/v1/pools/{pool}"), None)
        .await
        .json();
    assert_eq!(p["numbers_total"], 2);

    // Force: a leased number leaves at once.
    let b = s.new_session(&pool, None, "https://shop.example/").await;
    let num = b["number"].as_str().unwrap().replace('+', "%2B");
    let r = s
        .admin(
            "DELETE",
            &format!("/api/v1/pools/{pool}/numbers/{num}?force=true"),
            None,
        )
        .await;
    assert_eq!(r.json()["status"], "removed");
    let p = s
        .admin("GET", &format!("/api/v1/pools/{pool}"), None)
        .await
        .json();
    assert_eq!(p["numbers_total"], 1);
    assert_eq!(p["active_sessions"], 0);
    // A free number leaves at once, and a removed number can join another pool.
    let r = s
        .admin(
            "DELETE",
            &format!("/api/v1/pools/{pool}/numbers/{num}"),
            None,
        )
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.code(), "number_not_found");
    let other = s
        .create_pool(&[b["number"].as_str().unwrap()], json!({}))
        .await;
    assert_ne!(other, pool);
    s.shutdown().await;
}

#[tokio::test]
async fn patch_changes_settings_and_policy() {
    let s = TestServer::start().await;
    let pool = s.create_pool(&["+15550001001"], json!({})).await;
    let r = s
        .admin(
            "PATCH",
            &format!("/api/v1/pools/{pool}"),
            Some(json!({"session_timeout_secs": 120, "exhaustion_policy": "no_swap", "fallback_number": null, "name": "Renamed"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let p = r.json();
    assert_eq!(p["session_timeout_secs"], 120);
    assert_eq!(p["exhaustion_policy"], "no_swap");
    assert_eq!(p["fallback_number"], serde_json::Value::Null);
    assert_eq!(p["name"], "Renamed");
    let a = s.new_session(&pool, None, "https://shop.example/").await;
    assert_eq!(a["expires_at"], dnid::clock::rfc3339(T0 + 120));
    s.shutdown().await;
}
