//! The toxic model: Toxiproxy's wire format (`name`, `type`, `stream`, `toxicity`,
//! `attributes`), strict validation for hand-written fault definitions, and a
//! one-line human description.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
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
        }
    }

    /// The attributes as a JSON object (Toxiproxy's `attributes`).
    pub fn attributes(&self) -> Value {
        serde_json::to_value(self).unwrap_or_else(|_| Value::Object(Map::new()))
    }

    /// Builds a kind the way Toxiproxy's server does: unknown attributes are
    /// ignored, missing ones are 0, a value of the wrong JSON type is an error
    /// (`Err` carries the attribute's name and what was wrong).
    pub fn from_wire(kind: &str, attributes: &Value) -> Result<Option<ToxicKind>, String> {
        let Some(spec) = spec(kind) else {
            return Ok(None);
        };
        let empty = Map::new();
        let map = match attributes {
            Value::Object(map) => map,
            Value::Null => &empty,
            other => return Err(format!("attributes must be an object, got {other}")),
        };
        let mut values = [0u64; 3];
        for (slot, name) in values.iter_mut().zip(spec.attributes) {
            if let Some(value) = map.get(*name) {
                *slot = wire_integer(value).ok_or_else(|| {
                    format!("attribute {name} must be a whole number, got {value}")
                })?;
            }
        }
        Ok(Some(build(kind, values)))
    }

    /// A copy with the attributes present in `patch` replaced (Toxiproxy's update).
    pub fn patched(&self, patch: &Value) -> Result<ToxicKind, String> {
        let mut merged = match self.attributes() {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        match patch {
            Value::Object(map) => merged.extend(map.clone()),
            Value::Null => {}
            other => return Err(format!("attributes must be an object, got {other}")),
        }
        ToxicKind::from_wire(self.type_name(), &Value::Object(merged))
            .map(|kind| kind.unwrap_or_else(|| self.clone()))
    }
}

/// Toxiproxy decodes attributes into Go `int64`s: negative values are accepted
/// there and behave as 0, so they are clamped here rather than refused.
fn wire_integer(value: &Value) -> Option<u64> {
    if let Some(n) = value.as_u64() {
        return Some(n);
    }
    value.as_i64().map(|n| n.max(0) as u64)
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

/// Why a hand-written toxic was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ToxicError {
    #[error("unknown toxic type `{kind}`; expected one of: {}", allowed_types())]
    UnknownType { kind: String },
    #[error("toxic `{kind}` has no attribute `{attribute}`; allowed: {}", allowed.join(", "))]
    UnknownAttribute {
        kind: String,
        attribute: String,
        allowed: Vec<&'static str>,
    },
    #[error("toxic `{kind}` needs attribute `{attribute}`")]
    MissingAttribute {
        kind: String,
        attribute: &'static str,
    },
    #[error("attribute `{attribute}` of toxic `{kind}` {problem}")]
    BadAttribute {
        kind: String,
        attribute: String,
        problem: String,
    },
    #[error("attributes of toxic `{kind}` must be a table of numbers, got {got}")]
    AttributesNotATable { kind: String, got: String },
    #[error("toxicity must be a number from 0 to 1, got {0}")]
    Toxicity(f32),
    #[error("a toxic needs a non-empty name")]
    EmptyName,
}

fn allowed_types() -> String {
    toxic_types().collect::<Vec<_>>().join(", ")
}

impl Toxic {
    /// Builds and validates a toxic from its parts (as a scenario file gives
    /// them): the type must be known, every attribute must belong to it and be
    /// a whole number ≥ 0, its main attribute must be present, and the slicer's
    /// `size_variation` must stay below `average_size`.
    pub fn from_parts(
        name: &str,
        kind: &str,
        stream: Stream,
        toxicity: f32,
        attributes: &Value,
    ) -> Result<Toxic, ToxicError> {
        if name.trim().is_empty() {
            return Err(ToxicError::EmptyName);
        }
        if !(0.0..=1.0).contains(&toxicity) || toxicity.is_nan() {
            return Err(ToxicError::Toxicity(toxicity));
        }
        let spec = spec(kind).ok_or_else(|| ToxicError::UnknownType { kind: kind.into() })?;
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
        if let Some(unknown) = map.keys().find(|k| !spec.attributes.contains(&k.as_str())) {
            return Err(ToxicError::UnknownAttribute {
                kind: kind.into(),
                attribute: unknown.clone(),
                allowed: spec.attributes.to_vec(),
            });
        }
        if let Some(missing) = spec.required.iter().find(|r| !map.contains_key(**r)) {
            return Err(ToxicError::MissingAttribute {
                kind: kind.into(),
                attribute: missing,
            });
        }
        let mut values = [0u64; 3];
        for (slot, attribute) in values.iter_mut().zip(spec.attributes) {
            let Some(value) = map.get(*attribute) else {
                continue;
            };
            *slot = strict_integer(value).ok_or_else(|| ToxicError::BadAttribute {
                kind: kind.into(),
                attribute: (*attribute).into(),
                problem: format!("must be a whole number ≥ 0, got {value}"),
            })?;
        }
        let built = build(kind, values);
        if let ToxicKind::Slicer {
            average_size,
            size_variation,
            ..
        } = built
        {
            if average_size == 0 {
                return Err(ToxicError::BadAttribute {
                    kind: kind.into(),
                    attribute: "average_size".into(),
                    problem: "must be at least 1 byte".into(),
                });
            }
            if size_variation >= average_size {
                return Err(ToxicError::BadAttribute {
                    kind: kind.into(),
                    attribute: "size_variation".into(),
                    problem: format!("must be smaller than average_size ({average_size})"),
                });
            }
        }
        Ok(Toxic {
            name: name.into(),
            kind: built,
            stream,
            toxicity,
        })
    }

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
        };
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

/// Hand-written values must be exact: TOML integers, or floats with no fraction.
fn strict_integer(value: &Value) -> Option<u64> {
    if let Some(n) = value.as_u64() {
        return Some(n);
    }
    let f = value.as_f64()?;
    (f >= 0.0 && f.fract() == 0.0 && f <= u64::MAX as f64).then_some(f as u64)
}

impl Serialize for Toxic {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Wire<'a> {
            attributes: &'a ToxicKind,
            name: &'a str,
            #[serde(rename = "type")]
            kind: &'static str,
            stream: Stream,
            toxicity: f32,
        }
        Wire {
            attributes: &self.kind,
            name: &self.name,
            kind: self.kind.type_name(),
            stream: self.stream,
            toxicity: self.toxicity,
        }
        .serialize(serializer)
    }
}

/// The body of a toxic as Toxiproxy accepts it: everything but `type` optional.
#[derive(Debug, Deserialize)]
pub(crate) struct WireToxic {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub stream: Option<String>,
    #[serde(default)]
    pub toxicity: Option<f32>,
    #[serde(default)]
    pub attributes: Value,
}

impl<'de> Deserialize<'de> for Toxic {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = WireToxic::deserialize(deserializer)?;
        let stream = match wire.stream.as_deref() {
            None | Some("") => Stream::Downstream,
            Some(s) => {
                Stream::parse(s).ok_or_else(|| D::Error::custom(format!("unknown stream `{s}`")))?
            }
        };
        let kind = ToxicKind::from_wire(&wire.kind, &wire.attributes)
            .map_err(D::Error::custom)?
            .ok_or_else(|| D::Error::custom(format!("unknown toxic type `{}`", wire.kind)))?;
        let name = wire
            .name
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| format!("{}_{}", kind.type_name(), stream.as_str()));
        Ok(Toxic {
            name,
            kind,
            stream,
            toxicity: wire.toxicity.unwrap_or(1.0),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_latency_toxic_serialises_in_toxiproxys_field_order() {
        let toxic = Toxic::from_parts(
            "slow",
            "latency",
            Stream::Downstream,
            1.0,
            &json!({"latency": 800, "jitter": 200}),
        )
        .unwrap();
        assert_eq!(
            serde_json::to_string(&toxic).unwrap(),
            r#"{"attributes":{"latency":800,"jitter":200},"name":"slow","type":"latency","stream":"downstream","toxicity":1.0}"#
        );
        assert_eq!(toxic.describe(), "latency 800 ms ± 200 ms downstream");
    }

    #[test]
    fn a_toxic_round_trips_through_json() {
        let toxic = Toxic::from_parts(
            "cut",
            "slicer",
            Stream::Upstream,
            0.5,
            &json!({"average_size": 64, "size_variation": 8, "delay": 10}),
        )
        .unwrap();
        let back: Toxic = serde_json::from_str(&serde_json::to_string(&toxic).unwrap()).unwrap();
        assert_eq!(back, toxic);
    }

    #[test]
    fn an_unknown_attribute_is_named_with_the_allowed_ones() {
        let err = Toxic::from_parts(
            "x",
            "latency",
            Stream::Downstream,
            1.0,
            &json!({"latncy": 5}),
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("latncy") && text.contains("latency, jitter"),
            "{text}"
        );
    }

    #[test]
    fn an_unknown_type_lists_the_known_ones() {
        let err = Toxic::from_parts("x", "lag", Stream::Downstream, 1.0, &json!({})).unwrap_err();
        assert!(err.to_string().contains("limit_data"), "{err}");
    }

    #[test]
    fn negative_fractional_and_missing_values_are_refused() {
        let neg = Toxic::from_parts(
            "x",
            "latency",
            Stream::Downstream,
            1.0,
            &json!({"latency": -1}),
        );
        assert!(matches!(neg, Err(ToxicError::BadAttribute { .. })));
        let frac = Toxic::from_parts(
            "x",
            "bandwidth",
            Stream::Downstream,
            1.0,
            &json!({"rate": 1.5}),
        );
        assert!(matches!(frac, Err(ToxicError::BadAttribute { .. })));
        let missing = Toxic::from_parts("x", "limit_data", Stream::Downstream, 1.0, &json!({}));
        assert!(matches!(
            missing,
            Err(ToxicError::MissingAttribute {
                attribute: "bytes",
                ..
            })
        ));
        let toxicity = Toxic::from_parts(
            "x",
            "timeout",
            Stream::Downstream,
            1.5,
            &json!({"timeout": 0}),
        );
        assert!(matches!(toxicity, Err(ToxicError::Toxicity(_))));
    }

    #[test]
    fn a_slicer_variation_must_stay_below_its_average() {
        let err = Toxic::from_parts(
            "x",
            "slicer",
            Stream::Downstream,
            1.0,
            &json!({"average_size": 10, "size_variation": 10}),
        )
        .unwrap_err();
        assert!(err.to_string().contains("size_variation"), "{err}");
    }

    #[test]
    fn the_wire_form_defaults_like_toxiproxy() {
        let toxic: Toxic = serde_json::from_value(
            json!({"type": "latency", "attributes": {"latency": 5, "other": 1}}),
        )
        .unwrap();
        assert_eq!(toxic.name, "latency_downstream");
        assert_eq!(toxic.stream, Stream::Downstream);
        assert_eq!(toxic.toxicity, 1.0);
        assert_eq!(
            toxic.kind,
            ToxicKind::Latency {
                latency: 5,
                jitter: 0
            }
        );
    }
}
