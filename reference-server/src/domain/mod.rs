//! Domain values that parse, never merely validate: once a `Sku` or a `Quantity` exists it is valid,
//! so handlers and the store never check again. Parse failures are `FieldError`s naming the field.

mod ids;
mod money;
mod new_order;
mod order_type;
mod quantity;
mod sku;

pub use ids::{CustomerName, IdempotencyKey, OrderId, StoreId};
pub use money::Money;
pub use new_order::{parse_new_order, NewOrder};
pub use order_type::OrderType;
pub use quantity::Quantity;
pub use sku::Sku;

use serde::Serialize;

/// One bad input: `field` is a JSON path such as `items[0].quantity`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub problem: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            problem: problem.into(),
        }
    }
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
