//! SQLite storage in WAL mode. All writes go through ONE writer thread that commits in groups
//! (see `writer`); reads run on a small pool of read-only connections on blocking threads. The SQL
//! of each resource lives in its own submodule and runs inside those two entry points.

pub(crate) mod dead_letters;
mod error;
pub(crate) mod events;
pub(crate) mod inventory;
pub(crate) mod kitchen;
pub(crate) mod menu;
pub(crate) mod orders;
pub(crate) mod payments;
mod schema;
mod writer;

use std::{
    path::PathBuf,
    sync::{Arc, Mutex, OnceLock},
};

use anyhow::Context;
use rusqlite::{Connection, OpenFlags};
use tokio::sync::{mpsc, Semaphore};

pub(crate) use error::StoreError;
pub(crate) use schema::SEED_MENU;

use crate::{config::ServerConfig, metrics::Metrics};
use writer::{Job, Msg};

/// Write commands waiting for the writer; a full queue makes callers wait (backpressure), and the
/// request timeout bounds that wait.
const WRITE_QUEUE: usize = 8192;

#[derive(Clone)]
pub(crate) struct Store {
    writer: mpsc::Sender<Msg>,
    writer_thread: Arc<Mutex<Option<std::thread::JoinHandle<()>>>>,
    reads: Arc<ReadPool>,
    /// Where committed status events go (the kitchen's live streams); set once at start.
    events: Arc<OnceLock<events::EventSink>>,
}

struct ReadPool {
    connections: Mutex<Vec<Connection>>,
    permits: Semaphore,
}

impl Store {
    /// Opens (creating and seeding on first start) the database in `config.data_dir` and starts the writer.
    pub(crate) fn open(config: &ServerConfig, metrics: Arc<Metrics>) -> anyhow::Result<Store> {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("creating data directory {}", config.data_dir.display()))?;
        let path: PathBuf = config.data_dir.join("coffee.sqlite3");
        let conn = schema::open_writer(&path, config.synchronous)?;
        schema::migrate_and_seed(&conn, config)?;
        let mut connections = Vec::with_capacity(config.read_connections);
        for _ in 0..config.read_connections {
            let read = Connection::open_with_flags(
                &path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .with_context(|| format!("opening read connection to {}", path.display()))?;
            read.busy_timeout(std::time::Duration::from_secs(5))?;
            connections.push(read);
        }
        let max_batch = if config.naive() { 1 } else { config.max_batch };
        let (tx, rx) = mpsc::channel(WRITE_QUEUE);
        let thread = std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || writer::run(conn, rx, max_batch, metrics))
            .context("starting the writer thread")?;
        Ok(Store {
            writer: tx,
            writer_thread: Arc::new(Mutex::new(Some(thread))),
            reads: Arc::new(ReadPool {
                permits: Semaphore::new(connections.len()),
                connections: Mutex::new(connections),
            }),
            events: Arc::default(),
        })
    }

    /// Sends every status event to `sink` once its command has committed; the first call wins.
    pub fn publish_events_to(&self, sink: events::EventSink) {
        let _ = self.events.set(sink);
    }

    /// Runs `f` inside the writer's current transaction (in its own savepoint: an error undoes only
    /// this command) and answers after the transaction has COMMITTED.
    pub(crate) async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        self.enqueue(f).await?.await
    }

    /// Queues `f` for the writer and returns once it is queued, with a future of its committed
    /// result. Commands queued one after the other by a task are applied in that order.
    pub(crate) async fn enqueue<T, F>(
        &self,
        f: F,
    ) -> Result<impl std::future::Future<Output = Result<T, StoreError>>, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let sink = self.events.clone();
        let job: Job = Box::new(move |conn| {
            let result = writer::in_savepoint(conn, f);
            // Taken even on failure: a rolled-back command's events never happened.
            let written = events::take();
            Box::new(move |committed: Result<(), String>| {
                let outcome = match committed {
                    Ok(()) => {
                        if let (Ok(_), Some(sink)) = (&result, sink.get()) {
                            if !written.is_empty() {
                                sink(written);
                            }
                        }
                        result
                    }
                    Err(e) => Err(StoreError::Internal(anyhow::anyhow!("commit failed: {e}"))),
                };
                let _ = reply.send(outcome);
            })
        });
        if self.writer.send(Msg::Job(job)).await.is_err() {
            return Err(stopped());
        }
        Ok(async move { answer.await.unwrap_or_else(|_| Err(stopped())) })
    }

    /// Runs `f` on a read-only connection on a blocking thread; sees every acknowledged write.
    pub(crate) async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let pool = self.reads.clone();
        let _permit = pool.permits.acquire().await.map_err(|_| stopped())?;
        let pool2 = pool.clone();
        tokio::task::spawn_blocking(move || {
            let conn = pool2
                .connections
                .lock()
                .expect("read pool lock")
                .pop()
                .expect("a permit implies a connection");
            let result = f(&conn);
            pool2.connections.lock().expect("read pool lock").push(conn);
            result
        })
        .await
        .map_err(|e| StoreError::Internal(anyhow::anyhow!("read task failed: {e}")))?
    }

    /// Lets the writer finish every queued command, commit, and stop; waits for its thread.
    pub(crate) async fn close(&self) {
        let _ = self.writer.send(Msg::Stop).await;
        let thread = self
            .writer_thread
            .lock()
            .expect("writer handle lock")
            .take();
        if let Some(thread) = thread {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }
}

fn stopped() -> StoreError {
    StoreError::ShuttingDown
}

/// Current time as RFC 3339 (UTC), the format of every timestamp in the API.
pub(crate) fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .expect("formatting the current time")
}
