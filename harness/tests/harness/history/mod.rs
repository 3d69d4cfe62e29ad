//! The history of runs: every run recorded with its identity and
//! histograms (`recording`, real runs on a loopback backend with a known
//! delay), `harness history` finding a step as one change point and writing
//! its three outputs, and `history import` (`trends`, recorded synthetic
//! runs with known latencies), and `--baseline history` judging a run
//! against the runs since the last change point (`gate`).

mod gate;
mod recording;
mod trends;

use crate::report::{sample, synthetic_run, write_report};
use harness::history;
use harness::record::Outcome;
use std::path::{Path, PathBuf};

/// Writes the report of a synthetic run whose requests take `latency_ms`
/// (the first 10 % take one more ms, for a little spread) and starts
/// `index` minutes after the first; records it in `file` unless `file` is
/// `None`; returns its folder.
pub fn synthetic(root: &Path, file: Option<&Path>, index: i64, latency_ms: u64) -> PathBuf {
    let reqs = (0..200).map(|i| {
        let extra = u64::from(i % 10 == 0);
        sample(0, Outcome::Ok, i * 10, latency_ms + extra)
    });
    let mut run = synthetic_run(&["GET /menu"], 2, reqs);
    run.meta.started_at += time::Duration::minutes(index);
    let written = write_report(&run, &[], root).expect("the report is written");
    if let Some(file) = file {
        history::record(
            file,
            &[],
            &written.summary,
            history::histograms_of(&run.recorder),
            Some(&written.dir),
        )
        .expect("the run is recorded");
    }
    written.dir
}
