//! `harness capacity`'s result: the highest arrival rate at which a scenario
//! still meets its SLO, found by [`search`] (independent of how a step is
//! run), with every step's figures, as capacity.json holds it. The steps are
//! run by `batch::capacity`; `report::capacity` renders the result.

mod search;

pub(crate) use search::{knee, search, Outcome, SearchPlan, StepResult};

use crate::slo::Gate;
use std::time::Duration;

/// What the whole capacity search produced.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct CapacityReport {
    pub(crate) scenario: String,
    pub(crate) target: String,
    pub(crate) slo: Vec<String>,
    pub(crate) step_seconds: f64,
    pub(crate) searches: Vec<SearchRun>,
    /// Median of the capacities found over the repeats, arrivals/s.
    pub(crate) capacity: Option<f64>,
    /// Lowest and highest capacity found over the repeats.
    pub(crate) spread: Option<(f64, f64)>,
    /// See [`knee`].
    pub(crate) knee: Option<f64>,
    /// A sentence for people.
    pub(crate) conclusion: String,
}

/// Why the first step broke the SLO, in words: the gates it failed and, when
/// a run-wide percentile failed, the request that drove it (often a wait on
/// the business, such as an order being cooked, that no rate brings down).
fn why_below_start(slo: &[Gate], first: Option<&StepResult>) -> String {
    let Some(step) = first else {
        return ": try a lower --start-rate".into();
    };
    let mut text = String::new();
    if !step.failed_gates.is_empty() {
        text.push_str(&format!(" ({})", step.failed_gates.join("; ")));
    }
    let run_wide = slo
        .iter()
        .any(|g| g.request.is_none() && g.series.is_none() && g.metric.is_latency());
    match &step.slowest_request {
        Some((name, p95)) if run_wide => text.push_str(&format!(
            ": the slowest request is `{name}` (p95 {p95:.0} ms), and a run-wide percentile includes it; \
             if it is a wait on the business (an order being made) rather than a request to serve, gate the \
             requests that matter one by one (`p95<250ms for GET /menu`) or declare the scenario's \
             `[capacity] slo`; otherwise try a lower --start-rate"
        )),
        _ => text.push_str(": try a lower --start-rate"),
    }
    text
}

/// The first declared server series to reach its limit or its plateau, at
/// the lowest rate where one did: "grill backlog reached 100 of 100 at 70.0
/// arrivals/s", or a rate series that grew by less than 5 % while the
/// offered rate grew by 30 % or more.
fn first_limit(steps: &[StepResult]) -> Option<String> {
    let mut sorted: Vec<&StepResult> = steps.iter().filter(|s| !s.saturated).collect();
    sorted.sort_by(|a, b| a.offered.total_cmp(&b.offered));
    for (i, step) in sorted.iter().enumerate() {
        if let Some(limit) = step.at_limit.first() {
            return Some(format!("{limit} at {:.1} arrivals/s", step.offered));
        }
        let Some(before) = i.checked_sub(1).map(|j| sorted[j]) else {
            continue;
        };
        if step.offered < before.offered * 1.3 {
            continue;
        }
        for (name, mean) in &step.rates {
            let earlier = before
                .rates
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, m)| *m);
            if let Some(m0) = earlier.filter(|m0| *m0 > 0.0 && *mean < m0 * 1.05) {
                return Some(format!(
                    "{name} levelled off at {mean:.1}/s (it was {m0:.1}/s at {:.1} arrivals/s) at {:.1} arrivals/s",
                    before.offered, step.offered
                ));
            }
        }
    }
    None
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct SearchRun {
    pub(crate) steps: Vec<StepResult>,
    pub(crate) outcome: Outcome,
}

/// The searches' result: the capacity (median over repeats), its spread, the
/// knee, and a sentence for people. `target` is what was searched, as reports name it.
pub(crate) fn conclude(
    name: &str,
    target: String,
    slo: &[Gate],
    step: Duration,
    searches: Vec<SearchRun>,
) -> CapacityReport {
    let mut found: Vec<f64> = searches
        .iter()
        .filter_map(|s| s.outcome.capacity())
        .collect();
    found.sort_by(f64::total_cmp);
    let capacity = (!found.is_empty()).then(|| found[found.len() / 2]);
    let spread = (!found.is_empty()).then(|| (found[0], found[found.len() - 1]));
    let all_steps: Vec<StepResult> = searches
        .iter()
        .flat_map(|s| s.steps.iter().cloned())
        .collect();
    let knee = knee(&all_steps);
    let slo_text: Vec<String> = slo.iter().map(Gate::to_string).collect();
    let conclusion = match (&searches.last().expect("at least one search").outcome, capacity) {
        (Outcome::GeneratorLimited { saturated_at, .. }, c) => format!(
            "the load generator saturated at {saturated_at:.1}/s before the server broke the SLO: {} \
             (measure from a bigger machine or with a lighter scenario to find the server's limit)",
            c.map_or("no rate was measured cleanly, so the capacity is unknown".into(), |c| {
                format!("capacity is at least {c:.1}/s")
            })
        ),
        (Outcome::BelowStart { first_failing }, _) => format!(
            "the SLO ({}) fails even at {first_failing:.1}/s{}",
            slo_text.join(", "),
            why_below_start(slo, all_steps.first())
        ),
        (Outcome::AboveMax { highest_passing }, _) => format!(
            "every rate tried met the SLO ({}), up to {highest_passing:.1}/s: capacity is at least that \
             (raise --max-rate or --max-steps to find the limit)",
            slo_text.join(", ")
        ),
        (_, Some(c)) => {
            let (lo, hi) = spread.unwrap_or((c, c));
            format!(
                "capacity: {c:.1} arrivals/s meet the SLO ({}){}; knee of the latency curve at {}",
                slo_text.join(", "),
                if searches.len() > 1 { format!(", spread {lo:.1}-{hi:.1}/s over {} searches", searches.len()) } else { String::new() },
                knee.map_or("n/a".into(), |k| format!("{k:.1}/s"))
            )
        }
        (_, None) => "no capacity could be established".into(),
    };
    let conclusion = match first_limit(&all_steps) {
        Some(limit) => format!("{conclusion}; first server limit: {limit}"),
        None => conclusion,
    };
    CapacityReport {
        scenario: name.to_string(),
        target,
        slo: slo_text,
        step_seconds: step.as_secs_f64(),
        searches,
        capacity,
        spread,
        knee,
        conclusion,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(offered: f64, at_limit: &[&str], made: f64) -> StepResult {
        StepResult {
            offered,
            throughput_rps: offered,
            p50_ms: 1.0,
            p95_ms: 2.0,
            p99_ms: 3.0,
            shed_rate: 0.0,
            error_rate: 0.0,
            passed: true,
            failed_gates: vec![],
            saturated: false,
            report_dir: String::new(),
            slowest_request: None,
            at_limit: at_limit.iter().map(|s| s.to_string()).collect(),
            rates: vec![("orders_made{station=\"grill\"}".into(), made)],
        }
    }

    #[test]
    fn the_first_series_at_its_limit_or_plateau_is_named_with_its_rate() {
        let plateau = [
            step(20.0, &[], 10.0),
            step(80.0, &[], 20.5),
            step(40.0, &[], 20.0),
        ];
        assert_eq!(
            first_limit(&plateau).unwrap(),
            "orders_made{station=\"grill\"} levelled off at 20.5/s (it was 20.0/s at 40.0 arrivals/s) at 80.0 arrivals/s"
        );
        let limit = [
            step(20.0, &[], 10.0),
            step(40.0, &["grill backlog reached 100 of 100"], 20.0),
        ];
        assert_eq!(
            first_limit(&limit).unwrap(),
            "grill backlog reached 100 of 100 at 40.0 arrivals/s"
        );
        let growing = [step(20.0, &[], 10.0), step(40.0, &[], 20.0)];
        assert_eq!(first_limit(&growing), None);
    }
}
