//! `NewOrder`: the body of `POST /orders`, parsed whole so that one answer names every bad field.

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{CustomerName, FieldError, OrderType, Quantity, Sku, StoreId};

/// An order line count above this is refused: a coffee order, not a wholesale one.
pub const MAX_LINES: usize = 50;

#[derive(Debug, Clone)]
pub struct NewOrder {
    pub store_id: StoreId,
    pub customer: CustomerName,
    pub order_type: OrderType,
    pub items: Vec<(Sku, Quantity)>,
    /// SHA-256 of the canonical body: an idempotent replay must carry the same request.
    pub fingerprint: String,
}

/// Parses the JSON body of `POST /orders`, collecting every problem instead of stopping at the first.
pub fn parse_new_order(body: &Value) -> Result<NewOrder, Vec<FieldError>> {
    let Some(object) = body.as_object() else {
        return Err(vec![FieldError::new("body", "must be a JSON object")]);
    };
    let mut errors = Vec::new();
    let store_id = match object.get("store_id").and_then(Value::as_str) {
        Some(s) => StoreId::parse(s)
            .map_err(|e| errors.push(FieldError::new("store_id", e)))
            .ok(),
        None => {
            errors.push(FieldError::new(
                "store_id",
                "is required and must be a string",
            ));
            None
        }
    };
    let customer = match object
        .get("customer")
        .and_then(|c| c.get("name"))
        .and_then(Value::as_str)
    {
        Some(n) => CustomerName::parse(n)
            .map_err(|e| errors.push(FieldError::new("customer.name", e)))
            .ok(),
        None => {
            errors.push(FieldError::new(
                "customer.name",
                "is required and must be a string",
            ));
            None
        }
    };
    let order_type = match object.get("order_type") {
        Some(v) => OrderType::parse(v, "order_type")
            .map_err(|e| errors.extend(e))
            .ok(),
        None => {
            errors.push(FieldError::new("order_type", "is required"));
            None
        }
    };
    let items = parse_items(object.get("items"), &mut errors);
    match (store_id, customer, order_type, items) {
        (Some(store_id), Some(customer), Some(order_type), Some(items)) if errors.is_empty() => {
            Ok(NewOrder {
                store_id,
                customer,
                order_type,
                items,
                fingerprint: fingerprint(body),
            })
        }
        _ => Err(errors),
    }
}

fn parse_items(
    value: Option<&Value>,
    errors: &mut Vec<FieldError>,
) -> Option<Vec<(Sku, Quantity)>> {
    let Some(lines) = value.and_then(Value::as_array) else {
        errors.push(FieldError::new("items", "is required and must be an array"));
        return None;
    };
    if lines.is_empty() || lines.len() > MAX_LINES {
        errors.push(FieldError::new(
            "items",
            format!("must hold 1 to {MAX_LINES} lines"),
        ));
        return None;
    }
    let before = errors.len();
    let mut items = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        let sku = match line.get("sku").and_then(Value::as_str) {
            Some(s) => Sku::parse(s)
                .map_err(|e| errors.push(FieldError::new(format!("items[{i}].sku"), e)))
                .ok(),
            None => {
                errors.push(FieldError::new(
                    format!("items[{i}].sku"),
                    "is required and must be a string",
                ));
                None
            }
        };
        let quantity = match line.get("quantity").and_then(Value::as_i64) {
            Some(q) => Quantity::parse(q)
                .map_err(|e| errors.push(FieldError::new(format!("items[{i}].quantity"), e)))
                .ok(),
            None => {
                errors.push(FieldError::new(
                    format!("items[{i}].quantity"),
                    "is required and must be an integer",
                ));
                None
            }
        };
        if let (Some(s), Some(q)) = (sku, quantity) {
            items.push((s, q));
        }
    }
    (errors.len() == before).then_some(items)
}

/// Hash of the body with object keys sorted, so key order and whitespace do not matter.
fn fingerprint(body: &Value) -> String {
    fn canonical(value: &Value, out: &mut String) {
        match value {
            Value::Object(map) => {
                let mut keys: Vec<_> = map.keys().collect();
                keys.sort();
                out.push('{');
                for key in keys {
                    out.push_str(&Value::String(key.clone()).to_string());
                    out.push(':');
                    canonical(&map[key], out);
                    out.push(',');
                }
                out.push('}');
            }
            Value::Array(items) => {
                out.push('[');
                for item in items {
                    canonical(item, out);
                    out.push(',');
                }
                out.push(']');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    let mut text = String::new();
    canonical(body, &mut text);
    hex::encode(Sha256::digest(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn valid() -> Value {
        json!({"store_id":"store-1","customer":{"name":"Ada"},"order_type":{"kind":"takeout"},
               "items":[{"sku":"latte","quantity":2}]})
    }

    #[test]
    fn a_valid_body_parses() {
        let order = parse_new_order(&valid()).unwrap();
        assert_eq!(order.items[0].0.as_str(), "latte");
        assert_eq!(order.items[0].1.get(), 2);
    }

    #[test]
    fn every_bad_field_is_named_at_once() {
        let body = json!({"store_id":"","customer":{},"order_type":{"kind":"dine_in"},
                          "items":[{"sku":"latte","quantity":0},{"quantity":1}]});
        let fields: Vec<_> = parse_new_order(&body)
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            [
                "store_id",
                "customer.name",
                "order_type.table",
                "items[0].quantity",
                "items[1].sku"
            ]
        );
    }

    #[test]
    fn the_fingerprint_ignores_key_order_but_not_content() {
        let a = parse_new_order(&valid()).unwrap().fingerprint;
        let reordered: Value = serde_json::from_str(
            r#"{"items":[{"quantity":2,"sku":"latte"}],"order_type":{"kind":"takeout"},"customer":{"name":"Ada"},"store_id":"store-1"}"#,
        )
        .unwrap();
        assert_eq!(parse_new_order(&reordered).unwrap().fingerprint, a);
        let mut other = valid();
        other["items"][0]["quantity"] = json!(3);
        assert_ne!(parse_new_order(&other).unwrap().fingerprint, a);
    }
}
