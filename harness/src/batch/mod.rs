//! A batch: several runs made one after another, and what is concluded from
//! them:
//!
//! - several targets: the same seeded scenario against each backend,
//!   interleaved A B A B (for `--repeat`), then one comparison report;
//! - `--baseline` / `--baseline-target`: candidate runs judged against the
//!   baseline's with the noise-aware regression check (PASS / FAIL /
//!   INCONCLUSIVE), base and candidate interleaved when both run here; the
//!   last candidate run's report carries the verdict;
//! - `--repeat N` alone: N runs and the spread between them (the noise floor);
//! - `harness capacity` (`capacity`): one run per offered rate of the search;
//! - `harness compare` (`compare`): finished runs set side by side.
//!
//! Every run's summary is kept in memory as it ends; only `--baseline` runs
//! and `harness compare` read summary.json from their folders.
//! goose keeps process-wide state, so runs here are strictly one after another.

pub(crate) mod capacity;
mod checks;
mod compare;
mod plan;
mod target;

pub(crate) use capacity::CapacityPlan;
pub use capacity::{capacity, CapacityArgs};
pub use compare::compare_runs;
pub(crate) use plan::Lane;
pub use plan::Plan;

use crate::baseline::{self, BaselineComparison};
use crate::exit::{self, worse};
use crate::report;
use crate::run::{self, RunArgs, RunError};
use crate::slo::{Metric, Permille};
use crate::summary::Summary;
use std::io::Write;
use std::path::PathBuf;

/// Everything `harness run` takes when it makes more than one run.
#[derive(Clone, Debug)]
pub struct BatchArgs {
    /// The run itself; its `target` is used when `targets` is empty.
    pub run: RunArgs,
    /// `--target`, repeatable: http(s) URLs or `bundled:<profile>`.
    pub targets: Vec<String>,
    /// `--repeat N`: runs per target (at least 1).
    pub repeat: usize,
    /// `--baseline`, repeatable: run folders or summary.json files of earlier
    /// runs; several give the baseline's own noise.
    pub baseline: Vec<PathBuf>,
    /// `--baseline-target`: a backend run as the baseline, interleaved with the candidate.
    pub baseline_target: Option<String>,
    /// `--max-regression`, e.g. `p95=10%,shed-rate=+1pt,throughput=-5%`.
    pub max_regression: Option<String>,
}

/// A finished run: its folder, summary and exit code.
struct Ran {
    dir: PathBuf,
    summary: Summary,
    exit_code: u8,
}

/// Builds the plan of these arguments and executes it (see `execute`).
pub async fn run_batch(args: &BatchArgs, out: &mut dyn Write) -> Result<u8, RunError> {
    execute(Plan::build(args)?, out).await
}

/// Makes every run of the plan, strictly one after another, then writes the
/// comparison, the baseline verdict or the spread; returns the exit code.
pub(crate) async fn execute(mut plan: Plan, out: &mut dyn Write) -> Result<u8, RunError> {
    for line in &plan.from_history {
        let _ = writeln!(out, "{line}");
    }
    let (worst, verdict) = run_all(&mut plan, out).await?;
    let lanes = &plan.lanes;
    if worst == exit::INTERRUPTED {
        // A single run has said so already, above its report's path (the last line).
        if !plan.is_single() {
            let _ = writeln!(
                out,
                "interrupted: no verdict or comparison from an incomplete set of runs"
            );
        }
        return Ok(worst);
    }
    if let Some(cmp) = verdict {
        return conclude_baseline(&plan, &cmp, out);
    }
    if lanes.len() > 1 {
        let cmp = compare::compare_lanes(lanes, &plan.reports_dir, plan.repeat, "report", out)?;
        // A side that fails its gates fails the comparison (CI must see it);
        // the report still sets every side beside the others.
        return Ok(compare::comparison_exit(lanes, &cmp, out));
    }
    if plan.repeat > 1 {
        print_spread(&lanes[0].runs, out);
    }
    Ok(worst)
}

/// Every run, rounds of one run per lane; the last candidate run's report is
/// written with the verdict against the baseline when the batch judges one.
/// Returns the worst exit code and that verdict.
async fn run_all(
    plan: &mut Plan,
    out: &mut dyn Write,
) -> Result<(u8, Option<BaselineComparison>), RunError> {
    // A single run prints exactly what `run::run` prints.
    let single = plan.is_single();
    let last_lane = plan.lanes.len() - 1;
    let mut worst = exit::PASS;
    let mut verdict = None;
    for round in 1..=plan.repeat {
        for i in 0..plan.lanes.len() {
            let lane = &plan.lanes[i];
            if !single {
                let _ = writeln!(out, "run {round} of {}: {}", plan.repeat, lane.label);
            }
            let mut lane_args = lane.args.clone();
            if !single {
                lane_args.live.context =
                    Some(format!("run {round} of {}: {}", plan.repeat, lane.label));
            }
            let measured =
                run::measure(lane.scenario.clone(), &lane.gates, &lane_args, out).await?;
            let judged_last = plan.judging && round == plan.repeat && i == last_lane;
            if judged_last && !measured.record.interrupted() {
                verdict = Some(judge(plan, &measured.summary));
            }
            let run_args = &plan.lanes[i].args;
            let outcome = run::write_report(measured, verdict.as_ref(), run_args, out)?;
            worst = worse(worst, outcome.exit_code);
            plan.lanes[i].runs.push(Ran {
                dir: outcome.report_dir,
                summary: outcome.summary,
                exit_code: outcome.exit_code,
            });
            if outcome.interrupted {
                return Ok((worst, None));
            }
        }
    }
    Ok((worst, verdict))
}

/// The baseline's runs (read from disk, and those of a baseline target run
/// here) and the candidate's (with `last`, the run just ended).
fn sides(plan: &Plan, last: &Summary) -> (Vec<Summary>, Vec<Summary>) {
    let summaries = |lane: &Lane| {
        lane.runs
            .iter()
            .map(|r| r.summary.clone())
            .collect::<Vec<_>>()
    };
    let mut base = plan.baseline.clone();
    if plan.baseline_target {
        base.extend(summaries(&plan.lanes[0]));
    }
    let mut candidate = summaries(plan.lanes.last().expect("a batch has a lane"));
    candidate.push(last.clone());
    (base, candidate)
}

/// The candidate runs judged against the baseline's.
fn judge(plan: &Plan, last: &Summary) -> BaselineComparison {
    let (base, candidate) = sides(plan, last);
    baseline::compare_to_baseline(&base, &candidate, &plan.tolerances)
}

/// After a judged batch: base and candidate side by side (when both ran
/// here), the verdict printed, and the exit code: the verdict's, or worse
/// when the candidate's own gates failed or a run was invalid.
fn conclude_baseline(
    plan: &Plan,
    cmp: &BaselineComparison,
    out: &mut dyn Write,
) -> Result<u8, RunError> {
    let lanes = &plan.lanes;
    let candidate = lanes.last().expect("a batch has a lane");
    let base_runs: &[Ran] = match plan.baseline_target {
        true => &lanes[0].runs,
        false => &[],
    };
    if plan.baseline_target {
        // The comparison of base and candidate; the verdict comes last.
        compare::compare_lanes(lanes, &plan.reports_dir, plan.repeat, "comparison", out)?;
    }
    let mut base: Vec<Summary> = plan.baseline.clone();
    base.extend(base_runs.iter().map(|r| r.summary.clone()));
    let cand: Vec<Summary> = candidate.runs.iter().map(|r| r.summary.clone()).collect();
    let dir = &candidate.runs.last().expect("a judged batch ran").dir;
    let _ = report::baseline::print_verdict(cmp, &baseline::mismatches(&base, &cand), dir, out);
    let code = match cmp.verdict {
        baseline::RegressionVerdict::Pass => exit::PASS,
        baseline::RegressionVerdict::Fail => exit::GATE_FAILED,
        baseline::RegressionVerdict::Inconclusive => exit::INCONCLUSIVE,
    };
    // The candidate's own gates count; the baseline's do not (it is only the
    // yardstick), unless its runs were invalid measurements.
    let base_invalid = base_runs.iter().any(|r| r.exit_code == exit::INVALID);
    let start = if base_invalid {
        exit::INVALID
    } else {
        exit::PASS
    };
    let own = candidate
        .runs
        .iter()
        .map(|r| r.exit_code)
        .fold(start, worse);
    Ok(worse(own, code))
}

/// The spread of p95 and throughput over repeats of one run.
fn print_spread(runs: &[Ran], out: &mut dyn Write) {
    let summaries: Vec<Summary> = runs.iter().map(|r| r.summary.clone()).collect();
    let p95 = baseline::noise_floor(&summaries, Metric::Percentile(Permille::P95));
    let rps = baseline::noise_floor(&summaries, Metric::Throughput);
    let _ = report::baseline::print_spread(summaries.len(), p95.as_ref(), rps.as_ref(), out);
}
