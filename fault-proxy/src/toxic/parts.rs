//! Validation of hand-written toxics (a scenario's faults): strict where the
//! wire form is lenient, with errors that name the attribute and what is allowed.

use super::{build, spec, toxic_types, Stream, Toxic, ToxicKind};
use serde_json::{Map, Value};

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
        if let ToxicKind::HttpStatus { status, .. } = built {
            if !(100..=599).contains(&status) {
                return Err(ToxicError::BadAttribute {
                    kind: kind.into(),
                    attribute: "status".into(),
                    problem: format!("must be an HTTP status from 100 to 599, got {status}"),
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
}

/// Hand-written values must be exact: TOML integers, or floats with no fraction.
fn strict_integer(value: &Value) -> Option<u64> {
    if let Some(n) = value.as_u64() {
        return Some(n);
    }
    let f = value.as_f64()?;
    (f >= 0.0 && f.fract() == 0.0 && f <= u64::MAX as f64).then_some(f as u64)
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
