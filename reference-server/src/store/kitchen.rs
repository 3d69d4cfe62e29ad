//! Kitchen SQL: cooking transitions (who prepares which attempt), re-queueing, expiry of unpaid
//! orders, and recovery of unfinished work at start.

use rusqlite::{params, Connection, OptionalExtension};

use super::{inventory, now_rfc3339, orders, StoreError};
use crate::config::CookOn;

/// Statuses from which a worker may start an order. `preparing` is there for work interrupted by a
/// restart or by a re-queue whose write failed; one ticket per order keeps it from being started twice.
const STARTABLE: [&str; 5] = ["paid", "received", "requeued", "retrying", "preparing"];

/// Marks the order `preparing` by `worker` (attempt `attempt`, ready by `eta`); false if it was not
/// waiting to be prepared.
pub(crate) fn start(
    conn: &Connection,
    id: &str,
    worker: &str,
    attempt: u32,
    eta: &str,
) -> Result<bool, StoreError> {
    let started = orders::transition_with(
        conn,
        id,
        &STARTABLE,
        "preparing",
        worker,
        Some(attempt),
        None,
    )?;
    if started {
        conn.prepare_cached(
            "UPDATE orders SET processed_by = ?2, estimated_ready_at = ?3 WHERE id = ?1",
        )?
        .execute(params![id, worker, eta])?;
    }
    Ok(started)
}

/// True if the order is being prepared by `worker` (not re-queued to someone else meanwhile).
fn held_by(conn: &Connection, id: &str, worker: &str) -> Result<bool, StoreError> {
    let row: Option<(String, Option<String>)> = conn
        .prepare_cached("SELECT status, processed_by FROM orders WHERE id = ?1")?
        .query_row(params![id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    Ok(matches!(row, Some((s, Some(w))) if s == "preparing" && w == worker))
}

/// Marks the order `ready` and consumes its reserved stock; false unless `worker` was preparing it.
pub(crate) fn finish(
    conn: &Connection,
    id: &str,
    worker: &str,
    attempt: u32,
) -> Result<bool, StoreError> {
    if !held_by(conn, id, worker)? {
        return Ok(false);
    }
    orders::transition_with(
        conn,
        id,
        &["preparing"],
        "ready",
        worker,
        Some(attempt),
        None,
    )?;
    inventory::release_order(conn, id, true)?;
    Ok(true)
}

/// A failed attempt that will be retried: `retrying`, with why and when.
pub(crate) fn fail(
    conn: &Connection,
    id: &str,
    worker: &str,
    attempt: u32,
    detail: &str,
) -> Result<bool, StoreError> {
    if !held_by(conn, id, worker)? {
        return Ok(false);
    }
    orders::transition_with(
        conn,
        id,
        &["preparing"],
        "retrying",
        worker,
        Some(attempt),
        Some(detail),
    )
}

/// Puts an order back in line (its worker went offline, or an operator retried a dead letter).
pub(crate) fn requeue(
    conn: &Connection,
    id: &str,
    from: &[&str],
    by: &str,
    detail: &str,
) -> Result<bool, StoreError> {
    orders::transition_with(conn, id, from, "requeued", by, None, Some(detail))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expiry {
    /// Expired now: its stock is back on hand.
    Expired,
    /// A payment is in flight: look again later.
    NotYet,
    /// Paid, cooked or gone: nothing to do.
    Settled,
}

pub(crate) fn expire(conn: &Connection, id: &str) -> Result<Expiry, StoreError> {
    let row: Option<(String, String)> = conn
        .prepare_cached("SELECT status, payment_state FROM orders WHERE id = ?1")?
        .query_row(params![id], |r| Ok((r.get(0)?, r.get(1)?)))
        .map(Some)
        .or_else(|e| {
            if e == rusqlite::Error::QueryReturnedNoRows {
                Ok(None)
            } else {
                Err(e)
            }
        })?;
    match row {
        Some((status, state)) if status == "received" && state == "none" => {
            conn.prepare_cached("UPDATE orders SET status = 'expired' WHERE id = ?1")?
                .execute(params![id])?;
            orders::add_event(conn, id, "expired", "kitchen", &now_rfc3339())?;
            inventory::release_order(conn, id, false)?;
            Ok(Expiry::Expired)
        }
        Some((status, state)) if status == "received" && state == "pending" => Ok(Expiry::NotYet),
        _ => Ok(Expiry::Settled),
    }
}

/// Work left unfinished by the previous run: order ids with their kind (`takeout`, ...).
pub(crate) struct Recovered {
    pub to_cook: Vec<(String, String)>,
    pub unpaid: Vec<(String, String)>,
}

/// A payment left `pending` by a crash is reset (its payment id is kept, so a retry cannot charge
/// twice); orders waiting for the kitchen or for payment are listed in creation order. Dead letters
/// stay where they are: only an operator sends them back.
pub(crate) fn recover(conn: &Connection, cook_on: CookOn) -> Result<Recovered, StoreError> {
    conn.execute(
        "UPDATE orders SET payment_state = 'none' WHERE payment_state = 'pending'",
        [],
    )?;
    let ids = |statuses: &str| -> Result<Vec<(String, String)>, StoreError> {
        let sql = format!(
            "SELECT id, json_extract(response, '$.order_type.kind') FROM orders
             WHERE status IN ({statuses}) ORDER BY rowid"
        );
        let mut statement = conn.prepare(&sql)?;
        let rows = statement
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    };
    let in_kitchen = "'paid', 'preparing', 'requeued', 'retrying'";
    Ok(match cook_on {
        CookOn::Paid => Recovered {
            to_cook: ids(in_kitchen)?,
            unpaid: ids("'received'")?,
        },
        CookOn::Received => Recovered {
            to_cook: ids(&format!("'received', {in_kitchen}"))?,
            unpaid: Vec::new(),
        },
    })
}
