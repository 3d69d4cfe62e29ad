//! Toxiproxy's proxy resource and its error body, as they travel on the wire.

use crate::Toxic;
use serde::{Deserialize, Serialize};

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
