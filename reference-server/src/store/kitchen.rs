//! Kitchen SQL: cooking transitions, expiry of unpaid orders, and recovery of unfinished work at start.

use rusqlite::{params, Connection};

use super::{inventory, now_rfc3339, orders};
use crate::{config::CookOn, error::ApiError};

/// Marks the order `preparing`; false if it was not waiting to be cooked.
pub fn start(conn: &Connection, id: &str) -> Result<bool, ApiError> {
    orders::transition(conn, id, &["paid", "received"], "preparing", "kitchen")
}

/// Marks the order `ready` and consumes its reserved stock.
pub fn finish(conn: &Connection, id: &str) -> Result<bool, ApiError> {
    let done = orders::transition(conn, id, &["preparing"], "ready", "kitchen")?;
    if done {
        inventory::release_order(conn, id, true)?;
    }
    Ok(done)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// Expired now: its stock is back on hand.
    Expired,
    /// A payment is in flight: look again later.
    NotYet,
    /// Paid, cooked or gone: nothing to do.
    Settled,
}

pub fn expire(conn: &Connection, id: &str) -> Result<Expiry, ApiError> {
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
pub struct Recovered {
    pub to_cook: Vec<String>,
    pub unpaid: Vec<String>,
}

/// A payment left `pending` by a crash is reset (its payment id is kept, so a retry cannot charge
/// twice); orders waiting for the kitchen or for payment are listed in creation order.
pub fn recover(conn: &Connection, cook_on: CookOn) -> Result<Recovered, ApiError> {
    conn.execute(
        "UPDATE orders SET payment_state = 'none' WHERE payment_state = 'pending'",
        [],
    )?;
    let ids = |sql: &str| -> Result<Vec<String>, ApiError> {
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
