//! Toxiproxy's proxy resource and its error body, as they travel on the wire,
//! and the rule for a proxy's listen address (the API's and scenario files').

use crate::Toxic;
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// A proxy as Toxiproxy's API shows it (`GET /proxies/{name}`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Proxy {
    pub name: String,
    /// The address it listens on; after a start with port 0, the real one.
    pub listen: String,
    pub upstream: String,
    pub enabled: bool,
    /// `http` on a proxy that understands HTTP/1.1 (the built-in server only;
    /// absent from the JSON of a plain TCP proxy, as in Toxiproxy).
    #[serde(default, skip_serializing_if = "Protocol::is_tcp")]
    pub protocol: Protocol,
    #[serde(default)]
    pub toxics: Vec<Toxic>,
}

/// What a proxy carries: plain TCP (Toxiproxy's only kind), or HTTP/1.1,
/// which also takes the per-request `http_*` toxics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    #[default]
    Tcp,
    Http,
}

impl Protocol {
    pub fn is_tcp(&self) -> bool {
        *self == Protocol::Tcp
    }
}

/// What creating a proxy sends (`POST /proxies`, one entry of `POST /populate`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewProxy {
    pub name: String,
    pub listen: String,
    pub upstream: String,
    pub enabled: bool,
    #[serde(default, skip_serializing_if = "Protocol::is_tcp")]
    pub protocol: Protocol,
}

impl NewProxy {
    /// An enabled proxy; `listen = "127.0.0.1:0"` lets the server pick a port.
    pub fn new(name: &str, listen: &str, upstream: &str) -> NewProxy {
        NewProxy {
            name: name.into(),
            listen: listen.into(),
            upstream: upstream.into(),
            enabled: true,
            protocol: Protocol::Tcp,
        }
    }

    /// The same proxy declared HTTP (`"protocol": "http"`), so it takes `http_*` toxics.
    pub fn http(self) -> NewProxy {
        NewProxy {
            protocol: Protocol::Http,
            ..self
        }
    }
}

/// How many requests an HTTP toxic has seen and how many it acted on
/// (`GET /proxies/{proxy}/toxics/{toxic}/requests`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpRequests {
    /// Requests that reached the toxic since it was added.
    pub requests: u64,
    /// Of those, the ones its toxicity draw hit (answered, delayed or reset).
    pub affected: u64,
}

/// The fields `POST /proxies/{name}` may change; absent fields keep their value.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProxyUpdate {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upstream: Option<String>,
}

/// Toxiproxy's error body: `{"error": "...", "status": 404}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
    pub status: u16,
}

/// Why a proxy's listen address was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ListenError {
    #[error("listen {0:?} is not a host and port, e.g. 127.0.0.1:0 (port 0 picks a free one)")]
    Malformed(String),
    #[error("listen {0:?} is not on this machine's loopback: a proxy listens on 127.0.0.1, [::1] or localhost only, so nothing beyond this machine can reach it")]
    NotLoopback(String),
}

/// The rule for a proxy's listen address, wherever it is given (the API's
/// `listen`, a scenario's `[[links]] listen`): a loopback IP address or
/// `localhost`, with a port; port 0 picks a free one. An empty address, or an
/// empty host (`:3310`), is 127.0.0.1 (where Go would take every interface).
/// `localhost` is 127.0.0.1, as Go resolves it to its first IPv4 address;
/// any other name is refused without being looked up.
pub fn check_listen(listen: &str) -> Result<SocketAddr, ListenError> {
    let text = if listen.is_empty() { ":0" } else { listen };
    let malformed = || ListenError::Malformed(listen.into());
    let addr = match text.parse::<SocketAddr>() {
        Ok(addr) => addr,
        Err(_) => {
            let (host, port) = text.rsplit_once(':').ok_or_else(malformed)?;
            let port: u16 = port.parse().map_err(|_| malformed())?;
            let ip = match host.trim_start_matches('[').trim_end_matches(']') {
                "" => IpAddr::V4(Ipv4Addr::LOCALHOST),
                h if h.eq_ignore_ascii_case("localhost") => IpAddr::V4(Ipv4Addr::LOCALHOST),
                h => match h.parse::<IpAddr>() {
                    Ok(ip) => ip,
                    Err(_) if h.contains(|c: char| c.is_whitespace() || c == ':') => {
                        return Err(malformed())
                    }
                    Err(_) => return Err(ListenError::NotLoopback(listen.into())),
                },
            };
            SocketAddr::new(ip, port)
        }
    };
    match addr.ip().is_loopback() {
        true => Ok(addr),
        false => Err(ListenError::NotLoopback(listen.into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_addresses_and_localhost_are_listen_addresses() {
        let ok = |s: &str| check_listen(s).unwrap().to_string();
        assert_eq!(ok("127.0.0.1:0"), "127.0.0.1:0");
        assert_eq!(ok("localhost:3310"), "127.0.0.1:3310");
        assert_eq!(ok("[::1]:5"), "[::1]:5");
        assert_eq!(ok("127.3.4.5:9"), "127.3.4.5:9");
        assert_eq!(ok(""), "127.0.0.1:0");
        assert_eq!(ok(":7"), "127.0.0.1:7");
    }

    #[test]
    fn every_other_address_is_refused_without_a_look_up() {
        for listen in [
            "0.0.0.0:0",
            "[::]:8474",
            "10.0.0.1:80",
            "proxy.example.invalid:80",
        ] {
            assert_eq!(
                check_listen(listen),
                Err(ListenError::NotLoopback(listen.into())),
                "{listen}"
            );
        }
        for listen in ["localhost", "127.0.0.1:http", "127.0.0.1:70000", "a b:1"] {
            assert_eq!(
                check_listen(listen),
                Err(ListenError::Malformed(listen.into())),
                "{listen}"
            );
        }
    }
}
