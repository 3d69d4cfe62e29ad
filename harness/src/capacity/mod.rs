//! `harness capacity`'s result: the highest arrival rate at which a scenario
//! still meets its SLO, found by [`search`] (independent of how a step is
//! run), with every step's figures, as capacity.json holds it. The steps are
//! run by `batch::capacity`; `report::capacity` renders the result.

mod search;

pub use search::{knee, search, Outcome, SearchPlan, StepResult};

use crate::slo::Gate;
use std::time::Duration;

/// What the whole capacity search produced.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct CapacityReport {
    pub scenario: String,
    pub target: String,
    pub slo: Vec<String>,
    pub step_seconds: f64,
    pub searches: Vec<SearchRun>,
    /// Median of the capacities found over the repeats, arrivals/s.
    pub capacity: Option<f64>,
    /// Lowest and highest capacity found over the repeats.
    pub spread: Option<(f64, f64)>,
    /// See [`knee`].
    pub knee: Option<f64>,
    /// A sentence for people.
    pub conclusion: String,
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct SearchRun {
    pub steps: Vec<StepResult>,
    pub outcome: Outcome,
}

/// The searches' result: the capacity (median over repeats), its spread, the
/// knee, and a sentence for people. `target` is what was searched, as reports name it.
pub fn conclude(
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
            "the load generator saturated at {saturated_at:.1}/s before the server broke the SLO: capacity is at least {} \
             (measure from a bigger machine or with a lighter scenario to find the server's limit)",
            c.map_or("unknown".into(), |c| format!("{c:.1}/s"))
        ),
        (Outcome::BelowStart { first_failing }, _) => {
            format!("the SLO ({}) fails even at {first_failing:.1}/s: try a lower --start-rate", slo_text.join(", "))
        }
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
