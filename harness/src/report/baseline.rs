//! The outputs of a baseline comparison, written beside the candidate's run
//! report: baseline.json, baseline.md (for a CI job summary) and
//! baseline-junit.xml (one test case per tolerance; INCONCLUSIVE is "skipped").

use super::templates::environment;
use crate::gate::{BaselineComparison, RegressionCheck, RegressionVerdict};
use anyhow::{Context, Result};
use minijinja::{context, Value};
use std::path::Path;

pub fn write_baseline_files(dir: &Path, cmp: &BaselineComparison) -> Result<()> {
    let json = serde_json::to_vec_pretty(cmp).context("serialising baseline.json")?;
    std::fs::write(dir.join("baseline.json"), json).context("writing baseline.json")?;
    std::fs::write(dir.join("baseline.md"), baseline_markdown(cmp)?)
        .context("writing baseline.md")?;
    std::fs::write(dir.join("baseline-junit.xml"), baseline_junit(cmp)?)
        .context("writing baseline-junit.xml")?;
    Ok(())
}

pub fn baseline_markdown(cmp: &BaselineComparison) -> Result<String> {
    environment()
        .get_template("baseline.md")?
        .render(ctx(cmp))
        .context("rendering baseline.md")
}

pub fn baseline_junit(cmp: &BaselineComparison) -> Result<String> {
    environment()
        .get_template("baseline-junit.xml")?
        .render(ctx(cmp))
        .context("rendering baseline-junit.xml")
}

fn ctx(cmp: &BaselineComparison) -> Value {
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
