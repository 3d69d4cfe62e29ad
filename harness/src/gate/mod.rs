//! Gates judged against a run's summary, and the run's verdict: the step
//! between `summary` (the figures) and `report` (which renders them).
//! Window gates (`over <duration>`) are judged on the record's per-second
//! histograms (see `window`).

pub(crate) mod window;

mod recovery;

mod series;

use crate::record::RunRecord;
use crate::record::{MissedWindow, WindowKind};
use crate::slo::{Gate, Metric, Permille, Unit};
use crate::stop::StopReason;
use crate::summary::{self, GateResult, Latency, Summary, Verdict, WindowFigures, WindowVerdict};

/// The figures of a run, judged against `gates`: what a finished run reports.
pub fn summarize(run: &RunRecord, gates: &[Gate]) -> Summary {
    let mut summary = summary::compute(run);
    judge_run(run, &mut summary, gates);
    summary
}

/// Judges a run's summary (computed from `run`, with anything added to it
/// since, such as the server's series): window gates on the record's
/// per-second histograms, the others on the summary's figures.
pub(crate) fn judge_run(run: &RunRecord, summary: &mut Summary, gates: &[Gate]) {
    let windows = window_verdicts(run, summary, gates);
    judge_with(summary, gates, &windows);
}

/// Fills the summary's gate results, verdict and the reason for it. A window
/// gate keeps the windows it was judged on before (by [`summarize`]).
pub(crate) fn judge(summary: &mut Summary, gates: &[Gate]) {
    let windows: Vec<Option<WindowVerdict>> = gates
        .iter()
        .map(|g| {
            summary
                .gates
                .iter()
                .find(|r| &r.gate == g)
                .and_then(|r| r.window.clone())
        })
        .collect();
    judge_with(summary, gates, &windows);
}

fn judge_with(summary: &mut Summary, gates: &[Gate], windows: &[Option<WindowVerdict>]) {
    recovery::judge_recoveries(summary, gates);
    summary.gates = gates
        .iter()
        .zip(windows)
        .map(|(g, w)| match (g.window, w) {
            (Some(_), Some(w)) => window_result(g, w.clone()),
            _ => evaluate_one(summary, g),
        })
        .collect();
    let (verdict, reason) = verdict(summary);
    summary.verdict = verdict;
    summary.verdict_reason = reason;
    if let Some(abort) = &summary.run.aborted_by {
        let at = summary.run.aborted_at_s.unwrap_or_default();
        if summary.verdict == Verdict::Pass {
            summary.verdict = Verdict::GateFailed;
        }
        summary.verdict_reason = format!(
            "aborted at {at:.0} s: a window of `{abort}` failed; {}",
            summary.verdict_reason
        );
    }
}

/// Each window gate judged on the run's per-second histograms, in the
/// seconds of its `during` fault or stage when it names one; `None` for a
/// gate without a window or whose scope the run does not have (then
/// `evaluate_one` says why it fails).
fn window_verdicts(
    run: &RunRecord,
    summary: &Summary,
    gates: &[Gate],
) -> Vec<Option<WindowVerdict>> {
    let complete = (summary.run.duration_s.floor() as usize).max(1);
    gates
        .iter()
        .map(|g| {
            let w = g.window?;
            let seconds = match &g.request {
                None => &run.recorder.overall().seconds,
                Some(name) => {
                    &run.recorder
                        .requests()
                        .find(|(n, _)| *n == name.as_str())?
                        .1
                        .seconds
                }
            };
            let range = match &g.during {
                None => 0..complete,
                Some(name) => {
                    let (start, end) = summary
                        .fault(name)
                        .map(|f| (f.during.start_s, f.during.end_s))
                        .or_else(|| {
                            summary
                                .stage(name)
                                .map(|s| (s.figures.start_s, s.figures.end_s))
                        })?;
                    start as usize..end as usize
                }
            };
            let judged = window::judge_all(seconds, range, g, w);
            Some(window::verdict(g, w, &judged))
        })
        .collect()
}

/// A window gate's result from its windows.
fn window_result(gate: &Gate, v: WindowVerdict) -> GateResult {
    let threshold = gate.threshold.canonical();
    let passed = window::holds(&v);
    let worst = v.worst.clone();
    let message = match &worst {
        None => format!(
            "{gate}: no request completed in any {} s window{}, so there is nothing to judge",
            v.length_s,
            scope_words(gate)
        ),
        Some(w) => format!(
            "{}{} over {} s windows: worst {} ({:.0}-{:.0} s); {} of {} windows failed ({:.1}%{}); \
             the gate requires {} {} in every window",
            gate.metric.label(),
            scope_words(gate),
            v.length_s,
            w.actual,
            w.start_s,
            w.end_s,
            v.failed,
            v.judged,
            v.failed_share * 100.0,
            if v.tolerated_share > 0.0 {
                format!(", at most {:.1}% allowed", v.tolerated_share * 100.0)
            } else {
                String::new()
            },
            gate.comparison.symbol(),
            gate.threshold
        ),
    };
    GateResult {
        gate: gate.clone(),
        passed,
        actual: worst.as_ref().map_or("n/a".into(), |w| w.actual.clone()),
        actual_value: worst.as_ref().map(|w| w.value),
        threshold_value: threshold,
        message,
        window: Some(v),
        not_evaluated: None,
    }
}

/// Judges every gate against `summary`. A gate during a planned window that
/// did not happen is not evaluated, saying why; one that names a request or
/// a window the plan does not have fails, saying so.
pub fn evaluate(summary: &Summary, gates: &[Gate]) -> Vec<GateResult> {
    gates.iter().map(|g| evaluate_one(summary, g)).collect()
}

/// The run's verdict and why: an interrupted run is interrupted whatever else
/// holds (its figures cover part of the plan), an invalid run (generator
/// behind schedule) invalid whatever its gates say, since its figures
/// measure the generator.
pub(crate) fn verdict(summary: &Summary) -> (Verdict, String) {
    if summary.run.interrupted {
        let by = summary
            .run
            .stopped_by
            .map_or("stopped early", StopReason::describe);
        return (
            Verdict::Interrupted,
            format!(
                "{by} after {:.1} s of the {:.0} s planned: the figures cover only what was measured until then, so no gate decides the verdict",
                summary.run.duration_s, summary.run.meta.planned_duration_s
            ),
        );
    }
    if let Some(why) = summary.generator.saturation.as_ref() {
        if summary.generator.invalidates() {
            return (Verdict::Invalid, why.clone());
        }
    }
    let (verdict, reason) = gates_verdict(summary);
    // A saturated host that leaves the verdict standing is said beside it.
    match summary.generator.warning() {
        Some(why) => (verdict, format!("{reason}; but {why}")),
        None => (verdict, reason),
    }
}

/// The verdict the gates alone give.
fn gates_verdict(summary: &Summary) -> (Verdict, String) {
    let failed: Vec<String> = summary
        .gates
        .iter()
        .filter(|r| r.failed())
        .map(|r| r.gate.to_string())
        .collect();
    let skipped = summary
        .gates
        .iter()
        .filter(|r| r.not_evaluated.is_some())
        .count();
    let evaluated = summary.gates.len() - skipped;
    let also = match skipped {
        0 => String::new(),
        n => format!(" ({n} not evaluated: the window they name did not happen)"),
    };
    if !failed.is_empty() {
        return (
            Verdict::GateFailed,
            format!(
                "{} of {evaluated} gates failed: {}{also}",
                failed.len(),
                failed.join("; ")
            ),
        );
    }
    let reason = match (summary.gates.is_empty(), evaluated) {
        (true, _) => "no gates were declared".to_string(),
        (false, 0) => format!("no gate could be evaluated{also}"),
        (false, n) => format!("all {n} gates passed{also}"),
    };
    (Verdict::Pass, reason)
}

/// A stop requested after the run was recorded (while its report was being
/// written): the summary is marked interrupted and judged again.
pub(crate) fn mark_stopped(summary: &mut Summary, reason: StopReason) {
    summary.run.interrupted = true;
    summary.run.stopped_by = Some(reason);
    let (verdict, why) = verdict(summary);
    summary.verdict = verdict;
    summary.verdict_reason = why;
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
        window: None,
        not_evaluated: None,
    };
    if let Some(missed) = missed_window(summary, gate) {
        let reason = format!(
            "{} `{}` did not happen in this run: {}",
            match missed.kind {
                WindowKind::Fault => "fault",
                WindowKind::Stage => "stage",
            },
            missed.name,
            missed.reason
        );
        return GateResult {
            actual: "not evaluated".into(),
            message: format!("{gate}: not evaluated, {reason}"),
            not_evaluated: Some(reason),
            ..fail(String::new())
        };
    }
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
        window: None,
        not_evaluated: None,
    }
}

/// The planned window a gate's `during` names, when it did not happen (and
/// no window of that name did: a stage name may cover several stages).
fn missed_window<'a>(summary: &'a Summary, gate: &Gate) -> Option<&'a MissedWindow> {
    let name = gate.during.as_deref()?;
    if summary.fault(name).is_some() || summary.stage(name).is_some() {
        return None;
    }
    summary.missed_windows.iter().find(|m| m.name == name)
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
pub(crate) fn show(canonical: f64, unit: Unit) -> String {
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
