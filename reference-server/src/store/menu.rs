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

/// Changes price and/or availability; 404 for an unknown sku; bumps the menu version.
pub(crate) fn update(
    conn: &Connection,
    sku: &Sku,
    price: Option<Money>,
    available: Option<bool>,
) -> Result<MenuItem, StoreError> {
    let changed = conn.execute(
        "UPDATE menu_items SET price_cents = COALESCE(?2, price_cents), available = COALESCE(?3, available)
         WHERE sku = ?1",
        params![sku.as_str(), price.map(Money::cents), available],
    )?;
    if changed == 0 {
        return Err(StoreError::NotFound("menu item"));
    }
    conn.execute(
        "UPDATE meta SET value = value + 1 WHERE key = 'menu_version'",
        [],
    )?;
    let item = conn
        .query_row(
            "SELECT sku, name, price_cents, available FROM menu_items WHERE sku = ?1",
            params![sku.as_str()],
            |r| {
                Ok(MenuItem {
                    sku: r.get(0)?,
                    name: r.get(1)?,
                    price_cents: r.get(2)?,
                    available: r.get(3)?,
                })
            },
        )
        .optional()?
        .ok_or(StoreError::NotFound("menu item"))?;
    Ok(item)
}
