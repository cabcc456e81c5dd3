//! What a call inherits from the web session that led to it (design §3), packed for a
//! million live sessions.
//!
//! Fourteen optional strings as fourteen `Option<Box<str>>` cost 224 bytes inline and
//! about seven heap blocks per session — each with its allocator header, each a cache
//! miss to copy, encode or decode. Here they are one `Box<str>` holding the present
//! values end to end and fourteen end offsets: 48 bytes inline and one heap block.
//! A field is absent when its range is empty (an empty value is never stored).
//!
//! On the wire (JSON and bincode) it is still the struct of fourteen optional strings,
//! in the order of [`Field::ALL`], so snapshots and WAL records written before keep
//! decoding.

use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// One attribution field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Field {
    UtmSource,
    UtmMedium,
    UtmCampaign,
    UtmTerm,
    UtmContent,
    Gclid,
    Fbclid,
    Msclkid,
    Gbraid,
    Wbraid,
    LandingPage,
    Referrer,
    Ip,
    UserAgent,
}

const FIELDS: usize = 14;

impl Field {
    /// Every field, in storage and wire order.
    pub const ALL: [Field; FIELDS] = [
        Field::UtmSource,
        Field::UtmMedium,
        Field::UtmCampaign,
        Field::UtmTerm,
        Field::UtmContent,
        Field::Gclid,
        Field::Fbclid,
        Field::Msclkid,
        Field::Gbraid,
        Field::Wbraid,
        Field::LandingPage,
        Field::Referrer,
        Field::Ip,
        Field::UserAgent,
    ];

    const NAMES: [&'static str; FIELDS] = [
        "utm_source",
        "utm_medium",
        "utm_campaign",
        "utm_term",
        "utm_content",
        "gclid",
        "fbclid",
        "msclkid",
        "gbraid",
        "wbraid",
        "landing_page",
        "referrer",
        "ip",
        "user_agent",
    ];

    /// The JSON key and CSV column.
    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }

    /// The query parameter of the landing page this field comes from, if any.
    fn from_query_key(key: &str) -> Option<Field> {
        Field::ALL[..=Field::Wbraid as usize]
            .iter()
            .copied()
            .find(|f| f.name() == key)
    }
}

/// The attribution of one session. Build it with [`Attribution::from_landing`] or
/// [`Attribution::from_fields`]; read it with [`Attribution::get`].
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Attribution {
    /// The present values, in field order, end to end.
    text: Box<str>,
    /// `ends[i]`: where field `i` ends in `text` (it starts where field `i - 1` ends).
    ends: [u16; FIELDS],
}

impl Attribution {
    /// Builds an attribution from values in any order; empty values are absent, a
    /// repeated field keeps its first value. The total is capped at 65,535 bytes (the
    /// HTTP layer's field limits keep real ones under 7 KB): a value that would pass it
    /// is cut at a character boundary.
    pub fn from_fields<'a>(fields: impl IntoIterator<Item = (Field, &'a str)>) -> Self {
        let mut values: [&str; FIELDS] = [""; FIELDS];
        for (f, v) in fields {
            if values[f as usize].is_empty() {
                values[f as usize] = v;
            }
        }
        pack(values)
    }

    /// Builds the attribution of a new session. The landing page's query string is the
    /// source of truth for UTM parameters and click ids (decoded as a browser's form
    /// encoding: `%XX` and `+`); the first value wins when a parameter repeats. A page
    /// URL that is not absolute (no `scheme:`) is kept as text with no parameters.
    ///
    /// Only the query is read, so the URL is not parsed whole: a full `Url::parse`
    /// (which also normalises and re-encodes the path and query) was a tenth of a new
    /// session's CPU in the load profile.
    pub fn from_landing(
        page_url: &str,
        referrer: Option<&str>,
        ip: Option<&str>,
        user_agent: Option<&str>,
    ) -> Self {
        let params: Vec<(Field, std::borrow::Cow<'_, str>)> = query_of(page_url)
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .filter_map(|(k, v)| Some((Field::from_query_key(&k)?, v)))
                    .collect()
            })
            .unwrap_or_default();
        let given = [
            (Field::LandingPage, Some(page_url)),
            (Field::Referrer, referrer),
            (Field::Ip, ip),
            (Field::UserAgent, user_agent),
        ];
        Attribution::from_fields(
            params
                .iter()
                .map(|(f, v)| (*f, v.as_ref()))
                .chain(given.into_iter().filter_map(|(f, v)| Some((f, v?)))),
        )
    }

    /// The value of `field`, if present.
    pub fn get(&self, field: Field) -> Option<&str> {
        let i = field as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        let end = self.ends[i] as usize;
        (end > start).then(|| self.text.get(start..end)).flatten()
    }

    /// Every field with its value, in field order.
    pub fn iter(&self) -> impl Iterator<Item = (Field, Option<&str>)> + '_ {
        Field::ALL.into_iter().map(|f| (f, self.get(f)))
    }

    /// Heap bytes held by this attribution (for the memory-per-session figure).
    pub fn heap_bytes(&self) -> usize {
        self.text.len()
    }
}

/// The query string of an absolute URL: after the first `?`, before the `#`.
fn query_of(url: &str) -> Option<&str> {
    let (scheme, _) = url.split_once(':')?;
    let mut chars = scheme.chars();
    let is_scheme = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !is_scheme {
        return None;
    }
    let before_fragment = url.split('#').next().unwrap_or_default();
    before_fragment.split_once('?').map(|(_, q)| q)
}

/// Packs the values (in field order, `""` for absent) with one allocation of the
/// exact size: growing a string field by field would reallocate several times per
/// session, and on the allocator that is most of the cost.
fn pack<S: AsRef<str>>(values: [S; FIELDS]) -> Attribution {
    let cap = usize::from(u16::MAX);
    let total = values
        .iter()
        .map(|v| v.as_ref().len())
        .sum::<usize>()
        .min(cap);
    let mut text = String::with_capacity(total);
    let mut ends = [0u16; FIELDS];
    for (end, v) in ends.iter_mut().zip(&values) {
        let v = v.as_ref();
        let mut cut = v.len().min(cap - text.len());
        while !v.is_char_boundary(cut) {
            cut -= 1;
        }
        text.push_str(&v[..cut]);
        // Cannot saturate: the text never passes u16::MAX bytes.
        *end = u16::try_from(text.len()).unwrap_or(u16::MAX);
    }
    Attribution {
        text: text.into_boxed_str(),
        ends,
    }
}

impl fmt::Debug for Attribution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.iter().filter_map(|(k, v)| Some((k.name(), v?))))
            .finish()
    }
}

impl Serialize for Attribution {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Attribution", FIELDS)?;
        for (f, v) in self.iter() {
            st.serialize_field(f.name(), &v)?;
        }
        st.end()
    }
}

impl<'de> Deserialize<'de> for Attribution {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_struct("Attribution", &Field::NAMES, AttributionVisitor)
    }
}

struct AttributionVisitor;

impl<'de> Visitor<'de> for AttributionVisitor {
    type Value = Attribution;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an attribution: fourteen optional strings")
    }

    /// bincode: the fields in order. Decoding from a slice lends each string (no
    /// copy), so a session costs one allocation, not one per field.
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Attribution, A::Error> {
        let mut values: [Text<'de>; FIELDS] = Default::default();
        for (i, v) in values.iter_mut().enumerate() {
            match seq.next_element::<Option<Text<'de>>>()? {
                Some(t) => *v = t.unwrap_or_default(),
                None => return Err(de::Error::invalid_length(i, &self)),
            }
        }
        Ok(pack(values))
    }

    /// JSON: any order, unknown keys ignored.
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Attribution, A::Error> {
        let mut values: [Option<String>; FIELDS] = Default::default();
        while let Some(key) = map.next_key::<String>()? {
            match Field::NAMES.iter().position(|n| *n == key) {
                Some(i) => values[i] = map.next_value()?,
                None => {
                    map.next_value::<de::IgnoredAny>()?;
                }
            }
        }
        Ok(pack(values.map(Option::unwrap_or_default)))
    }
}

/// A string lent by the input when it can be, copied when it cannot.
#[derive(Default)]
struct Text<'de>(std::borrow::Cow<'de, str>);

impl AsRef<str> for Text<'_> {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(TextVisitor)
    }
}

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Text<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Text<'de>, E> {
        Ok(Text(v.into()))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Text<'de>, E> {
        Ok(Text(v.to_owned().into()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Text<'de>, E> {
        Ok(Text(v.into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The layout before packing: what older snapshots and WAL records hold.
    #[derive(Serialize, Deserialize, Default, Debug, PartialEq)]
    struct Unpacked {
        utm_source: Option<Box<str>>,
        utm_medium: Option<Box<str>>,
        utm_campaign: Option<Box<str>>,
        utm_term: Option<Box<str>>,
        utm_content: Option<Box<str>>,
        gclid: Option<Box<str>>,
        fbclid: Option<Box<str>>,
        msclkid: Option<Box<str>>,
        gbraid: Option<Box<str>>,
        wbraid: Option<Box<str>>,
        landing_page: Option<Box<str>>,
        referrer: Option<Box<str>>,
        ip: Option<Box<str>>,
        user_agent: Option<Box<str>>,
    }

    fn sample() -> Attribution {
        Attribution::from_fields([
            (Field::UtmSource, "google"),
            (Field::Gclid, "abc"),
            (
                Field::LandingPage,
                "https://shop.example/?utm_source=google&gclid=abc",
            ),
            (Field::UserAgent, "Mozilla/5.0 (X11) — é"),
        ])
    }

    #[test]
    fn fields_read_back_and_absent_ones_are_none() {
        let a = sample();
        assert_eq!(a.get(Field::UtmSource), Some("google"));
        assert_eq!(a.get(Field::Gclid), Some("abc"));
        assert_eq!(a.get(Field::UserAgent), Some("Mozilla/5.0 (X11) — é"));
        assert_eq!(a.get(Field::UtmMedium), None);
        assert_eq!(a.get(Field::Ip), None);
        assert_eq!(
            Attribution::default()
                .iter()
                .filter(|(_, v)| v.is_some())
                .count(),
            0
        );
        // An empty value is absent, and the first of a repeated field wins.
        let b = Attribution::from_fields([
            (Field::Ip, ""),
            (Field::Referrer, "r"),
            (Field::Referrer, "s"),
        ]);
        assert_eq!(b.get(Field::Ip), None);
        assert_eq!(b.get(Field::Referrer), Some("r"));
    }

    #[test]
    fn encodes_exactly_like_the_unpacked_struct_in_json_and_bincode() {
        let a = sample();
        let u = Unpacked {
            utm_source: Some("google".into()),
            gclid: Some("abc".into()),
            landing_page: Some("https://shop.example/?utm_source=google&gclid=abc".into()),
            user_agent: Some("Mozilla/5.0 (X11) — é".into()),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(&a).unwrap(),
            serde_json::to_value(&u).unwrap()
        );
        let back: Attribution = serde_json::from_value(serde_json::to_value(&u).unwrap()).unwrap();
        assert_eq!(back, a);

        let c = bincode::config::standard();
        let bytes = bincode::serde::encode_to_vec(&a, c).unwrap();
        assert_eq!(bytes, bincode::serde::encode_to_vec(&u, c).unwrap());
        let (owned, _): (Attribution, usize) =
            bincode::serde::decode_from_slice(&bytes, c).unwrap();
        let (borrowed, _): (Attribution, usize) =
            bincode::serde::borrow_decode_from_slice(&bytes, c).unwrap();
        assert_eq!(owned, a);
        assert_eq!(borrowed, a);
    }

    #[test]
    fn a_truncated_encoding_is_an_error() {
        let c = bincode::config::standard();
        let bytes = bincode::serde::encode_to_vec(sample(), c).unwrap();
        for cut in 0..bytes.len() {
            let r: Result<(Attribution, usize), _> =
                bincode::serde::decode_from_slice(&bytes[..cut], c);
            assert!(r.is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn the_query_is_read_as_url_parse_would_read_it() {
        for url in [
            "https://shop.example/land?utm_source=google&utm_term=red+shoes&utm_campaign=spring%20sale#top",
            "https://shop.example/?utm_source=a%26b&gclid=x&utm_source=second",
            "http://shop.example/p?q=1&utm_medium=c%C3%A9&fbclid=&msclkid=m",
            "https://shop.example/p#frag?utm_source=not-in-the-query",
            "https://shop.example/p?utm_content=with space&wbraid=ü",
            "https://shop.example/no-query",
        ] {
            let parsed = url::Url::parse(url).unwrap();
            let want = Attribution::from_fields(
                parsed
                    .query_pairs()
                    .filter_map(|(k, v)| Some((Field::from_query_key(&k)?, v.into_owned())))
                    .collect::<Vec<_>>()
                    .iter()
                    .map(|(f, v)| (*f, v.as_str()))
                    .chain([(Field::LandingPage, url)]),
            );
            assert_eq!(Attribution::from_landing(url, None, None, None), want, "{url}");
        }
        let relative = Attribution::from_landing("/p?utm_source=x", None, None, None);
        assert_eq!(relative.get(Field::UtmSource), None);
        assert_eq!(relative.get(Field::LandingPage), Some("/p?utm_source=x"));
    }

    #[test]
    fn the_total_is_capped_at_a_character_boundary() {
        let long = "é".repeat(40_000); // 80,000 bytes
        let a =
            Attribution::from_fields([(Field::LandingPage, long.as_str()), (Field::Ip, "1.2.3.4")]);
        let kept = a.get(Field::LandingPage).unwrap();
        assert_eq!(kept.len(), 65_534);
        assert!(long.starts_with(kept));
        assert_eq!(a.get(Field::Ip), Some("1"), "cut to the one byte left");
    }
}
