//! The outputs of a baseline comparison: baseline.json, baseline.md (for a
//! CI job summary), baseline-junit.xml (one test case per tolerance;
//! INCONCLUSIVE is "skipped"), the "Against the baseline" section of the
//! candidate's index.html (through [`baseline_context`]), and the verdict and
//! the spread of repeats as the terminal shows them.

use super::templates::environment;
use crate::baseline::{BaselineComparison, NoiseFloor, RegressionCheck, RegressionVerdict};
use anyhow::{Context, Result};
use minijinja::{context, Value};
use std::io::Write;
use std::path::Path;

/// baseline.json: the comparison as data.
pub(crate) fn baseline_json(cmp: &BaselineComparison) -> Result<String> {
    serde_json::to_string_pretty(cmp).context("serialising baseline.json")
}

pub(crate) fn baseline_markdown(cmp: &BaselineComparison) -> Result<String> {
    environment()
        .get_template("baseline.md")?
        .render(baseline_context(cmp))
        .context("rendering baseline.md")
}

pub(crate) fn baseline_junit(cmp: &BaselineComparison) -> Result<String> {
    environment()
        .get_template("baseline-junit.xml")?
        .render(baseline_context(cmp))
        .context("rendering baseline-junit.xml")
}

/// What the baseline templates (and index.html's baseline section) see.
pub(super) fn baseline_context(cmp: &BaselineComparison) -> Value {
    let checks: Vec<Value> = cmp.checks.iter().map(check_row).collect();
    let count = |v| cmp.checks.iter().filter(|c| c.verdict == v).count();
    context! {
        verdict_label => cmp.verdict.label(),
        icon => match cmp.verdict {
            RegressionVerdict::Pass => "✅",
            RegressionVerdict::Fail => "❌",
            RegressionVerdict::Inconclusive => "❔",
        },
        baseline_runs => cmp.baseline_runs,
        candidate_runs => cmp.candidate_runs,
        advice => &cmp.advice,
        failures => count(RegressionVerdict::Fail),
        skipped => count(RegressionVerdict::Inconclusive),
        checks => checks,
    }
}

fn check_row(c: &RegressionCheck) -> Value {
    let change = |v: f64| c.show_change(v);
    let value = |v: f64| c.show_value(v);
    context! {
        tolerance => c.tolerance.to_string(),
        verdict => Value::from_serialize(c.verdict),
        message => &c.message,
        baseline_text => value(c.baseline_median),
        candidate_text => value(c.candidate_median),
        worsening_text => change(c.worsening),
        allowed_text => change(c.allowed),
        ci_text => match (c.ci_low, c.ci_high) {
            (Some(lo), Some(hi)) => format!("{} to {}", change(lo), change(hi)),
            _ => "n/a (one run a side)".to_string(),
        },
    }
}

/// The verdict on the terminal: which figure, by how much, with what
/// confidence, and what to do when noise hides the answer; then where the
/// candidate's report is (`dir`, its run folder).
pub(crate) fn print_verdict(
    cmp: &BaselineComparison,
    warnings: &[String],
    dir: &Path,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    for warning in warnings {
        writeln!(out, "warning: {warning}")?;
    }
    writeln!(
        out,
        "against the baseline ({} baseline run(s), {} candidate run(s)):",
        cmp.baseline_runs, cmp.candidate_runs
    )?;
    for check in &cmp.checks {
        writeln!(out, "  {:<12} {}", check.verdict.label(), check.message)?;
    }
    let failing: Vec<String> = cmp
        .checks
        .iter()
        .filter(|c| c.verdict == cmp.verdict && c.verdict != RegressionVerdict::Pass)
        .map(failing_line)
        .collect();
    let headline = match cmp.verdict {
        RegressionVerdict::Pass => "every figure is within its tolerance".to_string(),
        RegressionVerdict::Fail => format!("worse than the baseline: {}", failing.join("; ")),
        RegressionVerdict::Inconclusive => {
            format!("noise hides the answer for {}", failing.join("; "))
        }
    };
    writeln!(
        out,
        "baseline verdict: {} — {headline}",
        cmp.verdict.label()
    )?;
    if let Some(advice) = &cmp.advice {
        writeln!(out, "advice: {advice}")?;
    }
    writeln!(out, "baseline: {}", dir.join("baseline.md").display())?;
    writeln!(out, "report: {}", dir.join("index.html").display())
}

/// "p95 +30.1%, 95% CI +25.0% to +35.2% (allowed +10.0%)".
fn failing_line(c: &RegressionCheck) -> String {
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
}

/// The spread of p95 and throughput over repeats of one run (`None` for a
/// figure fewer than two runs had).
pub(crate) fn print_spread(
    runs: usize,
    p95: Option<&NoiseFloor>,
    rps: Option<&NoiseFloor>,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    if p95.is_none() && rps.is_none() {
        return writeln!(
            out,
            "spread: fewer than two runs with requests, nothing to compare"
        );
    }
    writeln!(out, "spread over {runs} runs:")?;
    if let Some(f) = p95 {
        writeln!(out, "  {}", spread_line(f, "ms"))?;
    }
    if let Some(f) = rps {
        writeln!(out, "  {}", spread_line(f, "/s"))?;
    }
    Ok(())
}

/// "p95 median 52.10 ms (min 50.20, max 55.00): spread 9.2%, 95% CI of the median ±3.1%".
pub(crate) fn spread_line(f: &NoiseFloor, unit: &str) -> String {
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
