//! `OrderType`: takeout, dine in at a table, or delivery to an address.

use serde::Serialize;
use serde_json::Value;

use super::{check_text, integer_in, FieldError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum OrderType {
    Takeout,
    DineIn { table: u16 },
    Delivery { address: String },
}

impl OrderType {
    /// Tables are numbered 1 to 999.
    pub(crate) const MAX_TABLE: i64 = 999;
    /// Longest delivery address, in characters.
    pub(crate) const MAX_ADDRESS: usize = 200;

    /// Parses `{"kind": ...}` found at JSON path `at`; every problem names its field.
    pub(crate) fn parse(value: &Value, at: &str) -> Result<Self, Vec<FieldError>> {
        let Some(object) = value.as_object() else {
            return Err(vec![FieldError::new(at, "must be an object with a `kind`")]);
        };
        let field = |name: &str| format!("{at}.{name}");
        match object.get("kind").and_then(Value::as_str) {
            Some("takeout") => Ok(Self::Takeout),
            Some("dine_in") => match integer_in(object.get("table"), 1, Self::MAX_TABLE) {
                Ok(t) => Ok(Self::DineIn { table: t as u16 }),
                Err(e) => Err(vec![FieldError::new(
                    field("table"),
                    format!("{e} (a table number)"),
                )]),
            },
            Some("delivery") => match object.get("address").and_then(Value::as_str) {
                Some(a) => match check_text(a, Self::MAX_ADDRESS, "an address") {
                    Ok(()) => Ok(Self::Delivery {
                        address: a.trim().to_owned(),
                    }),
                    Err(e) => Err(vec![FieldError::new(field("address"), e)]),
                },
                None => Err(vec![FieldError::new(
                    field("address"),
                    "is required and must be a string",
                )]),
            },
            _ => Err(vec![FieldError::new(
                field("kind"),
                "must be one of takeout, dine_in, delivery",
            )]),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn each_kind_parses_with_its_own_field() {
        assert_eq!(
            OrderType::parse(&json!({"kind":"takeout"}), "t").unwrap(),
            OrderType::Takeout
        );
        assert_eq!(
            OrderType::parse(&json!({"kind":"dine_in","table":12}), "t").unwrap(),
            OrderType::DineIn { table: 12 }
        );
        assert_eq!(
            OrderType::parse(&json!({"kind":"delivery","address":" 1 Main St "}), "t").unwrap(),
            OrderType::Delivery {
                address: "1 Main St".into()
            }
        );
    }

    #[test]
    fn a_missing_table_or_unknown_kind_names_the_field() {
        let err = OrderType::parse(&json!({"kind":"dine_in"}), "order_type").unwrap_err();
        assert_eq!(err[0].field, "order_type.table");
        let err = OrderType::parse(
            &json!({"kind":"delivery","address":"x\u{0}\u{1b}[31mRED"}),
            "o",
        )
        .unwrap_err();
        assert_eq!(err[0].field, "o.address");
        assert!(err[0].problem.contains("control"), "{err:?}");
        let err = OrderType::parse(&json!({"kind":"drone"}), "order_type").unwrap_err();
        assert_eq!(err[0].field, "order_type.kind");
    }

    #[test]
    fn it_serializes_back_to_the_wire_shape() {
        let json = serde_json::to_value(OrderType::DineIn { table: 3 }).unwrap();
        assert_eq!(json, json!({"kind":"dine_in","table":3}));
    }
}
