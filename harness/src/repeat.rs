//! Runs made of several runs: `--repeat N`, `--baseline` (judged with the
//! noise-aware regression check), `--baseline-target` (base and candidate
//! interleaved A B A B in the same job), and several `--target`s (the same
//! seeded scenario against each backend, interleaved, then compared).

use crate::gate::{compare_to_baseline, parse_tolerances, RegressionVerdict, Tolerance};
use crate::report::{self, Summary};
use crate::run::{self, RunArgs, RunError, RunOutcome, EXIT_INTERRUPTED};
use anyhow::Context;
use std::io::Write;
use std::path::PathBuf;

/// Tolerances used with `--baseline` when `--max-regression` is not given.
pub const DEFAULT_TOLERANCES: &str = "p95=10%,error-rate=+1pt,shed-rate=+1pt,throughput=-5%";

/// Exit code of an inconclusive baseline verdict (the noise hides the change).
pub const EXIT_INCONCLUSIVE: u8 = 5;

/// What makes a run several.
#[derive(Clone, Debug, Default)]
pub struct Multi {
    /// Backends to run the scenario against (two or more: compared).
    pub targets: Vec<String>,
    pub repeat: usize,
    /// Run folders or summary.json files of earlier runs to judge against.
    pub baselines: Vec<PathBuf>,
    /// A backend to run as the baseline, interleaved with the candidate.
    pub baseline_target: Option<String>,
    pub max_regression: Option<String>,
}

impl Multi {
    /// Whether this is a plain single run.
    pub fn is_single(&self) -> bool {
        self.targets.len() <= 1
            && self.repeat <= 1
            && self.baselines.is_empty()
            && self.baseline_target.is_none()
    }
}

/// Runs every run asked for, then writes the comparison or the baseline
/// verdict; returns the exit code.
pub async fn run_multi(args: &RunArgs, multi: &Multi, out: &mut dyn Write) -> Result<u8, RunError> {
    let repeat = multi.repeat.max(1);
    let judging = !multi.baselines.is_empty() || multi.baseline_target.is_some();
    if judging && multi.targets.len() > 1 {
        return Err(RunError::Usage(
            "--baseline judges one candidate: give at most one --target with it".into(),
        ));
    }
    let tolerances: Vec<Tolerance> = if judging {
        let text = multi
            .max_regression
            .as_deref()
            .unwrap_or(DEFAULT_TOLERANCES);
        parse_tolerances(text)
            .map_err(|e| RunError::Usage(format!("--max-regression {text:?}: {e}")))?
    } else {
        Vec::new()
    };
    let mut baseline: Vec<Summary> = multi
        .baselines
        .iter()
        .map(|p| report::read_summary(p).map_err(|e| RunError::Usage(format!("--baseline: {e:#}"))))
        .collect::<Result<_, _>>()?;
    // Lanes: (label, target); the baseline target's runs go first in each round.
    let mut lanes: Vec<(String, Option<String>)> = Vec::new();
    if let Some(b) = &multi.baseline_target {
        lanes.push(("baseline".into(), Some(b.clone())));
    }
    match multi.targets.as_slice() {
        [] => lanes.push(("candidate".into(), args.target.clone())),
        targets => lanes.extend(targets.iter().map(|t| (t.clone(), Some(t.clone())))),
    }
    let mut runs: Vec<Vec<RunOutcome>> = lanes.iter().map(|_| Vec::new()).collect();
    let mut worst = 0u8;
    'rounds: for round in 0..repeat {
        for (lane, (label, target)) in lanes.iter().enumerate() {
            let _ = writeln!(out, "run {} of {repeat}: {label}", round + 1);
            let one = RunArgs {
                target: target.clone(),
                ..args.clone()
            };
            let outcome = run::run(&one, out).await?;
            worst = worse(worst, outcome.exit_code);
            let interrupted = outcome.interrupted;
            runs[lane].push(outcome);
            if interrupted {
                break 'rounds;
            }
        }
    }
    if worst == EXIT_INTERRUPTED {
        return Ok(worst);
    }
    let summaries = |outcomes: &[RunOutcome]| -> Result<Vec<Summary>, RunError> {
        outcomes
            .iter()
            .map(|o| report::read_summary(&o.report_dir).map_err(RunError::Failed))
            .collect()
    };
    if judging {
        let (base_runs, cand_runs) = match multi.baseline_target {
            Some(_) => (&runs[0], &runs[1]),
            None => (&runs[0], &runs[0]),
        };
        if multi.baseline_target.is_some() {
            baseline.extend(summaries(base_runs)?);
        }
        let candidate = summaries(cand_runs)?;
        let cmp = compare_to_baseline(&baseline, &candidate, &tolerances);
        let dir = &cand_runs.last().expect("at least one run").report_dir;
        report::write_baseline_files(dir, &cmp).map_err(RunError::Failed)?;
        for check in &cmp.checks {
            let _ = writeln!(
                out,
                "baseline {:<12} {}",
                check.verdict.label(),
                check.message
            );
        }
        if let Some(advice) = &cmp.advice {
            let _ = writeln!(out, "advice: {advice}");
        }
        let _ = writeln!(
            out,
            "baseline verdict: {} ({})",
            cmp.verdict.label(),
            dir.join("baseline.md").display()
        );
        let _ = writeln!(out, "report: {}", dir.join("index.html").display());
        return Ok(match cmp.verdict {
            RegressionVerdict::Fail => 1,
            RegressionVerdict::Inconclusive => worse(worst, EXIT_INCONCLUSIVE),
            RegressionVerdict::Pass => worst,
        });
    }
    if lanes.len() > 1 {
        let dirs: Vec<PathBuf> = runs
            .iter()
            .flatten()
            .map(|o| o.report_dir.clone())
            .collect();
        let loaded = report::compare::load_runs(&dirs).map_err(RunError::Failed)?;
        let written = report::compare::write_comparison_report(&loaded, &args.reports_dir)
            .context("writing the comparison")
            .map_err(RunError::Failed)?;
        let _ = writeln!(
            out,
            "report: {}",
            written.dir.join("compare.html").display()
        );
    }
    Ok(worst)
}

/// The more serious of two exit codes: interrupted, then invalid, gate failed, inconclusive, pass.
fn worse(a: u8, b: u8) -> u8 {
    let rank = |c: u8| match c {
        EXIT_INTERRUPTED => 5,
        4 => 4,
        1 => 3,
        EXIT_INCONCLUSIVE => 2,
        0 => 0,
        _ => 1,
    };
    if rank(b) > rank(a) {
        b
    } else {
        a
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worst_exit_code_wins() {
        assert_eq!(worse(0, 1), 1);
        assert_eq!(worse(1, 4), 4);
        assert_eq!(worse(4, 1), 4);
        assert_eq!(worse(EXIT_INCONCLUSIVE, 1), 1);
        assert_eq!(worse(0, EXIT_INTERRUPTED), EXIT_INTERRUPTED);
    }
}
