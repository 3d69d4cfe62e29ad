//! The history file: SQLite (bundled), one row per recorded run with its
//! identity and its summary.json text as written, and one row per request
//! with the run's HDR histogram of corrected latency (µs), compressed with
//! HdrHistogram's V2 deflate encoding. Several runs may write one file at
//! once: WAL journal, a busy timeout, and each run written in one immediate
//! transaction.

use super::identity::Identity;
use anyhow::{Context, Result};
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
use hdrhistogram::Histogram;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use std::path::Path;
use std::time::Duration;

/// How long a writer waits for another to finish: a run's row and its
/// histograms take milliseconds, so this only matters under heavy contention.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Bumped when the tables change.
const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL UNIQUE,
    scenario TEXT NOT NULL,
    scenario_hash TEXT NOT NULL,
    target TEXT NOT NULL,
    harness_version TEXT NOT NULL,
    started_at TEXT NOT NULL,
    commit_sha TEXT,
    branch TEXT,
    ci_job TEXT,
    meta TEXT NOT NULL,
    report_dir TEXT,
    summary TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_by_scenario ON runs (scenario, target, started_at);
CREATE TABLE IF NOT EXISTS histograms (
    run INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    request TEXT,
    hdr BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS histograms_by_run ON histograms (run);
";

/// Runs `op` again while SQLite answers "busy" outside its busy handler
/// (changing the journal mode of a file others are opening), up to the busy timeout.
fn retry_busy<T>(mut op: impl FnMut() -> rusqlite::Result<T>) -> rusqlite::Result<T> {
    let start = std::time::Instant::now();
    loop {
        match op() {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy
                    && start.elapsed() < BUSY_TIMEOUT =>
            {
                std::thread::sleep(Duration::from_millis(5));
            }
            other => return other,
        }
    }
}

/// A run to record.
pub(crate) struct NewRun<'a> {
    pub(crate) identity: &'a Identity,
    /// The run folder, when there is one.
    pub(crate) report_dir: Option<&'a Path>,
    /// summary.json's text.
    pub(crate) summary_json: &'a str,
    /// Each request's whole-run histogram; `None` names all requests together.
    pub(crate) histograms: Vec<(Option<&'a str>, &'a Histogram<u64>)>,
}

/// A recorded run, as read back.
#[derive(Clone, Debug)]
pub struct StoredRun {
    /// The row's number, in recording order.
    pub row: i64,
    pub(crate) run_id: String,
    pub identity: Identity,
    pub report_dir: Option<String>,
    pub summary_json: String,
}

/// Which runs to read.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub(crate) scenario: Option<String>,
    /// Matches a target label exactly.
    pub(crate) target: Option<String>,
    /// Only the newest N (still returned oldest first).
    pub(crate) last: Option<usize>,
}

pub struct Store {
    conn: Connection,
}

impl Store {
    /// Opens (or creates) the history file, and its folder when missing.
    pub fn open(path: &Path) -> Result<Store> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("creating the folder of {}", path.display()))?;
        }
        let conn = Connection::open(path).with_context(|| format!("opening {}", path.display()))?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        // WAL lets readers go on while a run is written, and writers queue.
        // Switching a new file to WAL is not covered by the busy timeout when
        // several open it at once: retried here.
        let mode: String =
            retry_busy(|| conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)))?;
        if !mode.eq_ignore_ascii_case("wal") {
            anyhow::bail!(
                "{}: SQLite refused the WAL journal ({mode})",
                path.display()
            );
        }
        conn.execute_batch("PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;")?;
        let version: i64 = retry_busy(|| conn.query_row("PRAGMA user_version", [], |r| r.get(0)))?;
        if version > SCHEMA_VERSION {
            anyhow::bail!(
                "{} was written by a newer harness (history schema {version}, this one reads {SCHEMA_VERSION})",
                path.display()
            );
        }
        if version < SCHEMA_VERSION {
            // An immediate transaction takes the write lock first, so two
            // writers creating the tables queue instead of failing.
            let mut conn = conn;
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute_batch(SCHEMA)
                .with_context(|| format!("creating the tables of {}", path.display()))?;
            tx.execute_batch(&format!("PRAGMA user_version = {SCHEMA_VERSION}"))?;
            tx.commit()?;
            return Ok(Store { conn });
        }
        Ok(Store { conn })
    }

    /// Records a run in one transaction; returns its run id.
    pub(crate) fn record(&mut self, run: &NewRun) -> Result<String> {
        let id = run.identity;
        let run_id = uuid::Uuid::now_v7().to_string();
        let meta = serde_json::to_string(&id.meta)?;
        let now = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)?;
        let mut blobs = Vec::with_capacity(run.histograms.len());
        let mut serializer = V2DeflateSerializer::new();
        for (request, hist) in &run.histograms {
            let mut bytes = Vec::new();
            serializer
                .serialize(*hist, &mut bytes)
                .map_err(|e| anyhow::anyhow!("compressing a histogram: {e:?}"))?;
            blobs.push((*request, bytes));
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO runs (run_id, scenario, scenario_hash, target, harness_version, started_at,
                 commit_sha, branch, ci_job, meta, report_dir, summary, recorded_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            params![
                run_id,
                id.scenario,
                id.scenario_hash,
                id.target,
                id.harness_version,
                id.started_at,
                id.commit,
                id.branch,
                id.ci_job,
                meta,
                run.report_dir.map(|p| p.display().to_string()),
                run.summary_json,
                now
            ],
        )?;
        let row = tx.last_insert_rowid();
        for (request, bytes) in blobs {
            tx.execute(
                "INSERT INTO histograms (run, request, hdr) VALUES (?1, ?2, ?3)",
                params![row, request, bytes],
            )?;
        }
        tx.commit()?;
        Ok(run_id)
    }

    /// Whether a run of this scenario and target that started at this instant is recorded.
    pub(crate) fn contains(&self, scenario: &str, target: &str, started_at: &str) -> Result<bool> {
        Ok(self
            .conn
            .query_row(
                "SELECT 1 FROM runs WHERE scenario = ?1 AND target = ?2 AND started_at = ?3",
                params![scenario, target, started_at],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// The runs that match, oldest first (by start, then recording order).
    pub fn runs(&self, filter: &Filter) -> Result<Vec<StoredRun>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, run_id, scenario, scenario_hash, target, harness_version, started_at,
                    commit_sha, branch, ci_job, meta, report_dir, summary
             FROM runs
             WHERE (?1 IS NULL OR scenario = ?1) AND (?2 IS NULL OR target = ?2)
             ORDER BY started_at DESC, id DESC
             LIMIT ?3",
        )?;
        let limit = filter.last.map_or(-1, |n| n as i64);
        let mut runs = stmt
            .query_map(params![filter.scenario, filter.target, limit], |r| {
                let meta: String = r.get(10)?;
                Ok(StoredRun {
                    row: r.get(0)?,
                    run_id: r.get(1)?,
                    identity: Identity {
                        scenario: r.get(2)?,
                        scenario_hash: r.get(3)?,
                        target: r.get(4)?,
                        harness_version: r.get(5)?,
                        started_at: r.get(6)?,
                        commit: r.get(7)?,
                        branch: r.get(8)?,
                        ci_job: r.get(9)?,
                        meta: serde_json::from_str(&meta).unwrap_or_default(),
                    },
                    report_dir: r.get(11)?,
                    summary_json: r.get(12)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        runs.reverse();
        Ok(runs)
    }

    /// A recorded run's histograms: `None` is all requests together.
    pub fn histograms(&self, row: i64) -> Result<Vec<(Option<String>, Histogram<u64>)>> {
        let mut stmt = self
            .conn
            .prepare("SELECT request, hdr FROM histograms WHERE run = ?1 ORDER BY rowid")?;
        let mut deserializer = Deserializer::new();
        let rows = stmt
            .query_map([row], |r| {
                Ok((r.get::<_, Option<String>>(0)?, r.get::<_, Vec<u8>>(1)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(request, bytes)| {
                let hist: Histogram<u64> = deserializer
                    .deserialize(&mut bytes.as_slice())
                    .map_err(|e| anyhow::anyhow!("a stored histogram does not decode: {e:?}"))?;
                Ok((request, hist))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn identity(writer: usize, i: usize) -> Identity {
        Identity {
            scenario: "s".into(),
            scenario_hash: "h".into(),
            target: format!("writer-{writer}"),
            harness_version: "0".into(),
            started_at: format!("2026-01-01T00:{writer:02}:{i:02}Z"),
            commit: None,
            branch: None,
            ci_job: None,
            meta: BTreeMap::new(),
        }
    }

    #[test]
    fn several_writers_at_once_lose_no_run_and_no_histogram() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("history.db");
        let (writers, each) = (6, 25);
        let threads: Vec<_> = (0..writers)
            .map(|w| {
                let file = file.clone();
                std::thread::spawn(move || {
                    let mut hist = Histogram::<u64>::new(3).unwrap();
                    for v in 1..=100 {
                        hist.record(v * 1000).unwrap();
                    }
                    for i in 0..each {
                        // Each run opens the file itself, as separate processes do.
                        let mut store = Store::open(&file).unwrap();
                        let id = identity(w, i);
                        store
                            .record(&NewRun {
                                identity: &id,
                                report_dir: None,
                                summary_json: "{}",
                                histograms: vec![(None, &hist), (Some("GET /"), &hist)],
                            })
                            .unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("a writer failed");
        }
        let store = Store::open(&file).unwrap();
        let runs = store.runs(&Filter::default()).unwrap();
        assert_eq!(runs.len(), writers * each);
        for run in &runs {
            let hists = store.histograms(run.row).unwrap();
            assert_eq!(hists.len(), 2);
            assert_eq!(hists[0].1.len(), 100);
            assert_eq!(hists[0].1.value_at_quantile(0.5) / 1000, 50);
        }
        let last = store
            .runs(&Filter {
                target: Some("writer-0".into()),
                last: Some(3),
                ..Default::default()
            })
            .unwrap();
        let starts: Vec<&str> = last
            .iter()
            .map(|r| r.identity.started_at.as_str())
            .collect();
        assert_eq!(
            starts,
            [
                "2026-01-01T00:00:22Z",
                "2026-01-01T00:00:23Z",
                "2026-01-01T00:00:24Z"
            ]
        );
    }
}
