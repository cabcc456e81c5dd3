//! `GET /api/v1/openapi.json` against the router: the document describes exactly the
//! routes of `ROUTES` (the table the router's metrics use), and every described path
//! and method is answered by the running server (never 404 `not_found` or 405).

mod common;

use common::{TestServer, TOKEN};
use dnid::http::routes::{Access, ROUTES};
use serde_json::{json, Value};
use std::collections::BTreeSet;

const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

async fn document(s: &TestServer) -> Value {
    let r = s.raw("GET", "/api/v1/openapi.json", &[], "").await;
    assert_eq!(r.status, 200, "the document needs no token");
    assert_eq!(r.headers["content-type"], "application/json");
    r.json()
}

fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, _) in item.as_object().unwrap() {
            assert!(METHODS.contains(&method.as_str()), "{path}: {method}");
            ops.insert((path.clone(), method.to_uppercase()));
        }
    }
    ops
}

/// Every `$ref` points at something in the document.
fn check_refs(doc: &Value, v: &Value) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get("$ref") {
                let pointer = r.strip_prefix('#').expect("local refs only");
                assert!(doc.pointer(pointer).is_some(), "dangling $ref {r}");
            }
            m.values().for_each(|x| check_refs(doc, x));
        }
        Value::Array(a) => a.iter().for_each(|x| check_refs(doc, x)),
        _ => {}
    }
}

#[tokio::test]
async fn the_document_describes_exactly_the_route_table() {
    let s = TestServer::start().await;
    let doc = document(&s).await;
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());
    let described = operations(&doc);
    let routed: BTreeSet<(String, String)> = ROUTES
        .iter()
        .flat_map(|r| {
            r.methods
                .iter()
                .map(|m| (r.path.to_string(), m.to_string()))
        })
        .collect();
    let undocumented: Vec<_> = routed.difference(&described).collect();
    let unrouted: Vec<_> = described.difference(&routed).collect();
    assert!(
        undocumented.is_empty(),
        "routes missing from the document: {undocumented:?}"
    );
    assert!(
        unrouted.is_empty(),
        "described but not routed: {unrouted:?}"
    );

    check_refs(&doc, &doc);
    for (path, item) in doc["paths"].as_object().unwrap() {
        let access = ROUTES.iter().find(|r| r.path == path).unwrap().access;
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            assert!(
                responses.keys().any(|k| k.starts_with('2') || k == "304"),
                "{method} {path} has no success response"
            );
            assert!(responses.contains_key("405"), "{method} {path}");
            let secured = op.get("security").is_some();
            assert_eq!(secured, access == Access::Admin, "{method} {path} security");
            if secured {
                assert!(responses.contains_key("401"), "{method} {path}");
            }
            let error_ref = json!({"$ref": "#/components/schemas/Error"});
            for (status, r) in responses {
                if status.starts_with('4') || status.starts_with('5') {
                    let r = match r.get("$ref").and_then(Value::as_str) {
                        Some(p) => doc.pointer(p.strip_prefix('#').unwrap()).unwrap(),
                        None => r,
                    };
                    assert_eq!(
                        r["content"]["application/json"]["schema"], error_ref,
                        "{method} {path} {status} is not an error body"
                    );
                }
            }
        }
    }
    s.shutdown().await;
}

#[tokio::test]
async fn every_described_path_and_method_is_served() {
    let s = TestServer::start_with(|c| c.demo = true).await;
    let doc = document(&s).await;
    let pool = s
        .create_pool(&["+15550001001", "+15550001002"], json!({}))
        .await;
    let session = s.new_session(&pool, None, "https://shop.example/").await["session_id"]
        .as_str()
        .unwrap()
        .to_string();
    let fill = |path: &str| {
        let pool_route = path.starts_with("/api/v1/pools/");
        path.replace("{session_id}", &session)
            .replace("{number}", "%2B15550001002")
            .replace(
                "{id}",
                if pool_route {
                    &pool
                } else {
                    "0123456789abcdef"
                },
            )
    };
    // Deletions last (the pool's own at the very end), so the rest has its pool.
    let mut ops: Vec<(String, String)> = operations(&doc).into_iter().collect();
    ops.sort_by_key(|(path, method)| {
        (
            method == "DELETE",
            path == "/api/v1/pools/{id}" && method == "DELETE",
        )
    });
    let auth = format!("Bearer {TOKEN}");
    for (path, method) in &ops {
        let url = fill(path);
        let r = s
            .raw(
                method,
                &url,
                &[
                    ("authorization", &auth),
                    ("content-type", "application/json"),
                    ("user-agent", common::BROWSER_UA),
                ],
                "{}",
            )
            .await;
        let code = r.code();
        assert!(
            r.status != 405 && !(r.status == 404 && code == "not_found"),
            "{method} {url} ({path}) answered {} {code}: {}",
            r.status,
            String::from_utf8_lossy(&r.body)
        );
        // A method the document does not give the path is refused.
        let other = s.raw("PUT", &url, &[("authorization", &auth)], "").await;
        assert!(
            matches!(other.status, 404 | 405),
            "PUT {url} answered {}",
            other.status
        );
    }
    // And a path off the table is 404 `not_found`.
    let r = s.admin("GET", "/api/v1/nothing-here", None).await;
    assert_eq!((r.status, r.code().as_str()), (404, "not_found"));
    s.shutdown().await;
}
