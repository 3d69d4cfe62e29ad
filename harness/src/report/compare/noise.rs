//! When a difference between backends is real: each backend's runs (its
//! repeats) give one median per figure and a spread (its own run-to-run
//! noise). A figure is marked better only when every backend of the row has
//! at least [`MIN_RUNS`] runs, the 95 % bootstrap interval of the difference
//! of medians (as the baseline verdict computes it) excludes 0 against every
//! other backend, and the difference is larger than both backends' spreads
//! together. With 3 runs each, two identical backends are told apart in about
//! 1 % of rows (normal noise; 13 % with 2 runs, the reason for the minimum).

use crate::baseline::bootstrap::{median, median_ci};

/// Runs per backend below which no difference is marked.
pub(crate) const MIN_RUNS: usize = 3;

/// Why a row has no star, when that is not because the figures are close.
pub(crate) const TOO_FEW_RUNS: &str =
    "no difference is marked: a backend has fewer than 3 runs, too few to tell a difference from \
     run-to-run noise (two identical backends differ by chance in a third of the figures with one \
     or two runs each); run with --repeat 3 or more";

/// One backend's values of a figure, one per run.
pub(crate) struct Sample<'a> {
    pub(crate) values: &'a [f64],
}

impl Sample<'_> {
    pub(crate) fn median(&self) -> f64 {
        median(self.values)
    }

    /// Max minus min over the runs: the backend's own noise on this figure.
    pub(crate) fn spread(&self) -> f64 {
        let (lo, hi) = self
            .values
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                (lo.min(*v), hi.max(*v))
            });
        if self.values.is_empty() {
            0.0
        } else {
            hi - lo
        }
    }
}

/// The backend whose figure is better than every other's beyond the noise,
/// if one is; `None` for a row with fewer than two backends or [`MIN_RUNS`]
/// runs in any of them.
pub(crate) fn better_beyond_noise(
    samples: &[Option<Sample<'_>>],
    higher_is_better: bool,
) -> Option<usize> {
    let present: Vec<(usize, &Sample)> = samples
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.as_ref().map(|s| (i, s)))
        .collect();
    if present.len() < 2 || present.iter().any(|(_, s)| s.values.len() < MIN_RUNS) {
        return None;
    }
    let by_median =
        |a: &&(usize, &Sample), b: &&(usize, &Sample)| a.1.median().total_cmp(&b.1.median());
    let (best, b) = *if higher_is_better {
        present.iter().max_by(by_median)
    } else {
        present.iter().min_by(by_median)
    }?;
    let sign = if higher_is_better { 1.0 } else { -1.0 };
    let clear = present
        .iter()
        .filter(|(i, _)| *i != best)
        .all(|(_, other)| {
            // How much better `best` is than `other`, positive when better.
            let gain = |mb: f64, mo: f64| sign * (mb - mo);
            let (lo, _) = median_ci(b.values, other.values, gain);
            let diff = gain(b.median(), other.median());
            lo > 0.0 && diff > b.spread() + other.spread()
        });
    clear.then_some(best)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(values: &[f64]) -> Option<Sample<'_>> {
        Some(Sample { values })
    }

    #[test]
    fn a_clear_difference_with_enough_runs_is_marked_on_the_right_side() {
        let fast = [10.0, 10.5, 10.2];
        let slow = [20.0, 21.0, 19.5];
        assert_eq!(better_beyond_noise(&[s(&slow), s(&fast)], false), Some(1));
        assert_eq!(better_beyond_noise(&[s(&slow), s(&fast)], true), Some(0));
    }

    #[test]
    fn one_or_two_runs_per_backend_mark_nothing_however_far_apart() {
        assert_eq!(better_beyond_noise(&[s(&[10.0]), s(&[100.0])], false), None);
        assert_eq!(
            better_beyond_noise(&[s(&[10.0, 11.0]), s(&[100.0, 101.0])], false),
            None
        );
    }

    #[test]
    fn figures_whose_runs_overlap_or_spread_wider_than_their_gap_are_not_marked() {
        // The runs flip sides (the light-load p90 of two identical backends).
        let a = [3.22, 45.9, 12.0];
        let b = [103.0, 2.62, 30.0];
        assert_eq!(better_beyond_noise(&[s(&a), s(&b)], false), None);
        // Separated, but by less than the backends' own spread.
        let a = [10.0, 14.0, 12.0];
        let b = [15.0, 19.0, 17.0];
        assert_eq!(better_beyond_noise(&[s(&a), s(&b)], false), None);
    }

    #[test]
    fn with_three_backends_the_best_must_beat_each_other_one() {
        let a = [10.0, 10.1, 10.2];
        let b = [10.3, 10.4, 10.5];
        let c = [30.0, 30.1, 30.2];
        assert_eq!(better_beyond_noise(&[s(&a), s(&b), s(&c)], false), None);
        assert_eq!(better_beyond_noise(&[s(&a), None, s(&c)], false), Some(0));
    }
}
