//! Histograms → figures, shared by the whole-run, per-second and window
//! computations: latency percentiles in ms, rates, rounding.

use super::Latency;
use hdrhistogram::Histogram;

/// Rounds to three decimals (µs resolution for ms figures).
pub(super) fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

/// µs → ms, rounded to three decimals.
pub(super) fn ms(us: u64) -> f64 {
    round3(us as f64 / 1000.0)
}

/// Corrected latency figures of a histogram of µs, or `None` when it is empty.
pub(super) fn latency(h: &Histogram<u64>) -> Option<Latency> {
    (!h.is_empty()).then(|| Latency {
        p50: ms(h.value_at_quantile(0.50)),
        p90: ms(h.value_at_quantile(0.90)),
        p95: ms(h.value_at_quantile(0.95)),
        p99: ms(h.value_at_quantile(0.99)),
        p99_9: ms(h.value_at_quantile(0.999)),
        max: ms(h.max()),
        mean: round3(h.mean() / 1000.0),
    })
}

/// `part` as a share of `total` (0 when there is nothing).
pub(super) fn rate(part: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        part as f64 / total as f64
    }
}
