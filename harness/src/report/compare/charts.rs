//! The comparison's charts: every run overlaid on the same axes, one colour
//! per run, each run's fault windows shaded and named by run.

use super::CompareRun;
use crate::report::charts::{
    color, downsample, full_seconds, Band, Chart, DistributionChart, DistributionLine, Fold, Line,
    Mark, TimeChart,
};
use crate::summary::SecondSeries;

/// The charts; one that fails to draw is left out and named in the notes.
pub(crate) fn compare_charts(runs: &[CompareRun]) -> (Vec<Chart>, Vec<String>) {
    let mut charts = Vec::new();
    let mut notes = Vec::new();
    type Draw = fn(&[CompareRun]) -> anyhow::Result<String>;
    let specs: [(&str, &str, &str, Draw); 5] = [
        ("latency", "p95 and p99 latency over time", "Solid: p95, dashed: p99, per run (all requests).", latency),
        ("distribution", "Latency distribution", "All requests of each run on a percentile axis that spreads the tail.", distribution),
        ("throughput", "Throughput over time", "Completed requests per second, per run.", throughput),
        ("shed", "503 rate over time", "Share of requests shed with 503, per run.", shed),
        ("errors", "Error rate over time", "Share of requests that failed (unexpected status, timeout, connection error), per run.", errors),
    ];
    for (id, title, caption, draw) in specs {
        match draw(runs) {
            Ok(svg) => charts.push(Chart {
                id: id.into(),
                title: title.into(),
                caption: caption.into(),
                svg,
            }),
            Err(e) => notes.push(format!("the chart `{title}` could not be drawn: {e:#}")),
        }
    }
    let sides: Vec<crate::report::charts::Side<'_>> = runs
        .iter()
        .filter_map(|r| {
            r.summary
                .server_metrics
                .as_ref()
                .map(|metrics| crate::report::charts::Side {
                    label: &r.label,
                    metrics,
                })
        })
        .collect();
    if !sides.is_empty() {
        // Each side's series overlaid: the first run solid, the others dashed.
        let frame =
            |title: &str, y_label: &str, lines: Vec<Line>| time_chart(runs, title, y_label, lines);
        let (server, server_notes) = crate::report::charts::server_charts(&sides, &frame);
        charts.extend(server);
        notes.extend(server_notes);
    }
    (charts, notes)
}

fn time_chart(runs: &[CompareRun], title: &str, y_label: &str, lines: Vec<Line>) -> TimeChart {
    TimeChart {
        title: title.into(),
        y_label: y_label.into(),
        x_max: runs
            .iter()
            .map(|r| {
                r.summary
                    .run
                    .duration_s
                    .max(r.summary.timeline.overall.t_s.len() as f64 - 0.5)
            })
            .fold(1.0, f64::max),
        lines,
        bands: runs
            .iter()
            .flat_map(|r| {
                r.summary.faults.iter().map(|f| Band {
                    name: format!("{} ({})", f.name, r.label),
                    start: f.start_s,
                    end: f.end_s,
                })
            })
            .collect(),
        // Stages come from the first run: compared runs share a scenario.
        marks: runs
            .first()
            .map(|r| {
                r.summary
                    .stages
                    .iter()
                    .map(|s| Mark {
                        name: s.name.clone(),
                        at: s.start_s,
                    })
                    .collect()
            })
            .unwrap_or_default(),
    }
}

fn per_run(
    runs: &[CompareRun],
    suffix: &str,
    dashed: bool,
    points: impl Fn(&SecondSeries) -> Vec<(f64, Option<f64>)>,
) -> Vec<Line> {
    runs.iter()
        .enumerate()
        .map(|(i, r)| Line {
            name: format!("{}{suffix}", r.label),
            color: color(i),
            points: points(&r.summary.timeline.overall),
            dashed,
        })
        .collect()
}

fn latency(runs: &[CompareRun]) -> anyhow::Result<String> {
    let mut lines = per_run(runs, " p95", false, |s| {
        downsample(&s.t_s, &s.p95_ms, Fold::Max)
    });
    lines.extend(per_run(runs, " p99", true, |s| {
        downsample(&s.t_s, &s.p99_ms, Fold::Max)
    }));
    time_chart(runs, "p95 and p99 latency over time", "latency (ms)", lines).render()
}

fn throughput(runs: &[CompareRun]) -> anyhow::Result<String> {
    let lines = runs
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let s = &r.summary.timeline.overall;
            let values = full_seconds(&s.t_s, &s.rps, r.summary.run.duration_s);
            Line {
                name: r.label.clone(),
                color: color(i),
                points: downsample(&s.t_s, &values, Fold::Mean),
                dashed: false,
            }
        })
        .collect();
    time_chart(runs, "Throughput over time", "requests per second", lines).render()
}

fn share(s: &SecondSeries, part: &[u64]) -> Vec<(f64, Option<f64>)> {
    let values: Vec<Option<f64>> = part
        .iter()
        .zip(&s.count)
        .map(|(p, n)| (*n > 0).then(|| 100.0 * *p as f64 / *n as f64))
        .collect();
    downsample(&s.t_s, &values, Fold::Mean)
}

fn shed(runs: &[CompareRun]) -> anyhow::Result<String> {
    let lines = per_run(runs, "", false, |s| share(s, &s.shed));
    time_chart(runs, "503 rate over time", "% of requests shed", lines).render()
}

fn errors(runs: &[CompareRun]) -> anyhow::Result<String> {
    let lines = per_run(runs, "", false, |s| share(s, &s.errors));
    time_chart(runs, "Error rate over time", "% of requests failed", lines).render()
}

fn distribution(runs: &[CompareRun]) -> anyhow::Result<String> {
    DistributionChart {
        title: "Latency distribution".into(),
        lines: runs
            .iter()
            .enumerate()
            .map(|(i, r)| DistributionLine {
                name: r.label.clone(),
                color: color(i),
                points: r.summary.overall.distribution.clone(),
                dashed: false,
            })
            .collect(),
    }
    .render()
}
