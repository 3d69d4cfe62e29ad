//! Whether a fault's recovery can be measured, and against what. Without
//! gates, recovery is the p95 back within 20 % of its value before the
//! fault, which says something only when that value was a steady state: a
//! system already overloaded before the fault "recovers" to its overload.
//!
//! Steady, for the seconds before a fault: at least [`STEADY_MIN_SECONDS`]
//! of them with traffic; under [`STEADY_MAX_FAILED`] of their requests shed
//! (503) or failed; the mean per-second p95 of their second half within
//! [`STEADY_TREND`] of their first half's (no climbing queue); and no
//! second's p95 over [`STEADY_SPIKE`] times their median.
//!
//! With gates, `gate::recovery` judges the window against them instead.

use super::{Recovery, RecoveryBasis};
use crate::record::{Counts, Second};
use std::ops::Range;

/// Fewer seconds with traffic than this before a fault are no steady state.
pub(crate) const STEADY_MIN_SECONDS: usize = 3;

/// A share of requests shed or failed above this before a fault is degraded.
pub(crate) const STEADY_MAX_FAILED: f64 = 0.01;

/// The halves' mean p95 may differ by this share at most.
pub(crate) const STEADY_TREND: f64 = 0.20;

/// No second's p95 above this many times the median of the seconds'.
pub(crate) const STEADY_SPIKE: f64 = 2.0;

/// The words every report uses when no recovery time can be given.
pub const NOT_MEASURABLE: &str =
    "recovery not measurable: the system was already degraded before the fault";

/// Why the seconds `before` a fault are not a steady state, or `Ok`.
pub(super) fn steady(seconds: &[Second], before: Range<usize>) -> Result<(), String> {
    let window = seconds
        .get(before.start.min(seconds.len())..before.end.min(seconds.len()))
        .unwrap_or(&[]);
    let mut counts = Counts::default();
    for s in window {
        counts.merge(&s.counts);
    }
    let p95: Vec<f64> = window
        .iter()
        .filter(|s| !s.latency.is_empty())
        .map(|s| s.latency.value_at_quantile(0.95) as f64 / 1000.0)
        .collect();
    steady_p95(&p95, counts.shed + counts.errors(), counts.total)
}

/// [`steady`] on the per-second p95s (ms) and the failed and total counts.
fn steady_p95(p95: &[f64], failed: u64, total: u64) -> Result<(), String> {
    if p95.len() < STEADY_MIN_SECONDS {
        return Err(format!(
            "only {} second(s) with traffic before it",
            p95.len()
        ));
    }
    let failed_share = failed as f64 / total.max(1) as f64;
    if failed_share > STEADY_MAX_FAILED {
        return Err(format!(
            "{:.1} % of requests were shed or failed before it",
            failed_share * 100.0
        ));
    }
    let mut sorted = p95.to_vec();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    let top = sorted[sorted.len() - 1];
    if top > STEADY_SPIKE * median {
        return Err(format!(
            "a second's p95 reached {top:.1} ms beside a median of {median:.1} ms before it"
        ));
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let (first, second) = p95.split_at(p95.len() / 2);
    let (a, b) = (mean(first), mean(second));
    if (b - a).abs() > STEADY_TREND * a.max(b) {
        return Err(format!(
            "p95 moved from {a:.1} ms to {b:.1} ms over the seconds before it"
        ));
    }
    Ok(())
}

/// The p95 basis: measurable, or the reason it is not.
pub(super) fn p95_basis(steady: Result<(), String>) -> Recovery {
    Recovery {
        basis: RecoveryBasis::P95,
        gates: Vec::new(),
        not_measurable: steady.err().map(|why| format!("{NOT_MEASURABLE} ({why})")),
        held: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flat_p95_with_few_failures_is_steady() {
        assert_eq!(steady_p95(&[20.0, 22.0, 19.0, 21.0, 20.5], 1, 500), Ok(()));
    }

    #[test]
    fn a_climbing_queue_is_not_steady() {
        // An overloaded stage: p95 grows second by second.
        let why = steady_p95(&[300.0, 700.0, 1100.0, 1500.0, 1720.0], 0, 400).unwrap_err();
        assert!(why.contains("p95 moved from"), "{why}");
    }

    #[test]
    fn shedding_or_failing_before_the_fault_is_not_steady() {
        let why = steady_p95(&[20.0; 5], 40, 500).unwrap_err();
        assert!(why.contains("8.0 % of requests"), "{why}");
    }

    #[test]
    fn a_spike_or_too_little_traffic_is_not_steady() {
        assert!(steady_p95(&[20.0, 20.0, 90.0, 20.0, 20.0, 20.0], 0, 600)
            .unwrap_err()
            .contains("reached 90.0 ms"));
        assert!(steady_p95(&[20.0, 20.0], 0, 200)
            .unwrap_err()
            .contains("only 2 second(s)"));
    }

    #[test]
    fn not_measurable_says_the_system_was_already_degraded() {
        let r = p95_basis(Err("why".into()));
        assert_eq!(
            r.not_measurable.as_deref(),
            Some("recovery not measurable: the system was already degraded before the fault (why)")
        );
        assert_eq!(p95_basis(Ok(())).not_measurable, None);
    }
}
