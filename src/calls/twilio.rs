//! Twilio: checking `X-Twilio-Signature`, and the TwiML dnid answers with.
//!
//! The signature is Twilio's documented scheme: HMAC-SHA1, keyed with the account's
//! auth token, over the full URL Twilio requested followed by every POST parameter as
//! `name` + `value`, sorted by name (then value); base64. Twilio is inconsistent about
//! the default port in that URL, so a signature over the URL with or without `:443` /
//! `:80` is accepted, as Twilio's own libraries do.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use subtle::ConstantTimeEq;

/// Twilio's signature of a request.
pub fn signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut mac = <Hmac<Sha1> as KeyInit>::new_from_slice(auth_token.as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(url.as_bytes());
    for (k, v) in sorted {
        mac.update(k.as_bytes());
        mac.update(v.as_bytes());
    }
    STANDARD.encode(mac.finalize().into_bytes())
}

/// Whether `presented` is Twilio's signature of this request (constant time).
pub fn verify(auth_token: &str, url: &str, params: &[(String, String)], presented: &str) -> bool {
    url_variants(url).iter().any(|u| {
        bool::from(
            signature(auth_token, u, params)
                .as_bytes()
                .ct_eq(presented.as_bytes()),
        )
    })
}

/// The URL as given, and with its scheme's default port added or removed.
fn url_variants(url: &str) -> Vec<String> {
    let mut out = vec![url.to_string()];
    if let Ok(u) = url::Url::parse(url) {
        // `Url` forgets a default port, so work on the text.
        if let (Some(host), Some(p)) = (u.host_str(), u.port_or_known_default()) {
            let with_port = format!("{host}:{p}");
            if url.contains(&with_port) {
                out.push(url.replacen(&with_port, host, 1));
            } else if u.port().is_none() {
                out.push(url.replacen(host, &with_port, 1));
            }
        }
    }
    out
}

/// Escapes text for XML content and attribute values.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// TwiML that forwards the call: `<Dial>` with the flow's ring timeout and recording,
/// reporting the outcome to `status_url`.
pub fn dial(forward_to: &str, ring_timeout_secs: u32, record: bool, status_url: &str) -> String {
    let record = if record {
        "record-from-answer"
    } else {
        "do-not-record"
    };
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><Response><Dial timeout="{ring_timeout_secs}" record="{record}" action="{action}" method="POST"><Number>{number}</Number></Dial></Response>"#,
        action = xml_escape(status_url),
        number = xml_escape(forward_to),
    )
}

/// TwiML for a number dnid does not know: a polite message, then hang up.
pub fn not_in_service() -> String {
    r#"<?xml version="1.0" encoding="UTF-8"?><Response><Say>We are sorry, the number you have called is not in service. Goodbye.</Say><Hangup/></Response>"#.to_string()
}

/// TwiML that ends the call (the answer to a status callback).
pub fn hang_up() -> String {
    r#"<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>"#.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn twilio_example() -> Vec<(String, String)> {
        [
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+14158675309"),
            ("Digits", "1234"),
            ("From", "+14158675309"),
            ("To", "+18005551212"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    /// Twilio's published example: token 12345, this URL and these parameters.
    #[test]
    fn twilios_published_example_signature_matches() {
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        assert_eq!(
            signature("12345", url, &twilio_example()),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        );
        assert!(verify(
            "12345",
            url,
            &twilio_example(),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
    }

    #[test]
    fn a_changed_parameter_url_or_token_fails() {
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        let good = "RSOYDt4T1cUTdK1PDd93/VVr8B8=";
        let mut params = twilio_example();
        params[4].1 = "+18005551213".into();
        assert!(!verify("12345", url, &params, good));
        assert!(!verify(
            "12345",
            "https://mycompany.com/myapp.php?foo=1&bar=3",
            &twilio_example(),
            good
        ));
        assert!(!verify("54321", url, &twilio_example(), good));
        assert!(!verify("12345", url, &twilio_example(), ""));
    }

    #[test]
    fn default_ports_are_accepted_either_way() {
        // Twilio's libraries' published values for the same request with ports.
        let with_443 = "https://mycompany.com:443/myapp.php?foo=1&bar=2";
        assert!(verify(
            "12345",
            with_443,
            &twilio_example(),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
        let plain = "https://mycompany.com/myapp.php?foo=1&bar=2";
        assert!(verify(
            "12345",
            plain,
            &twilio_example(),
            "kvajT1Ptam85bY51eRf/AJRuM3w="
        ));
    }

    #[test]
    fn twiml_is_escaped() {
        let t = dial("+15550001001", 20, true, "https://x.example/s?a=1&b=2");
        assert!(
            t.contains(r#"action="https://x.example/s?a=1&amp;b=2""#),
            "{t}"
        );
        assert!(t.contains(r#"timeout="20""#));
        assert!(t.contains(r#"record="record-from-answer""#));
        assert_eq!(
            xml_escape(r#"<a href="x">&'"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&apos;"
        );
    }
}
