//! HTTP metrics: requests by route template, method and status, their latency, the
//! requests in flight and the ones refused.
//!
//! On the hot path: the handles of each (route, method) and (route, method, status)
//! are registered once and kept, so counting a request is two atomic operations, not
//! a registry lookup with labels.

use super::{HTTP_DURATION, HTTP_REJECTED, HTTP_REQUESTS, PROCESS};
use crate::http::routes::ROUTES;
use hyper::Method;
use metrics::{Counter, Histogram, SharedString};
use std::sync::atomic::Ordering;
use std::sync::OnceLock;
use std::time::Duration;

/// Why a request was refused before it was handled.
pub const OVERLOADED: &str = "overloaded";
pub const RATE_LIMITED: &str = "rate_limited";
pub const REJECT_REASONS: &[&str] = &[OVERLOADED, RATE_LIMITED];

/// The `route` label of requests that match no route.
pub const UNMATCHED: &str = "unmatched";

/// Methods as labels: the standard ones, everything else `other` (bounded).
const METHODS: [&str; 8] = [
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "other",
];
/// Status codes with a cached counter; others are counted through the registry.
const STATUSES: [u16; 18] = [
    200, 201, 202, 204, 304, 400, 401, 403, 404, 405, 409, 413, 415, 429, 500, 501, 503, 504,
];

/// The handles of one route and method.
#[derive(Default)]
struct Cell {
    duration: OnceLock<Histogram>,
    by_status: [OnceLock<Counter>; STATUSES.len()],
}

fn cells() -> &'static [Cell] {
    static CELLS: OnceLock<Box<[Cell]>> = OnceLock::new();
    CELLS.get_or_init(|| {
        (0..(ROUTES.len() + 1) * METHODS.len())
            .map(|_| Cell::default())
            .collect()
    })
}

fn route_label(route: Option<usize>) -> &'static str {
    route
        .and_then(|i| ROUTES.get(i))
        .map_or(UNMATCHED, |r| r.path)
}

/// Counts one answered request. `route` is the index of its route in [`ROUTES`]
/// (`None`: no route matched): the label is the route template, never a raw path.
pub fn request(route: Option<usize>, method: &Method, status: u16, elapsed: Duration) {
    if !super::installed() {
        return;
    }
    let m = method_index(method);
    let r = route.filter(|&i| i < ROUTES.len()).unwrap_or(ROUTES.len());
    let cell = &cells()[r * METHODS.len() + m];
    let (route, method) = (route_label(route), METHODS[m]);
    let counter = match STATUSES.iter().position(|&s| s == status) {
        Some(i) => cell.by_status[i].get_or_init(|| {
            metrics::counter!(HTTP_REQUESTS, "route" => route, "method" => method, "status" => status_label(status))
        }),
        None => {
            metrics::counter!(HTTP_REQUESTS, "route" => route, "method" => method, "status" => status_label(status))
                .increment(1);
            return record_duration(cell, route, method, elapsed);
        }
    };
    counter.increment(1);
    record_duration(cell, route, method, elapsed);
}

fn record_duration(cell: &Cell, route: &'static str, method: &'static str, elapsed: Duration) {
    cell.duration
        .get_or_init(|| metrics::histogram!(HTTP_DURATION, "route" => route, "method" => method))
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

fn method_index(m: &Method) -> usize {
    match *m {
        Method::GET => 0,
        Method::POST => 1,
        Method::PUT => 2,
        Method::PATCH => 3,
        Method::DELETE => 4,
        Method::HEAD => 5,
        Method::OPTIONS => 6,
        _ => 7,
    }
}

/// Status codes as labels.
fn status_label(code: u16) -> SharedString {
    SharedString::from(code.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_bounded() {
        assert_eq!(METHODS[method_index(&Method::GET)], "GET");
        assert_eq!(
            METHODS[method_index(&Method::from_bytes(b"BREW").unwrap())],
            "other"
        );
        assert_eq!(route_label(None), UNMATCHED);
        assert_eq!(route_label(Some(usize::MAX)), UNMATCHED);
        assert_eq!(route_label(Some(0)), ROUTES[0].path);
        assert_eq!(&*status_label(418), "418");
    }
}
