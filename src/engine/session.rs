//! Visitor sessions: the opaque id the snippet keeps, and the attribution data that a
//! call inherits (design §3).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// 128 random bits, shown as 22 URL-safe base64 characters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SessionId(pub [u8; 16]);

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

/// What a call inherits from the web session that led to it (design §3).
///
/// Strings are `Box<str>` rather than `String`: a million live sessions each carry a
/// dozen of them, and the spare capacity of a `String` would be paid a dozen million
/// times (budget: ≤ 1 KiB per live session).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attribution {
    pub utm_source: Option<Box<str>>,
    pub utm_medium: Option<Box<str>>,
    pub utm_campaign: Option<Box<str>>,
    pub utm_term: Option<Box<str>>,
    pub utm_content: Option<Box<str>>,
    pub gclid: Option<Box<str>>,
    pub fbclid: Option<Box<str>>,
    pub msclkid: Option<Box<str>>,
    pub gbraid: Option<Box<str>>,
    pub wbraid: Option<Box<str>>,
    pub landing_page: Option<Box<str>>,
    pub referrer: Option<Box<str>>,
    pub ip: Option<Box<str>>,
    pub user_agent: Option<Box<str>>,
}

impl Attribution {
    /// Builds the attribution of a new session. The landing page's query string is the
    /// source of truth for UTM parameters and click ids; the first value wins when a
    /// parameter repeats. An unparsable URL is kept as text with no parameters.
    pub fn from_landing(
        page_url: &str,
        referrer: Option<&str>,
        ip: Option<&str>,
        user_agent: Option<&str>,
    ) -> Self {
        let mut a = Attribution {
            landing_page: non_empty(page_url),
            referrer: referrer.and_then(non_empty),
            ip: ip.and_then(non_empty),
            user_agent: user_agent.and_then(non_empty),
            ..Default::default()
        };
        if let Ok(url) = url::Url::parse(page_url) {
            for (k, v) in url.query_pairs() {
                let slot = match k.as_ref() {
                    "utm_source" => &mut a.utm_source,
                    "utm_medium" => &mut a.utm_medium,
                    "utm_campaign" => &mut a.utm_campaign,
                    "utm_term" => &mut a.utm_term,
                    "utm_content" => &mut a.utm_content,
                    "gclid" => &mut a.gclid,
                    "fbclid" => &mut a.fbclid,
                    "msclkid" => &mut a.msclkid,
                    "gbraid" => &mut a.gbraid,
                    "wbraid" => &mut a.wbraid,
                    _ => continue,
                };
                if slot.is_none() {
                    *slot = non_empty(&v);
                }
            }
        }
        a
    }

    /// Heap bytes held by this attribution (for the memory-per-session figure).
    pub fn heap_bytes(&self) -> usize {
        [
            &self.utm_source,
            &self.utm_medium,
            &self.utm_campaign,
            &self.utm_term,
            &self.utm_content,
            &self.gclid,
            &self.fbclid,
            &self.msclkid,
            &self.gbraid,
            &self.wbraid,
            &self.landing_page,
            &self.referrer,
            &self.ip,
            &self.user_agent,
        ]
        .iter()
        .map(|f| f.as_ref().map_or(0, |s| s.len()))
        .sum()
    }
}

fn non_empty(s: &str) -> Option<Box<str>> {
    (!s.is_empty()).then(|| s.into())
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
        assert_eq!(a.utm_source.as_deref(), Some("google"));
        assert_eq!(a.utm_medium.as_deref(), Some("cpc"));
        assert_eq!(a.utm_campaign.as_deref(), Some("spring sale"));
        assert_eq!(a.utm_term.as_deref(), Some("red shoes"));
        assert_eq!(a.utm_content.as_deref(), Some("ad1"));
        assert_eq!(a.gclid.as_deref(), Some("abc"));
        assert_eq!(a.fbclid.as_deref(), Some("f"));
        assert_eq!(a.msclkid.as_deref(), Some("m"));
        assert_eq!(a.gbraid.as_deref(), Some("g"));
        assert_eq!(a.wbraid.as_deref(), Some("w"));
        assert_eq!(a.referrer.as_deref(), Some("https://www.google.com/"));
        assert_eq!(a.ip.as_deref(), Some("203.0.113.9"));
    }

    #[test]
    fn unparsable_landing_page_is_kept_without_parameters() {
        let a = Attribution::from_landing("not a url?utm_source=x", None, None, None);
        assert_eq!(a.landing_page.as_deref(), Some("not a url?utm_source=x"));
        assert_eq!(a.utm_source, None);
        assert_eq!(a.referrer, None);
    }
}
