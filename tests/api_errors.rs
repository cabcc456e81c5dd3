//! Bad input gets a 4xx with a specific code and changes nothing; auth; body limits.

mod common;

use common::{TestServer, BROWSER_UA, TOKEN};
use serde_json::{json, Value};

async fn pool_state(s: &TestServer, pool: &str) -> Value {
    let mut p = s
        .admin("GET", &format!("/api/v1/pools/{pool}"), None)
        .await
        .json();
    p.as_object_mut().unwrap().remove("utilization");
    p
}

#[tokio::test]
async fn bad_pool_bodies_get_specific_codes_and_create_nothing() {
    let s = TestServer::start().await;
    let base = json!({
        "name": "Shop", "website_url": "https://shop.example", "target_number": "+12345678900"
    });
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    let cases: Vec<(String, u16, &str, Option<&str>)> = vec![
        ("{\"name\":".into(), 400, "malformed_json", None),
        ("".into(), 400, "malformed_json", None),
        ("[1,2]".into(), 400, "invalid_request", None),
        (
            with("session_timeout_secs", json!("long")).to_string(),
            400,
            "invalid_request",
            None,
        ),
        (
            with("unknown_field", json!(1)).to_string(),
            400,
            "invalid_request",
            None,
        ),
        (
            with("exhaustion_policy", json!("panic")).to_string(),
            400,
            "invalid_request",
            None,
        ),
        (
            with("target_number", json!("call us")).to_string(),
            400,
            "invalid_number",
            Some("target_number"),
        ),
        (
            with("fallback_number", json!("+12")).to_string(),
            400,
            "invalid_number",
            Some("fallback_number"),
        ),
        (
            with("numbers", json!(["+15550001001", "0207 946 0958"])).to_string(),
            400,
            "invalid_number",
            Some("numbers"),
        ),
        (
            with("numbers", json!(["+15550001001", "(555) 000-1001"])).to_string(),
            409,
            "duplicate_number",
            None,
        ),
        (
            with("session_timeout_secs", json!(59)).to_string(),
            400,
            "invalid_setting",
            Some("session_timeout_secs"),
        ),
        (
            with("session_timeout_secs", json!(86401)).to_string(),
            400,
            "invalid_setting",
            Some("session_timeout_secs"),
        ),
        (
            with("website_url", json!("not a url")).to_string(),
            400,
            "invalid_setting",
            Some("website_url"),
        ),
        (
            with("name", json!("")).to_string(),
            400,
            "invalid_setting",
            Some("name"),
        ),
    ];
    let auth = format!("Bearer {TOKEN}");
    for (body, status, code, field) in cases {
        let r = s
            .raw(
                "POST",
                "/api/v1/pools",
                &[("authorization", &auth)],
                body.clone(),
            )
            .await;
        assert_eq!(
            r.status,
            status,
            "{body} → {}",
            String::from_utf8_lossy(&r.body)
        );
        assert_eq!(r.code(), code, "{body}");
        let msg = r.json()["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(!msg.is_empty(), "{body}: a human message");
        if let Some(f) = field {
            assert_eq!(r.json()["error"]["field"], f, "{body}");
        }
    }
    let list = s.admin("GET", "/api/v1/pools", None).await.json();
    assert_eq!(list["pools"], json!([]), "nothing was created");
    s.shutdown().await;
}

#[tokio::test]
async fn a_number_in_another_pool_is_refused() {
    let s = TestServer::start().await;
    let a = s.create_pool(&["+15550001001"], json!({})).await;
    let r = s
        .admin(
            "POST",
            "/api/v1/pools",
            Some(json!({"name": "B", "website_url": "https://b.example", "target_number": "+12345678900", "numbers": ["+15550001001"]})),
        )
        .await;
    assert_eq!(r.status, 409);
    assert_eq!(r.code(), "number_in_other_pool");
    let b = s.create_pool(&["+15550002001"], json!({})).await;
    let before = pool_state(&s, &b).await;
    let r = s
        .admin(
            "POST",
            &format!("/api/v1/pools/{b}/numbers"),
            Some(json!({"numbers": ["+15550002002", "+15550001001"]})),
        )
        .await;
    assert_eq!(r.status, 409);
    assert_eq!(r.code(), "number_in_other_pool");
    assert!(r.json()["error"]["message"].as_str().unwrap().contains(&a));
    assert_eq!(
        pool_state(&s, &b).await,
        before,
        "no number of the batch was added"
    );
    let r = s
        .admin(
            "POST",
            &format!("/api/v1/pools/{b}/numbers"),
            Some(json!({"numbers": ["+15550002001"]})),
        )
        .await;
    assert_eq!(r.status, 409);
    assert_eq!(r.code(), "duplicate_number");
    assert_eq!(pool_state(&s, &b).await, before);
    s.shutdown().await;
}

#[tokio::test]
async fn bad_patches_change_nothing() {
    let s = TestServer::start().await;
    let pool = s.create_pool(&["+15550001001"], json!({})).await;
    let before = pool_state(&s, &pool).await;
    for (body, code) in [
        (json!({"session_timeout_secs": 10}), "invalid_setting"),
        (json!({"target_number": "abc"}), "invalid_number"),
        (json!({"exhaustion_policy": "whatever"}), "invalid_request"),
        (json!({"numbers": []}), "invalid_request"),
        (
            json!({"session_timeout_secs": 120, "website_url": "ftp://x"}),
            "invalid_setting",
        ),
    ] {
        let r = s
            .admin(
                "PATCH",
                &format!("/api/v1/pools/{pool}"),
                Some(body.clone()),
            )
            .await;
        assert_eq!(r.status, 400, "{body}");
        assert_eq!(r.code(), code, "{body}");
    }
    assert_eq!(pool_state(&s, &pool).await, before);
    s.shutdown().await;
}

#[tokio::test]
async fn unknown_pools_sessions_and_routes() {
    let s = TestServer::start().await;
    for path in [
        "/api/v1/pools/0123456789abcdef",
        "/api/v1/pools/not-a-pool-id",
        "/api/v1/pools/0123456789abcdef/stats",
        "/api/v1/pools/0123456789abcdef/sessions",
    ] {
        let r = s.admin("GET", path, None).await;
        assert_eq!(r.status, 404, "{path}");
        assert_eq!(r.code(), "pool_not_found", "{path}");
    }
    let r = s.admin("GET", "/api/v1/nope", None).await;
    assert_eq!((r.status, r.code().as_str()), (404, "not_found"));
    let r = s.admin("PUT", "/api/v1/pools", None).await;
    assert_eq!((r.status, r.code().as_str()), (405, "method_not_allowed"));

    let r = s
        .public(
            "POST",
            "/api/v1/tracking/sessions",
            json!({"pool_id": "0123456789abcdef", "page_url": "https://x.example/"}),
        )
        .await;
    assert_eq!((r.status, r.code().as_str()), (404, "pool_not_found"));
    let r = s
        .public(
            "POST",
            "/api/v1/tracking/sessions",
            json!({"pool_id": "nope", "page_url": "https://x.example/"}),
        )
        .await;
    assert_eq!((r.status, r.code().as_str()), (400, "invalid_pool_id"));
    let pool = s.create_pool(&["+15550001001"], json!({})).await;
    let r = s
        .public(
            "POST",
            "/api/v1/tracking/sessions",
            json!({"pool_id": pool, "session_id": "garbage", "page_url": "https://shop.example/"}),
        )
        .await;
    assert_eq!((r.status, r.code().as_str()), (400, "invalid_session_id"));
    let r = s
        .public(
            "POST",
            "/api/v1/tracking/sessions",
            json!({"pool_id": pool, "page_url": ""}),
        )
        .await;
    assert_eq!((r.status, r.code().as_str()), (400, "missing_field"));
    let r = s
        .public("POST", "/api/v1/tracking/sessions", json!({"pool_id": pool, "page_url": format!("https://shop.example/{}", "a".repeat(3000))}))
        .await;
    assert_eq!((r.status, r.code().as_str()), (400, "field_too_long"));
    let r = s.page_view("short").await;
    assert_eq!((r.status, r.code().as_str()), (400, "invalid_session_id"));
    let stats = s
        .admin("GET", &format!("/api/v1/pools/{pool}/stats"), None)
        .await
        .json();
    assert_eq!(
        stats["active_sessions"], 0,
        "no bad request leased anything"
    );
    s.shutdown().await;
}

#[tokio::test]
async fn admin_endpoints_need_the_token() {
    let s = TestServer::start().await;
    let pool = s.create_pool(&["+15550001001"], json!({})).await;
    let paths = [
        ("GET", "/api/v1/pools".to_string()),
        ("POST", "/api/v1/pools".to_string()),
        ("GET", format!("/api/v1/pools/{pool}")),
        ("DELETE", format!("/api/v1/pools/{pool}")),
        ("GET", format!("/api/v1/pools/{pool}/sessions")),
        ("GET", format!("/api/v1/pools/{pool}/stats")),
    ];
    for (method, path) in &paths {
        let r = s.raw(method, path, &[], "").await;
        assert_eq!(
            (r.status, r.code().as_str()),
            (401, "unauthorized"),
            "{method} {path}"
        );
        let r = s
            .raw(
                method,
                path,
                &[("authorization", "Bearer wrong-token-of-any-length")],
                "",
            )
            .await;
        assert_eq!(
            (r.status, r.code().as_str()),
            (403, "forbidden"),
            "{method} {path}"
        );
        let r = s.raw(method, path, &[("authorization", TOKEN)], "").await;
        assert_eq!(r.status, 403, "{method} {path}: token without Bearer");
    }
    // Nothing was deleted by the refused DELETE.
    assert_eq!(
        s.admin("GET", &format!("/api/v1/pools/{pool}"), None)
            .await
            .status,
        200
    );
    // Public endpoints need no token.
    let r = s
        .raw(
            "POST",
            "/api/v1/tracking/sessions",
            &[("user-agent", BROWSER_UA)],
            json!({"pool_id": pool, "page_url": "https://shop.example/"}).to_string(),
        )
        .await;
    assert_eq!(r.status, 200);
    s.shutdown().await;
}

#[tokio::test]
async fn oversized_bodies_are_refused_with_413() {
    let s = TestServer::start_with(|c| {
        c.max_body_bytes = 1024;
        c.max_public_body_bytes = 512;
    })
    .await;
    let pool = s.create_pool(&["+15550001001"], json!({})).await;
    let big =
        json!({"pool_id": pool, "page_url": format!("https://shop.example/{}", "a".repeat(600))});
    let r = s.public("POST", "/api/v1/tracking/sessions", big).await;
    assert_eq!((r.status, r.code().as_str()), (413, "body_too_large"));
    let numbers: Vec<String> = (0..100).map(|i| format!("+1555000{i:04}")).collect();
    let r = s
        .admin(
            "POST",
            &format!("/api/v1/pools/{pool}/numbers"),
            Some(json!({"numbers": numbers})),
        )
        .await;
    assert_eq!((r.status, r.code().as_str()), (413, "body_too_large"));
    assert_eq!(
        s.admin("GET", &format!("/api/v1/pools/{pool}"), None)
            .await
            .json()["numbers_total"],
        1
    );
    s.shutdown().await;
}

#[tokio::test]
async fn cors_allows_the_pools_website_and_its_subdomains_only() {
    let s = TestServer::start().await;
    let pool = s
        .create_pool(&["+15550001001", "+15550001002"], json!({}))
        .await;
    let body = json!({"pool_id": pool, "page_url": "https://shop.example/"}).to_string();
    let pre = s
        .raw(
            "OPTIONS",
            "/api/v1/tracking/sessions",
            &[
                ("origin", "https://www.shop.example"),
                ("access-control-request-method", "POST"),
            ],
            "",
        )
        .await;
    assert_eq!(pre.status, 204);
    assert_eq!(
        pre.headers["access-control-allow-origin"],
        "https://www.shop.example"
    );
    let ok = s
        .raw(
            "POST",
            "/api/v1/tracking/sessions",
            &[
                ("origin", "https://blog.shop.example"),
                ("user-agent", BROWSER_UA),
            ],
            body.clone(),
        )
        .await;
    assert_eq!(ok.status, 200);
    assert_eq!(
        ok.headers["access-control-allow-origin"],
        "https://blog.shop.example"
    );
    let evil = s
        .raw(
            "POST",
            "/api/v1/tracking/sessions",
            &[
                ("origin", "https://evil.example"),
                ("user-agent", BROWSER_UA),
            ],
            body,
        )
        .await;
    assert_eq!(
        (evil.status, evil.code().as_str()),
        (403, "origin_not_allowed")
    );
    let stats = s
        .admin("GET", &format!("/api/v1/pools/{pool}/stats"), None)
        .await
        .json();
    assert_eq!(
        stats["active_sessions"], 1,
        "the foreign origin drained nothing"
    );
    s.shutdown().await;
}

#[tokio::test]
async fn a_client_asking_for_too_many_sessions_gets_429_with_retry_after() {
    let s = TestServer::start_with(|c| {
        c.session_rate_per_ip = 3;
        c.session_burst_per_ip = 3;
    })
    .await;
    let pool = s
        .create_pool(
            &[
                "+15550001001",
                "+15550001002",
                "+15550001003",
                "+15550001004",
            ],
            json!({}),
        )
        .await;
    for _ in 0..3 {
        s.new_session(&pool, None, "https://shop.example/").await;
    }
    let r = s
        .public(
            "POST",
            "/api/v1/tracking/sessions",
            json!({"pool_id": pool, "page_url": "https://shop.example/"}),
        )
        .await;
    assert_eq!((r.status, r.code().as_str()), (429, "rate_limited"));
    assert!(
        r.headers["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1
    );
    let stats = s
        .admin("GET", &format!("/api/v1/pools/{pool}/stats"), None)
        .await
        .json();
    assert_eq!(
        stats["active_sessions"], 3,
        "the refused request leased nothing"
    );
    s.shutdown().await;
}
