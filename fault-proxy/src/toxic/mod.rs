//! The toxic model: `Stream`, `ToxicKind` (a type with its attributes) and
//! `Toxic`, with a one-line human description. Its JSON form is in `wire`,
//! the rules every toxic follows in `rules`, hand-written toxics in `parts`.

mod parts;
mod rules;
mod wire;

pub(crate) use rules::toxicity as check_toxicity;
pub use rules::ToxicError;
pub(crate) use wire::WireToxic;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fmt;

/// Which direction of a proxied connection a toxic applies to.
///
/// `upstream` is client → server, `downstream` is server → client (Toxiproxy's
/// default, so a latency toxic slows the answers).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    Upstream,
    #[default]
    Downstream,
}

impl Stream {
    pub fn as_str(self) -> &'static str {
        match self {
            Stream::Upstream => "upstream",
            Stream::Downstream => "downstream",
        }
    }

    /// Parses `upstream` / `downstream` exactly as Toxiproxy accepts them.
    pub fn parse(text: &str) -> Option<Stream> {
        match text {
            "upstream" => Some(Stream::Upstream),
            "downstream" => Some(Stream::Downstream),
            _ => None,
        }
    }
}

impl fmt::Display for Stream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A toxic type with its attributes, in Toxiproxy's units (times in ms except
/// the slicer's `delay` in µs, rates in KB/s of 1000 bytes, sizes in bytes).
///
/// Serialises as the `attributes` object, fields in Toxiproxy's order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum ToxicKind {
    Latency {
        latency: u64,
        jitter: u64,
    },
    Bandwidth {
        rate: u64,
    },
    SlowClose {
        delay: u64,
    },
    Timeout {
        timeout: u64,
    },
    ResetPeer {
        timeout: u64,
    },
    Slicer {
        average_size: u64,
        size_variation: u64,
        delay: u64,
    },
    LimitData {
        bytes: u64,
    },
    /// Passes everything through unchanged (Toxiproxy's `noop`).
    Noop {},
    /// HTTP proxies only: answers a share (the toxicity) of requests with
    /// `status` without forwarding them; `retry_after` (s) > 0 adds a
    /// `Retry-After` header.
    HttpStatus {
        status: u64,
        retry_after: u64,
    },
    /// HTTP proxies only: holds a share of answers for `latency ± jitter` ms
    /// after their head arrived from the upstream, then passes them whole.
    HttpLatency {
        latency: u64,
        jitter: u64,
    },
    /// HTTP proxies only: passes a share of answers' heads and the first
    /// `bytes` bytes of their bodies, then resets the client's connection.
    HttpReset {
        bytes: u64,
    },
}

/// One toxic type's name and attribute names, as Toxiproxy spells them.
struct KindSpec {
    name: &'static str,
    attributes: &'static [&'static str],
    /// The attribute a hand-written fault must give (the others default to 0).
    required: &'static [&'static str],
}

const KINDS: &[KindSpec] = &[
    KindSpec {
        name: "latency",
        attributes: &["latency", "jitter"],
        required: &["latency"],
    },
    KindSpec {
        name: "bandwidth",
        attributes: &["rate"],
        required: &["rate"],
    },
    KindSpec {
        name: "slow_close",
        attributes: &["delay"],
        required: &["delay"],
    },
    KindSpec {
        name: "timeout",
        attributes: &["timeout"],
        required: &["timeout"],
    },
    KindSpec {
        name: "reset_peer",
        attributes: &["timeout"],
        required: &[],
    },
    KindSpec {
        name: "slicer",
        attributes: &["average_size", "size_variation", "delay"],
        required: &["average_size"],
    },
    KindSpec {
        name: "limit_data",
        attributes: &["bytes"],
        required: &["bytes"],
    },
    KindSpec {
        name: "noop",
        attributes: &[],
        required: &[],
    },
    KindSpec {
        name: "http_status",
        attributes: &["status", "retry_after"],
        required: &["status"],
    },
    KindSpec {
        name: "http_latency",
        attributes: &["latency", "jitter"],
        required: &["latency"],
    },
    KindSpec {
        name: "http_reset",
        attributes: &["bytes"],
        required: &[],
    },
];

fn spec(kind: &str) -> Option<&'static KindSpec> {
    KINDS.iter().find(|k| k.name == kind)
}

/// Every toxic type this crate implements, in Toxiproxy's spelling.
pub fn toxic_types() -> impl Iterator<Item = &'static str> {
    KINDS.iter().map(|k| k.name)
}

impl ToxicKind {
    /// Toxiproxy's `type` string.
    pub fn type_name(&self) -> &'static str {
        match self {
            ToxicKind::Latency { .. } => "latency",
            ToxicKind::Bandwidth { .. } => "bandwidth",
            ToxicKind::SlowClose { .. } => "slow_close",
            ToxicKind::Timeout { .. } => "timeout",
            ToxicKind::ResetPeer { .. } => "reset_peer",
            ToxicKind::Slicer { .. } => "slicer",
            ToxicKind::LimitData { .. } => "limit_data",
            ToxicKind::Noop {} => "noop",
            ToxicKind::HttpStatus { .. } => "http_status",
            ToxicKind::HttpLatency { .. } => "http_latency",
            ToxicKind::HttpReset { .. } => "http_reset",
        }
    }

    /// Acts per HTTP request and answer (needs a proxy declared `"protocol": "http"`).
    pub fn is_http(&self) -> bool {
        matches!(
            self,
            ToxicKind::HttpStatus { .. }
                | ToxicKind::HttpLatency { .. }
                | ToxicKind::HttpReset { .. }
        )
    }

    /// The attributes as a JSON object (Toxiproxy's `attributes`).
    pub fn attributes(&self) -> Value {
        serde_json::to_value(self).unwrap_or_else(|_| Value::Object(Map::new()))
    }

    /// Builds a kind from a JSON body, as Toxiproxy's server reads one:
    /// unknown attributes are ignored and missing ones are 0; the values
    /// follow `rules` (where Toxiproxy would store a latency of -100, say).
    /// `Ok(None)` for an unknown type.
    pub fn from_wire(kind: &str, attributes: &Value) -> Result<Option<ToxicKind>, ToxicError> {
        let Some(spec) = spec(kind) else {
            return Ok(None);
        };
        let empty = Map::new();
        let map = match attributes {
            Value::Object(map) => map,
            Value::Null => &empty,
            other => {
                return Err(ToxicError::AttributesNotATable {
                    kind: kind.into(),
                    got: other.to_string(),
                })
            }
        };
        let mut values = [0u64; 3];
        for (slot, name) in values.iter_mut().zip(spec.attributes) {
            *slot = rules::attribute(kind, name, map.get(*name).unwrap_or(&0.into()))?;
        }
        let built = build(kind, values);
        rules::kind(&built)?;
        Ok(Some(built))
    }

    /// A copy with the attributes present in `patch` replaced (Toxiproxy's update).
    pub fn patched(&self, patch: &Value) -> Result<ToxicKind, ToxicError> {
        let mut merged = match self.attributes() {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        match patch {
            Value::Object(map) => merged.extend(map.clone()),
            Value::Null => {}
            other => {
                return Err(ToxicError::AttributesNotATable {
                    kind: self.type_name().into(),
                    got: other.to_string(),
                })
            }
        }
        ToxicKind::from_wire(self.type_name(), &Value::Object(merged))
            .map(|kind| kind.unwrap_or_else(|| self.clone()))
    }
}

fn build(kind: &str, v: [u64; 3]) -> ToxicKind {
    match kind {
        "latency" => ToxicKind::Latency {
            latency: v[0],
            jitter: v[1],
        },
        "bandwidth" => ToxicKind::Bandwidth { rate: v[0] },
        "slow_close" => ToxicKind::SlowClose { delay: v[0] },
        "timeout" => ToxicKind::Timeout { timeout: v[0] },
        "reset_peer" => ToxicKind::ResetPeer { timeout: v[0] },
        "slicer" => ToxicKind::Slicer {
            average_size: v[0],
            size_variation: v[1],
            delay: v[2],
        },
        "noop" => ToxicKind::Noop {},
        "http_status" => ToxicKind::HttpStatus {
            status: v[0],
            retry_after: v[1],
        },
        "http_latency" => ToxicKind::HttpLatency {
            latency: v[0],
            jitter: v[1],
        },
        "http_reset" => ToxicKind::HttpReset { bytes: v[0] },
        _ => ToxicKind::LimitData { bytes: v[0] },
    }
}

/// A toxic on one proxy, as Toxiproxy's API shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct Toxic {
    pub name: String,
    pub kind: ToxicKind,
    pub stream: Stream,
    /// Probability (0..=1) that the toxic applies to a given connection.
    pub toxicity: f32,
}

impl Toxic {
    /// Toxiproxy's `type` string.
    pub fn type_name(&self) -> &'static str {
        self.kind.type_name()
    }

    /// One line for people: "latency 800 ms ± 200 ms downstream".
    pub fn describe(&self) -> String {
        let what = match &self.kind {
            ToxicKind::Latency { latency, jitter: 0 } => format!("latency {latency} ms"),
            ToxicKind::Latency { latency, jitter } => format!("latency {latency} ms ± {jitter} ms"),
            ToxicKind::Bandwidth { rate } => format!("bandwidth {rate} KB/s"),
            ToxicKind::SlowClose { delay } => format!("slow_close {delay} ms"),
            ToxicKind::Timeout { timeout: 0 } => "timeout (hold until removed)".to_string(),
            ToxicKind::Timeout { timeout } => format!("timeout {timeout} ms"),
            ToxicKind::ResetPeer { timeout: 0 } => "reset_peer".to_string(),
            ToxicKind::ResetPeer { timeout } => format!("reset_peer after {timeout} ms"),
            ToxicKind::Slicer {
                average_size,
                size_variation,
                delay,
            } => {
                format!("slicer {average_size} ± {size_variation} bytes every {delay} µs")
            }
            ToxicKind::LimitData { bytes } => format!("limit_data {bytes} bytes"),
            ToxicKind::Noop {} => "noop".to_string(),
            ToxicKind::HttpStatus {
                status,
                retry_after: 0,
            } => format!("http_status {status}"),
            ToxicKind::HttpStatus {
                status,
                retry_after,
            } => format!("http_status {status} (Retry-After {retry_after} s)"),
            ToxicKind::HttpLatency { latency, jitter: 0 } => format!("http_latency {latency} ms"),
            ToxicKind::HttpLatency { latency, jitter } => {
                format!("http_latency {latency} ms ± {jitter} ms")
            }
            ToxicKind::HttpReset { bytes } => format!("http_reset after {bytes} body bytes"),
        };
        if self.kind.is_http() {
            return if self.toxicity < 1.0 {
                format!("{what} ({:.0} % of requests)", self.toxicity * 100.0)
            } else {
                what
            };
        }
        if self.toxicity < 1.0 {
            format!(
                "{what} {} ({:.0} % of connections)",
                self.stream,
                self.toxicity * 100.0
            )
        } else {
            format!("{what} {}", self.stream)
        }
    }
}
