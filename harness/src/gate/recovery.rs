//! A fault's recovery judged against the run's gates: the seconds from the
//! fault's end until every whole-run gate (one without `during`) that can be
//! judged on one second holds again, for [`STREAK`] seconds with traffic in
//! a row. A percentile other than p50/p95/p99, the max or the mean cannot be
//! read per second, so such gates are left out; with none left, the p95
//! rule of `summary` stands. When the gates already failed in the seconds
//! before the fault, no recovery time is given: the system was already
//! degraded.

use crate::slo::{Gate, Metric, Permille};
use crate::summary::{
    FaultSummary, Recovery, RecoveryBasis, SecondSeries, Summary, WindowFigures, NOT_MEASURABLE,
};

/// Consecutive seconds (with traffic) within the gates that make a recovery.
const STREAK: usize = 3;

/// Re-judges every fault's recovery against `gates`, where they apply.
pub(super) fn judge_recoveries(summary: &mut Summary, gates: &[Gate]) {
    let per_second: Vec<&Gate> = gates
        .iter()
        .filter(|g| g.during.is_none() && per_second_value(g.metric, None, 0).is_some())
        .collect();
    if per_second.is_empty() {
        return;
    }
    let faults = std::mem::take(&mut summary.faults);
    summary.faults = faults
        .into_iter()
        .map(|mut f| {
            let (recovery_s, recovery) = judge(summary, &f, &per_second);
            f.recovery_s = recovery_s;
            f.recovery = Some(recovery);
            f
        })
        .collect();
}

fn judge(summary: &Summary, fault: &FaultSummary, gates: &[&Gate]) -> (Option<f64>, Recovery) {
    let mut recovery = Recovery {
        basis: RecoveryBasis::Gates,
        gates: gates.iter().map(|g| g.to_string()).collect(),
        not_measurable: None,
        held: false,
    };
    let over: Vec<String> = gates
        .iter()
        .filter_map(|g| {
            let before = before_figures(fault, g.request.as_deref())?;
            let actual = window_value(before, g.metric)?;
            (!g.comparison.holds(actual, g.threshold.canonical())).then(|| format!("`{g}` failed"))
        })
        .collect();
    if !over.is_empty() {
        recovery.not_measurable = Some(format!(
            "{NOT_MEASURABLE} ({} in the seconds before it)",
            over.join(", ")
        ));
        return (None, recovery);
    }
    let end = fault.end_s.max(0.0);
    let horizon = summary.timeline.overall.t_s.len();
    let judged = |from: usize, to: usize| -> Vec<(usize, bool)> {
        (from..to)
            .filter(|&t| {
                summary
                    .timeline
                    .overall
                    .count
                    .get(t)
                    .is_some_and(|c| *c > 0)
            })
            .map(|t| (t, gates.iter().all(|g| holds_at(summary, g, t))))
            .collect()
    };
    let during = judged(fault.start_s.max(0.0).floor() as usize, end.ceil() as usize);
    if !during.is_empty() && during.iter().all(|(_, ok)| *ok) {
        recovery.held = true;
        return (Some(0.0), recovery);
    }
    let within = judged(end.floor() as usize, horizon);
    let recovered = (0..within.len())
        .find(|&k| {
            within[k..(k + STREAK).min(within.len())]
                .iter()
                .all(|(_, ok)| *ok)
        })
        .map(|k| ((within[k].0 as f64 - end).max(0.0) * 1000.0).round() / 1000.0);
    (recovered, recovery)
}

/// The window before the fault, all requests or one.
fn before_figures<'a>(fault: &'a FaultSummary, request: Option<&str>) -> Option<&'a WindowFigures> {
    match request {
        None => Some(&fault.before),
        Some(name) => fault
            .requests
            .iter()
            .find(|r| r.name == name)
            .map(|r| &r.before),
    }
}

fn window_value(w: &WindowFigures, metric: Metric) -> Option<f64> {
    let l = w.latency_ms;
    Some(match metric {
        Metric::Percentile(p) => {
            let l = l?;
            match p {
                Permille::P50 => l.p50,
                Permille::P90 => l.p90,
                Permille::P95 => l.p95,
                Permille::P99 => l.p99,
                Permille::P999 => l.p99_9,
            }
        }
        Metric::Max => l?.max,
        Metric::Mean => l?.mean,
        Metric::ShedRate => w.shed_rate,
        Metric::ErrorRate => w.error_rate,
        Metric::Throughput => w.throughput_rps,
        // A server series is not a figure of the requests' windows.
        Metric::Series(_) => return None,
    })
}

/// Whether gate `g` holds in second `t` (a second without the gate's
/// request holds: there is nothing to judge).
fn holds_at(summary: &Summary, g: &Gate, t: usize) -> bool {
    let series = match &g.request {
        None => Some(&summary.timeline.overall),
        Some(name) => summary.timeline.requests.get(name),
    };
    series
        .and_then(|s| per_second_value(g.metric, Some(s), t))
        .is_none_or(|v| g.comparison.holds(v, g.threshold.canonical()))
}

/// A metric in second `t` of `series`; `None` when the metric cannot be read
/// per second or the second has no traffic. With no series, only says
/// whether the metric can be read per second at all (`Some(0.0)`).
fn per_second_value(metric: Metric, series: Option<&SecondSeries>, t: usize) -> Option<f64> {
    let Some(s) = series else {
        return match metric {
            Metric::Percentile(Permille::P50 | Permille::P95 | Permille::P99)
            | Metric::ShedRate
            | Metric::ErrorRate
            | Metric::Throughput => Some(0.0),
            _ => None,
        };
    };
    let count = *s.count.get(t)?;
    if count == 0 {
        return None;
    }
    match metric {
        Metric::Percentile(Permille::P50) => *s.p50_ms.get(t)?,
        Metric::Percentile(Permille::P95) => *s.p95_ms.get(t)?,
        Metric::Percentile(Permille::P99) => *s.p99_ms.get(t)?,
        Metric::ShedRate => Some(*s.shed.get(t)? as f64 / count as f64),
        Metric::ErrorRate => Some(*s.errors.get(t)? as f64 / count as f64),
        Metric::Throughput => s.rps.get(t).copied(),
        _ => None,
    }
}
