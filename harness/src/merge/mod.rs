//! `harness merge DIR... [-o OUT]`: the run folders of a sharded run's shards
//! become one run folder with the same layout and schema as a single run
//! (summary.json, index.html, summary.md, junit.xml, .hlog) and one verdict.
//!
//! Shards → `shards::read_all` (read and checked as one run) →
//! `combine::merged_record` (histograms added, counts summed) → the
//! summary and its gates, judged on the merged run → the shared renderer.

mod combine;
mod shards;

pub(crate) use shards::SetError;

use crate::baseline::{self, DEFAULT_TOLERANCES};
use crate::exit;
use crate::record::RunRecord;
use crate::report;
use crate::slo::Gate;
use crate::slo::{parse_tolerances, Tolerance};
use crate::summary::{self, Summary};
use anyhow::Context;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Everything `harness merge` takes.
#[derive(Clone, Debug)]
pub struct MergeArgs {
    /// The shards' run folders.
    pub dirs: Vec<PathBuf>,
    /// The merged run folder; `None` makes `<reports_dir>/<scenario>/<UTC timestamp>/`.
    pub out: Option<PathBuf>,
    pub reports_dir: PathBuf,
    /// Gates added to the scenario's (which the shards' summaries carry).
    pub gates: Vec<String>,
    /// Earlier runs (folders or summary.json) the merged run is judged against.
    pub baseline: Vec<PathBuf>,
    /// How much worse than the baseline a figure may get (default `DEFAULT_TOLERANCES`).
    pub max_regression: Option<String>,
    pub quiet: bool,
    /// Where the merged run is recorded.
    pub history: crate::history::HistoryOptions,
}

/// Why a merge could not happen.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("{0}")]
    Set(#[from] SetError),
    #[error("{0}")]
    Usage(String),
    #[error("{0:#}")]
    Failed(anyhow::Error),
}

impl MergeError {
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            MergeError::Set(_) | MergeError::Usage(_) => exit::USAGE,
            MergeError::Failed(_) => exit::INTERNAL,
        }
    }
}

/// Merges the shards, writes the merged run's report and returns its exit
/// code: 0 pass, 1 a gate failed, 4 a shard's generator fell behind.
pub fn merge(args: &MergeArgs, out: &mut dyn Write) -> Result<u8, MergeError> {
    let mut gates: Vec<Gate> = Vec::new();
    for g in &args.gates {
        gates.push(
            g.parse()
                .map_err(|e| MergeError::Usage(format!("--gate {g:?}: {e}")))?,
        );
    }
    let judged = baseline_of(args)?;
    let runs = shards::read_all(&args.dirs)?;
    // The scenario's and the command line's gates, as every shard judged them.
    let mut all_gates: Vec<Gate> = runs[0]
        .summary
        .gates
        .iter()
        .map(|r| r.gate.clone())
        .collect();
    all_gates.extend(gates);
    let record = combine::merged_record(&runs);
    let mut summary = crate::summary::compute(&record);
    // Only shard 0 scrapes the target's metrics: its series are the run's.
    summary.server_metrics = runs[0].summary.server_metrics.clone();
    crate::gate::judge(&mut summary, &all_gates);
    summary.shards = combine::shard_rows(&runs);
    if let Some(why) = combine::saturated_shards(&summary.shards) {
        summary.generator.saturation = Some(why);
        summary.generator.saturation_effect = Some(crate::summary::SaturationEffect::Invalid);
        crate::gate::judge(&mut summary, &all_gates);
    }
    let dir = output_dir(args, &record)?;
    let cmp = judged.as_ref().map(|(base, tol)| {
        baseline::compare_to_baseline(base, std::slice::from_ref(&summary), tol)
    });
    report::write_report_files(&record, &mut summary, cmp.as_ref(), &dir)
        .context("writing the merged report")
        .map_err(MergeError::Failed)?;
    if !args.quiet {
        let _ = report::print_summary_table(&summary, out);
    }
    let _ = writeln!(
        out,
        "merged {} shards: {}",
        runs.len(),
        summary.verdict_reason
    );
    let mut code = exit::of_verdict(summary.verdict);
    if let (Some(cmp), Some((base, _))) = (&cmp, &judged) {
        let warnings = baseline::mismatches(base, std::slice::from_ref(&summary));
        let _ = report::baseline::print_verdict(cmp, &warnings, &dir, out);
        code = exit::worse(code, baseline::exit_code(cmp.verdict));
    }
    let recorded = crate::history::record_line(
        &args.history,
        &args.reports_dir,
        &summary,
        &record.recorder,
        Some(&dir),
    );
    if let Some(line) = recorded.filter(|l| !args.quiet || l.starts_with("note:")) {
        let _ = writeln!(out, "{line}");
    }
    let _ = writeln!(out, "report: {}", dir.join("index.html").display());
    Ok(code)
}

/// The `--baseline` runs and the tolerances to judge the merged run with.
type Judged = (Vec<Summary>, Vec<Tolerance>);

/// The `--baseline` runs (through the one summary.json reader) and the
/// tolerances, when the merged run is judged against a baseline.
fn baseline_of(args: &MergeArgs) -> Result<Option<Judged>, MergeError> {
    if args.baseline.is_empty() {
        return match &args.max_regression {
            Some(_) => Err(MergeError::Usage(
                "--max-regression needs a baseline: add --baseline <run folder>".into(),
            )),
            None => Ok(None),
        };
    }
    let text = args.max_regression.as_deref().unwrap_or(DEFAULT_TOLERANCES);
    let tolerances = parse_tolerances(text)
        .map_err(|e| MergeError::Usage(format!("--max-regression {text:?}: {e}")))?;
    let runs = args
        .baseline
        .iter()
        .map(|p| {
            summary::read(p)
                .map_err(|e| MergeError::Usage(format!("--baseline {}: {e:#}", p.display())))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some((runs, tolerances)))
}

/// `-o OUT` (made if missing, refused when it holds files), or a new run
/// folder under the reports folder with `latest` pointed at it.
fn output_dir(args: &MergeArgs, record: &RunRecord) -> Result<PathBuf, MergeError> {
    let Some(out) = &args.out else {
        let meta = &record.meta;
        let dir =
            report::output::create_run_dir(&args.reports_dir, &meta.scenario, meta.started_at)
                .map_err(MergeError::Failed)?;
        report::output::point_latest(&dir).map_err(MergeError::Failed)?;
        return Ok(dir);
    };
    if out.is_dir() && !is_empty(out) {
        return Err(MergeError::Usage(format!(
            "-o {}: the folder already holds files; give a new or an empty folder",
            out.display()
        )));
    }
    std::fs::create_dir_all(out)
        .with_context(|| format!("creating {}", out.display()))
        .map_err(MergeError::Failed)?;
    Ok(out.clone())
}

fn is_empty(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_none())
}
