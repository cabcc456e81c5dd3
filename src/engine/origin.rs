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
///
/// Checked on every tracking request, so read by hand rather than with a URL parser
/// (a tenth of the cost): browsers send exactly `scheme://host[:port]` with the host
/// in ASCII (IDNA already applied); anything else — a path, user info, `null`, an IP
/// literal in brackets — is refused.
pub fn origin_allowed(origin: &str, host: &str) -> bool {
    let Some(rest) = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
    else {
        return false;
    };
    let (o, port_ok) = match rest.split_once(':') {
        None => (rest, true),
        Some((o, p)) => (
            o,
            (1..=5).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()),
        ),
    };
    let host_ok = !o.is_empty()
        && o.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    if !port_ok || !host_ok {
        return false;
    }
    let matches = |suffix: &str| {
        o.len() >= suffix.len() && o[o.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
    };
    o.len() == host.len() && o.eq_ignore_ascii_case(host)
        || matches(host) && o.as_bytes()[o.len() - host.len() - 1] == b'.'
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
        assert!(!origin_allowed("https://", &host));
        assert!(!origin_allowed("https://.shop.example.", &host));
        assert!(!origin_allowed("https://shop.example:", &host));
        assert!(!origin_allowed("https://shop.example:80a", &host));
        assert!(!origin_allowed("https://user@shop.example", &host));
        assert!(!origin_allowed("https://shop.example/path", &host));
        assert!(!origin_allowed("https://evil.example/.shop.example", &host));
        assert!(!origin_allowed("https://xn--shop.example", &host));
        assert!(!origin_allowed("ftp://shop.example", &host));
    }

    #[test]
    fn case_and_ports_do_not_matter() {
        let host = site_host("https://shop.example").unwrap();
        assert!(
            !origin_allowed("HTTPS://shop.example", &host),
            "browsers send it lowercase"
        );
        assert!(origin_allowed("https://Blog.SHOP.example:443", &host));
        assert!(origin_allowed("http://shop.example:65535", &host));
    }
}
