//! Dead-letter SQL: an order whose preparation failed too often is parked here with its reason
//! until an operator sends it back to the kitchen.

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

use super::{kitchen, now_rfc3339, orders, StoreError};

/// One parked order.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct DeadLetter {
    pub id: i64,
    pub order_id: String,
    pub station: String,
    pub attempts: u32,
    pub reason: String,
    pub at: String,
    pub retried_at: Option<String>,
}

/// Moves the order (prepared by `worker`) to the dead-letter table; `None` if it was not its order.
pub(crate) fn bury(
    conn: &Connection,
    id: &str,
    station: &str,
    worker: &str,
    attempts: u32,
    reason: &str,
) -> Result<Option<i64>, StoreError> {
    let detail = format!("{reason} (attempt {attempts} of {attempts}; no retry left)");
    let moved = orders::transition_with(
        conn,
        id,
        &["preparing"],
        "dead_letter",
        worker,
        Some(attempts),
        Some(&detail),
    )?;
    if !moved {
        return Ok(None);
    }
    conn.prepare_cached(
        "INSERT INTO dead_letters (order_id, station, attempts, reason, at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![id, station, attempts, reason, now_rfc3339()])?;
    Ok(Some(conn.last_insert_rowid()))
}

/// Dead letters not yet retried, oldest first (at most `limit`), and how many there are in all.
pub(crate) fn list(conn: &Connection, limit: usize) -> Result<(Vec<DeadLetter>, i64), StoreError> {
    let total: i64 = conn
        .prepare_cached("SELECT COUNT(*) FROM dead_letters WHERE retried_at IS NULL")?
        .query_row([], |r| r.get(0))?;
    let mut statement = conn.prepare_cached(
        "SELECT id, order_id, station, attempts, reason, at, retried_at FROM dead_letters
         WHERE retried_at IS NULL ORDER BY id LIMIT ?1",
    )?;
    let letters = statement
        .query_map(params![limit as i64], row)?
        .collect::<Result<_, _>>()?;
    Ok((letters, total))
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<DeadLetter> {
    Ok(DeadLetter {
        id: r.get(0)?,
        order_id: r.get(1)?,
        station: r.get(2)?,
        attempts: r.get(3)?,
        reason: r.get(4)?,
        at: r.get(5)?,
        retried_at: r.get(6)?,
    })
}

/// The dead letter `id`, for a retry: 404 if unknown, 409 if it was already retried.
pub(crate) fn get_open(conn: &Connection, id: i64) -> Result<DeadLetter, StoreError> {
    let letter = conn
        .prepare_cached(
            "SELECT id, order_id, station, attempts, reason, at, retried_at FROM dead_letters WHERE id = ?1",
        )?
        .query_row(params![id], row)
        .optional()?
        .ok_or(StoreError::NotFound("dead letter"))?;
    if letter.retried_at.is_some() {
        return Err(StoreError::conflict(
            "already_retried",
            format!("dead letter {id} was already sent back to the kitchen"),
        ));
    }
    Ok(letter)
}

/// Sends the order back to the kitchen (`requeued`) and closes the dead letter.
pub(crate) fn retry(conn: &Connection, id: i64) -> Result<DeadLetter, StoreError> {
    let mut letter = get_open(conn, id)?;
    let detail = format!("retried from dead letter {id}");
    if !kitchen::requeue(conn, &letter.order_id, &["dead_letter"], "admin", &detail)? {
        return Err(StoreError::conflict(
            "not_dead",
            format!("order {} is no longer a dead letter", letter.order_id),
        ));
    }
    let at = now_rfc3339();
    conn.prepare_cached("UPDATE dead_letters SET retried_at = ?2 WHERE id = ?1")?
        .execute(params![id, at])?;
    letter.retried_at = Some(at);
    Ok(letter)
}
