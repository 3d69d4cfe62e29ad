//! A target given by URL: any `http://` or `https://` URL, on this machine or
//! not. Parsing never resolves a name (so `--dry-run` stays offline); the
//! pre-flight check, run just before the load, resolves the host once,
//! connects, and for `https` completes a TLS handshake with the run's own
//! configuration, so a wrong address or a certificate problem stops the run
//! before any load with a message naming the host and the reason.

pub(crate) use crate::scenario::url::{check_url, is_loopback};

use super::tls::{HandshakeError, Tls, Verification};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::time::Duration;

/// How long the pre-flight check waits for the name, the connection and the
/// handshake together: a healthy service answers in well under a second.
const PREFLIGHT_TIMEOUT: Duration = Duration::from_secs(5);

/// How the run reached its target, as summary.json and the report record it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Connection {
    /// The target's URL (any password in it shown as `***`), or the bundled server's.
    pub(crate) url: String,
    /// The target is not on this machine's loopback.
    pub(crate) remote: bool,
    /// The addresses its name resolved to when the run started.
    pub(crate) resolved: Vec<String>,
    /// `none` (plain http), or how the certificate was checked.
    pub(crate) tls: String,
    /// `HTTP/1.1` or `HTTP/2`, as negotiated in the pre-flight handshake.
    pub(crate) protocol: String,
}

impl Connection {
    /// The bundled server: plain HTTP/1.1 on loopback.
    pub(crate) fn bundled(url: &str) -> Connection {
        Connection {
            url: url.to_string(),
            remote: false,
            resolved: Vec::new(),
            tls: "none".into(),
            protocol: "HTTP/1.1".into(),
        }
    }
}

/// The pre-flight check: resolve, connect, and (https) shake hands.
pub(crate) async fn preflight(url: &reqwest::Url, tls: &Tls) -> anyhow::Result<Connection> {
    let host = url.host_str().unwrap_or("").to_string();
    let port = url.port_or_known_default().unwrap_or(80);
    let shown = crate::redact::url(url.as_str());
    let lookup = tokio::net::lookup_host((host.trim_matches(['[', ']']), port));
    let addrs: Vec<SocketAddr> = match tokio::time::timeout(PREFLIGHT_TIMEOUT, lookup).await {
        Ok(Ok(a)) => a.collect(),
        Ok(Err(e)) => anyhow::bail!("{host}: the name does not resolve ({e})"),
        Err(_) => anyhow::bail!(
            "{host}: the name did not resolve within {} s",
            PREFLIGHT_TIMEOUT.as_secs()
        ),
    };
    let Some(&addr) = addrs.first() else {
        anyhow::bail!("{host}: the name resolves to no address");
    };
    let protocol = if url.scheme() == "https" {
        tls.handshake(host.trim_matches(['[', ']']), addr, PREFLIGHT_TIMEOUT)
            .await
            .map_err(|e| handshake_error(&host, port, e))?
    } else {
        let connect = tokio::net::TcpStream::connect(addr);
        match tokio::time::timeout(PREFLIGHT_TIMEOUT, connect).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                anyhow::bail!("nothing answers at {shown} ({e}); is the backend running?")
            }
            Err(_) => anyhow::bail!(
                "{shown} did not accept a connection within {} s",
                PREFLIGHT_TIMEOUT.as_secs()
            ),
        }
        "HTTP/1.1"
    };
    Ok(Connection {
        url: shown,
        remote: !is_loopback(url),
        resolved: addrs.iter().map(|a| a.ip().to_string()).collect(),
        tls: match url.scheme() {
            "https" => tls.verification.to_string(),
            _ => "none".into(),
        },
        protocol: protocol.to_string(),
    })
}

fn handshake_error(host: &str, port: u16, e: HandshakeError) -> anyhow::Error {
    anyhow::anyhow!("TLS check of {host}:{port} failed: {e}")
}

/// The line announcing a target that is not on this machine.
pub(crate) fn announcement(c: &Connection) -> String {
    let mut line = format!("loading {} (resolved to {})", c.url, c.resolved.join(", "));
    if c.url.starts_with("https") {
        line.push_str(&format!(", {} over TLS, certificate {}", c.protocol, c.tls));
    }
    line
}

/// The warning `--insecure` prints (and the report records).
pub(crate) fn insecure_warning(v: &Verification) -> Option<&'static str> {
    (*v == Verification::Off).then_some(
        "warning: --insecure: the target's TLS certificate is NOT verified; \
         the figures may come from a server that is not the one you meant",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_http_or_https_url_is_a_target_and_loopback_is_told_apart() {
        let remote = check_url("https://staging.example.invalid/api").unwrap();
        assert!(!is_loopback(&remote));
        assert!(is_loopback(&check_url("http://127.0.0.1:8080").unwrap()));
        assert!(is_loopback(&check_url("https://localhost:8443").unwrap()));
        assert!(is_loopback(&check_url("http://[::1]:80").unwrap()));
        assert!(!is_loopback(&check_url("http://10.0.0.1").unwrap()));
        let e = check_url("ftp://files.example.invalid")
            .unwrap_err()
            .to_string();
        assert!(e.contains("ftp://"), "{e}");
        assert!(check_url("not a url").is_err());
    }

    #[test]
    fn a_bad_url_error_never_shows_its_password() {
        let e = check_url("gopher://u:pw-4d2a91@h.example.invalid")
            .unwrap_err()
            .to_string();
        assert!(!e.contains("pw-4d2a91"), "{e}");
    }

    #[test]
    fn a_remote_target_is_announced_with_its_addresses_and_tls_mode() {
        let c = Connection {
            url: "https://staging.example.invalid".into(),
            remote: true,
            resolved: vec!["192.0.2.7".into(), "2001:db8::7".into()],
            tls: Verification::System.to_string(),
            protocol: "HTTP/2".into(),
        };
        assert_eq!(
            announcement(&c),
            "loading https://staging.example.invalid (resolved to 192.0.2.7, 2001:db8::7), \
             HTTP/2 over TLS, certificate verified (system trust store)"
        );
        assert!(insecure_warning(&Verification::Off).is_some());
        assert!(insecure_warning(&Verification::System).is_none());
    }
}
