//! Hand-written toxics (a scenario's faults): the rules of `rules`, and two
//! of their own, since a typo there is no client's habit to tolerate: every
//! attribute must belong to the type, and its main attribute must be given.

use super::rules::{self, ToxicError};
use super::{build, spec, Stream, Toxic};
use serde_json::{Map, Value};

impl Toxic {
    /// Builds and validates a toxic from its parts (as a scenario file gives
    /// them): the type must be known, every attribute must belong to it, its
    /// main attribute must be present, and the values follow `rules`.
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
        let toxicity = rules::toxicity(toxicity)?;
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
            *slot = rules::attribute(kind, attribute, map.get(*attribute).unwrap_or(&0.into()))?;
        }
        let built = build(kind, values);
        rules::kind(&built)?;
        Ok(Toxic {
            name: name.into(),
            kind: built,
            stream,
            toxicity,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
}
