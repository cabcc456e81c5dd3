//! A pool's settings and their limits.

use super::number::PhoneNumber;
use serde::{Deserialize, Serialize};

pub const DEFAULT_SESSION_TIMEOUT_SECS: u64 = 1800;
pub const MIN_SESSION_TIMEOUT_SECS: u64 = 60;
pub const MAX_SESSION_TIMEOUT_SECS: u64 = 86_400;
pub const DEFAULT_ATTRIBUTION_WINDOW_SECS: u64 = 3600;
pub const MAX_ATTRIBUTION_WINDOW_SECS: u64 = 7 * 86_400;

/// What to answer when no number is free (design §2 rule 6).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExhaustionPolicy {
    /// Show the pool's fallback number; no lease is made.
    #[default]
    Fallback,
    /// Take the lease with the oldest last activity and give it to the new session.
    RecycleOldest,
    /// Answer with no number; the page keeps what it shows.
    NoSwap,
}

impl ExhaustionPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            ExhaustionPolicy::Fallback => "fallback",
            ExhaustionPolicy::RecycleOldest => "recycle_oldest",
            ExhaustionPolicy::NoSwap => "no_swap",
        }
    }
}

/// Everything an operator sets on a pool.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolSettings {
    pub name: String,
    pub website_url: String,
    /// The number printed on the website, which the snippet replaces.
    pub target_number: PhoneNumber,
    /// Shown when the pool is exhausted under policy `fallback`; the target number
    /// when unset.
    pub fallback_number: Option<PhoneNumber>,
    pub call_flow_id: Option<String>,
    pub session_timeout_secs: u64,
    pub attribution_window_secs: u64,
    pub exhaustion_policy: ExhaustionPolicy,
}

/// A setting outside its allowed range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    #[error("session_timeout_secs must be between {MIN_SESSION_TIMEOUT_SECS} and {MAX_SESSION_TIMEOUT_SECS}, got {0}")]
    SessionTimeout(u64),
    #[error(
        "attribution_window_secs must be between 0 and {MAX_ATTRIBUTION_WINDOW_SECS}, got {0}"
    )]
    AttributionWindow(u64),
    #[error("name must be 1 to 200 characters")]
    Name,
    #[error("website_url must be an absolute http(s) URL")]
    WebsiteUrl,
}

impl SettingsError {
    /// The field the error is about, for forms that show errors next to fields.
    pub fn field(&self) -> &'static str {
        match self {
            SettingsError::SessionTimeout(_) => "session_timeout_secs",
            SettingsError::AttributionWindow(_) => "attribution_window_secs",
            SettingsError::Name => "name",
            SettingsError::WebsiteUrl => "website_url",
        }
    }
}

impl PoolSettings {
    /// Settings with the documented defaults.
    pub fn new(name: &str, website_url: &str, target_number: PhoneNumber) -> Self {
        PoolSettings {
            name: name.to_string(),
            website_url: website_url.to_string(),
            target_number,
            fallback_number: None,
            call_flow_id: None,
            session_timeout_secs: DEFAULT_SESSION_TIMEOUT_SECS,
            attribution_window_secs: DEFAULT_ATTRIBUTION_WINDOW_SECS,
            exhaustion_policy: ExhaustionPolicy::Fallback,
        }
    }

    pub fn validate(&self) -> Result<(), SettingsError> {
        let name_len = self.name.trim().chars().count();
        if name_len == 0 || name_len > 200 {
            return Err(SettingsError::Name);
        }
        match url::Url::parse(&self.website_url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {}
            _ => return Err(SettingsError::WebsiteUrl),
        }
        if !(MIN_SESSION_TIMEOUT_SECS..=MAX_SESSION_TIMEOUT_SECS)
            .contains(&self.session_timeout_secs)
        {
            return Err(SettingsError::SessionTimeout(self.session_timeout_secs));
        }
        if self.attribution_window_secs > MAX_ATTRIBUTION_WINDOW_SECS {
            return Err(SettingsError::AttributionWindow(
                self.attribution_window_secs,
            ));
        }
        Ok(())
    }

    /// The number to show when the pool is exhausted under policy `fallback`.
    pub fn fallback_or_target(&self) -> &PhoneNumber {
        self.fallback_number.as_ref().unwrap_or(&self.target_number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> PoolSettings {
        PoolSettings::new(
            "Shop",
            "https://shop.example",
            PhoneNumber::parse("+12345678900").unwrap(),
        )
    }

    #[test]
    fn defaults_are_valid() {
        let s = settings();
        assert_eq!(s.session_timeout_secs, 1800);
        assert_eq!(s.attribution_window_secs, 3600);
        assert_eq!(s.exhaustion_policy, ExhaustionPolicy::Fallback);
        assert_eq!(s.validate(), Ok(()));
    }

    #[test]
    fn session_timeout_must_be_within_60_to_86400() {
        for (t, ok) in [(59, false), (60, true), (86_400, true), (86_401, false)] {
            let mut s = settings();
            s.session_timeout_secs = t;
            assert_eq!(s.validate().is_ok(), ok, "{t}");
        }
    }

    #[test]
    fn name_and_website_are_checked() {
        let mut s = settings();
        s.name = "  ".into();
        assert_eq!(s.validate(), Err(SettingsError::Name));
        let mut s = settings();
        s.website_url = "ftp://x.example".into();
        assert_eq!(s.validate(), Err(SettingsError::WebsiteUrl));
        s.website_url = "shop.example".into();
        assert_eq!(s.validate(), Err(SettingsError::WebsiteUrl));
    }

    #[test]
    fn fallback_defaults_to_target() {
        let mut s = settings();
        assert_eq!(s.fallback_or_target().as_str(), "+12345678900");
        s.fallback_number = Some(PhoneNumber::parse("+18005550100").unwrap());
        assert_eq!(s.fallback_or_target().as_str(), "+18005550100");
    }
}
