//! Payment SQL. A payment is claimed (`pending`) in the database BEFORE the gateway is called, so two
//! concurrent attempts cannot both charge; the gateway gets the same `payment_id` on a retry after
//! an unknown outcome (timeout, error), so it can deduplicate instead of charging twice.

use rusqlite::{params, Connection, OptionalExtension};

use super::{now_rfc3339, orders, StoreError};
use crate::domain::OrderId;

pub(crate) struct PaymentStart {
    pub(crate) amount_cents: i64,
    pub(crate) payment_id: String,
}

/// How a gateway call ended, as far as the order is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Settlement {
    Approved,
    Declined,
    /// Timeout or error: the charge may or may not exist; the same payment id is reused next time.
    Unknown,
}

pub(crate) fn begin(conn: &Connection, id: &OrderId) -> Result<PaymentStart, StoreError> {
    let row: Option<(String, String, Option<String>, i64)> = conn
        .prepare_cached(
            "SELECT status, payment_state, payment_id, total_cents FROM orders WHERE id = ?1",
        )?
        .query_row(params![id.as_str()], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    let (status, state, payment_id, amount_cents) = row.ok_or(StoreError::NotFound("order"))?;
    match (state.as_str(), status.as_str()) {
        ("paid", _) => {
            return Err(StoreError::conflict(
                "already_paid",
                "this order is already paid",
            ))
        }
        ("pending", _) => {
            return Err(StoreError::conflict(
                "payment_in_progress",
                "a payment for this order is in progress",
            ))
        }
        (_, "expired") => {
            return Err(StoreError::conflict(
                "order_expired",
                "this order expired unpaid",
            ))
        }
        _ => {}
    }
    let payment_id = payment_id.unwrap_or_else(|| format!("pay_{}", uuid::Uuid::now_v7().simple()));
    conn.prepare_cached(
        "UPDATE orders SET payment_state = 'pending', payment_id = ?2 WHERE id = ?1",
    )?
    .execute(params![id.as_str(), payment_id])?;
    Ok(PaymentStart {
        amount_cents,
        payment_id,
    })
}

pub(crate) fn settle(
    conn: &Connection,
    id: &OrderId,
    outcome: Settlement,
) -> Result<(), StoreError> {
    let id = id.as_str();
    match outcome {
        Settlement::Approved => {
            conn.prepare_cached("UPDATE orders SET payment_state = 'paid' WHERE id = ?1")?
                .execute(params![id])?;
            if !orders::transition(conn, id, &["received"], "paid", "payments")? {
                // Pay at pickup: the kitchen already moved the order on; the payment is still recorded.
                orders::add_event(conn, id, "paid", "payments", &now_rfc3339())?;
            }
        }
        Settlement::Declined => {
            conn.prepare_cached(
                "UPDATE orders SET payment_state = 'none', payment_id = NULL WHERE id = ?1",
            )?
            .execute(params![id])?;
        }
        Settlement::Unknown => {
            conn.prepare_cached("UPDATE orders SET payment_state = 'none' WHERE id = ?1")?
                .execute(params![id])?;
        }
    }
    Ok(())
}
