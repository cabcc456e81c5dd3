//! Visitor sessions: the opaque id the snippet keeps, and the attribution data that a
//! call inherits (design §3).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::str::FromStr;

pub use super::attribution::{Attribution, Field};

/// 128 random bits, shown as 22 URL-safe base64 characters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SessionId(pub [u8; 16]);

/// Hashes the first 64 bits only: they are already uniformly random (see
/// [`SessionMap`]). Equal ids hash equal, as `Eq` requires.
impl Hash for SessionId {
    fn hash<H: Hasher>(&self, state: &mut H) {
        let mut head = [0u8; 8];
        head.copy_from_slice(&self.0[..8]);
        state.write_u64(u64::from_le_bytes(head));
    }
}

/// A map keyed by session id, hashed by [`IdHasher`].
///
/// Every id in a pool's map was drawn by dnid from the CSPRNG — a client can look an
/// id up but never insert one of its choosing — so the id's own bits are a perfect
/// hash and no keyed hash (SipHash, ~20 ns per lookup) is needed against flooding.
pub type SessionMap<V> = HashMap<SessionId, V, BuildHasherDefault<IdHasher>>;

/// Passes a `u64` through; anything else is folded in (FNV-1a).
#[derive(Clone, Copy, Debug, Default)]
pub struct IdHasher(u64);

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 ^= v;
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

impl SessionId {
    /// A fresh id from the operating system's CSPRNG (via `rand`'s thread RNG, which is
    /// seeded from it). Ids must not be guessable: knowing one lets a client renew
    /// another visitor's lease.
    pub fn random() -> Self {
        SessionId(rand::random())
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; 22];
        let n = URL_SAFE_NO_PAD
            .encode_slice(self.0, &mut buf)
            .map_err(|_| fmt::Error)?;
        f.write_str(std::str::from_utf8(&buf[..n]).map_err(|_| fmt::Error)?)
    }
}

/// The session id in a request is not one dnid could have made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("session id must be 22 URL-safe base64 characters")]
pub struct BadSessionId;

impl FromStr for SessionId {
    type Err = BadSessionId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() != 22 {
            return Err(BadSessionId);
        }
        let mut out = [0u8; 16];
        match URL_SAFE_NO_PAD.decode_slice(s, &mut out) {
            Ok(16) => Ok(SessionId(out)),
            _ => Err(BadSessionId),
        }
    }
}

/// One visitor session as the pool keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub attribution: Attribution,
    /// Unix seconds of the first request.
    pub first_seen: u64,
    /// Unix seconds of the latest page view or heartbeat.
    pub last_seen: u64,
    pub pages_viewed: u32,
    /// The slot this session leases now, if any.
    pub slot: Option<u32>,
    /// The slot it leased last; rule 3 gives it back if it is free.
    pub last_slot: Option<u32>,
    /// When its last lease ended; `None` while it holds one.
    pub ended_at: Option<u64>,
}

impl Session {
    pub fn duration_secs(&self) -> u64 {
        self.last_seen.saturating_sub(self.first_seen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_ids_round_trip_and_are_url_safe() {
        for _ in 0..100 {
            let id = SessionId::random();
            let s = id.to_string();
            assert_eq!(s.len(), 22);
            assert!(s
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
            assert_eq!(s.parse::<SessionId>(), Ok(id));
        }
        assert_ne!(SessionId::random(), SessionId::random());
    }

    #[test]
    fn malformed_session_ids_are_refused() {
        assert!("".parse::<SessionId>().is_err());
        assert!("short".parse::<SessionId>().is_err());
        assert!("!!!!!!!!!!!!!!!!!!!!!!".parse::<SessionId>().is_err());
        assert!("AAAAAAAAAAAAAAAAAAAAAAAA".parse::<SessionId>().is_err());
    }

    #[test]
    fn landing_page_query_is_the_source_of_utm_and_click_ids() {
        let a = Attribution::from_landing(
            "https://shop.example/land?utm_source=google&utm_medium=cpc&utm_campaign=spring%20sale&utm_term=red+shoes&utm_content=ad1&gclid=abc&fbclid=f&msclkid=m&gbraid=g&wbraid=w&utm_source=other",
            Some("https://www.google.com/"),
            Some("203.0.113.9"),
            Some("Mozilla/5.0"),
        );
        assert_eq!(a.get(Field::UtmSource), Some("google"));
        assert_eq!(a.get(Field::UtmMedium), Some("cpc"));
        assert_eq!(a.get(Field::UtmCampaign), Some("spring sale"));
        assert_eq!(a.get(Field::UtmTerm), Some("red shoes"));
        assert_eq!(a.get(Field::UtmContent), Some("ad1"));
        assert_eq!(a.get(Field::Gclid), Some("abc"));
        assert_eq!(a.get(Field::Fbclid), Some("f"));
        assert_eq!(a.get(Field::Msclkid), Some("m"));
        assert_eq!(a.get(Field::Gbraid), Some("g"));
        assert_eq!(a.get(Field::Wbraid), Some("w"));
        assert_eq!(a.get(Field::Referrer), Some("https://www.google.com/"));
        assert_eq!(a.get(Field::Ip), Some("203.0.113.9"));
    }

    #[test]
    fn unparsable_landing_page_is_kept_without_parameters() {
        let a = Attribution::from_landing("not a url?utm_source=x", None, None, None);
        assert_eq!(a.get(Field::LandingPage), Some("not a url?utm_source=x"));
        assert_eq!(a.get(Field::UtmSource), None);
        assert_eq!(a.get(Field::Referrer), None);
    }
}
