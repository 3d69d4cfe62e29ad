//! The history of runs: every run (and every merged sharded run) recorded
//! in an embedded SQLite file, default `<reports-dir>/history.db`, with its
//! summary.json, each request's HDR histogram and its identity
//! (`identity`); trends and change points over the recorded runs
//! (`trend`, by E-divisive means in `changepoint`); runs made before the
//! history existed brought in from their folders (`import`); and the
//! baseline a new run is judged against: the runs since the last change
//! point (`baseline`). `report::history` renders the trends.
//!
//! Writing the history never fails a run: a failure is a note on the output.

pub mod baseline;
pub(crate) mod changepoint;
pub(crate) mod identity;
pub(crate) mod import;
pub(crate) mod store;
pub(crate) mod trend;

pub(crate) use identity::{parse_meta, Identity};
pub use store::{Filter, Store};

use crate::record::Recorder;
use crate::summary::Summary;
use anyhow::Result;
use std::path::{Path, PathBuf};

/// The history's file name inside the reports folder.
pub(crate) const FILE_NAME: &str = "history.db";

/// `--history PATH`, `--no-history` and `--meta key=value` of a command that records runs.
#[derive(Clone, Debug, Default)]
pub struct HistoryOptions {
    /// The history file; `None`: `<reports-dir>/history.db`.
    pub(crate) path: Option<PathBuf>,
    /// `--no-history`: record nothing.
    pub(crate) off: bool,
    /// `--meta`, already parsed.
    pub(crate) meta: Vec<(String, String)>,
}

impl HistoryOptions {
    /// The file runs are recorded in, or `None` when recording is off.
    pub(crate) fn file(&self, reports_dir: &Path) -> Option<PathBuf> {
        match (&self.path, self.off) {
            (_, true) => None,
            (Some(p), false) => Some(p.clone()),
            (None, false) => Some(reports_dir.join(FILE_NAME)),
        }
    }
}

/// Each request's whole-run histogram, all requests first (`None`).
pub fn histograms_of(recorder: &Recorder) -> Vec<(Option<&str>, &hdrhistogram::Histogram<u64>)> {
    std::iter::once((None, &recorder.overall().latency))
        .chain(recorder.requests().map(|(n, s)| (Some(n), &s.latency)))
        .collect()
}

/// Records a finished run in `file`; returns its run id.
pub fn record(
    file: &Path,
    meta: &[(String, String)],
    summary: &Summary,
    histograms: Vec<(Option<&str>, &hdrhistogram::Histogram<u64>)>,
    report_dir: Option<&Path>,
) -> Result<String> {
    let identity = Identity::of(summary, |k| std::env::var(k).ok(), meta);
    let summary_json = serde_json::to_string(summary)?;
    let report_dir = report_dir.map(absolute);
    let mut store = Store::open(file)?;
    store.record(&store::NewRun {
        identity: &identity,
        report_dir: report_dir.as_deref(),
        summary_json: &summary_json,
        histograms,
    })
}

/// Records a run and says so in one line for the output: where it was
/// recorded, or why it was not (a note: the run's verdict stands).
pub(crate) fn record_line(
    opts: &HistoryOptions,
    reports_dir: &Path,
    summary: &Summary,
    recorder: &Recorder,
    report_dir: Option<&Path>,
) -> Option<String> {
    let file = opts.file(reports_dir)?;
    Some(
        match record(
            &file,
            &opts.meta,
            summary,
            histograms_of(recorder),
            report_dir,
        ) {
            Ok(_) => format!("history: recorded in {}", file.display()),
            Err(e) => format!(
                "note: the run was not recorded in the history {}: {e:#}",
                file.display()
            ),
        },
    )
}

/// `p` made absolute against the working directory, so a link from a
/// history report written elsewhere still finds the run folder.
fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}
