//! `GET /api/v1/tracking/snippet.js`: the tracking snippet, embedded in the binary.

use super::Body;
use bytes::Bytes;
use http_body_util::Full;
use hyper::{header, HeaderMap, Response, StatusCode};

/// The snippet as served (minified).
pub const SNIPPET: &str = include_str!("../../assets/snippet.min.js");

/// A strong ETag: the CRC32C of the served bytes.
pub fn etag() -> String {
    format!("\"{:08x}\"", crc32c::crc32c(SNIPPET.as_bytes()))
}

pub fn serve(req_headers: &HeaderMap) -> Response<Body> {
    let tag = etag();
    let matches = req_headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"));
    let (status, body) = if matches {
        (StatusCode::NOT_MODIFIED, Bytes::new())
    } else {
        (StatusCode::OK, Bytes::from_static(SNIPPET.as_bytes()))
    };
    let mut resp = Response::new(Full::new(body));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/javascript; charset=utf-8"),
    );
    h.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("public, max-age=300"),
    );
    if let Ok(v) = header::HeaderValue::from_str(&tag) {
        h.insert(header::ETAG, v);
    }
    resp
}
