//! Change points in a series of runs: E-divisive means with a permutation
//! significance test.
//!
//! Reference: D. S. Matteson and N. A. James, "A Nonparametric Approach for
//! Multiple Change Point Analysis of Multivariate Data", Journal of the
//! American Statistical Association 109 (505), 2014, 334-345
//! (arXiv:1306.4933). The procedure follows Apache Otava (formerly Hunter),
//! `otava/analysis.py::compute_change_points_orig` with its
//! `change_point_divisive` package: the `PairDistanceCalculator` (α = 1,
//! distances |xᵢ − xⱼ|), the `ChangePointDetector` loop and the
//! `PermutationsSignificanceTester` (values shuffled within each current
//! segment; p = #{permuted q̂ ≥ q̂} / (R + 1); significant when p ≤ the
//! threshold).
//!
//! For a segment Z and a split of it into X = Z[s..τ) (n values) and
//! Y = Z[τ..κ) (m values), both non-empty:
//!
//! ```text
//! q̂(X, Y) = 2/(n+m) Σᵢⱼ |Xᵢ − Yⱼ| − 2m/((n+m)(n−1)) Σᵢ<ₖ |Xᵢ − Xₖ| − 2n/((n+m)(m−1)) Σⱼ<ₖ |Yⱼ − Yₖ|
//! ```
//!
//! (a term whose side has one value is 0). The candidate of a segment is the
//! τ of the (τ, κ) maximising q̂; the next candidate is the best over every
//! segment. It becomes a change point when its q̂ is rarely reached by the
//! same search on the series shuffled within each segment; the search stops
//! at the first candidate that is not significant.
//!
//! Two choices differ from Otava's defaults, both to raise fewer false
//! alarms on a history of many figures: R = 999 permutations (Otava: 100)
//! with the same 0.001 threshold, so a noise-only series is flagged with
//! probability about 0.2 % (Otava's 100 permutations: about 1 %); and the
//! permutations stop as soon as the count already exceeds the threshold,
//! which changes no verdict. The generator is seeded, so the same series
//! always gives the same change points.

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use std::ops::Range;

/// How the search is run.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Settings {
    /// Shuffles per significance test (R).
    pub(crate) permutations: usize,
    /// A candidate is a change point when p ≤ this.
    pub(crate) max_pvalue: f64,
    /// Seeds the shuffles, so results are reproducible.
    pub(crate) seed: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            permutations: 999,
            max_pvalue: 0.001,
            seed: 0x0ddc_0ffe_e5ee_d001,
        }
    }
}

/// A change point found in a series.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ChangePoint {
    /// Index of the first value after the change.
    pub(crate) index: usize,
    /// The divergence q̂ of the split that found it.
    pub(crate) qhat: f64,
    /// The permutation test's p-value when it was found.
    pub(crate) pvalue: f64,
    /// Mean of the segment before and of the segment after, in the final segmentation.
    pub(crate) mean_before: f64,
    pub(crate) mean_after: f64,
}

/// The change points of `series` (in index order). Values must be finite.
pub(crate) fn detect(series: &[f64], settings: &Settings) -> Vec<ChangePoint> {
    let mut rng = StdRng::seed_from_u64(settings.seed);
    let mut found: Vec<(usize, f64, f64)> = Vec::new();
    loop {
        let mut cuts: Vec<usize> = found.iter().map(|c| c.0).collect();
        cuts.sort_unstable();
        let segments = segments(&cuts, series.len());
        let Some((index, qhat)) = best_candidate(series, &segments) else {
            break;
        };
        let pvalue = permutation_pvalue(series, &segments, qhat, settings, &mut rng);
        if pvalue > settings.max_pvalue {
            break;
        }
        found.push((index, qhat, pvalue));
    }
    found.sort_by_key(|c| c.0);
    let cuts: Vec<usize> = found.iter().map(|c| c.0).collect();
    let segments = segments(&cuts, series.len());
    found
        .iter()
        .enumerate()
        .map(|(i, &(index, qhat, pvalue))| ChangePoint {
            index,
            qhat,
            pvalue,
            mean_before: mean(&series[segments[i].clone()]),
            mean_after: mean(&series[segments[i + 1].clone()]),
        })
        .collect()
}

/// The segments between change points (each non-empty).
fn segments(cuts: &[usize], len: usize) -> Vec<Range<usize>> {
    let mut bounds = vec![0];
    bounds.extend_from_slice(cuts);
    bounds.push(len);
    bounds
        .windows(2)
        .map(|w| w[0]..w[1])
        .filter(|r| !r.is_empty())
        .collect()
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len().max(1) as f64
}

/// The best candidate over every segment of two values or more: its index
/// in the series and its q̂ (the first maximum on ties, as numpy's argmax).
fn best_candidate(series: &[f64], segments: &[Range<usize>]) -> Option<(usize, f64)> {
    let mut best: Option<(usize, f64)> = None;
    for seg in segments.iter().filter(|s| s.len() > 1) {
        let (tau, q) = segment_candidate(&series[seg.clone()]);
        if best.is_none_or(|(_, b)| q > b) {
            best = Some((seg.start + tau, q));
        }
    }
    best
}

/// The τ (1 ≤ τ < len) and q̂ of the split (τ, κ) of `z` that maximises q̂,
/// in O(len²): per column j, `prefix[j][x]` = Σ_{i<x} |zᵢ − zⱼ| (x ≤ j).
fn segment_candidate(z: &[f64]) -> (usize, f64) {
    let len = z.len();
    let prefix: Vec<Vec<f64>> = (0..len)
        .map(|j| {
            let mut row = Vec::with_capacity(j + 1);
            let mut acc = 0.0;
            row.push(0.0);
            for zi in &z[..j] {
                acc += (zi - z[j]).abs();
                row.push(acc);
            }
            row
        })
        .collect();
    let mut best = (1, f64::NEG_INFINITY);
    // Σ_{i<k<τ} |zᵢ − zₖ|, grown with τ.
    let mut within_left = 0.0;
    for tau in 1..len {
        within_left += prefix[tau - 1][tau - 1];
        let n = tau as f64;
        let (mut cross, mut within_right) = (0.0, 0.0);
        for (k, column) in prefix.iter().enumerate().skip(tau) {
            // Y grows by z[k]: add its distances to X and to Y's earlier values.
            cross += column[tau];
            within_right += column[k] - column[tau];
            let m = (k + 1 - tau) as f64;
            let q = qhat(n, m, cross, within_left, within_right);
            if q > best.1 {
                best = (tau, q);
            }
        }
    }
    best
}

/// q̂ from the three sums (see the module header).
fn qhat(n: f64, m: f64, cross: f64, within_x: f64, within_y: f64) -> f64 {
    let total = n + m;
    let x_term = if n > 1.0 {
        2.0 * m / (total * (n - 1.0)) * within_x
    } else {
        0.0
    };
    let y_term = if m > 1.0 {
        2.0 * n / (total * (m - 1.0)) * within_y
    } else {
        0.0
    };
    2.0 / total * cross - x_term - y_term
}

/// p = #{q̂ of a shuffled series ≥ `observed`} / (R + 1), each shuffle within
/// the current segments; stops early once p can no longer be significant.
fn permutation_pvalue(
    series: &[f64],
    segments: &[Range<usize>],
    observed: f64,
    settings: &Settings,
    rng: &mut StdRng,
) -> f64 {
    let denominator = (settings.permutations + 1) as f64;
    let allowed = (settings.max_pvalue * denominator).floor() as usize;
    // Floating sums in another order may differ in the last bits.
    let reach = observed - observed.abs() * 1e-12;
    let mut shuffled = series.to_vec();
    let mut count = 0;
    for _ in 0..settings.permutations {
        for seg in segments {
            shuffled[seg.clone()].shuffle(rng);
        }
        if best_candidate(&shuffled, segments).is_some_and(|(_, q)| q >= reach) {
            count += 1;
            if count > allowed {
                break;
            }
        }
    }
    count as f64 / denominator
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;
    use rand_distr_free::normal;

    /// Normal noise without another crate: Box-Muller from the seeded generator.
    mod rand_distr_free {
        use rand::Rng;
        pub(crate) fn normal(rng: &mut impl Rng, mean: f64, sd: f64) -> f64 {
            let u1: f64 = rng.random_range(f64::EPSILON..1.0);
            let u2: f64 = rng.random();
            mean + sd * (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
        }
    }

    fn noisy(rng: &mut StdRng, means: &[(usize, f64)], sd: f64) -> Vec<f64> {
        means
            .iter()
            .flat_map(|&(n, m)| (0..n).map(move |_| m).collect::<Vec<_>>())
            .map(|m| normal(rng, m, sd))
            .collect()
    }

    /// q̂ straight from its definition, to check the O(n²) sums.
    fn qhat_direct(x: &[f64], y: &[f64]) -> f64 {
        let pairs = |v: &[f64]| {
            let mut s = 0.0;
            for i in 0..v.len() {
                for k in i + 1..v.len() {
                    s += (v[i] - v[k]).abs();
                }
            }
            s
        };
        let cross: f64 = x
            .iter()
            .flat_map(|a| y.iter().map(move |b| (a - b).abs()))
            .sum();
        qhat(x.len() as f64, y.len() as f64, cross, pairs(x), pairs(y))
    }

    #[test]
    fn the_fast_search_finds_the_same_maximum_as_the_definition() {
        let mut rng = StdRng::seed_from_u64(7);
        let z: Vec<f64> = (0..17).map(|_| rng.random_range(0.0..10.0)).collect();
        let mut best = (0, f64::NEG_INFINITY);
        for tau in 1..z.len() {
            for kappa in tau + 1..=z.len() {
                let q = qhat_direct(&z[..tau], &z[tau..kappa]);
                if q > best.1 {
                    best = (tau, q);
                }
            }
        }
        let (tau, q) = segment_candidate(&z);
        assert_eq!(tau, best.0);
        assert!((q - best.1).abs() < 1e-9, "{q} vs {}", best.1);
    }

    #[test]
    fn a_step_in_a_noisy_series_is_found_at_its_index() {
        let mut rng = StdRng::seed_from_u64(42);
        // 5 ms for 8 runs, then 10 ms for 8 runs, noise sd 0.4 ms.
        let series = noisy(&mut rng, &[(8, 5.0), (8, 10.0)], 0.4);
        let found = detect(&series, &Settings::default());
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].index, 8);
        assert!(found[0].pvalue <= 0.001);
        assert!((found[0].mean_before - 5.0).abs() < 0.5);
        assert!((found[0].mean_after - 10.0).abs() < 0.5);
    }

    #[test]
    fn a_small_step_in_a_long_noisy_series_is_found_within_one_run() {
        let mut rng = StdRng::seed_from_u64(3);
        // +20 % after run 25 of 40, noise sd 5 % of the level.
        let series = noisy(&mut rng, &[(25, 100.0), (15, 120.0)], 5.0);
        let found = detect(&series, &Settings::default());
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].index.abs_diff(25) <= 1, "{found:?}");
    }

    #[test]
    fn two_steps_give_two_change_points() {
        let mut rng = StdRng::seed_from_u64(11);
        let series = noisy(&mut rng, &[(12, 50.0), (12, 80.0), (12, 40.0)], 3.0);
        let found = detect(&series, &Settings::default());
        let at: Vec<usize> = found.iter().map(|c| c.index).collect();
        assert_eq!(at, [12, 24]);
    }

    #[test]
    fn noise_only_series_of_30_runs_raise_no_alarm() {
        // A/A: ten series of 30 runs with nothing changed, fixed seeds.
        for seed in 100..110 {
            let mut rng = StdRng::seed_from_u64(seed);
            let series = noisy(&mut rng, &[(30, 20.0)], 2.0);
            let found = detect(&series, &Settings::default());
            assert!(found.is_empty(), "seed {seed}: {found:?}");
        }
    }

    #[test]
    fn a_constant_or_tiny_series_has_no_change_point() {
        assert!(detect(&[3.0; 20], &Settings::default()).is_empty());
        assert!(detect(&[1.0], &Settings::default()).is_empty());
        assert!(detect(&[], &Settings::default()).is_empty());
    }

    #[test]
    fn the_same_series_and_seed_give_the_same_answer() {
        let mut rng = StdRng::seed_from_u64(5);
        let series = noisy(&mut rng, &[(10, 1.0), (10, 1.3)], 0.1);
        let s = Settings::default();
        assert_eq!(detect(&series, &s), detect(&series, &s));
    }
}
