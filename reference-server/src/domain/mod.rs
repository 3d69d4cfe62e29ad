//! Domain values that parse, never merely validate: once a `Sku` or a `Quantity` exists it is valid,
//! so handlers and the store never check again. Parse failures are `FieldError`s naming the field.

mod ids;
mod money;
mod new_order;
mod order_type;
mod quantity;
mod sku;

pub(crate) use ids::{CustomerName, IdempotencyKey, OrderId, StoreId};
pub(crate) use money::Money;
pub(crate) use new_order::{parse_new_order, NewOrder};
pub(crate) use order_type::OrderType;
pub(crate) use quantity::Quantity;
pub(crate) use sku::Sku;

use serde::Serialize;
use serde_json::Value;

/// One bad input: `field` is a JSON path such as `items[0].quantity`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct FieldError {
    pub(crate) field: String,
    pub(crate) problem: String,
}

impl FieldError {
    pub(crate) fn new(field: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            problem: problem.into(),
        }
    }
}

/// Reads a JSON integer between `min` and `max`. A number with no fractional part (`2.0`, `1e2`)
/// counts as an integer, as it does in JSON Schema; each failure says what was wrong.
pub(crate) fn integer_in(value: Option<&Value>, min: i64, max: i64) -> Result<i64, String> {
    let out_of_range = |shown: &dyn std::fmt::Display| {
        format!("must be an integer between {min} and {max}, got {shown}")
    };
    let Some(value) = value else {
        return Err("is required".into());
    };
    let Some(number) = value.as_number() else {
        return Err(format!("must be an integer, got {}", kind(value)));
    };
    if let Some(n) = number.as_i64() {
        return if (min..=max).contains(&n) {
            Ok(n)
        } else {
            Err(out_of_range(&n))
        };
    }
    if number.is_u64() {
        return Err(out_of_range(number));
    }
    let f = number.as_f64().unwrap_or(f64::NAN);
    if f.fract() != 0.0 || !f.is_finite() {
        return Err(format!("must be an integer, got {number}"));
    }
    if f < min as f64 || f > max as f64 {
        return Err(out_of_range(number));
    }
    Ok(f as i64)
}

/// A JSON value's type, as named in error messages.
pub(crate) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Checks free text (a name, an address): 1 to `max` characters, not only blanks, no control
/// characters (which would reach a receipt printer or a terminal as they are).
pub(crate) fn check_text(value: &str, max: usize, what: &str) -> Result<(), String> {
    if value.trim().is_empty() {
        return Err(format!("{what} must not be blank"));
    }
    if value.chars().count() > max {
        return Err(format!("{what} must be at most {max} characters"));
    }
    if value.chars().any(char::is_control) {
        return Err(format!("{what} must not contain control characters"));
    }
    Ok(())
}

/// Checks a string against a length range and an allowed character set.
pub(crate) fn check_token(
    value: &str,
    max: usize,
    allowed: impl Fn(char) -> bool,
    what: &str,
) -> Result<(), String> {
    if value.is_empty() {
        return Err(format!("{what} must not be empty"));
    }
    if value.len() > max {
        return Err(format!("{what} must be at most {max} characters"));
    }
    if let Some(bad) = value.chars().find(|c| !allowed(*c)) {
        return Err(format!("{what} must not contain {bad:?}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::integer_in;

    #[test]
    fn integers_are_read_whole_in_range_and_each_failure_is_named() {
        assert_eq!(integer_in(Some(&json!(5)), 1, 99), Ok(5));
        assert_eq!(integer_in(Some(&json!(1.0)), 1, 99), Ok(1));
        assert!(integer_in(None, 1, 99).unwrap_err().contains("required"));
        assert!(integer_in(Some(&json!(1.5)), 1, 99)
            .unwrap_err()
            .contains("integer"));
        assert!(integer_in(Some(&json!("1")), 1, 99)
            .unwrap_err()
            .contains("a string"));
        let huge = integer_in(Some(&json!(9223372036854775808u64)), 1, 99).unwrap_err();
        assert!(
            huge.contains("between 1 and 99, got 9223372036854775808"),
            "{huge}"
        );
        let min = integer_in(Some(&json!(i64::MIN)), -10, 10).unwrap_err();
        assert!(min.contains("got -9223372036854775808"), "{min}");
        assert!(integer_in(Some(&json!(2e9)), -10, 10).is_err());
    }
}
