//! `harness history import <reports folder>`: runs made before the history
//! existed (or with `--no-history`), recorded from their folders: the
//! summary through the one summary.json reader, each request's histogram
//! from its .hlog file (the per-second histograms added up; they were
//! recorded at 2 significant figures, where a live run keeps 3). A run
//! already in the history is skipped, so importing twice records nothing new.

use super::identity::Identity;
use super::store::{NewRun, Store};
use crate::report::hlog;
use crate::summary::{self, Summary, SUMMARY_FILE};
use anyhow::{Context, Result};
use hdrhistogram::Histogram;
use std::path::{Path, PathBuf};

/// What an import did.
#[derive(Debug, Default)]
pub(crate) struct Imported {
    pub(crate) recorded: Vec<PathBuf>,
    /// Already in the history.
    pub(crate) skipped: Vec<PathBuf>,
    /// Folders that could not be read, and why.
    pub(crate) failed: Vec<(PathBuf, String)>,
}

/// Records every run folder under `root` (a reports folder, a scenario's
/// folder or one run folder) into the history `file`, oldest first.
pub(crate) fn import(root: &Path, file: &Path, meta: &[(String, String)]) -> Result<Imported> {
    if !root.is_dir() {
        anyhow::bail!("{}: not a folder of runs", root.display());
    }
    let mut folders = Vec::new();
    find_runs(root, 0, &mut folders);
    let mut runs: Vec<(PathBuf, Result<Summary>)> = folders
        .into_iter()
        .map(|d| {
            let s = summary::read(&d);
            (d, s)
        })
        .collect();
    runs.sort_by_key(|(_, s)| s.as_ref().ok().map(|s| s.run.meta.started_at));
    let mut store = Store::open(file)?;
    let mut done = Imported::default();
    for (dir, summary) in runs {
        let summary = match summary {
            Ok(s) => s,
            Err(e) => {
                done.failed.push((dir, format!("{e:#}")));
                continue;
            }
        };
        // The environment now is not the one the run was made in.
        let identity = Identity::of(&summary, |_| None, meta);
        if store.contains(&identity.scenario, &identity.target, &identity.started_at)? {
            done.skipped.push(dir);
            continue;
        }
        match record_folder(&mut store, &dir, &summary, &identity) {
            Ok(()) => done.recorded.push(dir),
            Err(e) => done.failed.push((dir, format!("{e:#}"))),
        }
    }
    Ok(done)
}

/// Run folders under `dir`: those holding a summary.json, not through the
/// `latest` links (which would import a run twice).
fn find_runs(dir: &Path, depth: usize, found: &mut Vec<PathBuf>) {
    if dir.join(SUMMARY_FILE).is_file() {
        found.push(dir.to_path_buf());
        return;
    }
    if depth >= 4 {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut dirs: Vec<PathBuf> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .collect();
    dirs.sort();
    for d in dirs {
        find_runs(&d, depth + 1, found);
    }
}

fn record_folder(store: &mut Store, dir: &Path, summary: &Summary, id: &Identity) -> Result<()> {
    let names: Vec<String> = summary.requests.iter().map(|r| r.name.clone()).collect();
    let files = hlog::file_names(&names);
    let mut histograms: Vec<(Option<&str>, Histogram<u64>)> = Vec::new();
    let keys = std::iter::once(None).chain(names.iter().map(|n| Some(n.as_str())));
    for (name, file) in keys.zip(&files) {
        let path = dir.join(file);
        let Ok(bytes) = std::fs::read(&path) else {
            continue; // a run written without histograms keeps its figures
        };
        let intervals =
            hlog::read_intervals(&bytes).with_context(|| format!("reading {}", path.display()))?;
        let mut whole = Histogram::<u64>::new(3).expect("3 significant figures is valid");
        for (_, h) in &intervals {
            whole
                .add(h)
                .map_err(|e| anyhow::anyhow!("adding up {}: {e:?}", path.display()))?;
        }
        histograms.push((name, whole));
    }
    // The file as written, so figures this harness does not know are kept.
    let summary_json = std::fs::read_to_string(dir.join(SUMMARY_FILE))?;
    let report_dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    store.record(&NewRun {
        identity: id,
        report_dir: Some(&report_dir),
        summary_json: &summary_json,
        histograms: histograms.iter().map(|(n, h)| (*n, h)).collect(),
    })?;
    Ok(())
}
