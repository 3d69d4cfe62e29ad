//! Order SQL: creation (idempotency, prices, stock reservation, number), reading an order and its
//! history, and status changes with their history events.

use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{json, Value};

use super::{
    events::{self, StatusEvent},
    inventory, now_rfc3339, StoreError,
};
use crate::domain::{IdempotencyKey, Money, NewOrder, OrderId, Sku};

/// The answer to `POST /orders`, already serialized (it is stored as is, and sent as is).
pub(crate) struct Created {
    pub(crate) id: String,
    pub(crate) body: String,
    /// True for a replayed `Idempotency-Key`: the first answer again, nothing created.
    pub(crate) replay: bool,
}

/// Creates the order (or finds the first answer to a replayed key): checks the store, prices and
/// reserves every line, numbers it, and stores the answer that `POST /orders` sends.
pub(crate) fn create(
    conn: &Connection,
    order: &NewOrder,
    key: Option<&IdempotencyKey>,
    estimated_ready_at: &str,
) -> Result<Created, StoreError> {
    if let Some(key) = key {
        if let Some(previous) = replay(conn, order, key)? {
            return Ok(previous);
        }
    }
    let store_known: bool = conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM stores WHERE id = ?1)")?
        .query_row(params![order.store_id.as_str()], |r| r.get(0))?;
    if !store_known {
        return Err(StoreError::invalid(
            "store_id",
            format!("unknown store `{}`", order.store_id.as_str()),
        ));
    }
    let (lines, total) = price_and_reserve(conn, order)?;
    let seq: i64 = conn
        .prepare_cached(
            "UPDATE meta SET value = value + 1 WHERE key = 'order_seq' RETURNING value",
        )?
        .query_row([], |r| r.get(0))?;
    let id = OrderId::new();
    let created_at = now_rfc3339();
    let number = format!("ORD-{}-{seq:06}", created_at[..10].replace('-', ""));
    let body = json!({
        "id": id.as_str(), "number": number, "store_id": order.store_id.as_str(), "status": "received",
        "customer": {"name": order.customer.as_str()}, "order_type": order.order_type,
        "total_cents": total.cents(), "items": lines, "created_at": created_at,
        "processed_by": null, "estimated_ready_at": estimated_ready_at,
    })
    .to_string();
    conn.prepare_cached(
        "INSERT INTO orders (id, number, store_id, status, total_cents, idempotency_key, fingerprint, response, created_at, estimated_ready_at)
         VALUES (?1, ?2, ?3, 'received', ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        id.as_str(),
        number,
        order.store_id.as_str(),
        total.cents(),
        key.map(IdempotencyKey::as_str),
        order.fingerprint,
        body,
        created_at,
        estimated_ready_at
    ])?;
    let mut insert_item = conn
        .prepare_cached("INSERT INTO order_items (order_id, sku, quantity) VALUES (?1, ?2, ?3)")?;
    for (sku, quantity) in &order.items {
        insert_item.execute(params![id.as_str(), sku.as_str(), quantity.get()])?;
    }
    add_event(conn, id.as_str(), "received", "api", &created_at)?;
    Ok(Created {
        id: id.as_str().to_owned(),
        body,
        replay: false,
    })
}

/// The first answer to `key`, if it was used before with the same request; an error if it was
/// used with a different one.
fn replay(
    conn: &Connection,
    order: &NewOrder,
    key: &IdempotencyKey,
) -> Result<Option<Created>, StoreError> {
    let previous: Option<(String, String, String)> = conn
        .prepare_cached("SELECT id, fingerprint, response FROM orders WHERE idempotency_key = ?1")?
        .query_row(params![key.as_str()], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    let Some((id, fingerprint, response)) = previous else {
        return Ok(None);
    };
    if fingerprint != order.fingerprint {
        return Err(StoreError::invalid(
            "Idempotency-Key",
            "was already used with a different request body",
        ));
    }
    Ok(Some(Created {
        id,
        body: response,
        replay: true,
    }))
}

/// Prices every line at today's menu price and reserves its stock; the lines as answered and
/// the total. Any unknown, unavailable or out-of-stock item refuses the whole order.
fn price_and_reserve(
    conn: &Connection,
    order: &NewOrder,
) -> Result<(Vec<Value>, Money), StoreError> {
    let mut lines = Vec::with_capacity(order.items.len());
    let mut total = Money::ZERO;
    for (i, (sku, quantity)) in order.items.iter().enumerate() {
        let price = unit_price(conn, sku)?.ok_or_else(|| {
            StoreError::invalid(format!("items[{i}].sku"), format!("unknown sku `{sku}`"))
        })?;
        let Some(price) = price else {
            return Err(StoreError::conflict(
                "unavailable",
                format!("`{sku}` is not available today"),
            ));
        };
        if !inventory::reserve(conn, &order.store_id, sku, i64::from(quantity.get()))? {
            return Err(StoreError::conflict(
                "out_of_stock",
                format!("`{sku}` is out of stock at {}", order.store_id.as_str()),
            ));
        }
        let line_total = price.times(*quantity);
        total = total.plus(line_total);
        lines.push(json!({"sku": sku.as_str(), "quantity": quantity.get(),
                          "unit_price_cents": price.cents(), "line_total_cents": line_total.cents()}));
    }
    Ok((lines, total))
}

/// `None` for an unknown sku, `Some(None)` for a known but unavailable one.
fn unit_price(conn: &Connection, sku: &Sku) -> Result<Option<Option<Money>>, StoreError> {
    let row: Option<(i64, bool)> = conn
        .prepare_cached("SELECT price_cents, available FROM menu_items WHERE sku = ?1")?
        .query_row(params![sku.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    Ok(row.map(|(cents, available)| available.then(|| Money::price(cents).unwrap_or(Money::ZERO))))
}

pub(crate) fn add_event(
    conn: &Connection,
    order_id: &str,
    status: &str,
    by: &str,
    at: &str,
) -> Result<(), StoreError> {
    add_event_with(conn, order_id, status, by, at, None, None)
}

/// A history row with the kitchen attempt it belongs to and a note (why it failed, who re-queued).
/// Every history row goes through here, so every status change reaches the live streams.
pub(crate) fn add_event_with(
    conn: &Connection,
    order_id: &str,
    status: &str,
    by: &str,
    at: &str,
    attempt: Option<u32>,
    detail: Option<&str>,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO order_events (order_id, status, at, by, attempt, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![order_id, status, at, by, attempt, detail])?;
    events::record(StatusEvent {
        seq: conn.last_insert_rowid(),
        order_id: order_id.to_owned(),
        status: status.to_owned(),
        at: at.to_owned(),
        by: by.to_owned(),
        attempt,
        detail: detail.map(str::to_owned),
    });
    Ok(())
}

/// The order as created, with its current status.
pub(crate) fn get(conn: &Connection, id: &OrderId) -> Result<Value, StoreError> {
    type Row = (String, String, Option<String>, Option<String>);
    let row: Option<Row> = conn
        .prepare_cached(
            "SELECT response, status, processed_by, estimated_ready_at FROM orders WHERE id = ?1",
        )?
        .query_row(params![id.as_str()], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    let (response, status, processed_by, ready_at) = row.ok_or(StoreError::NotFound("order"))?;
    let mut order: Value =
        serde_json::from_str(&response).map_err(|e| StoreError::Internal(e.into()))?;
    order["status"] = Value::String(status);
    order["processed_by"] = processed_by.map_or(Value::Null, Value::String);
    order["estimated_ready_at"] = ready_at.map_or(Value::Null, Value::String);
    Ok(order)
}

pub(crate) fn history(conn: &Connection, id: &OrderId) -> Result<Value, StoreError> {
    let events = history_events(conn, id.as_str())?;
    if events.is_empty() {
        return Err(StoreError::NotFound("order"));
    }
    Ok(json!({"order_id": id.as_str(), "events": events}))
}

/// Every history row of an order, oldest first (empty for an unknown order).
pub(crate) fn history_events(conn: &Connection, id: &str) -> Result<Vec<StatusEvent>, StoreError> {
    let mut statement = conn.prepare_cached(
        "SELECT rowid, status, at, by, attempt, detail FROM order_events WHERE order_id = ?1 ORDER BY rowid",
    )?;
    let events = statement
        .query_map(params![id], |r| {
            Ok(StatusEvent {
                seq: r.get(0)?,
                order_id: id.to_owned(),
                status: r.get(1)?,
                at: r.get(2)?,
                by: r.get(3)?,
                attempt: r.get(4)?,
                detail: r.get(5)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(events)
}

/// Moves an order to `to` if its status is one of `from`; records who did it. False if it was not.
pub(crate) fn transition(
    conn: &Connection,
    id: &str,
    from: &[&str],
    to: &str,
    by: &str,
) -> Result<bool, StoreError> {
    transition_with(conn, id, from, to, by, None, None)
}

/// `transition` with the kitchen attempt and a note recorded in the history row.
pub(crate) fn transition_with(
    conn: &Connection,
    id: &str,
    from: &[&str],
    to: &str,
    by: &str,
    attempt: Option<u32>,
    detail: Option<&str>,
) -> Result<bool, StoreError> {
    let status: Option<String> = conn
        .prepare_cached("SELECT status FROM orders WHERE id = ?1")?
        .query_row(params![id], |r| r.get(0))
        .optional()?;
    match status {
        Some(s) if from.contains(&s.as_str()) => {
            conn.prepare_cached("UPDATE orders SET status = ?2 WHERE id = ?1")?
                .execute(params![id, to])?;
            add_event_with(conn, id, to, by, &now_rfc3339(), attempt, detail)?;
            Ok(true)
        }
        _ => Ok(false),
    }
}
