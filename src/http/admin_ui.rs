//! `/admin`: the web admin (Number Pools, call flows, calls, webhooks, snapshots).
//!
//! A single page application in vanilla JavaScript, embedded in the binary from
//! `assets/admin/` (no CDN, no build step). Loading it needs no token: the page signs in
//! with the admin token, keeps it in `sessionStorage` and sends it as
//! `Authorization: Bearer` to the admin API; every figure on it comes from that API.
//!
//! Served with `Cache-Control: no-cache` and a strong ETag (a new binary is picked up
//! at once, an unchanged one costs a 304), and a strict Content-Security-Policy: only
//! the page's own files, no inline script or style, no frames.

use super::error::ApiError;
use super::Body;
use bytes::Bytes;
use http_body_util::Full;
use hyper::{header, HeaderMap, Method, Response, StatusCode};

/// The page's policy: its own files and the API only.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self'; connect-src 'self'; font-src 'self'; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// One embedded file: its path under `/admin/` (`""` is the page), type and bytes.
pub struct Asset {
    pub path: &'static str,
    pub content_type: &'static str,
    pub body: &'static str,
}

/// Every file of the admin, as served.
pub const ASSETS: &[Asset] = &[
    Asset {
        path: "",
        content_type: "text/html; charset=utf-8",
        body: include_str!("../../assets/admin/index.html"),
    },
    Asset {
        path: "app.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../assets/admin/app.js"),
    },
    Asset {
        path: "app.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("../../assets/admin/app.css"),
    },
    Asset {
        path: "favicon.svg",
        content_type: "image/svg+xml",
        body: include_str!("../../assets/admin/favicon.svg"),
    },
];

/// The asset at `/admin/<rest>`, if there is one.
pub fn asset(rest: &[&str]) -> Option<&'static Asset> {
    let path = match rest {
        [] => "",
        [one] if !one.is_empty() => one,
        _ => return None,
    };
    ASSETS.iter().find(|a| a.path == path)
}

/// A strong ETag: the CRC32C of the file.
fn etag(a: &Asset) -> String {
    format!("\"{:08x}\"", crc32c::crc32c(a.body.as_bytes()))
}

/// Answers `GET`/`HEAD /admin[/<asset>]` (`rest` is what follows `admin`).
pub fn serve(
    method: &Method,
    headers: &HeaderMap,
    rest: &[&str],
) -> Result<Response<Body>, ApiError> {
    let Some(a) = asset(rest) else {
        return Err(ApiError::not_found());
    };
    if method != Method::GET && method != Method::HEAD {
        return Err(ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "this endpoint does not take that method",
        ));
    }
    let tag = etag(a);
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"));
    let (status, body) = if fresh {
        (StatusCode::NOT_MODIFIED, Bytes::new())
    } else {
        (StatusCode::OK, Bytes::from_static(a.body.as_bytes()))
    };
    let mut resp = Response::new(Full::new(body));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    let fixed = [
        (header::CONTENT_TYPE, a.content_type),
        (header::CACHE_CONTROL, "no-cache"),
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ];
    for (name, value) in fixed {
        h.insert(name, header::HeaderValue::from_static(value));
    }
    if let Ok(v) = header::HeaderValue::from_str(&tag) {
        h.insert(header::ETAG, v);
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> &'static str {
        asset(&[]).unwrap().body
    }

    #[test]
    fn every_asset_is_found_by_its_path_and_nothing_else() {
        assert_eq!(asset(&[]).unwrap().path, "");
        for a in ASSETS {
            if !a.path.is_empty() {
                assert_eq!(asset(&[a.path]).unwrap().path, a.path);
                assert!(
                    page().contains(&format!("\"/admin/{}\"", a.path)),
                    "the page loads /admin/{}",
                    a.path
                );
            }
            assert!(!a.body.is_empty(), "{}", a.path);
        }
        assert!(asset(&["nope.js"]).is_none());
        assert!(asset(&["app.js", "x"]).is_none());
        assert!(asset(&[""]).is_none());
    }

    #[test]
    fn the_page_has_no_inline_script_or_style() {
        let html = page();
        // Every <script> has a src; no <style> element, no style or on* attribute.
        for (at, _) in html.match_indices("<script") {
            let tag = &html[at..at + html[at..].find('>').unwrap()];
            assert!(tag.contains(" src=\"/admin/"), "inline script: {tag}");
        }
        assert!(!html.contains("<style"));
        assert!(!html.contains(" style="));
        assert!(!html.contains(" onclick=") && !html.contains(" onload="));
        assert!(!CONTENT_SECURITY_POLICY.contains("unsafe"));
        assert!(CONTENT_SECURITY_POLICY.starts_with("default-src 'self';"));
    }

    #[test]
    fn the_script_never_writes_markup() {
        // Data goes into the page as text only (textContent, attributes, text nodes).
        let js = asset(&["app.js"]).unwrap().body;
        for bad in [
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
            "eval(",
            "new Function",
            "localStorage",
        ] {
            assert!(!js.contains(bad), "app.js uses {bad}");
        }
    }

    #[test]
    fn served_with_type_policy_and_revalidation() {
        let resp = serve(&Method::GET, &HeaderMap::new(), &["app.js"]).unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let h = resp.headers();
        assert_eq!(h[header::CONTENT_TYPE], "text/javascript; charset=utf-8");
        assert_eq!(h[header::CACHE_CONTROL], "no-cache");
        assert_eq!(h[header::CONTENT_SECURITY_POLICY], CONTENT_SECURITY_POLICY);
        let tag = h[header::ETAG].clone();

        let mut again = HeaderMap::new();
        again.insert(header::IF_NONE_MATCH, tag);
        let resp = serve(&Method::GET, &again, &["app.js"]).unwrap();
        assert_eq!(resp.status(), StatusCode::NOT_MODIFIED);

        let e = serve(&Method::POST, &HeaderMap::new(), &[]).unwrap_err();
        assert_eq!(e.status, StatusCode::METHOD_NOT_ALLOWED);
        let e = serve(&Method::GET, &HeaderMap::new(), &["secret"]).unwrap_err();
        assert_eq!(e.code, "not_found");
    }
}
