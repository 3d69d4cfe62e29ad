//! Menu SQL: reading the whole menu with its version, and the admin update that bumps the version.

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

use super::StoreError;
use crate::domain::{Money, Sku};

#[derive(Debug, Clone, Serialize)]
pub(crate) struct MenuItem {
    pub(crate) sku: String,
    pub(crate) name: String,
    pub(crate) price_cents: i64,
    pub(crate) available: bool,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Menu {
    pub(crate) version: i64,
    pub(crate) items: Vec<MenuItem>,
}

pub(crate) fn read(conn: &Connection) -> Result<Menu, StoreError> {
    let version = conn
        .prepare_cached("SELECT value FROM meta WHERE key = 'menu_version'")?
        .query_row([], |r| r.get(0))?;
    let mut statement = conn.prepare_cached(
        "SELECT sku, name, price_cents, available FROM menu_items ORDER BY position",
    )?;
    let items = statement
        .query_map([], |r| {
            Ok(MenuItem {
                sku: r.get(0)?,
                name: r.get(1)?,
                price_cents: r.get(2)?,
                available: r.get(3)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(Menu { version, items })
}

/// Changes price and/or availability; 404 for an unknown sku. Bumps the menu version (and so the
/// ETag) only when something changed: a repeated update leaves caches valid.
pub(crate) fn update(
    conn: &Connection,
    sku: &Sku,
    price: Option<Money>,
    available: Option<bool>,
) -> Result<MenuItem, StoreError> {
    let current = item(conn, sku)?.ok_or(StoreError::NotFound("menu item"))?;
    let wanted = MenuItem {
        price_cents: price.map_or(current.price_cents, Money::cents),
        available: available.unwrap_or(current.available),
        ..current.clone()
    };
    if wanted.price_cents == current.price_cents && wanted.available == current.available {
        return Ok(current);
    }
    conn.prepare_cached("UPDATE menu_items SET price_cents = ?2, available = ?3 WHERE sku = ?1")?
        .execute(params![sku.as_str(), wanted.price_cents, wanted.available])?;
    conn.prepare_cached("UPDATE meta SET value = value + 1 WHERE key = 'menu_version'")?
        .execute([])?;
    Ok(wanted)
}

fn item(conn: &Connection, sku: &Sku) -> Result<Option<MenuItem>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT sku, name, price_cents, available FROM menu_items WHERE sku = ?1")?
        .query_row(params![sku.as_str()], |r| {
            Ok(MenuItem {
                sku: r.get(0)?,
                name: r.get(1)?,
                price_cents: r.get(2)?,
                available: r.get(3)?,
            })
        })
        .optional()?)
}
