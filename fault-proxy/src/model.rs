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
    #[serde(default)]
    pub toxics: Vec<Toxic>,
}

/// What creating a proxy sends (`POST /proxies`, one entry of `POST /populate`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewProxy {
    pub name: String,
    pub listen: String,
    pub upstream: String,
    pub enabled: bool,
}

impl NewProxy {
    /// An enabled proxy; `listen = "127.0.0.1:0"` lets the server pick a port.
    pub fn new(name: &str, listen: &str, upstream: &str) -> NewProxy {
        NewProxy {
            name: name.into(),
            listen: listen.into(),
            upstream: upstream.into(),
            enabled: true,
        }
    }
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
