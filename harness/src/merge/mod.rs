//! `harness merge DIR... [-o OUT]`: the run folders of a sharded run's shards
//! become one run folder with the same layout and schema as a single run
//! (summary.json, index.html, summary.md, junit.xml, .hlog) and one verdict.
//!
//! Shards → [`shards::read_all`] (read and checked as one run) →
//! [`combine::merged_record`] (histograms added, counts summed) → the
//! summary and its gates, judged on the merged run → the shared renderer.

mod combine;
mod shards;

pub use shards::SetError;

use crate::gate::Gate;
use crate::record::RunRecord;
use crate::report::{self, Summary, Verdict};
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
    pub quiet: bool,
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
    pub fn exit_code(&self) -> u8 {
        match self {
            MergeError::Set(_) | MergeError::Usage(_) => 2,
            MergeError::Failed(_) => 3,
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
    let mut summary = report::summarize(&record, &all_gates);
    summary.shards = combine::shard_rows(&runs);
    if let Some(why) = combine::saturated_shards(&summary.shards) {
        summary.generator.saturation = Some(why);
        rejudge(&mut summary, &all_gates);
    }
    let dir = output_dir(args, &record)?;
    report::write_report_files(&record, &mut summary, &dir)
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
    let _ = writeln!(out, "report: {}", dir.join("index.html").display());
    Ok(match (record.interrupted, summary.verdict) {
        (true, _) => crate::run::EXIT_INTERRUPTED,
        (false, Verdict::Pass) => 0,
        (false, Verdict::GateFailed) => 1,
        (false, Verdict::Invalid) => 4,
    })
}

/// Gates and verdict again, after the merged run learnt it is invalid.
fn rejudge(summary: &mut Summary, gates: &[Gate]) {
    summary.gates = crate::gate::evaluate(summary, gates);
    let (verdict, reason) = crate::gate::verdict(summary);
    summary.verdict = verdict;
    summary.verdict_reason = reason;
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
