//! The search, independent of how a step is run: raise the offered
//! rate geometrically until the SLO breaks (or the generator saturates), then
//! narrow by bisection between the last rate that held and the first that
//! did not.

use serde::{Deserialize, Serialize};

/// What one step measured, as the search needs it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub(crate) struct StepResult {
    /// Arrivals per second the step offered.
    pub(crate) offered: f64,
    /// Requests per second completed.
    pub(crate) throughput_rps: f64,
    pub(crate) p50_ms: f64,
    pub(crate) p95_ms: f64,
    pub(crate) p99_ms: f64,
    pub(crate) shed_rate: f64,
    pub(crate) error_rate: f64,
    /// Every SLO gate held.
    pub(crate) passed: bool,
    /// The gates that failed, as text.
    pub(crate) failed_gates: Vec<String>,
    /// The load generator could not keep this step's schedule: the step
    /// measures the generator, not the server.
    pub(crate) saturated: bool,
    /// The step's own report folder.
    pub(crate) report_dir: String,
    /// The request with the highest p95 in this step and that p95 (ms): what
    /// breaks a whole-run percentile gate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) slowest_request: Option<(String, f64)>,
    /// The declared server series that reached their limit in this step, in
    /// words ("grill backlog reached 100 of 100").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) at_limit: Vec<String>,
    /// The mean of each declared rate series in this step (`orders_made{station="grill"}`
    /// → per second): a rate that stops growing with the offered rate is a plateau.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) rates: Vec<(String, f64)>,
}

/// How the search is bounded.
#[derive(Clone, Debug)]
pub(crate) struct SearchPlan {
    /// First rate tried (arrivals/s).
    pub(crate) start: f64,
    /// No rate above this is tried.
    pub(crate) max: f64,
    /// Each raising step multiplies the rate by this.
    pub(crate) growth: f64,
    /// Bisection stops when (fail - pass) / pass is below this.
    pub(crate) precision: f64,
    /// At most this many steps in all.
    pub(crate) max_steps: usize,
}

/// How the search ended.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub(crate) enum Outcome {
    /// The highest rate that met the SLO, and the lowest that did not.
    Found { capacity: f64, first_failing: f64 },
    /// Even the first rate broke the SLO.
    BelowStart { first_failing: f64 },
    /// Every rate up to `max` met the SLO.
    AboveMax { highest_passing: f64 },
    /// The load generator saturated before the server broke the SLO: the
    /// server's capacity is at least `highest_passing`, the rest is unknown.
    GeneratorLimited {
        highest_passing: Option<f64>,
        saturated_at: f64,
    },
}

impl Outcome {
    /// The rate to report as capacity, when there is one.
    pub(crate) fn capacity(&self) -> Option<f64> {
        match self {
            Outcome::Found { capacity, .. } => Some(*capacity),
            Outcome::AboveMax { highest_passing } => Some(*highest_passing),
            Outcome::GeneratorLimited {
                highest_passing, ..
            } => *highest_passing,
            Outcome::BelowStart { .. } => None,
        }
    }
}

/// Runs the search, calling `step(rate)` for each rate it tries; returns the
/// steps in the order they ran and the outcome.
pub(crate) async fn search<F, Fut, E>(
    plan: &SearchPlan,
    mut step: F,
) -> Result<(Vec<StepResult>, Outcome), E>
where
    F: FnMut(f64) -> Fut,
    Fut: std::future::Future<Output = Result<StepResult, E>>,
{
    let mut steps = Vec::new();
    let mut pass: Option<f64> = None;
    let mut fail: Option<f64> = None;
    let mut rate = plan.start;
    // Raise until a step fails, saturates, or the maximum is passed.
    while steps.len() < plan.max_steps {
        let r = step(rate).await?;
        let (passed, saturated) = (r.passed, r.saturated);
        steps.push(r);
        if saturated {
            return Ok((
                steps,
                Outcome::GeneratorLimited {
                    highest_passing: pass,
                    saturated_at: rate,
                },
            ));
        }
        if !passed {
            fail = Some(rate);
            break;
        }
        pass = Some(rate);
        if rate >= plan.max {
            return Ok((
                steps,
                Outcome::AboveMax {
                    highest_passing: rate,
                },
            ));
        }
        rate = (rate * plan.growth).min(plan.max);
    }
    let Some(mut hi) = fail else {
        let highest_passing = pass.unwrap_or(plan.start);
        return Ok((steps, Outcome::AboveMax { highest_passing }));
    };
    let Some(mut lo) = pass else {
        return Ok((steps, Outcome::BelowStart { first_failing: hi }));
    };
    // Bisect between the last pass and the first failure.
    while steps.len() < plan.max_steps && (hi - lo) / lo > plan.precision {
        let mid = (lo + hi) / 2.0;
        let r = step(mid).await?;
        let (passed, saturated) = (r.passed, r.saturated);
        steps.push(r);
        if saturated {
            return Ok((
                steps,
                Outcome::GeneratorLimited {
                    highest_passing: Some(lo),
                    saturated_at: mid,
                },
            ));
        }
        if passed {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok((
        steps,
        Outcome::Found {
            capacity: lo,
            first_failing: hi,
        },
    ))
}

/// The knee of the latency-vs-throughput curve: the highest offered rate
/// whose p95 is still within 50 % of the p95 at the lightest load tried.
/// Past it, each extra request a second costs disproportionate latency.
pub(crate) fn knee(steps: &[StepResult]) -> Option<f64> {
    let mut sorted: Vec<&StepResult> = steps
        .iter()
        .filter(|s| !s.saturated && s.p95_ms.is_finite())
        .collect();
    sorted.sort_by(|a, b| a.offered.total_cmp(&b.offered));
    let base = sorted.first()?.p95_ms.max(0.001);
    sorted
        .iter()
        .take_while(|s| s.p95_ms <= base * 1.5)
        .last()
        .map(|s| s.offered)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A server whose p95 explodes past `capacity`.
    fn fake(
        capacity: f64,
        saturate_at: f64,
    ) -> impl FnMut(f64) -> std::future::Ready<Result<StepResult, ()>> {
        move |rate| {
            let over = rate > capacity;
            std::future::ready(Ok(StepResult {
                offered: rate,
                throughput_rps: rate.min(capacity),
                p50_ms: 5.0,
                p95_ms: if over {
                    900.0
                } else {
                    10.0 + rate / capacity * 5.0
                },
                p99_ms: if over { 2000.0 } else { 20.0 },
                shed_rate: if over { 0.2 } else { 0.0 },
                error_rate: 0.0,
                passed: !over,
                failed_gates: vec![],
                saturated: rate >= saturate_at,
                report_dir: String::new(),
                slowest_request: None,
                at_limit: vec![],
                rates: vec![],
            }))
        }
    }

    fn plan() -> SearchPlan {
        SearchPlan {
            start: 10.0,
            max: 100_000.0,
            growth: 2.0,
            precision: 0.02,
            max_steps: 30,
        }
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn the_search_finds_a_known_capacity_within_its_precision() {
        let (steps, outcome) = block_on(search(&plan(), fake(730.0, f64::INFINITY))).unwrap();
        let found = outcome.capacity().unwrap();
        assert!(
            (found - 730.0).abs() / 730.0 < 0.03,
            "found {found}, steps {}",
            steps.len()
        );
        assert!(found <= 730.0, "never reports a failing rate as capacity");
        assert!(matches!(outcome, Outcome::Found { .. }));
    }

    #[test]
    fn a_saturated_generator_is_reported_instead_of_a_capacity() {
        let (_, outcome) = block_on(search(&plan(), fake(10_000.0, 300.0))).unwrap();
        assert_eq!(
            outcome,
            Outcome::GeneratorLimited {
                highest_passing: Some(160.0),
                saturated_at: 320.0
            }
        );
    }

    #[test]
    fn a_server_that_fails_at_the_first_rate_has_no_capacity() {
        let (steps, outcome) = block_on(search(&plan(), fake(5.0, f64::INFINITY))).unwrap();
        assert_eq!(steps.len(), 1);
        assert_eq!(
            outcome,
            Outcome::BelowStart {
                first_failing: 10.0
            }
        );
        assert_eq!(outcome.capacity(), None);
    }

    #[test]
    fn the_knee_is_where_p95_leaves_its_light_load_value() {
        let (steps, _) = block_on(search(&plan(), fake(730.0, f64::INFINITY))).unwrap();
        let knee = knee(&steps).unwrap();
        assert!((300.0..=730.0).contains(&knee), "knee {knee}");
    }
}
