//! Kitchen SQL: cooking transitions, expiry of unpaid orders, and recovery of unfinished work at start.

use rusqlite::{params, Connection};

use super::{inventory, now_rfc3339, orders, StoreError};
use crate::config::CookOn;

/// Marks the order `preparing`; false if it was not waiting to be cooked.
pub(crate) fn start(conn: &Connection, id: &str) -> Result<bool, StoreError> {
    orders::transition(conn, id, &["paid", "received"], "preparing", "kitchen")
}

/// Marks the order `ready` and consumes its reserved stock.
pub(crate) fn finish(conn: &Connection, id: &str) -> Result<bool, StoreError> {
    let done = orders::transition(conn, id, &["preparing"], "ready", "kitchen")?;
    if done {
        inventory::release_order(conn, id, true)?;
    }
    Ok(done)
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

/// Work left unfinished by the previous run.
pub(crate) struct Recovered {
    pub(crate) to_cook: Vec<String>,
    pub(crate) unpaid: Vec<String>,
}

/// A payment left `pending` by a crash is reset (its payment id is kept, so a retry cannot charge
/// twice); orders waiting for the kitchen or for payment are listed in creation order.
pub(crate) fn recover(conn: &Connection, cook_on: CookOn) -> Result<Recovered, StoreError> {
    conn.execute(
        "UPDATE orders SET payment_state = 'none' WHERE payment_state = 'pending'",
        [],
    )?;
    let ids = |sql: &str| -> Result<Vec<String>, StoreError> {
        let mut statement = conn.prepare(sql)?;
        let rows = statement
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    };
    Ok(match cook_on {
        CookOn::Paid => Recovered {
            to_cook: ids("SELECT id FROM orders WHERE status IN ('paid', 'preparing') ORDER BY rowid")?,
            unpaid: ids("SELECT id FROM orders WHERE status = 'received' ORDER BY rowid")?,
        },
        CookOn::Received => Recovered {
            to_cook: ids("SELECT id FROM orders WHERE status IN ('received', 'paid', 'preparing') ORDER BY rowid")?,
            unpaid: Vec::new(),
        },
    })
}
