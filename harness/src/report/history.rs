//! The history report, `harness history`: history.json (every run in order
//! with its identity and figures, and every change point), history.md (the
//! latest run against the last stable stretch, for a pull-request comment)
//! and a self-contained history.html (per request, p50/p95/p99, throughput,
//! 503 and error rate across runs, change points marked, each run linked to
//! its report folder while it exists), through the shared templates and
//! charts.

use super::charts::{color, Chart, TrendChart, TrendLine};
use super::templates::environment;
use crate::baseline::bootstrap::median;
use crate::history::trend::{self, Found, Metric, Run};
use anyhow::{Context, Result};
use minijinja::{context, Value};
use serde_json::json;
use std::path::{Component, Path, PathBuf};

/// Version of history.json's layout (harness/schema/history.schema.json).
pub(crate) const SCHEMA_VERSION: u32 = 1;

/// What the history report shows.
pub(crate) struct HistoryView<'a> {
    /// The history file read.
    pub(crate) file: &'a Path,
    /// The runs, oldest first (their index is `run_index`).
    pub(crate) runs: &'a [Run],
    pub(crate) change_points: &'a [Found],
}

/// Writes history.json, history.md and history.html into `dir`.
pub(crate) fn write_history_report(view: &HistoryView, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let json = serde_json::to_string_pretty(&history_json(view))?;
    std::fs::write(dir.join("history.json"), json).context("writing history.json")?;
    std::fs::write(dir.join("history.md"), markdown(view)?).context("writing history.md")?;
    std::fs::write(dir.join("history.html"), html(view, dir)?).context("writing history.html")?;
    Ok(())
}

/// The figures of one request (or of all) of a run, by metric name.
fn figures(run: &Run, request: Option<&str>) -> serde_json::Value {
    let map: serde_json::Map<String, serde_json::Value> = Metric::ALL
        .iter()
        .map(|m| (m.name().to_string(), json!(run.value(*m, request))))
        .collect();
    serde_json::Value::Object(map)
}

fn run_json(index: usize, run: &Run) -> serde_json::Value {
    let id = &run.stored.identity;
    let report_dir = run.stored.report_dir.as_deref();
    json!({
        "index": index,
        "run_id": run.stored.run_id,
        "scenario": id.scenario,
        "scenario_hash": id.scenario_hash,
        "target": id.target,
        "harness_version": id.harness_version,
        "started_at": id.started_at,
        "commit": id.commit,
        "branch": id.branch,
        "ci_job": id.ci_job,
        "meta": id.meta,
        "report_dir": report_dir,
        "report_exists": report_dir.is_some_and(|d| Path::new(d).join("summary.json").is_file()),
        "verdict": run.summary.get("verdict"),
        "valid": run.valid(),
        "overall": figures(run, None),
        "requests": run.request_names().iter().map(|n| json!({
            "name": n,
            "figures": figures(run, Some(n)),
        })).collect::<Vec<_>>(),
    })
}

/// history.json's content.
pub(crate) fn history_json(view: &HistoryView) -> serde_json::Value {
    json!({
        "schema_version": SCHEMA_VERSION,
        "history": view.file.display().to_string(),
        "runs": view.runs.iter().enumerate().map(|(i, r)| run_json(i, r)).collect::<Vec<_>>(),
        "change_points": view.change_points,
    })
}

/// A figure in its unit: ms, /s or %.
fn show(metric: Metric, v: f64) -> String {
    match metric {
        Metric::P50 | Metric::P95 | Metric::P99 => format!("{v:.2} ms"),
        Metric::Throughput => format!("{v:.1}/s"),
        Metric::ShedRate | Metric::ErrorRate => format!("{:.2}%", v * 100.0),
    }
}

/// The change from `from` to `to`: relative for latency and throughput, in points for rates.
fn show_change(metric: Metric, from: f64, to: f64) -> String {
    match metric {
        Metric::ShedRate | Metric::ErrorRate => format!("{:+.2} pt", (to - from) * 100.0),
        _ if from != 0.0 => format!("{:+.1}%", (to / from - 1.0) * 100.0),
        _ => "–".to_string(),
    }
}

/// The latest run of the newest group against that group's last stable stretch.
fn latest_context(view: &HistoryView) -> Option<Value> {
    let runs = view.runs;
    let latest = runs.len().checked_sub(1)?;
    let group = runs[latest].group();
    let members: Vec<usize> = (0..runs.len())
        .filter(|&i| runs[i].group() == group)
        .collect();
    let found: Vec<&Found> = view
        .change_points
        .iter()
        .filter(|f| runs[f.run_index].group() == group)
        .collect();
    let owned: Vec<Found> = found.iter().map(|f| (*f).clone()).collect();
    let from = trend::stable_from(&owned, latest);
    let stable: Vec<usize> = members
        .iter()
        .copied()
        .filter(|&i| i >= from && i < latest && runs[i].valid())
        .collect();
    let mut requests = vec![None];
    requests.extend(runs[latest].request_names().into_iter().map(Some));
    let mut rows = Vec::new();
    for request in &requests {
        for metric in Metric::ALL {
            let Some(now) = runs[latest].value(metric, request.as_deref()) else {
                continue;
            };
            let values: Vec<f64> = stable
                .iter()
                .filter_map(|&i| runs[i].value(metric, request.as_deref()))
                .collect();
            let flagged = found
                .iter()
                .any(|f| f.run_index == latest && f.metric == metric && &f.request == request);
            let base = (!values.is_empty()).then(|| median(&values));
            rows.push(context! {
                request => request.clone().unwrap_or_else(|| "all requests".into()),
                metric => metric.label(),
                stable => base.map_or("–".into(), |b| show(metric, b)),
                latest => show(metric, now),
                change => base.map_or("–".into(), |b| show_change(metric, b, now)),
                flagged => flagged,
            });
        }
    }
    let id = &runs[latest].stored.identity;
    Some(context! {
        scenario => &id.scenario,
        target => &id.target,
        started_at => &id.started_at,
        commit => id.commit.as_deref().map(|c| c[..c.len().min(12)].to_string()),
        branch => &id.branch,
        index => latest,
        stable_runs => stable.len(),
        stable_from => stable.first().copied(),
        stable_to => stable.last().copied(),
        rows => rows,
        change_points => found.iter().map(|f| change_row(f, runs)).collect::<Vec<_>>(),
    })
}

/// A change point as the tables show it.
fn change_row(f: &Found, runs: &[Run]) -> Value {
    let id = &runs[f.run_index].stored.identity;
    context! {
        metric => f.metric.label(),
        request => f.request.clone().unwrap_or_else(|| "all requests".into()),
        run_index => f.run_index,
        started_at => &id.started_at,
        commit => id.commit.as_deref().map(|c| c[..c.len().min(12)].to_string()),
        before => show(f.metric, f.before),
        after => show(f.metric, f.after),
        change => show_change(f.metric, f.before, f.after),
        worse => (f.after > f.before) != f.metric.higher_is_better(),
        confidence => format!("{:.1}%", f.confidence * 100.0),
    }
}

/// history.md: a table for a pull-request comment.
pub(crate) fn markdown(view: &HistoryView) -> Result<String> {
    environment()
        .get_template("history.md")?
        .render(context! { latest => latest_context(view), runs => view.runs.len() })
        .context("rendering history.md")
}

/// history.html, with links to each run's report relative to `dir`.
pub(crate) fn html(view: &HistoryView, dir: &Path) -> Result<String> {
    let (charts, notes) = charts(view);
    let runs: Vec<Value> = view
        .runs
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let id = &r.stored.identity;
            let link = r
                .stored
                .report_dir
                .as_deref()
                .map(Path::new)
                .filter(|d| d.join("index.html").is_file())
                .map(|d| relative(&d.join("index.html"), dir));
            context! {
                index => i,
                started_at => &id.started_at,
                scenario => &id.scenario,
                target => &id.target,
                commit => id.commit.as_deref().map(|c| c[..c.len().min(12)].to_string()),
                branch => &id.branch,
                ci_job => &id.ci_job,
                verdict => r.summary.get("verdict").and_then(|v| v.as_str()),
                p50 => r.value(Metric::P50, None),
                p95 => r.value(Metric::P95, None),
                p99 => r.value(Metric::P99, None),
                throughput => r.value(Metric::Throughput, None),
                shed_rate => r.value(Metric::ShedRate, None),
                error_rate => r.value(Metric::ErrorRate, None),
                link => link,
                gone => r.stored.report_dir.is_some() && link.is_none(),
            }
        })
        .collect();
    let changes: Vec<Value> = view
        .change_points
        .iter()
        .map(|f| change_row(f, view.runs))
        .collect();
    environment()
        .get_template("history.html")?
        .render(context! {
            file => view.file.display().to_string(),
            runs => runs,
            change_points => changes,
            charts => charts,
            notes => notes,
            latest => latest_context(view),
        })
        .context("rendering history.html")
}

/// Per group and request: latency, throughput, and 503 and error rate charts.
fn charts(view: &HistoryView) -> (Vec<Chart>, Vec<String>) {
    let mut groups: Vec<(String, String)> = Vec::new();
    let mut requests: Vec<Vec<Option<String>>> = Vec::new();
    for run in view.runs {
        let g = run.group();
        let at = match groups.iter().position(|x| *x == g) {
            Some(at) => at,
            None => {
                groups.push(g);
                requests.push(vec![None]);
                groups.len() - 1
            }
        };
        for name in run.request_names() {
            if !requests[at].contains(&Some(name.clone())) {
                requests[at].push(Some(name));
            }
        }
    }
    let (mut charts, mut notes) = (Vec::new(), Vec::new());
    for (g, group) in groups.iter().enumerate() {
        for (r, request) in requests[g].iter().enumerate() {
            let label = request.as_deref().unwrap_or("all requests");
            let heading = format!("{} · {} · {label}", group.0, group.1);
            for (i, panel) in PANELS.iter().enumerate() {
                match trend_chart(view, group, request.as_deref(), panel).render() {
                    Ok(svg) => charts.push(Chart {
                        id: format!("g{g}-r{r}-{i}"),
                        title: heading.clone(),
                        caption: String::new(),
                        svg,
                    }),
                    Err(e) => notes.push(format!("{e:#}")),
                }
            }
        }
    }
    (charts, notes)
}

/// A chart of a request's figures: what, unit, metrics, scale to the unit.
type Panel = (&'static str, &'static str, &'static [Metric], f64);

const PANELS: [Panel; 3] = [
    (
        "latency",
        "ms",
        &[Metric::P50, Metric::P95, Metric::P99],
        1.0,
    ),
    ("throughput", "requests/s", &[Metric::Throughput], 1.0),
    (
        "503 and error rate",
        "%",
        &[Metric::ShedRate, Metric::ErrorRate],
        100.0,
    ),
];

/// One panel of one request of one group, over every run (other groups' runs left blank).
fn trend_chart(
    view: &HistoryView,
    group: &(String, String),
    req: Option<&str>,
    &(what, unit, metrics, scale): &Panel,
) -> TrendChart {
    let runs = view.runs;
    let in_group = |r: &Run| r.group() == *group;
    TrendChart {
        title: format!("{}: {what}", req.unwrap_or("all requests")),
        y_label: unit.to_string(),
        runs: runs.len(),
        lines: metrics
            .iter()
            .enumerate()
            .map(|(c, m)| TrendLine {
                name: m.label().to_string(),
                color: color(c),
                points: runs
                    .iter()
                    .enumerate()
                    .map(|(x, r)| {
                        let y = in_group(r).then(|| r.value(*m, req)).flatten();
                        (x as f64, y.map(|v| v * scale))
                    })
                    .collect(),
            })
            .collect(),
        changes: view
            .change_points
            .iter()
            .filter(|f| {
                metrics.contains(&f.metric)
                    && f.request.as_deref() == req
                    && in_group(&runs[f.run_index])
            })
            .map(|f| f.run_index)
            .collect(),
    }
}

/// `target` as a link from inside `dir` (both made absolute): `../..`
/// up to their common folder, then down.
fn relative(target: &Path, dir: &Path) -> String {
    let abs = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let (target, dir) = (abs(target), abs(dir));
    let t: Vec<Component> = target.components().collect();
    let d: Vec<Component> = dir.components().collect();
    let common = t.iter().zip(&d).take_while(|(a, b)| a == b).count();
    let mut rel = PathBuf::new();
    for _ in common..d.len() {
        rel.push("..");
    }
    for c in &t[common..] {
        rel.push(c.as_os_str());
    }
    rel.display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_climb_to_the_common_folder() {
        assert_eq!(
            relative(Path::new("/r/smoke/1/index.html"), Path::new("/r/trends")),
            "../smoke/1/index.html"
        );
        assert_eq!(
            relative(Path::new("/r/smoke/1/index.html"), Path::new("/r")),
            "smoke/1/index.html"
        );
    }
}
