//! `harness compare`: several runs (of the same scenario against different
//! backends, or before/after a change) set side by side in one self-contained
//! compare.html with overlaid charts, plus compare.json and compare.md. The
//! runs are read back from their summary.json, so any two report folders can
//! be compared.

mod charts;
mod table;

pub use table::{MetricRow, RequestComparison};

use super::output::{create_run_dir, point_latest};
use super::templates::environment;
use crate::summary::{FaultSummary, Summary, Verdict};
use anyhow::{bail, Context, Result};
use minijinja::{context, Value};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use time::OffsetDateTime;

/// The whole-run rows printed on the terminal (compare.html has them all).
const PRINTED: [&str; 6] = ["throughput", "p50", "p95", "p99", "shed-rate", "error-rate"];

/// One run to compare: its summary and the label it goes by in the report.
#[derive(Clone, Debug)]
pub struct CompareRun {
    pub label: String,
    /// Where it was read from (a run folder or a summary.json).
    pub source: String,
    pub summary: Summary,
}

impl CompareRun {
    /// A run just written by `write_run_report`, labelled e.g. by its target.
    pub fn from_report(label: impl Into<String>, report: &super::RunReport) -> Self {
        CompareRun {
            label: label.into(),
            source: report.dir.display().to_string(),
            summary: report.summary.clone(),
        }
    }
}

/// What compare.json holds.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Comparison {
    pub runs: Vec<RunRef>,
    /// "all requests" first, then every request name any run has.
    pub requests: Vec<RequestComparison>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunRef {
    pub label: String,
    pub source: String,
    pub scenario: String,
    pub target: String,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    pub duration_s: f64,
    pub seed: u64,
    pub verdict: Verdict,
    pub interrupted: bool,
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
            label,
            source: path.display().to_string(),
            summary,
        });
    }
    Ok(runs)
}

/// The figures side by side.
pub fn compare(runs: &[CompareRun]) -> Comparison {
    Comparison {
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
        requests: table::request_comparisons(runs),
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
pub fn write_comparison_files(runs: &[CompareRun], dir: &Path) -> Result<Comparison> {
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

/// The whole-run figures, one column per run, the best of each row marked `*`.
pub fn print_comparison_table(cmp: &Comparison, out: &mut dyn Write) -> std::io::Result<()> {
    let Some(all) = cmp.requests.first() else {
        return Ok(());
    };
    let width = cmp
        .runs
        .iter()
        .map(|r| r.label.chars().count())
        .max()
        .unwrap_or(0)
        .max(12);
    write!(out, "{:<12}", "")?;
    for run in &cmp.runs {
        write!(out, "  {:>width$}", run.label)?;
    }
    writeln!(out)?;
    for row in all
        .metrics
        .iter()
        .filter(|m| PRINTED.contains(&m.metric.as_str()))
    {
        write!(out, "{:<12}", row.metric)?;
        for (i, value) in row.values.iter().enumerate() {
            let text = match value {
                None => "-".to_string(),
                Some(v) => match row.unit.as_str() {
                    "%" => format!("{:.2}%", v * 100.0),
                    "ms" => format!("{v:.2} ms"),
                    unit => format!("{v:.1}{unit}"),
                },
            };
            let mark = if row.best == Some(i) { "*" } else { " " };
            write!(out, "  {:>w$}{mark}", text, w = width - 1)?;
        }
        writeln!(out)?;
    }
    Ok(())
}
