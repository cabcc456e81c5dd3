//! Facts about the client of a request: its IP address (through trusted proxies only)
//! and whether its User-Agent is a crawler.

use aho_corasick::AhoCorasick;
use hyper::HeaderMap;
use ipnet::IpNet;
use std::net::IpAddr;

/// The client's address: the socket peer, or — only when the peer is a trusted proxy —
/// the rightmost `X-Forwarded-For` entry that is not itself a trusted proxy. Entries
/// left of that could have been written by the client and are ignored.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let mut client = peer;
    for value in headers.get_all("x-forwarded-for").iter().rev() {
        let Ok(value) = value.to_str() else {
            return client;
        };
        for part in value.rsplit(',') {
            match part.trim().parse::<IpAddr>() {
                Ok(ip) if is_trusted(&ip) => client = ip,
                Ok(ip) => return ip,
                Err(_) => return client,
            }
        }
    }
    client
}

/// Case-insensitive User-Agent substring matcher for crawlers and headless tools.
pub struct BotMatcher(Option<AhoCorasick>);

impl BotMatcher {
    pub fn new(patterns: &[String]) -> Self {
        let patterns: Vec<&str> = patterns
            .iter()
            .map(|p| p.trim())
            .filter(|p| !p.is_empty())
            .collect();
        if patterns.is_empty() {
            return BotMatcher(None);
        }
        BotMatcher(
            AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(patterns)
                .ok(),
        )
    }

    pub fn is_bot(&self, user_agent: &str) -> bool {
        self.0.as_ref().is_some_and(|m| m.is_match(user_agent))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DEFAULT_BOTS;

    fn xff(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", v.parse().unwrap());
        h
    }

    #[test]
    fn forwarded_for_is_ignored_from_untrusted_peers() {
        let peer: IpAddr = "198.51.100.7".parse().unwrap();
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        assert_eq!(client_ip(peer, &xff("203.0.113.1"), &trusted), peer);
        assert_eq!(client_ip(peer, &HeaderMap::new(), &[]), peer);
    }

    #[test]
    fn forwarded_for_is_read_right_to_left_through_trusted_proxies() {
        let peer: IpAddr = "10.0.0.2".parse().unwrap();
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        // The client forged the first entry; the proxy appended the real one.
        let h = xff("1.2.3.4, 203.0.113.9, 10.0.0.5");
        assert_eq!(client_ip(peer, &h, &trusted).to_string(), "203.0.113.9");
        assert_eq!(client_ip(peer, &xff("garbage"), &trusted), peer);
        assert_eq!(client_ip(peer, &HeaderMap::new(), &trusted), peer);
    }

    #[test]
    fn known_crawlers_are_bots_and_browsers_are_not() {
        let m = BotMatcher::new(
            &DEFAULT_BOTS
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>(),
        );
        for ua in [
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
            "DuckDuckBot/1.1; (+http://duckduckgo.com/duckduckbot.html)",
            "Mozilla/5.0 (compatible; YandexBot/3.0)",
            "Mozilla/5.0 (compatible; Baiduspider/2.0)",
            "Mozilla/5.0 (compatible; AhrefsBot/7.0)",
            "Mozilla/5.0 (compatible; SemrushBot/7~bl)",
            "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0 Safari/537.36",
        ] {
            assert!(m.is_bot(ua), "{ua}");
        }
        for ua in [
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
            "curl/8.5.0",
        ] {
            assert!(!m.is_bot(ua), "{ua}");
        }
        assert!(!BotMatcher::new(&[]).is_bot("Googlebot"));
    }
}
