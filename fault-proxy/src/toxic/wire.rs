//! Toxiproxy's JSON form of a toxic: `{"attributes", "name", "type", "stream",
//! "toxicity"}` in that order, and the defaults Toxiproxy applies when reading one.

use super::{Stream, Toxic, ToxicKind};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

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
