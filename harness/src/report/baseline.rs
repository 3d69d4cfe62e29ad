//! The outputs of a baseline comparison, written into the candidate's run
//! folder: baseline.json, baseline.md (for a CI job summary),
//! baseline-junit.xml (one test case per tolerance; INCONCLUSIVE is
//! "skipped"), and a "Against the baseline" section in its index.html.

use super::templates::environment;
use crate::gate::{BaselineComparison, RegressionCheck, RegressionVerdict};
use anyhow::{Context, Result};
use minijinja::{context, Value};
use std::path::Path;

/// Writes the comparison's files into the run folder `dir` (written by
/// `write_run_report`) and renders its index.html again with the comparison.
pub fn write_baseline_files(dir: &Path, cmp: &BaselineComparison) -> Result<()> {
    let json = serde_json::to_vec_pretty(cmp).context("serialising baseline.json")?;
    std::fs::write(dir.join("baseline.json"), json).context("writing baseline.json")?;
    std::fs::write(dir.join("baseline.md"), baseline_markdown(cmp)?)
        .context("writing baseline.md")?;
    std::fs::write(dir.join("baseline-junit.xml"), baseline_junit(cmp)?)
        .context("writing baseline-junit.xml")?;
    let summary = super::read_summary(dir)?;
    let (charts, _) = super::charts::run_charts(&summary);
    let mut hlogs: Vec<String> = std::fs::read_dir(dir)
        .with_context(|| format!("listing {}", dir.display()))?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".hlog"))
        .collect();
    // all.hlog first, as the run report lists it.
    hlogs.sort_by_key(|name| (name != "all.hlog", name.clone()));
    let html = super::render::html(&summary, &charts, &hlogs, Some(cmp))?;
    std::fs::write(dir.join("index.html"), html).context("writing index.html")?;
    Ok(())
}

pub fn baseline_markdown(cmp: &BaselineComparison) -> Result<String> {
    environment()
        .get_template("baseline.md")?
        .render(baseline_context(cmp))
        .context("rendering baseline.md")
}

pub fn baseline_junit(cmp: &BaselineComparison) -> Result<String> {
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
