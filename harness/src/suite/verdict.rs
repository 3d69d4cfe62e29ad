//! What the terminal is told after repeated runs: the baseline verdict
//! (which figure, by how much, with what confidence, and what to do when
//! noise hides the answer), or the spread between repeats of one run.

use super::{Ran, EXIT_INCONCLUSIVE};
use crate::gate::{
    compare_to_baseline, noise_floor, Metric, NoiseFloor, Permille, RegressionVerdict, Tolerance,
};
use crate::report::{self, Summary};
use crate::run::RunError;
use std::io::Write;

/// Judges the candidate runs against the baseline, writes baseline.json,
/// baseline.md and baseline-junit.xml into the last candidate run's folder,
/// prints the verdict, and returns its exit code (0 PASS, 1 FAIL, 5 INCONCLUSIVE).
pub(super) fn judge(
    baseline: &[Summary],
    candidate: &[Ran],
    tolerances: &[Tolerance],
    out: &mut dyn Write,
) -> Result<u8, RunError> {
    let summaries: Vec<Summary> = candidate.iter().map(|r| r.summary.clone()).collect();
    let cmp = compare_to_baseline(baseline, &summaries, tolerances);
    let dir = &candidate
        .last()
        .expect("a suite makes at least one run")
        .dir;
    report::write_baseline_files(dir, &cmp).map_err(RunError::Failed)?;
    for warning in mismatches(baseline, &summaries) {
        let _ = writeln!(out, "warning: {warning}");
    }
    let _ = writeln!(
        out,
        "against the baseline ({} baseline run(s), {} candidate run(s)):",
        cmp.baseline_runs, cmp.candidate_runs
    );
    for check in &cmp.checks {
        let _ = writeln!(out, "  {:<12} {}", check.verdict.label(), check.message);
    }
    let failing: Vec<String> = cmp
        .checks
        .iter()
        .filter(|c| c.verdict == cmp.verdict && c.verdict != RegressionVerdict::Pass)
        .map(|c| {
            let ci = match (c.ci_low, c.ci_high) {
                (Some(lo), Some(hi)) => {
                    format!(", 95% CI {} to {}", c.show_change(lo), c.show_change(hi))
                }
                _ => String::new(),
            };
            format!(
                "{} {}{ci} (allowed {})",
                c.tolerance.metric.label(),
                c.show_change(c.worsening),
                c.show_change(c.allowed)
            )
        })
        .collect();
    let headline = match cmp.verdict {
        RegressionVerdict::Pass => "every figure is within its tolerance".to_string(),
        RegressionVerdict::Fail => format!("worse than the baseline: {}", failing.join("; ")),
        RegressionVerdict::Inconclusive => {
            format!("noise hides the answer for {}", failing.join("; "))
        }
    };
    let _ = writeln!(
        out,
        "baseline verdict: {} — {headline}",
        cmp.verdict.label()
    );
    if let Some(advice) = &cmp.advice {
        let _ = writeln!(out, "advice: {advice}");
    }
    let _ = writeln!(out, "baseline: {}", dir.join("baseline.md").display());
    let _ = writeln!(out, "report: {}", dir.join("index.html").display());
    Ok(match cmp.verdict {
        RegressionVerdict::Pass => 0,
        RegressionVerdict::Fail => 1,
        RegressionVerdict::Inconclusive => EXIT_INCONCLUSIVE,
    })
}

/// What makes baseline and candidate not the same experiment.
fn mismatches(baseline: &[Summary], candidate: &[Summary]) -> Vec<String> {
    let (Some(b), Some(c)) = (baseline.first(), candidate.first()) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    if b.run.scenario != c.run.scenario {
        found.push(format!(
            "the baseline ran scenario {:?}, the candidate {:?}: the figures may not be comparable",
            b.run.scenario, c.run.scenario
        ));
    }
    if b.run.seed != c.run.seed {
        found.push(format!(
            "the baseline ran with seed {}, the candidate with seed {}: they sent different requests",
            b.run.seed, c.run.seed
        ));
    }
    let planned = |s: &Summary| s.run.planned_duration_s;
    if (planned(b) - planned(c)).abs() > 0.5 {
        found.push(format!(
            "the baseline was planned for {:.0} s, the candidate for {:.0} s",
            planned(b),
            planned(c)
        ));
    }
    found
}

/// The spread of p95 and throughput over repeats of one run.
pub(super) fn print_spread(runs: &[Ran], out: &mut dyn Write) {
    let summaries: Vec<Summary> = runs.iter().map(|r| r.summary.clone()).collect();
    let p95 = noise_floor(&summaries, Metric::Percentile(Permille::P95));
    let rps = noise_floor(&summaries, Metric::Throughput);
    match (p95, rps) {
        (None, None) => {
            let _ = writeln!(
                out,
                "spread: fewer than two runs with requests, nothing to compare"
            );
        }
        (p95, rps) => {
            let _ = writeln!(out, "spread over {} runs:", summaries.len());
            if let Some(f) = p95 {
                let _ = writeln!(out, "  {}", spread_line(&f, "ms"));
            }
            if let Some(f) = rps {
                let _ = writeln!(out, "  {}", spread_line(&f, "/s"));
            }
        }
    }
}

/// "p95 median 52.10 ms (min 50.20, max 55.00): spread 9.2%, 95% CI of the median ±3.1%".
pub fn spread_line(f: &NoiseFloor, unit: &str) -> String {
    let unit = if unit == "/s" {
        unit.to_string()
    } else {
        format!(" {unit}")
    };
    format!(
        "{} median {:.2}{unit} (min {:.2}, max {:.2} over {} runs): spread {:.1}%, 95% CI of the median ±{:.1}%",
        f.metric,
        f.median,
        f.min,
        f.max,
        f.runs,
        f.spread * 100.0,
        f.ci_half_width * 100.0
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spread_line_names_the_figure_its_range_and_its_interval() {
        let f = NoiseFloor {
            metric: "p95".into(),
            runs: 5,
            median: 50.0,
            min: 48.0,
            max: 53.0,
            spread: 0.1,
            ci_half_width: 0.03,
        };
        assert_eq!(
            spread_line(&f, "ms"),
            "p95 median 50.00 ms (min 48.00, max 53.00 over 5 runs): spread 10.0%, 95% CI of the median ±3.0%"
        );
    }
}
