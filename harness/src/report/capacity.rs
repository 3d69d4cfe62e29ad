//! The capacity report: capacity.json, capacity.md and a self-contained
//! index.html with p95/p99 and the 503 rate against the offered rate, through
//! the shared templates and the shared rate chart.

use super::charts::{RateChart, RateLine};
use super::output::point_latest;
use super::templates::environment;
use crate::capacity::{CapacityReport, StepResult};
use anyhow::{Context, Result};
use minijinja::{context, Value};
use plotters::style::{BLUE, MAGENTA, RED};
use std::io::Write;
use std::path::Path;

/// Writes the capacity report into `dir` and points `latest` beside it at it.
pub(crate) fn write_capacity_report(report: &CapacityReport, dir: &Path) -> Result<()> {
    std::fs::write(
        dir.join("capacity.json"),
        serde_json::to_string_pretty(report)?,
    )
    .context("writing capacity.json")?;
    let env = environment();
    let md = env
        .get_template("capacity.md")?
        .render(context! {
            report => Value::from_serialize(report),
            step_seconds => report.step_seconds.to_string(),
        })
        .context("rendering capacity.md")?;
    std::fs::write(dir.join("capacity.md"), md).context("writing capacity.md")?;
    let mut steps: Vec<&StepResult> = report.searches.iter().flat_map(|s| &s.steps).collect();
    steps.sort_by(|a, b| a.offered.total_cmp(&b.offered));
    let (charts, chart_error) = match (latency_chart(&steps), shed_chart(&steps)) {
        (Ok(a), Ok(b)) => (vec![a, b], None),
        (a, b) => (Vec::new(), a.err().or(b.err()).map(|e| format!("{e:#}"))),
    };
    let rows: Vec<Value> = steps.iter().map(|s| row(s, dir)).collect();
    let html = env
        .get_template("capacity.html")?
        .render(context! {
            report => Value::from_serialize(report),
            steps => rows,
            charts => charts,
            chart_error => chart_error,
        })
        .context("rendering the capacity report")?;
    std::fs::write(dir.join("index.html"), html).context("writing index.html")?;
    point_latest(dir).context("pointing latest at the capacity report")?;
    Ok(())
}

/// One step as the HTML table shows it, with a link to its own report
/// relative to the capacity report.
fn row(s: &StepResult, dir: &Path) -> Value {
    let report = Path::new(&s.report_dir);
    let abs = std::env::current_dir()
        .map(|cwd| cwd.join(report))
        .unwrap_or_else(|_| report.to_path_buf());
    let link = abs
        .strip_prefix(dir)
        .map(|p| p.join("index.html").display().to_string())
        .unwrap_or_else(|_| report.join("index.html").display().to_string());
    context! {
        link => link,
        ..Value::from_serialize(s)
    }
}

/// One step's line on the terminal, as the search goes.
pub(crate) fn print_step(r: &StepResult, out: &mut dyn Write) -> std::io::Result<()> {
    let verdict = if r.saturated {
        "GENERATOR SATURATED"
    } else if r.passed {
        "meets the SLO"
    } else {
        "breaks the SLO"
    };
    writeln!(
        out,
        "  {:>9.1}/s offered → {:>9.1} req/s, p95 {:>8.1} ms, p99 {:>8.1} ms, 503 {:>5.1} % → {verdict}",
        r.offered,
        r.throughput_rps,
        r.p95_ms,
        r.p99_ms,
        r.shed_rate * 100.0,
    )
}

fn latency_chart(steps: &[&StepResult]) -> Result<String> {
    let line = |name: &str, color, value: fn(&StepResult) -> f64| RateLine {
        name: name.into(),
        color,
        points: steps.iter().map(|s| (s.offered, value(s))).collect(),
    };
    RateChart {
        caption: "latency against offered rate".into(),
        x_label: "offered arrivals/s".into(),
        y_label: "ms".into(),
        height: 340,
        lines: vec![
            line("p95", BLUE, |s| s.p95_ms),
            line("p99", RED, |s| s.p99_ms),
        ],
    }
    .render()
}

fn shed_chart(steps: &[&StepResult]) -> Result<String> {
    RateChart {
        caption: "503 (shed) rate against offered rate".into(),
        x_label: "offered arrivals/s".into(),
        y_label: "% of requests".into(),
        height: 260,
        lines: vec![RateLine {
            name: "503 rate".into(),
            color: MAGENTA,
            points: steps
                .iter()
                .map(|s| (s.offered, s.shed_rate * 100.0))
                .collect(),
        }],
    }
    .render()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capacity::{Outcome, SearchRun};

    fn step(offered: f64, passed: bool) -> StepResult {
        StepResult {
            offered,
            throughput_rps: offered * 0.98,
            p50_ms: 12.0,
            p95_ms: if passed { 40.25 } else { 300.0 },
            p99_ms: 80.0,
            shed_rate: if passed { 0.0 } else { 0.0312 },
            error_rate: 0.0,
            passed,
            failed_gates: if passed {
                Vec::new()
            } else {
                vec!["p95 < 250ms".into()]
            },
            saturated: false,
            report_dir: "steps/x".into(),
            slowest_request: None,
            at_limit: vec![],
            rates: vec![],
        }
    }

    #[test]
    fn the_capacity_files_hold_every_step_with_the_conclusion() {
        let report = CapacityReport {
            scenario: "rush-hour".into(),
            target: "http://127.0.0.1:9".into(),
            slo: vec!["p95 < 250ms".into()],
            step_seconds: 20.0,
            searches: vec![SearchRun {
                steps: vec![step(40.0, true), step(20.0, true), step(80.0, false)],
                outcome: Outcome::Found {
                    capacity: 40.0,
                    first_failing: 80.0,
                },
            }],
            capacity: Some(40.0),
            spread: Some((40.0, 40.0)),
            knee: None,
            conclusion: "capacity: 40.0 arrivals/s".into(),
        };
        let dir = tempfile::tempdir().unwrap();
        let run_dir = dir.path().join("run");
        std::fs::create_dir(&run_dir).unwrap();
        write_capacity_report(&report, &run_dir).unwrap();
        let md = std::fs::read_to_string(run_dir.join("capacity.md")).unwrap();
        assert_eq!(
            md,
            "## Capacity of `rush-hour`\n\n**capacity: 40.0 arrivals/s**\n\n\
             SLO: `p95 < 250ms` · target: http://127.0.0.1:9 · steps of 20 s\n\n\
             | offered /s | throughput req/s | p95 ms | p99 ms | 503 % | verdict |\n\
             |---:|---:|---:|---:|---:|---|\n\
             | 40.0 | 39.2 | 40.2 | 80.0 | 0.00 | meets |\n\
             | 20.0 | 19.6 | 40.2 | 80.0 | 0.00 | meets |\n\
             | 80.0 | 78.4 | 300.0 | 80.0 | 3.12 | breaks |\n"
        );
        let html = std::fs::read_to_string(run_dir.join("index.html")).unwrap();
        assert_eq!(html.matches("<svg").count(), 2, "two charts");
        assert_eq!(html.matches("step report").count(), 3, "{html}");
        let first = html
            .lines()
            .find(|l| l.trim_start().starts_with("<td>"))
            .unwrap();
        assert!(first.contains("<td>20.0</td>"), "sorted by rate: {first}");
        assert!(html.contains("breaks: p95 &lt; 250ms"), "{html}");
        assert!(run_dir.join("capacity.json").is_file());
    }
}
