//! A target's URL checked from its text alone: an http(s) URL with a host,
//! and whether that host is this machine's loopback. No name is resolved, so
//! the scenario, the plan and `--dry-run` can check URLs offline; the
//! backend's pre-flight (`crate::backend::remote`) connects later.

use std::net::{IpAddr, SocketAddr};

/// A URL refused before anything starts.
#[derive(Debug, thiserror::Error)]
pub(crate) enum UrlError {
    #[error(
        "{0:?} is not a URL: expected e.g. https://staging.example.com or http://127.0.0.1:8080"
    )]
    Bad(String),
    #[error("{url:?}: only http:// and https:// targets can be loaded, not {scheme}://")]
    Scheme { url: String, scheme: String },
}

/// Checks that `url` is an http(s) URL with a host; no name is resolved.
pub(crate) fn check_url(url: &str) -> Result<reqwest::Url, UrlError> {
    let parsed = reqwest::Url::parse(url).map_err(|_| UrlError::Bad(crate::redact::url(url)))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(UrlError::Scheme {
            url: crate::redact::url(url),
            scheme: parsed.scheme().to_string(),
        });
    }
    match parsed.host_str() {
        Some(h) if !h.is_empty() => Ok(parsed),
        _ => Err(UrlError::Bad(crate::redact::url(url))),
    }
}

/// Whether a URL's host is this machine's loopback, judged from its text alone.
pub(crate) fn is_loopback(url: &reqwest::Url) -> bool {
    let host = url.host_str().unwrap_or("");
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// A link's upstream that is not `host:port`.
#[derive(Debug, thiserror::Error)]
#[error("{0:?} is not a host and port, e.g. staging.example.com:443 or 127.0.0.1:8080")]
pub(crate) struct UpstreamError(String);

/// Checks a link's upstream: any `host:port`, on this machine or not (the
/// proxy forwards bytes, so TLS passes through it untouched). Not resolved.
pub(crate) fn check_upstream_addr(addr: &str) -> Result<(), UpstreamError> {
    let bad = || UpstreamError(addr.into());
    if addr.parse::<SocketAddr>().is_ok() {
        return Ok(());
    }
    let (host, port) = addr.rsplit_once(':').ok_or_else(bad)?;
    let host_ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    match (host_ok, port.parse::<u16>()) {
        (true, Ok(p)) if p > 0 => Ok(()),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_upstream_may_be_any_host_and_port() {
        assert!(check_upstream_addr("staging.example.invalid:443").is_ok());
        assert!(check_upstream_addr("127.0.0.1:8080").is_ok());
        assert!(check_upstream_addr("[::1]:8080").is_ok());
        assert!(check_upstream_addr("staging.example.invalid").is_err());
        assert!(check_upstream_addr("a b:80").is_err());
        assert!(check_upstream_addr("host:0").is_err());
    }
}
