//! Inventory per store: parsing an adjustments request and applying it. Adjustments are write
//! commands like any other, so under load the writer coalesces many of them (from many requests)
//! into one commit: `db_writes_total` grows much faster than `db_commits_total` in `/metrics`.

use std::sync::Arc;

use serde_json::Value;

use crate::{
    domain::{integer_in, FieldError, Sku, StoreId},
    metrics::Metrics,
    store::{self, inventory::StockItem, Store, StoreError},
};

/// Adjustments per request: enough for a delivery note, small enough to keep a commit short.
pub(crate) const MAX_ADJUSTMENTS: usize = 100;
/// Largest change of one item's stock in one adjustment.
pub(crate) const MAX_DELTA: i64 = 1_000_000_000;

/// Parses `{"adjustments":[{"sku":"latte","delta":-5}, ...]}`, naming every bad field.
pub(crate) fn parse_adjustments(body: &Value) -> Result<Vec<(Sku, i64)>, Vec<FieldError>> {
    let Some(list) = body.get("adjustments").and_then(Value::as_array) else {
        return Err(vec![FieldError::new(
            "adjustments",
            "is required and must be an array",
        )]);
    };
    if list.is_empty() || list.len() > MAX_ADJUSTMENTS {
        return Err(vec![FieldError::new(
            "adjustments",
            format!("must hold 1 to {MAX_ADJUSTMENTS} entries"),
        )]);
    }
    let mut errors = Vec::new();
    let mut parsed = Vec::with_capacity(list.len());
    for (i, entry) in list.iter().enumerate() {
        let sku = match entry.get("sku").and_then(Value::as_str).map(Sku::parse) {
            Some(Ok(s)) => Some(s),
            Some(Err(e)) => {
                errors.push(FieldError::new(format!("adjustments[{i}].sku"), e));
                None
            }
            None => {
                errors.push(FieldError::new(
                    format!("adjustments[{i}].sku"),
                    "is required and must be a string",
                ));
                None
            }
        };
        // A range check, not `abs()`: `i64::MIN.abs()` overflows.
        let delta = integer_in(entry.get("delta"), -MAX_DELTA, MAX_DELTA)
            .map_err(|e| errors.push(FieldError::new(format!("adjustments[{i}].delta"), e)))
            .ok();
        if let (Some(s), Some(d)) = (sku, delta) {
            parsed.push((s, d));
        }
    }
    if errors.is_empty() {
        Ok(parsed)
    } else {
        Err(errors)
    }
}

pub(crate) struct Inventory {
    store: Store,
    metrics: Arc<Metrics>,
}

impl Inventory {
    pub(crate) fn new(store: Store, metrics: Arc<Metrics>) -> Self {
        Self { store, metrics }
    }

    pub(crate) async fn read(&self, store_id: StoreId) -> Result<Vec<StockItem>, StoreError> {
        self.store
            .read(move |c| store::inventory::read(c, &store_id))
            .await
    }

    /// Applies all adjustments atomically; answers after the commit, so a following read sees them.
    pub(crate) async fn adjust(
        &self,
        store_id: StoreId,
        adjustments: Vec<(Sku, i64)>,
    ) -> Result<Vec<StockItem>, StoreError> {
        let n = adjustments.len() as u64;
        let items = self
            .store
            .write(move |c| store::inventory::adjust(c, &store_id, &adjustments))
            .await?;
        self.metrics.inventory_adjustments_total.increment(n);
        Ok(items)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn adjustments_parse_and_bad_entries_are_named() {
        let ok = parse_adjustments(&json!({"adjustments":[{"sku":"latte","delta":-5}]})).unwrap();
        assert_eq!(ok[0].1, -5);
        let err =
            parse_adjustments(&json!({"adjustments":[{"sku":"Latte","delta":1},{"sku":"tea"}]}))
                .unwrap_err();
        let fields: Vec<_> = err.into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["adjustments[0].sku", "adjustments[1].delta"]);
        assert!(parse_adjustments(&json!({"adjustments":[]})).is_err());
    }
}
