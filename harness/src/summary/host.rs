//! The host's CPU in the summary, and what a saturated host does to the
//! verdict, per load model (see README, "Generator health"):
//!
//! - open model: the run is INVALID when the host was saturated *and* the
//!   start lag suffered: over [`HURT_LATE_SHARE`] of starts (and at least
//!   [`MIN_LATE_STARTS`]) more than 10 ms late. The schedule was then the
//!   host's, not the scenario's. Otherwise a warning (a start lag that is
//!   merely large beside the p50 is already reported as inflation).
//! - closed model: a warning. Its users wait for each answer, so there is no
//!   schedule to fall behind; the latencies include the host's queueing and
//!   the verdict says so, but it stands.

use super::figures::round3;
use super::{HostSummary, SaturationEffect};
use crate::record::{host_saturation, GeneratorHealth, HostSecond, LoadModel};

/// On a saturated host, the open model's start lag suffered when more than
/// this share of starts were over 10 ms late...
pub(crate) const HURT_LATE_SHARE: f64 = 0.01;

/// ...and at least this many (as for a generator that fell behind).
pub(crate) const MIN_LATE_STARTS: u64 = crate::record::MIN_LATE_STARTS;

/// The host's per-second CPU as summary.json carries it.
pub(super) fn host_summary(seconds: &[HostSecond]) -> HostSummary {
    let pct = |v: f64| (v * 1000.0).round() / 10.0;
    let sat = host_saturation(seconds);
    HostSummary {
        busy_pct: seconds.iter().map(|s| pct(s.busy)).collect(),
        steal_pct: seconds.iter().map(|s| pct(s.steal)).collect(),
        run_queue: seconds.iter().map(|s| s.run_queue).collect(),
        load_1m: seconds.iter().map(|s| round3(s.load_1m)).collect(),
        busy_mean_pct: if seconds.is_empty() {
            0.0
        } else {
            pct(seconds.iter().map(|s| s.busy).sum::<f64>() / seconds.len() as f64)
        },
        saturated_seconds: sat.map_or(0, |s| s.saturated_seconds as u64),
        saturated_share: sat.map_or(0.0, |s| round3(s.share)),
        saturated: sat.is_some(),
    }
}

/// What the run's `generator.saturation` says, and what it does to the
/// verdict: the generator fell behind (`behind`), the host was saturated,
/// both, or neither. `inflated` is the start lag's finding, if any.
pub(super) fn saturation(
    g: &GeneratorHealth,
    model: LoadModel,
    behind: Option<String>,
    cpu_mean_cores: f64,
) -> (Option<String>, Option<SaturationEffect>) {
    let Some(host) = host_saturation(&g.host) else {
        let effect = behind.as_ref().map(|_| SaturationEffect::Invalid);
        return (behind, effect);
    };
    let named = format!(
        "host CPU saturated {:.0} % of the run ({} of {} s with its cores at least 90 % busy), \
         generator {:.1} cores",
        host.share * 100.0,
        host.saturated_seconds,
        host.seconds,
        cpu_mean_cores
    );
    if let Some(behind) = behind {
        return (
            Some(format!("{behind}; {named}")),
            Some(SaturationEffect::Invalid),
        );
    }
    let late_share = g.late_starts as f64 / g.scheduled_starts.max(1) as f64;
    let lag_hurt = g.late_starts >= MIN_LATE_STARTS && late_share > HURT_LATE_SHARE;
    match model {
        LoadModel::Open if lag_hurt => (
            Some(format!(
                "{named}: the open model's start lag suffered ({:.1} % of starts over 10 ms late, \
                 p99 {:.3} ms), so the arrivals kept the host's pace, not the schedule's, and the \
                 latencies include the host's queueing; the run is invalid",
                late_share * 100.0,
                g.start_lag.value_at_quantile(0.99) as f64 / 1000.0
            )),
            Some(SaturationEffect::Invalid),
        ),
        _ => (
            Some(format!(
                "{named}: the latencies include the host's queueing, not only the server's \
                 (a warning: the {} model's verdict stands)",
                match model {
                    LoadModel::Open => "open",
                    LoadModel::Closed => "closed",
                }
            )),
            Some(SaturationEffect::Warning),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn health(busy: &[f64], lag_us: u64) -> GeneratorHealth {
        let mut g = GeneratorHealth {
            scheduled_starts: 1000,
            host: busy
                .iter()
                .map(|&busy| HostSecond {
                    busy,
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        };
        for _ in 0..1000 {
            g.record_start_lag(lag_us);
        }
        g
    }

    #[test]
    fn on_a_quiet_host_saturation_stays_null() {
        // Recorded on a quiet 2-core host: one spike, the rest well under 90 %.
        let g = health(&[0.35, 0.41, 0.97, 0.38, 0.4, 0.36, 0.52, 0.39], 40);
        for model in [LoadModel::Open, LoadModel::Closed] {
            assert_eq!(saturation(&g, model, None, 0.3), (None, None));
        }
        assert!(!host_summary(&g.host).saturated);
    }

    #[test]
    fn a_saturated_host_is_a_warning_in_the_closed_model() {
        let g = health(&[1.0, 0.99, 0.98, 0.5, 1.0, 1.0, 0.97, 0.99, 1.0, 1.0], 0);
        let (why, effect) = saturation(&g, LoadModel::Closed, None, 0.91);
        let why = why.expect("named");
        assert_eq!(effect, Some(SaturationEffect::Warning));
        assert!(
            why.starts_with("host CPU saturated 90 % of the run (9 of 10 s"),
            "{why}"
        );
        assert!(why.contains("generator 0.9 cores"), "{why}");
        assert!(why.contains("include the host's queueing"), "{why}");
        let host = host_summary(&g.host);
        assert_eq!((host.saturated_seconds, host.saturated_share), (9, 0.9));
        assert_eq!(host.busy_pct[1], 99.0);
    }

    #[test]
    fn a_saturated_host_invalidates_an_open_run_only_when_its_start_lag_suffered() {
        let busy = [1.0; 5];
        let kept = health(&busy, 40);
        let (_, effect) = saturation(&kept, LoadModel::Open, None, 0.5);
        assert_eq!(effect, Some(SaturationEffect::Warning));
        // 20 of 1,000 starts over 10 ms late (2 %).
        let mut late = health(&busy, 40);
        for _ in 0..20 {
            late.record_start_lag(20_000);
        }
        let (why, effect) = saturation(&late, LoadModel::Open, None, 0.5);
        assert_eq!(effect, Some(SaturationEffect::Invalid), "late starts");
        assert!(why.unwrap().contains("start lag suffered (2.0 %"));
        // A few late starts (under 1 %) on a busy host are a warning still.
        let mut few = health(&busy, 40);
        for _ in 0..5 {
            few.record_start_lag(20_000);
        }
        let (_, effect) = saturation(&few, LoadModel::Open, None, 0.5);
        assert_eq!(effect, Some(SaturationEffect::Warning));
    }

    #[test]
    fn a_generator_behind_on_a_saturated_host_names_both() {
        let g = health(&[1.0; 4], 40);
        let (why, effect) = saturation(&g, LoadModel::Closed, Some("behind".into()), 1.0);
        assert_eq!(effect, Some(SaturationEffect::Invalid));
        assert!(why.unwrap().starts_with("behind; host CPU saturated 100 %"));
    }
}
