//! The one set of rules every toxic follows, wherever it comes from (a body
//! sent to the built-in server's API, a fault in a scenario file): each
//! attribute a whole number within its range, the toxicity from 0 to 1, the
//! slicer's variation below its average. Its error, [`ToxicError`], names
//! the attribute and what is allowed.

use super::{toxic_types, ToxicKind};
use serde_json::Value;

/// Why a toxic was refused.
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
    #[error("attributes of toxic `{kind}` must be a table (an object) of numbers, got {got}")]
    AttributesNotATable { kind: String, got: String },
    #[error("toxicity must be a number from 0 to 1 (the share of connections or requests it applies to), got {0}")]
    Toxicity(f32),
    #[error("a toxic needs a non-empty name")]
    EmptyName,
}

fn allowed_types() -> String {
    toxic_types().collect::<Vec<_>>().join(", ")
}

/// A day in milliseconds: the longest time an attribute may give. A longer
/// fault is none a run can wait out, and the data plane adds these times to
/// the clock's present, which must not overflow.
const DAY_MS: u64 = 86_400_000;

/// The values an attribute may take, and its unit for the message.
struct Range {
    min: u64,
    max: u64,
    unit: &'static str,
}

fn range(kind: &str, attribute: &str) -> Range {
    let r = |min, max, unit| Range { min, max, unit };
    match (kind, attribute) {
        // The slicer's delay is in µs, as in Toxiproxy.
        ("slicer", "delay") => r(0, DAY_MS * 1000, "µs (a day at most)"),
        ("slicer", "average_size") => r(1, u64::MAX, "(bytes)"),
        ("slicer", "size_variation") => r(0, u64::MAX, "(bytes)"),
        ("bandwidth", "rate") => r(0, u64::MAX, "(KB/s)"),
        ("limit_data" | "http_reset", "bytes") => r(0, u64::MAX, "(bytes)"),
        ("http_status", "status") => r(100, 599, "(an HTTP status)"),
        ("http_status", "retry_after") => r(0, DAY_MS / 1000, "s (a day at most)"),
        // latency, jitter, timeout, slow_close's delay, reset_peer's timeout
        _ => r(0, DAY_MS, "ms (a day at most)"),
    }
}

/// One attribute's value: a whole number (a JSON or TOML integer, or a float
/// with no fraction) within the attribute's range.
pub(super) fn attribute(kind: &str, name: &str, value: &Value) -> Result<u64, ToxicError> {
    let range = range(kind, name);
    let whole = value.as_u64().or_else(|| {
        let f = value.as_f64()?;
        (f >= 0.0 && f.fract() == 0.0 && f <= u64::MAX as f64).then_some(f as u64)
    });
    match whole {
        Some(n) if (range.min..=range.max).contains(&n) => Ok(n),
        _ => {
            let bounds = match range.max {
                u64::MAX => format!("of at least {}", range.min),
                max => format!("from {} to {max}", range.min),
            };
            Err(ToxicError::BadAttribute {
                kind: kind.into(),
                attribute: name.into(),
                problem: format!(
                    "must be a whole number {bounds} {}, got {value}",
                    range.unit
                ),
            })
        }
    }
}

/// The rules that tie attributes together: the slicer's variation stays
/// below its average (Toxiproxy's own rule for it).
pub(super) fn kind(kind: &ToxicKind) -> Result<(), ToxicError> {
    if let ToxicKind::Slicer {
        average_size,
        size_variation,
        ..
    } = *kind
    {
        if size_variation >= average_size {
            return Err(ToxicError::BadAttribute {
                kind: "slicer".into(),
                attribute: "size_variation".into(),
                problem: format!("must be smaller than average_size ({average_size})"),
            });
        }
    }
    Ok(())
}

/// The share of connections (or requests) a toxic applies to.
pub(crate) fn toxicity(toxicity: f32) -> Result<f32, ToxicError> {
    match (0.0..=1.0).contains(&toxicity) {
        true => Ok(toxicity),
        false => Err(ToxicError::Toxicity(toxicity)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn times_are_whole_milliseconds_from_zero_to_a_day() {
        assert_eq!(attribute("latency", "latency", &json!(800)), Ok(800));
        assert_eq!(attribute("latency", "latency", &json!(5.0)), Ok(5));
        for bad in [json!(-100), json!(1.5), json!(DAY_MS + 1), json!("slow")] {
            let e = attribute("latency", "latency", &bad).unwrap_err();
            assert!(e.to_string().contains("from 0 to 86400000 ms"), "{e}");
        }
    }

    #[test]
    fn a_status_is_an_http_status_and_a_rate_has_no_ceiling() {
        assert!(attribute("http_status", "status", &json!(99)).is_err());
        assert_eq!(attribute("http_status", "status", &json!(503)), Ok(503));
        assert_eq!(
            attribute("bandwidth", "rate", &json!(u64::MAX)),
            Ok(u64::MAX)
        );
        let e = attribute("slicer", "average_size", &json!(0)).unwrap_err();
        assert!(e.to_string().contains("of at least 1 (bytes)"), "{e}");
    }

    #[test]
    fn toxicity_is_a_share_from_zero_to_one() {
        assert_eq!(toxicity(0.0), Ok(0.0));
        assert_eq!(toxicity(1.0), Ok(1.0));
        assert!(toxicity(1.5).is_err());
        assert!(toxicity(-0.1).is_err());
        assert!(toxicity(f32::NAN).is_err());
    }
}
