//! Opening the writer connection, the schema, and the seed data written on first start.

use std::path::Path;

use anyhow::Context;
use rusqlite::{params, Connection};

use crate::config::{ServerConfig, Synchronous};

/// The menu seeded on first start: sku, name, price in cents.
pub(crate) const SEED_MENU: [(&str, &str, i64); 12] = [
    ("espresso", "Espresso", 300),
    ("americano", "Americano", 350),
    ("latte", "Latte", 450),
    ("cappuccino", "Cappuccino", 450),
    ("flat-white", "Flat White", 475),
    ("mocha", "Mocha", 500),
    ("chai", "Chai Latte", 425),
    ("tea", "Tea", 275),
    ("croissant", "Croissant", 325),
    ("muffin", "Muffin", 300),
    ("bagel", "Bagel", 275),
    ("sandwich", "Sandwich", 750),
];

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS stores (id TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS menu_items (
    sku TEXT PRIMARY KEY, name TEXT NOT NULL, price_cents INTEGER NOT NULL,
    available INTEGER NOT NULL, position INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS inventory (
    store_id TEXT NOT NULL, sku TEXT NOT NULL, on_hand INTEGER NOT NULL, reserved INTEGER NOT NULL,
    PRIMARY KEY (store_id, sku)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS orders (
    id TEXT PRIMARY KEY, number TEXT NOT NULL UNIQUE, store_id TEXT NOT NULL, status TEXT NOT NULL,
    payment_state TEXT NOT NULL DEFAULT 'none', payment_id TEXT, total_cents INTEGER NOT NULL,
    idempotency_key TEXT UNIQUE, fingerprint TEXT, response TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS orders_by_status ON orders (status);
CREATE TABLE IF NOT EXISTS order_items (order_id TEXT NOT NULL, sku TEXT NOT NULL, quantity INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS order_items_by_order ON order_items (order_id);
CREATE TABLE IF NOT EXISTS order_events (order_id TEXT NOT NULL, status TEXT NOT NULL, at TEXT NOT NULL, by TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS order_events_by_order ON order_events (order_id);
CREATE TABLE IF NOT EXISTS dead_letters (
    id INTEGER PRIMARY KEY, order_id TEXT NOT NULL, station TEXT NOT NULL, attempts INTEGER NOT NULL,
    reason TEXT NOT NULL, at TEXT NOT NULL, retried_at TEXT);
";

/// Columns added after the first release: (table, column, type). Added to an older database at start.
const ADDED_COLUMNS: [(&str, &str, &str); 4] = [
    ("orders", "processed_by", "TEXT"),
    ("orders", "estimated_ready_at", "TEXT"),
    ("order_events", "attempt", "INTEGER"),
    ("order_events", "detail", "TEXT"),
];

fn add_missing_columns(conn: &Connection) -> anyhow::Result<()> {
    for (table, column, kind) in ADDED_COLUMNS {
        let present: bool = conn
            .query_row(
                &format!(
                    "SELECT EXISTS (SELECT 1 FROM pragma_table_info('{table}') WHERE name = ?1)"
                ),
                params![column],
                |r| r.get(0),
            )
            .with_context(|| format!("reading the columns of {table}"))?;
        if !present {
            conn.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {column} {kind}"))
                .with_context(|| format!("adding {table}.{column}"))?;
        }
    }
    Ok(())
}

pub(crate) fn open_writer(path: &Path, synchronous: Synchronous) -> anyhow::Result<Connection> {
    let conn =
        Connection::open(path).with_context(|| format!("opening database {}", path.display()))?;
    let sync = match synchronous {
        Synchronous::Full => "FULL",
        Synchronous::Normal => "NORMAL",
    };
    // temp_store = MEMORY keeps each command's savepoint sub-journal off the disk.
    conn.execute_batch(&format!(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = {sync}; PRAGMA temp_store = MEMORY;"
    ))
    .with_context(|| format!("configuring database {}", path.display()))?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(conn)
}

pub(crate) fn migrate_and_seed(conn: &Connection, config: &ServerConfig) -> anyhow::Result<()> {
    conn.execute_batch(SCHEMA).context("creating the schema")?;
    add_missing_columns(conn)?;
    let seeded: bool = conn
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM meta WHERE key = 'seeded')",
            [],
            |r| r.get(0),
        )
        .context("reading the seed marker")?;
    if seeded {
        return Ok(());
    }
    conn.execute_batch("BEGIN")?;
    for (position, (sku, name, price)) in SEED_MENU.iter().enumerate() {
        conn.execute(
            "INSERT INTO menu_items (sku, name, price_cents, available, position) VALUES (?1, ?2, ?3, 1, ?4)",
            params![sku, name, price, position as i64],
        )?;
    }
    for n in 1..=config.stores {
        let store = format!("store-{n}");
        conn.execute("INSERT INTO stores (id) VALUES (?1)", params![store])?;
        for (sku, _, _) in SEED_MENU {
            conn.execute(
                "INSERT INTO inventory (store_id, sku, on_hand, reserved) VALUES (?1, ?2, ?3, 0)",
                params![store, sku, config.initial_stock],
            )?;
        }
    }
    conn.execute_batch(
        "INSERT INTO meta (key, value) VALUES ('menu_version', 1), ('order_seq', 0), ('seeded', 1); COMMIT",
    )
    .context("seeding the database")?;
    Ok(())
}
