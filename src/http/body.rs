//! Reading request bodies (bounded) and writing JSON responses.

use super::error::ApiError;
use super::Body;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{header, Request, Response, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Reads at most `limit` bytes of body; a larger one is refused with 413 before it is
/// read when it says its length, and as soon as it passes the limit otherwise.
pub async fn read_limited(req: Request<Incoming>, limit: usize) -> Result<Bytes, ApiError> {
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("request body is larger than {limit} bytes"),
        )
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    match Limited::new(req.into_body(), limit).collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(too_large()),
        Err(_) => Err(ApiError::bad_request(
            "body_unreadable",
            "the request body could not be read",
        )),
    }
}

/// Parses a JSON body into `T`, with errors that say what is wrong and where.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "malformed_json",
            "the request body is empty; a JSON object is expected",
        ));
    }
    serde_json::from_slice(bytes).map_err(|e| {
        use serde_json::error::Category;
        match e.classify() {
            Category::Syntax | Category::Eof | Category::Io => {
                ApiError::bad_request("malformed_json", format!("the body is not valid JSON: {e}"))
            }
            Category::Data => ApiError::bad_request("invalid_request", e.to_string()),
        }
    })
}

/// Reads and parses a JSON body in one step.
pub async fn json_body<T: DeserializeOwned>(
    req: Request<Incoming>,
    limit: usize,
) -> Result<T, ApiError> {
    parse_json(&read_limited(req, limit).await?)
}

/// A JSON response with `status`.
pub fn json_response<T: Serialize>(status: StatusCode, value: &T) -> Response<Body> {
    match serde_json::to_vec(value) {
        Ok(bytes) => Response::builder()
            .status(status)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(bytes)))
            .unwrap_or_else(|_| Response::new(Full::new(Bytes::new()))),
        Err(_) => {
            let mut r = Response::new(Full::new(Bytes::from_static(
                br#"{"error":{"code":"internal","message":"response could not be encoded"}}"#,
            )));
            *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            r
        }
    }
}

/// A response with no body.
pub fn empty(status: StatusCode) -> Response<Body> {
    let mut r = Response::new(Full::new(Bytes::new()));
    *r.status_mut() = status;
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct T {
        a: u64,
    }

    #[test]
    fn json_errors_are_classified() {
        assert_eq!(parse_json::<T>(b"").unwrap_err().code, "malformed_json");
        assert_eq!(
            parse_json::<T>(b"{\"a\":").unwrap_err().code,
            "malformed_json"
        );
        assert_eq!(
            parse_json::<T>(b"{\"a\":\"x\"}").unwrap_err().code,
            "invalid_request"
        );
        assert_eq!(
            parse_json::<T>(b"{\"a\":1,\"b\":2}").unwrap_err().code,
            "invalid_request"
        );
        assert_eq!(parse_json::<T>(b"{\"a\":1}").unwrap().a, 1);
    }
}
