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

#[cfg(test)]
mod tests {
    use super::*;

    /// The readable source `assets/snippet.min.js` is generated from.
    const SOURCE: &str = include_str!("../../assets/snippet.js");
    /// The budget of the served file, in bytes.
    const MAX_SERVED_BYTES: usize = 3072;

    /// The CRC32C the first line of the served file claims for its source.
    fn header_crc() -> Option<&'static str> {
        let header = SNIPPET.lines().next()?;
        if !header.starts_with("/*!") || !header.ends_with("*/") {
            return None;
        }
        let at = header.find("crc32c=")? + "crc32c=".len();
        header.get(at..at + 8)
    }

    #[test]
    fn served_snippet_is_generated_from_the_current_source() {
        let source = SOURCE.replace("\r\n", "\n");
        let expected = format!("{:08x}", crc32c::crc32c(source.as_bytes()));
        let claimed = header_crc().expect(
            "assets/snippet.min.js must start with a `/*! ... crc32c=XXXXXXXX ... */` line; \
             run scripts/minify-snippet.sh",
        );
        assert_eq!(
            claimed, expected,
            "assets/snippet.min.js was not generated from the current assets/snippet.js; \
             run scripts/minify-snippet.sh"
        );
    }

    #[test]
    fn served_snippet_fits_the_budget() {
        assert!(
            SNIPPET.len() <= MAX_SERVED_BYTES,
            "assets/snippet.min.js is {} bytes, over the {MAX_SERVED_BYTES}-byte budget",
            SNIPPET.len()
        );
        // A real script, not the placeholder.
        assert!(SNIPPET.contains("dnid_sid") && SNIPPET.contains("pageviews"));
    }

    #[test]
    fn crc32c_is_the_castagnoli_checksum() {
        // The script that writes the header computes it with its own table.
        assert_eq!(crc32c::crc32c(b"123456789"), 0xe306_9283);
    }

    #[test]
    fn served_with_etag_and_revalidated() {
        let resp = serve(&HeaderMap::new());
        assert_eq!(resp.status(), StatusCode::OK);
        let tag = resp.headers()[header::ETAG].to_str().unwrap().to_string();
        assert_eq!(tag, etag());
        assert!(resp.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("application/javascript"));

        let mut h = HeaderMap::new();
        h.insert(header::IF_NONE_MATCH, tag.parse().unwrap());
        assert_eq!(serve(&h).status(), StatusCode::NOT_MODIFIED);
        h.insert(header::IF_NONE_MATCH, "\"other\"".parse().unwrap());
        assert_eq!(serve(&h).status(), StatusCode::OK);
    }
}
