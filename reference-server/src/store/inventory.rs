//! Inventory SQL. `on_hand` is stock free to sell; `reserved` is stock held by orders not yet ready.
//! An order moves quantity from `on_hand` to `reserved`; ready consumes it; expiry gives it back.

use rusqlite::{params, Connection};
use serde::Serialize;

use super::StoreError;
use crate::domain::{Sku, StoreId};

#[derive(Debug, Clone, Serialize)]
pub(crate) struct StockItem {
    pub(crate) sku: String,
    pub(crate) on_hand: i64,
    pub(crate) reserved: i64,
}

fn store_exists(conn: &Connection, store: &StoreId) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM stores WHERE id = ?1)")?
        .query_row(params![store.as_str()], |r| r.get(0))?)
}

pub(crate) fn read(conn: &Connection, store: &StoreId) -> Result<Vec<StockItem>, StoreError> {
    if !store_exists(conn, store)? {
        return Err(StoreError::NotFound("store"));
    }
    let mut statement = conn.prepare_cached(
        "SELECT i.sku, i.on_hand, i.reserved FROM inventory i JOIN menu_items m ON m.sku = i.sku
         WHERE i.store_id = ?1 ORDER BY m.position",
    )?;
    let items = statement
        .query_map(params![store.as_str()], |r| {
            Ok(StockItem {
                sku: r.get(0)?,
                on_hand: r.get(1)?,
                reserved: r.get(2)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(items)
}

/// Applies every adjustment or none: 404 unknown store, 422 unknown sku, 409 when stock would go
/// negative. Returns the adjusted items after the change.
pub(crate) fn adjust(
    conn: &Connection,
    store: &StoreId,
    adjustments: &[(Sku, i64)],
) -> Result<Vec<StockItem>, StoreError> {
    if !store_exists(conn, store)? {
        return Err(StoreError::NotFound("store"));
    }
    let mut update = conn.prepare_cached(
        "UPDATE inventory SET on_hand = on_hand + ?3 WHERE store_id = ?1 AND sku = ?2
         RETURNING on_hand, reserved",
    )?;
    let mut items = Vec::with_capacity(adjustments.len());
    for (i, (sku, delta)) in adjustments.iter().enumerate() {
        let row: Option<(i64, i64)> = update
            .query_row(params![store.as_str(), sku.as_str(), delta], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .map(Some)
            .or_else(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => Ok(None),
                e => Err(e),
            })?;
        let Some((on_hand, reserved)) = row else {
            return Err(StoreError::invalid(
                format!("adjustments[{i}].sku"),
                format!("unknown sku `{sku}`"),
            ));
        };
        if on_hand < 0 {
            return Err(StoreError::conflict(
                "insufficient_stock",
                format!("adjustments[{i}]: stock of `{sku}` would go negative ({on_hand})"),
            ));
        }
        items.push(StockItem {
            sku: sku.to_string(),
            on_hand,
            reserved,
        });
    }
    Ok(items)
}

/// Moves `quantity` of `sku` from on-hand to reserved; false when there is not enough stock.
pub(crate) fn reserve(
    conn: &Connection,
    store: &StoreId,
    sku: &Sku,
    quantity: i64,
) -> Result<bool, StoreError> {
    let changed = conn
        .prepare_cached(
            "UPDATE inventory SET on_hand = on_hand - ?3, reserved = reserved + ?3
             WHERE store_id = ?1 AND sku = ?2 AND on_hand >= ?3",
        )?
        .execute(params![store.as_str(), sku.as_str(), quantity])?;
    Ok(changed == 1)
}

/// Settles an order's reservations: `consume` when cooked, otherwise gives the stock back.
pub(crate) fn release_order(
    conn: &Connection,
    order_id: &str,
    consume: bool,
) -> Result<(), StoreError> {
    let back = if consume { 0 } else { 1 };
    conn.prepare_cached(
        "UPDATE inventory SET reserved = reserved - oi.quantity, on_hand = on_hand + ?2 * oi.quantity
         FROM (SELECT o.store_id, i.sku, SUM(i.quantity) AS quantity FROM order_items i
               JOIN orders o ON o.id = i.order_id WHERE i.order_id = ?1 GROUP BY i.sku) AS oi
         WHERE inventory.store_id = oi.store_id AND inventory.sku = oi.sku",
    )?
    .execute(params![order_id, back])?;
    Ok(())
}
