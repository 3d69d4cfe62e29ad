//! Summary → the text of index.html, junit.xml and summary.md, through the
//! templates in `harness/templates/`.

use super::baseline::baseline_context;
use super::charts::Chart;
use super::templates::{environment, readable_time as readable};
use crate::baseline::BaselineComparison;
use crate::summary::Summary;
use anyhow::{Context, Result};
use minijinja::{context, Value};
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

/// "2026-11-22T01:30:00" as JUnit's timestamp attribute wants it.
fn junit_time(t: OffsetDateTime) -> String {
    t.to_offset(UtcOffset::UTC)
        .format(format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second]"
        ))
        .unwrap_or_default()
}

/// What every template sees: the summary's parts plus a few derived labels.
fn base_context(summary: &Summary) -> Value {
    let mut rows: Vec<&crate::summary::RequestSummary> = summary.requests.iter().collect();
    rows.push(&summary.overall);
    // One case per gate, plus one for an invalid run and one for an interrupted run.
    let invalid = summary.generator.invalidates();
    let extra = usize::from(invalid) + usize::from(summary.run.interrupted);
    let failures = summary.gates.iter().filter(|g| g.failed()).count() + extra;
    let skipped = summary
        .gates
        .iter()
        .filter(|g| g.not_evaluated.is_some())
        .count();
    let tests = summary.gates.len() + extra;
    context! {
        run => Value::from_serialize(&summary.run),
        verdict => Value::from_serialize(summary.verdict),
        verdict_label => summary.verdict.label(),
        verdict_reason => &summary.verdict_reason,
        icon => match summary.verdict {
            crate::summary::Verdict::Pass => "✅",
            crate::summary::Verdict::GateFailed => "❌",
            crate::summary::Verdict::Invalid => "⚠️",
            crate::summary::Verdict::Interrupted => "⏹️",
        },
        // Only a saturation that invalidates the run: templates headline it so.
        saturation => summary.generator.saturation.as_ref().filter(|_| invalid),
        host_warning => summary.generator.warning(),
        rows => Value::from_serialize(&rows),
        overall => Value::from_serialize(&summary.overall),
        gates => Value::from_serialize(&summary.gates),
        faults => Value::from_serialize(&summary.faults),
        stages => Value::from_serialize(&summary.stages),
        generator => Value::from_serialize(&summary.generator),
        shards => Value::from_serialize(&summary.shards),
        tests => tests,
        failures => failures,
        skipped => skipped,
        started_at => readable(summary.run.meta.started_at),
        ended_at => readable(summary.run.meta.ended_at),
        junit_timestamp => junit_time(summary.run.meta.started_at),
    }
}

/// The self-contained HTML report: `charts` are inlined SVG, `hlogs` are the
/// names of the histogram logs written beside it, `baseline` the comparison
/// with a baseline when there was one.
pub(crate) fn html(
    summary: &Summary,
    charts: &[Chart],
    hlogs: &[String],
    baseline: Option<&BaselineComparison>,
) -> Result<String> {
    let env = environment();
    let ctx = context! {
        charts => Value::from_serialize(charts),
        hlogs => hlogs,
        baseline => baseline.map(baseline_context),
        server_metrics => summary.server_metrics.as_ref().map(|m| context! {
            endpoints => &m.endpoints,
            interval_s => m.interval_s,
            scrapes => m.scrapes,
            failed => m.failed,
        }),
        ..base_context(summary)
    };
    env.get_template("report.html")?
        .render(ctx)
        .context("rendering index.html")
}

/// One JUnit test case per gate (plus one when the run is invalid).
pub(crate) fn junit(summary: &Summary) -> Result<String> {
    environment()
        .get_template("junit.xml")?
        .render(base_context(summary))
        .context("rendering junit.xml")
}

/// The Markdown summary for a CI job page.
pub(crate) fn markdown(summary: &Summary) -> Result<String> {
    environment()
        .get_template("summary.md")?
        .render(base_context(summary))
        .context("rendering summary.md")
}
