//! HTTP metrics: requests by route template, method and status, their latency, the
//! requests in flight and the ones refused.

use super::{HTTP_DURATION, HTTP_REJECTED, HTTP_REQUESTS, PROCESS};
use hyper::Method;
use metrics::SharedString;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// Why a request was refused before it was handled.
pub const OVERLOADED: &str = "overloaded";
pub const RATE_LIMITED: &str = "rate_limited";
pub const REJECT_REASONS: &[&str] = &[OVERLOADED, RATE_LIMITED];

/// The `route` label of requests that match no route.
pub const UNMATCHED: &str = "unmatched";

/// Counts one answered request. `route` is a route template, never a raw path.
pub fn request(route: &'static str, method: &Method, status: u16, elapsed: Duration) {
    let method = method_label(method);
    metrics::counter!(HTTP_REQUESTS, "route" => route, "method" => method, "status" => status_label(status))
        .increment(1);
    metrics::histogram!(HTTP_DURATION, "route" => route, "method" => method)
        .record(elapsed.as_secs_f64());
}

/// Counts a request refused for `reason` ([`OVERLOADED`], [`RATE_LIMITED`]).
pub fn rejected(reason: &'static str) {
    metrics::counter!(HTTP_REJECTED, "reason" => reason).increment(1);
}

/// Counts a request in flight for as long as it lives.
pub struct InFlight(());

impl InFlight {
    pub fn enter() -> Self {
        PROCESS.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        PROCESS.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Methods as labels: the standard ones, everything else `other` (bounded).
fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Status codes as labels, without allocating for the usual ones.
fn status_label(code: u16) -> SharedString {
    let s: &'static str = match code {
        200 => "200",
        201 => "201",
        204 => "204",
        304 => "304",
        400 => "400",
        401 => "401",
        403 => "403",
        404 => "404",
        405 => "405",
        409 => "409",
        413 => "413",
        415 => "415",
        429 => "429",
        500 => "500",
        501 => "501",
        502 => "502",
        503 => "503",
        504 => "504",
        other => return SharedString::from(other.to_string()),
    };
    SharedString::const_str(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_bounded() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::from_bytes(b"BREW").unwrap()), "other");
        assert_eq!(&*status_label(503), "503");
        assert_eq!(&*status_label(418), "418");
    }
}
