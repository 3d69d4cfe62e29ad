//! `NewOrder`: the body of `POST /orders`, parsed whole so that one answer names every bad field.

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{integer_in, CustomerName, FieldError, OrderType, Quantity, Sku, StoreId};

/// An order line count above this is refused: a coffee order, not a wholesale one.
pub(crate) const MAX_LINES: usize = 50;

#[derive(Debug, Clone)]
pub(crate) struct NewOrder {
    pub(crate) store_id: StoreId,
    pub(crate) customer: CustomerName,
    pub(crate) order_type: OrderType,
    pub(crate) items: Vec<(Sku, Quantity)>,
    /// SHA-256 of the parsed request: an idempotent replay must carry the same request.
    pub(crate) fingerprint: String,
}

/// Parses the JSON body of `POST /orders`, collecting every problem instead of stopping at the first.
pub(crate) fn parse_new_order(body: &Value) -> Result<NewOrder, Vec<FieldError>> {
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
            let fingerprint = fingerprint(&store_id, &customer, &order_type, &items);
            Ok(NewOrder {
                store_id,
                customer,
                order_type,
                items,
                fingerprint,
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
        let quantity = integer_in(line.get("quantity"), 1, Quantity::MAX)
            .and_then(Quantity::parse)
            .map_err(|e| errors.push(FieldError::new(format!("items[{i}].quantity"), e)))
            .ok();
        if let (Some(s), Some(q)) = (sku, quantity) {
            items.push((s, q));
        }
    }
    (errors.len() == before).then_some(items)
}

/// Hash of what the server takes from the request (store, name, order type, lines), so that key
/// order, whitespace and fields the server ignores do not make a replay look different.
fn fingerprint(
    store_id: &StoreId,
    customer: &CustomerName,
    order_type: &OrderType,
    items: &[(Sku, Quantity)],
) -> String {
    let mut hasher = Sha256::new();
    // Lengths before each variable part keep the encoding unambiguous.
    for part in [store_id.as_str(), customer.as_str()] {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part.as_bytes());
    }
    match order_type {
        OrderType::Takeout => hasher.update([0u8]),
        OrderType::DineIn { table } => {
            hasher.update([1u8]);
            hasher.update(table.to_le_bytes());
        }
        OrderType::Delivery { address } => {
            hasher.update([2u8]);
            hasher.update((address.len() as u64).to_le_bytes());
            hasher.update(address.as_bytes());
        }
    }
    for (sku, quantity) in items {
        hasher.update((sku.as_str().len() as u64).to_le_bytes());
        hasher.update(sku.as_str().as_bytes());
        hasher.update(quantity.get().to_le_bytes());
    }
    hex::encode(hasher.finalize())
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
        let mut dine_in = valid();
        dine_in["order_type"] = json!({"kind":"dine_in","table":1});
        assert_ne!(parse_new_order(&dine_in).unwrap().fingerprint, a);
    }
}
