//! The single writer: one thread, one connection, group commit. It takes every command already
//! queued (up to `max_batch`), runs each in its own savepoint inside ONE transaction, commits once,
//! and only then answers every caller. Under load many writes share a commit (and its fsync); an
//! answer is never sent before its data is durable. `max_batch = 1` is the naive commit-per-write.

use std::sync::Arc;

use rusqlite::Connection;
use tokio::sync::mpsc;

use super::StoreError;
use crate::metrics::Metrics;

/// Called once the transaction holding the command has committed (`Ok`) or failed (`Err`).
pub(crate) type Reply = Box<dyn FnOnce(Result<(), String>) + Send>;
/// A write command: runs inside the open transaction and returns how to answer its caller.
pub(crate) type Job = Box<dyn FnOnce(&Connection) -> Reply + Send>;

pub(crate) enum Msg {
    Job(Job),
    /// Commit what is queued before this message, then stop.
    Stop,
}

pub(crate) fn run(
    conn: Connection,
    mut rx: mpsc::Receiver<Msg>,
    max_batch: usize,
    metrics: Arc<Metrics>,
) {
    let mut batch = Vec::with_capacity(max_batch);
    let mut stopping = false;
    while !stopping && rx.blocking_recv_many(&mut batch, max_batch) > 0 {
        let mut jobs = Vec::with_capacity(batch.len());
        for msg in batch.drain(..) {
            match msg {
                Msg::Job(job) if !stopping => jobs.push(job),
                Msg::Job(_) => {} // after Stop: dropping the job answers its caller "shutting down"
                Msg::Stop => stopping = true,
            }
        }
        if jobs.is_empty() {
            continue;
        }
        metrics.db_writer_queue_depth.set(rx.len() as f64);
        let started = std::time::Instant::now();
        let begun = conn.execute_batch("BEGIN IMMEDIATE");
        let replies: Vec<Reply> = match &begun {
            Ok(()) => jobs.into_iter().map(|job| job(&conn)).collect(),
            Err(_) => Vec::new(),
        };
        let committed = begun
            .and_then(|()| conn.execute_batch("COMMIT"))
            .map_err(|e| {
                let _ = conn.execute_batch("ROLLBACK");
                metrics.db_failed_commits_total.increment(1);
                tracing::error!(error = %e, "commit failed");
                e.to_string()
            });
        metrics
            .db_commit_seconds
            .record(started.elapsed().as_secs_f64());
        if committed.is_ok() {
            metrics.db_commits_total.increment(1);
            metrics.db_writes_total.increment(replies.len() as u64);
        }
        for reply in replies {
            reply(committed.clone());
        }
    }
    tracing::info!("writer stopped after its last commit");
}

/// Runs one command in a savepoint so that its failure (say, out of stock) undoes only its own changes.
pub(crate) fn in_savepoint<T>(
    conn: &Connection,
    f: impl FnOnce(&Connection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    conn.prepare_cached("SAVEPOINT cmd")?.execute([])?;
    let result = f(conn);
    if result.is_err() {
        conn.prepare_cached("ROLLBACK TO cmd")?.execute([])?;
    }
    conn.prepare_cached("RELEASE cmd")?.execute([])?;
    result
}
