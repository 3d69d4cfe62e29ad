//! Gates judged against a run's summary, and the run's verdict: the step
//! between `summary` (the figures) and `report` (which renders them).

mod series;

use crate::record::RunRecord;
use crate::slo::{Gate, Metric, Permille, Unit};
use crate::summary::{self, GateResult, Latency, Summary, Verdict, WindowFigures};

/// The figures of a run, judged against `gates`: what a finished run reports.
pub fn summarize(run: &RunRecord, gates: &[Gate]) -> Summary {
    let mut summary = summary::compute(run);
    judge(&mut summary, gates);
    summary
}

/// Fills the summary's gate results, verdict and the reason for it.
pub fn judge(summary: &mut Summary, gates: &[Gate]) {
    summary.gates = evaluate(summary, gates);
    let (verdict, reason) = verdict(summary);
    summary.verdict = verdict;
    summary.verdict_reason = reason;
}

/// Judges every gate against `summary`. A gate that names a request or a fault
/// the run does not have fails, saying so.
pub fn evaluate(summary: &Summary, gates: &[Gate]) -> Vec<GateResult> {
    gates.iter().map(|g| evaluate_one(summary, g)).collect()
}

/// The run's verdict and why: an invalid run (generator behind schedule) is
/// invalid whatever its gates say, since its figures measure the generator.
pub fn verdict(summary: &Summary) -> (Verdict, String) {
    if let Some(why) = &summary.generator.saturation {
        return (Verdict::Invalid, why.clone());
    }
    let failed: Vec<String> = summary
        .gates
        .iter()
        .filter(|r| !r.passed)
        .map(|r| r.gate.to_string())
        .collect();
    if !failed.is_empty() {
        return (
            Verdict::GateFailed,
            format!(
                "{} of {} gates failed: {}",
                failed.len(),
                summary.gates.len(),
                failed.join("; ")
            ),
        );
    }
    let reason = if summary.gates.is_empty() {
        "no gates were declared".to_string()
    } else {
        format!("all {} gates passed", summary.gates.len())
    };
    (Verdict::Pass, reason)
}

fn evaluate_one(summary: &Summary, gate: &Gate) -> GateResult {
    let threshold = gate.threshold.canonical();
    let fail = |message: String| GateResult {
        gate: gate.clone(),
        passed: false,
        actual: "n/a".into(),
        actual_value: None,
        threshold_value: threshold,
        message,
    };
    let measured = if gate.series.is_some() {
        series::value(summary, gate).map(Some)
    } else {
        figures(summary, gate).map(|f| f.value(gate.metric))
    };
    let actual = match measured {
        Ok(a) => a,
        Err(message) => return fail(message),
    };
    let Some(actual) = actual else {
        return fail(format!(
            "{}: no request completed{}, so there is no latency to judge",
            gate,
            scope_words(gate)
        ));
    };
    let passed = gate.comparison.holds(actual, threshold);
    let shown = show(actual, gate.threshold.unit);
    GateResult {
        gate: gate.clone(),
        passed,
        message: format!(
            "{}{} was {}; the gate requires {} {}",
            gate.metric.label(),
            scope_words(gate),
            shown,
            gate.comparison.symbol(),
            gate.threshold
        ),
        actual: shown,
        actual_value: Some(actual),
        threshold_value: threshold,
    }
}

fn scope_words(gate: &Gate) -> String {
    let mut words = String::new();
    if let Some(r) = &gate.request {
        words.push_str(&format!(" for {r}"));
    }
    if let Some(f) = &gate.during {
        words.push_str(&format!(" during {f}"));
    }
    words
}

/// A metric over the whole run, for all requests (`None`) or one; `None` when
/// the request is unknown or, for latency, nothing completed.
pub(crate) fn whole_run_value(
    summary: &Summary,
    metric: Metric,
    request: Option<&str>,
) -> Option<f64> {
    let r = summary.request(request)?;
    Figures {
        latency: (r.count > 0).then_some(r.latency_ms),
        shed_rate: r.shed_rate,
        error_rate: r.error_rate,
        throughput: r.throughput_rps,
    }
    .value(metric)
}

/// The figures a gate reads: whole-run or in a fault's window, all requests or one.
struct Figures {
    latency: Option<Latency>,
    shed_rate: f64,
    error_rate: f64,
    throughput: f64,
}

impl Figures {
    fn of_window(w: &WindowFigures) -> Self {
        Figures {
            latency: w.latency_ms,
            shed_rate: w.shed_rate,
            error_rate: w.error_rate,
            throughput: w.throughput_rps,
        }
    }

    fn value(&self, metric: Metric) -> Option<f64> {
        Some(match metric {
            Metric::Percentile(p) => {
                let l = self.latency?;
                match p {
                    Permille::P50 => l.p50,
                    Permille::P90 => l.p90,
                    Permille::P95 => l.p95,
                    Permille::P99 => l.p99,
                    Permille::P999 => l.p99_9,
                }
            }
            Metric::Max => self.latency?.max,
            Metric::Mean => self.latency?.mean,
            Metric::ShedRate => self.shed_rate,
            Metric::ErrorRate => self.error_rate,
            Metric::Throughput => self.throughput,
            // Judged on the series itself (see `series::value`).
            Metric::Series(_) => return None,
        })
    }
}

fn figures(summary: &Summary, gate: &Gate) -> Result<Figures, String> {
    let known_requests = || {
        summary
            .requests
            .iter()
            .map(|r| r.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let unknown_request = |name: &str| {
        format!(
            "{gate}: this run has no request named `{name}` (requests: {})",
            known_requests()
        )
    };
    match &gate.during {
        None => {
            let r = summary
                .request(gate.request.as_deref())
                .ok_or_else(|| unknown_request(gate.request.as_deref().unwrap_or_default()))?;
            Ok(Figures {
                latency: (r.count > 0).then_some(r.latency_ms),
                shed_rate: r.shed_rate,
                error_rate: r.error_rate,
                throughput: r.throughput_rps,
            })
        }
        Some(window) => {
            let per_request =
                |during: &WindowFigures, requests: Vec<(&str, &WindowFigures)>| match &gate.request
                {
                    None => Ok(Figures::of_window(during)),
                    Some(name) => requests
                        .into_iter()
                        .find(|(n, _)| n == name)
                        .map(|(_, w)| Figures::of_window(w))
                        .ok_or_else(|| unknown_request(name)),
                };
            if let Some(f) = summary.fault(window) {
                per_request(
                    &f.during,
                    f.requests
                        .iter()
                        .map(|r| (r.name.as_str(), &r.during))
                        .collect(),
                )
            } else if let Some(st) = summary.stage(window) {
                per_request(
                    &st.figures,
                    st.requests
                        .iter()
                        .map(|r| (r.name.as_str(), &r.figures))
                        .collect(),
                )
            } else {
                let names = |list: Vec<&str>| {
                    if list.is_empty() {
                        "none".to_string()
                    } else {
                        list.join(", ")
                    }
                };
                Err(format!(
                    "{gate}: this run has no fault window or stage named `{window}` (faults: {}; stages: {})",
                    names(summary.faults.iter().map(|f| f.name.as_str()).collect()),
                    names(summary.stages.iter().map(|s| s.name.as_str()).collect()),
                ))
            }
        }
    }
}

/// A canonical value written in the gate's own unit.
fn show(canonical: f64, unit: Unit) -> String {
    let v = match unit {
        Unit::Micros => canonical * 1000.0,
        Unit::Millis | Unit::PerSecond | Unit::Plain => canonical,
        Unit::Seconds => canonical / 1000.0,
        Unit::Percent => canonical * 100.0,
    };
    let rounded = if v.abs() >= 100.0 {
        format!("{v:.1}")
    } else if v.abs() >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    };
    let trimmed = if rounded.contains('.') {
        rounded.trim_end_matches('0').trim_end_matches('.')
    } else {
        &rounded
    };
    format!("{trimmed}{}", unit.suffix())
}
