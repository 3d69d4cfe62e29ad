//! The charts of one run's report, drawn from its summary.

use super::{
    color, downsample, full_seconds, Band, Chart, DistributionChart, DistributionLine, Fold, Line,
    Mark, TimeChart,
};
use crate::summary::{SecondSeries, StageSummary, Summary};
use plotters::style::RGBColor;

/// Every chart of the report; a chart that fails to draw is left out and
/// named in the returned notes, so the rest of the report is still written.
pub(crate) fn run_charts(summary: &Summary) -> (Vec<Chart>, Vec<String>) {
    let mut charts = Vec::new();
    let mut notes = Vec::new();
    type Draw = fn(&Summary) -> anyhow::Result<String>;
    let specs: [(&str, &str, &str, Draw); 5] = [
        (
            "latency",
            "Latency over time (all requests)",
            "p50, p95 and p99 of corrected latency (from each request's intended start) per second; \
             fault windows are shaded, stage boundaries dashed.",
            latency,
        ),
        (
            "latency-by-request",
            "p95 latency over time, per request",
            "Which request slowed down, and when.",
            latency_by_request,
        ),
        (
            "throughput",
            "Throughput over time",
            "Completed requests per second, all together and per request.",
            throughput,
        ),
        (
            "shed-errors",
            "503 rate and error rate over time",
            "Share of requests answered 503 (shed on purpose) and share that failed otherwise \
             (unexpected status, timeout, connection error), per second.",
            shed_and_errors,
        ),
        (
            "distribution",
            "Latency distribution",
            "Latency at each percentile over the whole run; the x axis spreads the tail \
             (90%, 99%, 99.9%, ... are evenly spaced).",
            distribution,
        ),
    ];
    let host_cpu: (&str, &str, &str, Draw) = (
        "host-cpu",
        "Host CPU over time",
        "Share of all the machine's cores busy each second (every process: the generator, the \
         server if it runs here, anything else), and the share the hypervisor stole. At 90 % or \
         more the latencies include the host's queueing.",
        host_cpu,
    );
    let host = (!summary.generator.host.busy_pct.is_empty()).then_some(host_cpu);
    for (id, title, caption, draw) in specs.into_iter().chain(host) {
        match draw(summary) {
            Ok(svg) => charts.push(Chart {
                id: id.into(),
                title: title.into(),
                caption: caption.into(),
                svg,
            }),
            Err(e) => notes.push(format!("the chart `{title}` could not be drawn: {e:#}")),
        }
    }
    (charts, notes)
}

/// The run's "Server" charts: its scraped series on the same time axis,
/// stage lines and fault shading as the charts above.
pub(crate) fn run_server_charts(summary: &Summary) -> (Vec<Chart>, Vec<String>) {
    let Some(metrics) = &summary.server_metrics else {
        return (Vec::new(), Vec::new());
    };
    let frame =
        |title: &str, y_label: &str, lines: Vec<Line>| time_chart(summary, title, y_label, lines);
    super::server_charts(&[super::Side { label: "", metrics }], &frame)
}

fn time_chart(summary: &Summary, title: &str, y_label: &str, lines: Vec<Line>) -> TimeChart {
    TimeChart {
        title: title.into(),
        y_label: y_label.into(),
        x_max: summary
            .run
            .duration_s
            .max(summary.timeline.overall.t_s.len() as f64 - 0.5),
        lines,
        bands: summary
            .faults
            .iter()
            .map(|f| Band {
                name: f.name.clone(),
                start: f.start_s,
                end: f.end_s,
            })
            .collect(),
        marks: stage_marks(&summary.stages),
    }
}

/// A dashed line at each stage's start, named; a stage that carries on one of
/// the same name (a ramp, then a hold) gets its line but not its name again.
fn stage_marks(stages: &[StageSummary]) -> Vec<Mark> {
    let mut previous: Option<&str> = None;
    stages
        .iter()
        .map(|s| {
            let repeated = previous == Some(s.name.as_str());
            previous = Some(&s.name);
            Mark {
                name: if repeated {
                    String::new()
                } else {
                    s.name.clone()
                },
                at: s.start_s,
            }
        })
        .collect()
}

fn line(name: &str, color: RGBColor, points: Vec<(f64, Option<f64>)>) -> Line {
    Line {
        name: name.into(),
        color,
        points,
        dashed: false,
    }
}

fn latency(summary: &Summary) -> anyhow::Result<String> {
    let s = &summary.timeline.overall;
    let lines = [("p50", &s.p50_ms), ("p95", &s.p95_ms), ("p99", &s.p99_ms)]
        .into_iter()
        .enumerate()
        .map(|(i, (name, values))| line(name, color(i), downsample(&s.t_s, values, Fold::Max)))
        .collect();
    time_chart(
        summary,
        "Latency over time (all requests)",
        "latency (ms)",
        lines,
    )
    .render()
}

fn latency_by_request(summary: &Summary) -> anyhow::Result<String> {
    let lines = per_request(summary, |s| downsample(&s.t_s, &s.p95_ms, Fold::Max));
    time_chart(
        summary,
        "p95 latency over time, per request",
        "p95 (ms)",
        lines,
    )
    .render()
}

fn throughput(summary: &Summary) -> anyhow::Result<String> {
    let duration = summary.run.duration_s;
    let rps = |s: &SecondSeries| {
        let values = full_seconds(&s.t_s, &s.rps, duration);
        downsample(&s.t_s, &values, Fold::Mean)
    };
    let mut lines = vec![line(
        "all requests",
        RGBColor(30, 30, 30),
        rps(&summary.timeline.overall),
    )];
    lines.extend(per_request(summary, rps));
    time_chart(
        summary,
        "Throughput over time",
        "requests per second",
        lines,
    )
    .render()
}

fn shed_and_errors(summary: &Summary) -> anyhow::Result<String> {
    let s = &summary.timeline.overall;
    let share = |part: &[u64]| {
        let values: Vec<Option<f64>> = part
            .iter()
            .zip(&s.count)
            .map(|(p, n)| (*n > 0).then(|| 100.0 * *p as f64 / *n as f64))
            .collect();
        downsample(&s.t_s, &values, Fold::Mean)
    };
    let lines = vec![
        line("503 (shed) rate", RGBColor(255, 127, 14), share(&s.shed)),
        line("error rate", RGBColor(214, 39, 40), share(&s.errors)),
    ];
    time_chart(
        summary,
        "503 rate and error rate over time",
        "% of requests",
        lines,
    )
    .render()
}

fn host_cpu(summary: &Summary) -> anyhow::Result<String> {
    let host = &summary.generator.host;
    // Second i of the host's samples ends i + 1 s after the load started.
    let t: Vec<u32> = (0..host.busy_pct.len() as u32).collect();
    let series = |v: &[f64]| {
        let values: Vec<Option<f64>> = v.iter().map(|&x| Some(x)).collect();
        downsample(&t, &values, Fold::Mean)
    };
    let lines = vec![
        line("host busy", RGBColor(214, 39, 40), series(&host.busy_pct)),
        line("steal", RGBColor(127, 127, 127), series(&host.steal_pct)),
    ];
    time_chart(summary, "Host CPU over time", "% of all cores", lines).render()
}

fn distribution(summary: &Summary) -> anyhow::Result<String> {
    let mut lines = vec![DistributionLine {
        name: "all requests".into(),
        color: RGBColor(30, 30, 30),
        points: summary.overall.distribution.clone(),
        dashed: false,
    }];
    lines.extend(
        summary
            .requests
            .iter()
            .enumerate()
            .map(|(i, r)| DistributionLine {
                name: r.name.clone(),
                color: color(i),
                points: r.distribution.clone(),
                dashed: false,
            }),
    );
    DistributionChart {
        title: "Latency distribution".into(),
        lines,
    }
    .render()
}

fn per_request(
    summary: &Summary,
    points: impl Fn(&SecondSeries) -> Vec<(f64, Option<f64>)>,
) -> Vec<Line> {
    summary
        .requests
        .iter()
        .enumerate()
        .filter_map(|(i, r)| {
            let series = summary.timeline.requests.get(&r.name)?;
            Some(line(&r.name, color(i), points(series)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage(name: &str, start_s: f64) -> StageSummary {
        StageSummary {
            name: name.into(),
            description: String::new(),
            start_s,
            end_s: start_s + 10.0,
            figures: Default::default(),
            requests: Vec::new(),
        }
    }

    #[test]
    fn a_stage_that_carries_on_one_of_its_name_is_marked_but_not_named_again() {
        let stages = [
            stage("normal", 0.0),
            stage("normal", 10.0),
            stage("spike", 30.0),
            stage("normal", 40.0),
        ];
        let marks = stage_marks(&stages);
        let names: Vec<&str> = marks.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["normal", "", "spike", "normal"]);
        let at: Vec<f64> = marks.iter().map(|m| m.at).collect();
        assert_eq!(at, [0.0, 10.0, 30.0, 40.0], "every boundary keeps its line");
    }
}
