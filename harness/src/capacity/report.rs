//! The capacity report: capacity.json, capacity.md and a self-contained
//! index.html with p95/p99 and the 503 rate against the offered rate.

use super::{CapacityReport, StepResult};
use anyhow::{Context, Result};
use plotters::prelude::*;
use std::path::Path;

const TEMPLATE: &str = include_str!("../../templates/capacity.html");

pub fn write(report: &CapacityReport, dir: &Path) -> Result<()> {
    std::fs::write(
        dir.join("capacity.json"),
        serde_json::to_string_pretty(report)?,
    )
    .context("writing capacity.json")?;
    std::fs::write(dir.join("capacity.md"), markdown(report)).context("writing capacity.md")?;
    let mut steps: Vec<&StepResult> = report.searches.iter().flat_map(|s| &s.steps).collect();
    steps.sort_by(|a, b| a.offered.total_cmp(&b.offered));
    let (latency_svg, shed_svg) = match (latency_chart(&steps), shed_chart(&steps)) {
        (Ok(a), Ok(b)) => (a, b),
        (a, b) => {
            let why = a
                .err()
                .or(b.err())
                .map(|e| e.to_string())
                .unwrap_or_default();
            (
                format!("<p>chart could not be drawn: {why}</p>"),
                String::new(),
            )
        }
    };
    let mut env = minijinja::Environment::new();
    env.add_template("capacity.html", TEMPLATE)?;
    let rows: Vec<Row> = steps.iter().map(|s| Row::new(s, dir)).collect();
    let html = env
        .get_template("capacity.html")?
        .render(minijinja::context! {
            report => report,
            steps => rows,
            latency_svg => latency_svg,
            shed_svg => shed_svg,
        })?;
    std::fs::write(dir.join("index.html"), html).context("writing index.html")?;
    crate::report::output::point_latest(dir).context("pointing latest at the capacity report")?;
    Ok(())
}

/// One step as the HTML table shows it.
#[derive(serde::Serialize)]
struct Row {
    offered: String,
    throughput: String,
    p50: String,
    p95: String,
    p99: String,
    shed: String,
    errors: String,
    verdict: &'static str,
    failed: String,
    /// The step's own report, relative to the capacity report.
    link: String,
}

impl Row {
    fn new(s: &StepResult, dir: &Path) -> Row {
        let report = Path::new(&s.report_dir);
        let abs = std::env::current_dir()
            .map(|cwd| cwd.join(report))
            .unwrap_or_else(|_| report.to_path_buf());
        let link = abs
            .strip_prefix(dir)
            .map(|p| p.join("index.html").display().to_string())
            .unwrap_or_else(|_| report.join("index.html").display().to_string());
        Row {
            offered: format!("{:.1}", s.offered),
            throughput: format!("{:.1}", s.throughput_rps),
            p50: format!("{:.1}", s.p50_ms),
            p95: format!("{:.1}", s.p95_ms),
            p99: format!("{:.1}", s.p99_ms),
            shed: format!("{:.2}", s.shed_rate * 100.0),
            errors: format!("{:.2}", s.error_rate * 100.0),
            verdict: if s.saturated {
                "saturated"
            } else if s.passed {
                "meets"
            } else {
                "breaks"
            },
            failed: s.failed_gates.join("; "),
            link,
        }
    }
}

fn markdown(r: &CapacityReport) -> String {
    let mut md = format!(
        "## Capacity of `{}`\n\n**{}**\n\nSLO: `{}` · target: {} · steps of {} s\n\n\
         | offered /s | throughput req/s | p95 ms | p99 ms | 503 % | verdict |\n|---:|---:|---:|---:|---:|---|\n",
        r.scenario,
        r.conclusion,
        r.slo.join(", "),
        r.target,
        r.step_seconds
    );
    for s in r.searches.iter().flat_map(|s| &s.steps) {
        md.push_str(&format!(
            "| {:.1} | {:.1} | {:.1} | {:.1} | {:.2} | {} |\n",
            s.offered,
            s.throughput_rps,
            s.p95_ms,
            s.p99_ms,
            s.shed_rate * 100.0,
            if s.saturated {
                "generator saturated"
            } else if s.passed {
                "meets"
            } else {
                "breaks"
            }
        ));
    }
    md
}

type Chart = std::result::Result<String, Box<dyn std::error::Error>>;
/// A named, coloured series of (offered rate, value) points.
type Line<'a> = (&'a str, RGBColor, Vec<(f64, f64)>);

fn latency_chart(steps: &[&StepResult]) -> Chart {
    let p95 = steps.iter().map(|s| (s.offered, s.p95_ms)).collect();
    let p99 = steps.iter().map(|s| (s.offered, s.p99_ms)).collect();
    line_chart(
        "latency against offered rate",
        "ms",
        340,
        vec![("p95", BLUE, p95), ("p99", RED, p99)],
    )
}

fn shed_chart(steps: &[&StepResult]) -> Chart {
    let shed = steps
        .iter()
        .map(|s| (s.offered, s.shed_rate * 100.0))
        .collect();
    line_chart(
        "503 (shed) rate against offered rate",
        "% of requests",
        260,
        vec![("503 rate", MAGENTA, shed)],
    )
}

/// Lines with a dot per step, against the offered rate on the x axis.
fn line_chart(caption: &str, y_desc: &str, height: u32, lines: Vec<Line<'_>>) -> Chart {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (760, height)).into_drawing_area();
        root.fill(&WHITE)?;
        let points = lines
            .iter()
            .flat_map(|(_, _, p)| p.iter())
            .filter(|p| p.1.is_finite());
        let (max_x, max_y) = points.fold((1.0f64, 1.0f64), |(x, y), p| (x.max(p.0), y.max(p.1)));
        let mut chart = ChartBuilder::on(&root)
            .caption(caption, ("sans-serif", 16))
            .margin(10)
            .x_label_area_size(36)
            .y_label_area_size(56)
            .build_cartesian_2d(0.0..max_x * 1.05, 0.0..max_y * 1.1)?;
        chart
            .configure_mesh()
            .x_desc("offered arrivals/s")
            .y_desc(y_desc)
            .draw()?;
        for (label, color, points) in lines {
            chart
                .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))?
                .label(label)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2))
                });
            chart.draw_series(points.iter().map(|p| Circle::new(*p, 3, color.filled())))?;
        }
        chart
            .configure_series_labels()
            .border_style(BLACK)
            .background_style(WHITE.mix(0.8))
            .draw()?;
        root.present()?;
    }
    Ok(svg)
}
