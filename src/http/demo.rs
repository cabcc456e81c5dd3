//! `dnid serve --demo`: a demo pool with fictional numbers, and `/demo`, a page where a
//! new user watches the snippet swap the number.

use super::error::ApiError;
use super::Body;
use crate::actors::{PoolError, PoolMsg, RouterMsg};
use crate::engine::{ExhaustionPolicy, PhoneNumber, PoolSettings};
use crate::ids::PoolId;
use bytes::Bytes;
use http_body_util::Full;
use hyper::{header, Response, StatusCode};
use ractor::rpc::CallResult;
use ractor::ActorRef;
use std::time::Duration;

/// The demo pool's name; an existing pool of this name is reused across restarts.
pub const DEMO_POOL_NAME: &str = "dnid demo";
/// Fictional numbers (the 555-01xx block is reserved for fiction).
pub const DEMO_TARGET: &str = "+12025550100";
pub const DEMO_FALLBACK: &str = "+12025550199";

fn demo_numbers() -> Vec<PhoneNumber> {
    (101..=110)
        .filter_map(|i| PhoneNumber::parse(&format!("+1202555{i:04}")).ok())
        .collect()
}

async fn ask<T: Send + 'static>(
    router: &ActorRef<RouterMsg>,
    msg: impl FnOnce(ractor::RpcReplyPort<T>) -> RouterMsg,
) -> Result<T, String> {
    match router.call(msg, Some(Duration::from_secs(10))).await {
        Ok(CallResult::Success(v)) => Ok(v),
        _ => Err("the router did not answer".into()),
    }
}

/// Finds the demo pool or creates it, for a page served at `website_url`.
pub async fn ensure_pool(
    router: &ActorRef<RouterMsg>,
    website_url: &str,
) -> Result<PoolId, String> {
    for (id, actor) in ask(router, RouterMsg::List).await? {
        let Ok(actor) = actor else { continue };
        let info = match actor
            .call(
                |reply| PoolMsg::Info {
                    with_numbers: false,
                    reply,
                },
                Some(Duration::from_secs(10)),
            )
            .await
        {
            Ok(CallResult::Success(Ok(info))) => info,
            _ => continue,
        };
        if info.settings.name == DEMO_POOL_NAME {
            return Ok(id);
        }
    }
    let target = PhoneNumber::parse(DEMO_TARGET).map_err(|e| e.to_string())?;
    let mut settings = PoolSettings::new(DEMO_POOL_NAME, website_url, target);
    settings.fallback_number = PhoneNumber::parse(DEMO_FALLBACK).ok();
    settings.exhaustion_policy = ExhaustionPolicy::Fallback;
    let numbers = demo_numbers();
    ask(router, |reply| RouterMsg::Create {
        settings,
        numbers,
        reply,
    })
    .await?
    .map_err(|e: PoolError| e.to_string())
}

/// `GET /demo`
pub fn page(pool: Option<PoolId>) -> Result<Response<Body>, ApiError> {
    let Some(pool) = pool else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "the demo is off; start the server with `dnid serve --demo`",
        ));
    };
    let html = PAGE.replace("{{POOL_ID}}", &pool.to_string());
    let mut resp = Response::new(Full::new(Bytes::from(html)));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/html; charset=utf-8"),
    );
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    Ok(resp)
}

const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>dnid demo — Acme Plumbing</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 42rem; margin: 2rem auto; padding: 0 1rem; color: #1d2430; }
  .phone { font-size: 1.6rem; font-weight: 700; }
  .box { border: 1px solid #d6dbe3; border-radius: 8px; padding: 1rem 1.25rem; margin: 1rem 0; }
  code { background: #f1f3f7; padding: 0 .25rem; border-radius: 4px; }
  .note { color: #5b6473; font-size: .9rem; }
</style>
</head>
<body>
  <h1>Acme Plumbing</h1>
  <p>Call us today: <span class="phone">(202) 555-0100</span></p>
  <div class="box">
    <p>Also written as +1 202 555 0100, 202.555.0100 or <a href="tel:+12025550100">tap to call</a>.</p>
    <p data-dni-noswap>Our printed flyer says (202) 555-0100 — this line is marked <code>data-dni-noswap</code> and keeps the original.</p>
  </div>
  <div class="box">
    <h2>What just happened</h2>
    <p>The page was written with the number <code>(202) 555-0100</code>. dnid's snippet asked the demo pool for a
      tracking number for your visit and swapped every occurrence, in the same style.</p>
    <p id="status" class="note">Waiting for dnid…</p>
    <p class="note">Reload: the same number comes back (your session is sticky). Open a private window: another visitor
      gets another number. Try <a href="?utm_source=google&utm_medium=cpc&utm_campaign=demo&gclid=demo-click">this
      link with UTM parameters</a>, then look at <code>GET /api/v1/pools/{{POOL_ID}}/sessions</code> with the admin token.</p>
  </div>
  <script>
    document.addEventListener('dnid', function (e) {
      var a = e.detail || {};
      document.getElementById('status').textContent = a.leased
        ? 'Your tracking number: ' + a.formatted + ' (session ' + a.result + ', expires ' + a.expires_at + ')'
        : 'No tracking number leased (' + (a.reason || 'unknown') + '); showing ' + (a.formatted || 'the original number') + '.';
    });
  </script>
  <script src="/api/v1/tracking/snippet.js" data-pool-id="{{POOL_ID}}" data-target="+12025550100" async></script>
</body>
</html>
"#;
