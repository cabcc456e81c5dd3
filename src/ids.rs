//! Ids the server makes: pool ids, and the public session token that names both the
//! pool and the session so a page view can be routed without a global index.

use crate::engine::SessionId;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Defines a server-made id: 64 random bits, shown as 16 lowercase hex digits.
macro_rules! hex_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub struct $name(pub u64);

        impl $name {
            pub fn random() -> Self {
                $name(rand::random::<u64>().max(1))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{:016x}", self.0)
            }
        }

        impl FromStr for $name {
            type Err = BadId;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                parse_hex_id(s).map($name)
            }
        }
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("ids are 16 lowercase hex digits")]
pub struct BadId;

fn parse_hex_id(s: &str) -> Result<u64, BadId> {
    if s.len() != 16 || !s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(BadId);
    }
    u64::from_str_radix(s, 16).map_err(|_| BadId)
}

hex_id!(
    /// A pool.
    PoolId
);
hex_id!(
    /// A call flow.
    CallFlowId
);
hex_id!(
    /// A call in the call log.
    CallId
);
hex_id!(
    /// A post-call webhook subscription.
    WebhookId
);
hex_id!(
    /// One webhook delivery (with its retries).
    DeliveryId
);

/// The session id a visitor's browser keeps: 128 random bits of session id followed by
/// the pool id, as 32 URL-safe base64 characters. Opaque to clients.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SessionToken {
    pub pool: PoolId,
    pub session: SessionId,
}

impl fmt::Display for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut raw = [0u8; 24];
        raw[..16].copy_from_slice(&self.session.0);
        raw[16..].copy_from_slice(&self.pool.0.to_be_bytes());
        let mut buf = [0u8; 32];
        let n = URL_SAFE_NO_PAD
            .encode_slice(raw, &mut buf)
            .map_err(|_| fmt::Error)?;
        f.write_str(std::str::from_utf8(&buf[..n]).map_err(|_| fmt::Error)?)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("session ids are 32 URL-safe base64 characters")]
pub struct BadSessionToken;

impl FromStr for SessionToken {
    type Err = BadSessionToken;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() != 32 {
            return Err(BadSessionToken);
        }
        let mut raw = [0u8; 24];
        match URL_SAFE_NO_PAD.decode_slice(s, &mut raw) {
            Ok(24) => {}
            _ => return Err(BadSessionToken),
        }
        let mut session = [0u8; 16];
        session.copy_from_slice(&raw[..16]);
        let mut pool = [0u8; 8];
        pool.copy_from_slice(&raw[16..]);
        Ok(SessionToken {
            pool: PoolId(u64::from_be_bytes(pool)),
            session: SessionId(session),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_ids_round_trip() {
        let id = PoolId::random();
        assert_eq!(id.to_string().parse::<PoolId>(), Ok(id));
        assert_eq!(PoolId(255).to_string(), "00000000000000ff");
        assert!("00000000000000FF".parse::<PoolId>().is_err());
        assert!("xyz".parse::<PoolId>().is_err());
        assert!("+000000000000000".parse::<PoolId>().is_err());
    }

    #[test]
    fn session_tokens_round_trip_and_name_their_pool() {
        let t = SessionToken {
            pool: PoolId::random(),
            session: SessionId::random(),
        };
        let s = t.to_string();
        assert_eq!(s.len(), 32);
        assert!(s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert_eq!(s.parse::<SessionToken>(), Ok(t));
        assert!("x".repeat(31).parse::<SessionToken>().is_err());
        assert!("!".repeat(32).parse::<SessionToken>().is_err());
    }
}
