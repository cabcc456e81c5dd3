//! Phone numbers in E.164 form (design §2 rule 8).
//!
//! Operators paste numbers in every style (`(234) 567-8900`, `+44 20 7946 0958`,
//! `001 234 567 8900`). We normalise what is unambiguous and refuse the rest with a
//! message that says why, so a pool never holds a number that Twilio would not match.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A phone number in E.164: `+` then 8–15 digits, first digit not 0.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PhoneNumber(Box<str>);

/// Why a string is not a phone number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    #[error("phone number is empty")]
    Empty,
    #[error("phone number {0:?} contains characters other than digits, spaces, '+', '-', '.', '(' and ')'")]
    BadCharacter(String),
    #[error(
        "phone number {0:?} has {1} digits; E.164 allows 8 to 15 after the country code's '+'"
    )]
    BadLength(String, usize),
    #[error("phone number {0:?} is a national number that is not North American (10 digits); write it in E.164 form, e.g. +442079460958")]
    NotNormalisable(String),
    #[error("phone number {0:?} starts with 0 after '+'; country codes never start with 0")]
    LeadingZero(String),
}

impl PhoneNumber {
    /// Normalises a number typed by a person.
    ///
    /// Accepted: E.164 with any of the separators ` -.()` (and non-breaking spaces),
    /// the `00` international prefix, and North American national forms (10 digits, or
    /// 11 starting with `1`), which become `+1…`. Everything else is refused: guessing a
    /// country for other national forms would silently attribute calls to the wrong line.
    pub fn parse(input: &str) -> Result<Self, NumberError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(NumberError::Empty);
        }
        let mut digits = String::with_capacity(16);
        let mut plus = false;
        for (i, c) in trimmed.chars().enumerate() {
            match c {
                '0'..='9' => digits.push(c),
                '+' if i == 0 => plus = true,
                ' ' | '-' | '.' | '(' | ')' | '\u{a0}' | '\u{2013}' | '\u{2011}' => {}
                _ => return Err(NumberError::BadCharacter(clip(trimmed))),
            }
        }
        if !plus {
            if let Some(rest) = digits.strip_prefix("00") {
                digits = rest.to_string();
            } else if digits.len() == 10 && !digits.starts_with(['0', '1']) {
                digits.insert(0, '1');
            } else if !(digits.len() == 11 && digits.starts_with('1')) {
                return Err(NumberError::NotNormalisable(clip(trimmed)));
            }
        }
        if !(8..=15).contains(&digits.len()) {
            return Err(NumberError::BadLength(clip(trimmed), digits.len()));
        }
        if digits.starts_with('0') {
            return Err(NumberError::LeadingZero(clip(trimmed)));
        }
        digits.insert(0, '+');
        Ok(PhoneNumber(digits.into_boxed_str()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A human form for display: `+1 (234) 567-8900` for North America, E.164 otherwise.
    pub fn formatted(&self) -> String {
        let d = &self.0[1..];
        match d.strip_prefix('1') {
            Some(n) if n.len() == 10 => {
                format!("+1 ({}) {}-{}", &n[..3], &n[3..6], &n[6..])
            }
            _ => self.0.to_string(),
        }
    }
}

/// Error messages quote the input; clip it so a huge body cannot make a huge error.
fn clip(s: &str) -> String {
    s.chars().take(40).collect()
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for PhoneNumber {
    type Error = NumberError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        PhoneNumber::parse(&s)
    }
}

impl From<PhoneNumber> for String {
    fn from(n: PhoneNumber) -> String {
        n.0.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<String, NumberError> {
        PhoneNumber::parse(s).map(|n| n.to_string())
    }

    #[test]
    fn formatted_north_american_forms_normalise_to_e164() {
        for s in [
            "+1 234 567 8900",
            "(234) 567-8900",
            "234-567-8900",
            "234.567.8900",
            "2345678900",
            "+12345678900",
            "1-234-567-8900",
            "1 (234) 567-8900",
            "001 234 567 8900",
            "234\u{a0}567\u{2013}8900",
        ] {
            assert_eq!(p(s).as_deref(), Ok("+12345678900"), "{s}");
        }
    }

    #[test]
    fn international_e164_is_kept() {
        assert_eq!(p("+44 20 7946 0958").as_deref(), Ok("+442079460958"));
        assert_eq!(p("0044 20 7946 0958").as_deref(), Ok("+442079460958"));
    }

    #[test]
    fn bad_numbers_are_refused_with_a_reason() {
        assert_eq!(p(""), Err(NumberError::Empty));
        assert!(matches!(p("call me"), Err(NumberError::BadCharacter(_))));
        assert!(matches!(p("+1234"), Err(NumberError::BadLength(_, 4))));
        assert!(matches!(
            p("+1234567890123456"),
            Err(NumberError::BadLength(_, 16))
        ));
        assert!(matches!(
            p("020 7946 0958"),
            Err(NumberError::NotNormalisable(_))
        ));
        assert!(matches!(p("+0123456789"), Err(NumberError::LeadingZero(_))));
        assert!(matches!(
            p("12+34567890"),
            Err(NumberError::BadCharacter(_))
        ));
    }

    #[test]
    fn display_form_groups_north_american_numbers() {
        let n = PhoneNumber::parse("+12345678900").unwrap();
        assert_eq!(n.formatted(), "+1 (234) 567-8900");
        let uk = PhoneNumber::parse("+442079460958").unwrap();
        assert_eq!(uk.formatted(), "+442079460958");
    }

    #[test]
    fn serde_refuses_invalid_numbers() {
        assert!(serde_json::from_str::<PhoneNumber>("\"nope\"").is_err());
        let n: PhoneNumber = serde_json::from_str("\"(234) 567-8900\"").unwrap();
        assert_eq!(n.as_str(), "+12345678900");
    }
}
