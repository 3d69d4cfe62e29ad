//! `harness compare`: several runs (of the same scenario against different
//! backends, or before/after a change) set side by side in one self-contained
//! compare.html with overlaid charts, plus compare.json and compare.md. The
//! runs are read back from their summary.json, so any two report folders can
//! be compared. Runs of the same backend (its repeats) are combined into one
//! column, and a difference is marked only beyond the noise (see `noise`);
//! what one side got and another did not (a fault) heads the report as
//! "not comparable on: ...".

mod charts;
mod fairness;
mod noise;
mod print;
mod table;

pub(crate) use print::print_comparison_table;
pub(crate) use table::RequestComparison;

use super::output::{create_run_dir, point_latest};
use super::templates::environment;
use crate::summary::{FaultSummary, Summary, Verdict};
use anyhow::{bail, Context, Result};
use minijinja::{context, Value};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use time::OffsetDateTime;

/// One run to compare: its summary and the label it goes by in the report.
#[derive(Clone, Debug)]
pub struct CompareRun {
    pub label: String,
    /// The backend it measured: runs with the same backend are its repeats
    /// and share one column.
    pub(crate) backend: String,
    /// Where it was read from (a run folder or a summary.json).
    pub(crate) source: String,
    pub summary: Summary,
}

/// One backend of the comparison: which runs are its repeats.
#[derive(Clone, Debug)]
pub(crate) struct Column {
    pub(crate) label: String,
    /// Indices into the runs.
    pub(crate) runs: Vec<usize>,
}

/// A backend as compare.json names it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct ColumnRef {
    pub(crate) label: String,
    /// The labels of its runs.
    pub(crate) runs: Vec<String>,
}

/// What compare.json holds.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Comparison {
    pub runs: Vec<RunRef>,
    /// One per backend, in the order the figures' `values` are.
    #[serde(default)]
    pub(crate) columns: Vec<ColumnRef>,
    /// What one backend got and another did not (a fault, settings): the
    /// figures of those backends do not measure the same thing.
    #[serde(default)]
    pub not_comparable: Vec<String>,
    /// Why no difference can be marked at all, when that is so.
    #[serde(default)]
    pub no_stars: Option<String>,
    /// "all requests" first, then every request name any run has.
    pub requests: Vec<RequestComparison>,
}

/// Groups runs by backend, in the order each backend first appears.
fn columns(runs: &[CompareRun]) -> Vec<Column> {
    let mut columns: Vec<Column> = Vec::new();
    for (i, run) in runs.iter().enumerate() {
        match columns.iter_mut().find(|c| c.label == run.backend) {
            Some(c) => c.runs.push(i),
            None => columns.push(Column {
                label: run.backend.clone(),
                runs: vec![i],
            }),
        }
    }
    columns
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunRef {
    pub(crate) label: String,
    pub(crate) source: String,
    pub(crate) scenario: String,
    pub(crate) target: String,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) started_at: OffsetDateTime,
    pub(crate) duration_s: f64,
    pub(crate) seed: u64,
    pub(crate) verdict: Verdict,
    pub(crate) interrupted: bool,
    pub faults: Vec<FaultSummary>,
}

/// What `write_comparison_report` produced.
#[derive(Clone, Debug)]
pub struct CompareReport {
    pub dir: PathBuf,
    pub comparison: Comparison,
}

/// Reads each run folder (or summary.json) and labels it: by target when the
/// targets differ, else by the run folder's name; labels are made unique.
pub fn load_runs(paths: &[PathBuf]) -> Result<Vec<CompareRun>> {
    if paths.len() < 2 {
        bail!(
            "compare needs at least two runs (run folders or summary.json files), got {}",
            paths.len()
        );
    }
    let summaries = paths
        .iter()
        .map(|p| crate::summary::read(p))
        .collect::<Result<Vec<_>>>()?;
    let targets_differ = summaries
        .iter()
        .any(|s| s.run.meta.target != summaries[0].run.meta.target);
    let mut runs: Vec<CompareRun> = Vec::new();
    for (path, summary) in paths.iter().zip(summaries) {
        let folder = if path.is_dir() {
            path.as_path()
        } else {
            path.parent().unwrap_or(path)
        };
        let folder = std::fs::canonicalize(folder).unwrap_or_else(|_| folder.to_path_buf());
        let mut label = if targets_differ {
            summary.run.meta.target.clone()
        } else {
            folder.file_name().map_or_else(
                || path.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            )
        };
        let base = label.clone();
        let mut n = 2;
        while runs.iter().any(|r| r.label == label) {
            label = format!("{base} #{n}");
            n += 1;
        }
        runs.push(CompareRun {
            // Folders of one target are its repeats; otherwise each run stands alone.
            backend: if targets_differ {
                summary.run.meta.target.clone()
            } else {
                label.clone()
            },
            label,
            source: path.display().to_string(),
            summary,
        });
    }
    Ok(runs)
}

/// The figures side by side, one column per backend.
pub(crate) fn compare(runs: &[CompareRun]) -> Comparison {
    let columns = columns(runs);
    let summaries: Vec<&Summary> = runs.iter().map(|r| &r.summary).collect();
    let few = columns.iter().any(|c| c.runs.len() < noise::MIN_RUNS);
    Comparison {
        columns: columns
            .iter()
            .map(|c| ColumnRef {
                label: c.label.clone(),
                runs: c.runs.iter().map(|&i| runs[i].label.clone()).collect(),
            })
            .collect(),
        not_comparable: fairness::not_comparable(runs, &columns),
        no_stars: few.then(|| noise::TOO_FEW_RUNS.to_string()),
        runs: runs
            .iter()
            .map(|r| RunRef {
                label: r.label.clone(),
                source: r.source.clone(),
                scenario: r.summary.run.meta.scenario.clone(),
                target: r.summary.run.meta.target.clone(),
                started_at: r.summary.run.meta.started_at,
                duration_s: r.summary.run.duration_s,
                seed: r.summary.run.meta.seed,
                verdict: r.summary.verdict,
                interrupted: r.summary.run.interrupted,
                faults: r.summary.faults.clone(),
            })
            .collect(),
        requests: table::request_comparisons(&summaries, &columns),
    }
}

/// Writes compare.html, compare.json and compare.md into a new folder
/// `reports_root/compare/<UTC timestamp>/` and points `compare/latest` at it.
pub fn write_comparison_report(runs: &[CompareRun], reports_root: &Path) -> Result<CompareReport> {
    let dir = create_run_dir(reports_root, "compare", OffsetDateTime::now_utc())?;
    let comparison = write_comparison_files(runs, &dir)?;
    point_latest(&dir)?;
    Ok(CompareReport { dir, comparison })
}

/// Writes compare.html, compare.json and compare.md into `dir`.
pub(crate) fn write_comparison_files(runs: &[CompareRun], dir: &Path) -> Result<Comparison> {
    let comparison = compare(runs);
    let (charts, notes) = charts::compare_charts(runs);
    let scenarios: Vec<&str> = {
        let mut s: Vec<&str> = runs
            .iter()
            .map(|r| r.summary.run.meta.scenario.as_str())
            .collect();
        s.dedup();
        s
    };
    let env = environment();
    let ctx = context! {
        comparison => Value::from_serialize(&comparison),
        charts => Value::from_serialize(&charts),
        notes => notes,
        scenarios => scenarios,
        colors => crate::report::charts::PALETTE
            .iter()
            .map(|c| format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2))
            .collect::<Vec<_>>(),
        generated_at => OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
    };
    let html = env
        .get_template("compare.html")?
        .render(&ctx)
        .context("rendering compare.html")?;
    let md = env
        .get_template("compare.md")?
        .render(&ctx)
        .context("rendering compare.md")?;
    std::fs::write(dir.join("compare.html"), html).context("writing compare.html")?;
    std::fs::write(dir.join("compare.md"), md).context("writing compare.md")?;
    let json = serde_json::to_vec_pretty(&comparison).context("serialising compare.json")?;
    std::fs::write(dir.join("compare.json"), json).context("writing compare.json")?;
    Ok(comparison)
}
