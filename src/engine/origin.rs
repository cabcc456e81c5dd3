//! Which web origins may lease numbers from a pool: its website and that website's
//! subdomains. Without this, any other site could drain a pool from its own pages.

/// The host of a pool's website, lowercased, without a leading `www.`.
pub fn site_host(website_url: &str) -> Option<String> {
    let url = url::Url::parse(website_url).ok()?;
    let host = url.host_str()?.to_ascii_lowercase();
    Some(
        host.strip_prefix("www.")
            .map(str::to_string)
            .unwrap_or(host),
    )
}

/// Whether a browser `Origin` (`scheme://host[:port]`) belongs to the site `host`
/// (as returned by [`site_host`]) or one of its subdomains, over http or https.
pub fn origin_allowed(origin: &str, host: &str) -> bool {
    let Ok(url) = url::Url::parse(origin) else {
        return false;
    };
    if !matches!(url.scheme(), "http" | "https") {
        return false;
    }
    let Some(o) = url.host_str() else {
        return false;
    };
    let o = o.to_ascii_lowercase();
    o == host
        || o.strip_suffix(host)
            .is_some_and(|prefix| prefix.ends_with('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_site_and_its_subdomains_are_allowed() {
        let host = site_host("https://www.Shop.example/path").unwrap();
        assert_eq!(host, "shop.example");
        assert!(origin_allowed("https://shop.example", &host));
        assert!(origin_allowed("https://www.shop.example", &host));
        assert!(origin_allowed("http://blog.shop.example:8080", &host));
    }

    #[test]
    fn other_sites_are_refused() {
        let host = site_host("https://shop.example").unwrap();
        assert!(!origin_allowed("https://evilshop.example", &host));
        assert!(!origin_allowed("https://shop.example.evil.test", &host));
        assert!(!origin_allowed("null", &host));
        assert!(!origin_allowed("file:///shop.example", &host));
    }
}
