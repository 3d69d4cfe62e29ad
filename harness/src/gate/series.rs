//! Gates on the target's series (`max(backlog{station="grill"}) < 450`):
//! the label sets of the named series that pass the filter, summed scrape by
//! scrape, inside the gate's stage or fault window when it has one.

use crate::scrape::ServerSeries;
use crate::slo::{Gate, Metric};
use crate::summary::Summary;
use std::collections::BTreeMap;

/// The value a series gate judges, or why there is none.
pub(super) fn value(summary: &Summary, gate: &Gate) -> Result<f64, String> {
    let (Metric::Series(stat), Some(sel)) = (gate.metric, &gate.series) else {
        return Err(format!("{gate}: not a gate on a server series"));
    };
    let all: &[ServerSeries] = summary
        .server_metrics
        .as_ref()
        .map_or(&[], |m| m.series.as_slice());
    let named: Vec<&ServerSeries> = all.iter().filter(|s| s.name == sel.metric).collect();
    if named.is_empty() {
        return Err(format!(
            "{gate}: no point of series `{}` was scraped (see the run's notes on server metrics)",
            sel.metric
        ));
    }
    let window =
        match &gate.during {
            None => None,
            Some(w) => Some(window(summary, w).ok_or_else(|| {
                format!("{gate}: this run has no fault window or stage named `{w}`")
            })?),
        };
    let mut by_time: BTreeMap<i64, f64> = BTreeMap::new();
    for s in named
        .into_iter()
        .filter(|s| sel.matches(&sel.metric, &s.labels))
    {
        for [t, v] in &s.points {
            if window.is_none_or(|(a, b)| *t >= a && *t < b) {
                *by_time.entry((t * 1000.0).round() as i64).or_default() += v;
            }
        }
    }
    let values: Vec<f64> = by_time.into_values().collect();
    stat.of(&values).ok_or_else(|| {
        format!(
            "{gate}: no point of `{sel}` was scraped{}",
            gate.during
                .as_ref()
                .map(|w| format!(" during {w}"))
                .unwrap_or_default()
        )
    })
}

/// Where a fault window (or, failing that, a stage) starts and ends.
fn window(summary: &Summary, name: &str) -> Option<(f64, f64)> {
    if let Some(f) = summary.fault(name) {
        return Some((f.start_s, f.end_s));
    }
    summary.stage(name).map(|s| (s.start_s, s.end_s))
}
