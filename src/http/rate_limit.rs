//! Per-client-IP rate limit on `POST /api/v1/tracking/sessions`, so one client cannot
//! drain a pool (or the server) by asking for sessions in a loop.

use super::error::ApiError;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use hyper::StatusCode;
use std::net::IpAddr;
use std::num::NonZeroU32;

pub struct SessionRateLimit {
    limiter: Option<DefaultKeyedRateLimiter<IpAddr>>,
    per_minute: u32,
}

impl SessionRateLimit {
    /// `per_minute` requests per client IP, in bursts of up to `burst`; 0 turns the
    /// limit off.
    pub fn new(per_minute: u32, burst: u32) -> Self {
        let limiter = NonZeroU32::new(per_minute).map(|rate| {
            let burst = NonZeroU32::new(burst).unwrap_or(rate);
            RateLimiter::keyed(Quota::per_minute(rate).allow_burst(burst))
        });
        SessionRateLimit {
            limiter,
            per_minute,
        }
    }

    /// 429 with `Retry-After` when `ip` is over its rate.
    pub fn check(&self, ip: IpAddr) -> Result<(), ApiError> {
        let Some(l) = &self.limiter else {
            return Ok(());
        };
        l.check_key(&ip).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!(
                    "too many new sessions from this address (limit {} per minute)",
                    self.per_minute
                ),
            )
            .retry_after(wait.as_secs().max(1))
        })
    }

    /// Forgets clients that are back under their rate, so memory stays bounded.
    pub fn forget_idle(&self) {
        if let Some(l) = &self.limiter {
            l.retain_recent();
            l.shrink_to_fit();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_over_its_burst_is_refused_with_retry_after_and_others_are_not() {
        let r = SessionRateLimit::new(60, 3);
        let a: IpAddr = "203.0.113.1".parse().unwrap();
        let b: IpAddr = "203.0.113.2".parse().unwrap();
        for _ in 0..3 {
            assert!(r.check(a).is_ok());
        }
        let e = r.check(a).unwrap_err();
        assert_eq!(e.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(e.code, "rate_limited");
        assert!(e.retry_after.is_some_and(|s| s >= 1));
        assert!(r.check(b).is_ok(), "another client is not limited");
    }

    #[test]
    fn zero_turns_the_limit_off() {
        let r = SessionRateLimit::new(0, 0);
        let a: IpAddr = "203.0.113.1".parse().unwrap();
        for _ in 0..1000 {
            assert!(r.check(a).is_ok());
        }
    }
}
