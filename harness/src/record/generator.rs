//! The load generator's own health: how late it started requests against its
//! schedule, how busy its process was. A run whose generator fell behind is
//! not a measure of the server, and the report says so.

use hdrhistogram::Histogram;

/// A start counts as late when it left more than this after its intended time.
pub(crate) const LATE_START_US: u64 = 10_000;

/// The run is invalid when more than this share of starts were late.
pub(crate) const MAX_LATE_SHARE: f64 = 0.05;

/// ...and at least this many were late: in a run of a handful of arrivals, one
/// start delayed by a busy machine is noise, not a saturated generator.
pub(crate) const MIN_LATE_STARTS: u64 = 10;

/// The corrected latencies are inflated by the generator's own timing when
/// its p99 start lag exceeds this share of the measured p50 (from send): the
/// lag is counted in every corrected figure, so beside a 0.2 ms service a
/// 1 ms lag is most of what the report would show.
pub(crate) const MAX_LAG_SHARE_OF_P50: f64 = 0.10;

#[derive(Clone, Debug)]
pub struct GeneratorHealth {
    /// Lag between intended and actual start of each scheduled request, µs.
    pub(crate) start_lag: Histogram<u64>,
    /// Starts later than [`LATE_START_US`].
    pub(crate) late_starts: u64,
    /// Scheduled starts that never happened (no free user before the run ended).
    pub missed_starts: u64,
    /// Scheduled starts in all (open model), or iterations begun (closed model).
    pub scheduled_starts: u64,
    /// The harness process's CPU use per second, in cores (1.0 = one core busy).
    pub(crate) cpu_per_second: Vec<f64>,
    /// Peak resident set size of the harness process, bytes.
    pub(crate) peak_rss_bytes: u64,
    /// The whole host's CPU, one entry per second of the load.
    pub(crate) host: Vec<super::HostSecond>,
}

impl Default for GeneratorHealth {
    fn default() -> Self {
        GeneratorHealth {
            start_lag: Histogram::new(3).expect("3 significant figures is valid"),
            late_starts: 0,
            missed_starts: 0,
            scheduled_starts: 0,
            cpu_per_second: Vec::new(),
            peak_rss_bytes: 0,
            host: Vec::new(),
        }
    }
}

impl GeneratorHealth {
    pub fn record_start_lag(&mut self, lag_us: u64) {
        super::put(&mut self.start_lag, lag_us.max(1));
        if lag_us > LATE_START_US {
            self.late_starts += 1;
        }
    }

    /// Why the generator could not keep its schedule, or `None` when it did.
    pub(crate) fn saturation(&self) -> Option<String> {
        if self.scheduled_starts == 0 {
            return None;
        }
        let behind = self.late_starts + self.missed_starts;
        let late = behind as f64 / self.scheduled_starts as f64;
        (late > MAX_LATE_SHARE && behind >= MIN_LATE_STARTS).then(|| {
            format!(
                "the load generator fell behind its schedule: {:.1}% of starts were over {} ms late or missed \
                 (p99 start lag {:.1} ms); these figures measure the generator, not the server",
                late * 100.0,
                LATE_START_US / 1000,
                self.start_lag.value_at_quantile(0.99) as f64 / 1000.0
            )
        })
    }
}

impl GeneratorHealth {
    /// Why the corrected latencies overstate the server's, when the start lag
    /// is large beside `service_p50_us` (the median from send to answer);
    /// `None` when the lag is negligible or no start had a schedule.
    pub(crate) fn inflation(&self, service_p50_us: u64) -> Option<String> {
        if self.start_lag.is_empty() || service_p50_us == 0 {
            return None;
        }
        let lag_p99 = self.start_lag.value_at_quantile(0.99);
        let share = lag_p99 as f64 / service_p50_us as f64;
        (share > MAX_LAG_SHARE_OF_P50).then(|| {
            format!(
                "The figures are inflated by the generator: its p99 start lag ({:.3} ms) is {:.0}% of the \
                 measured p50 ({:.3} ms from send), over the {:.0}% that leaves the corrected latencies \
                 a measure of the server; compare with the uncorrected figures",
                lag_p99 as f64 / 1000.0,
                share * 100.0,
                service_p50_us as f64 / 1000.0,
                MAX_LAG_SHARE_OF_P50 * 100.0
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_start_lag_large_beside_the_service_time_inflates_the_figures() {
        let mut g = GeneratorHealth::default();
        for _ in 0..1000 {
            g.record_start_lag(1_000);
        }
        let why = g
            .inflation(120)
            .expect("1 ms of lag beside 0.12 ms inflates");
        assert!(why.contains("inflated by the generator"), "{why}");
        assert!(g.inflation(50_000).is_none(), "1 ms beside 50 ms is 2 %");
    }

    #[test]
    fn a_closed_model_run_has_no_start_lag_to_inflate_with() {
        assert!(GeneratorHealth::default().inflation(100).is_none());
    }

    #[test]
    fn a_generator_that_keeps_its_schedule_is_not_saturated() {
        let mut g = GeneratorHealth {
            scheduled_starts: 1000,
            ..Default::default()
        };
        for _ in 0..1000 {
            g.record_start_lag(200);
        }
        assert!(g.saturation().is_none());
    }

    #[test]
    fn one_late_start_in_a_tiny_run_is_not_saturation() {
        let mut g = GeneratorHealth {
            scheduled_starts: 5,
            ..Default::default()
        };
        g.record_start_lag(50_000);
        for _ in 0..4 {
            g.record_start_lag(100);
        }
        assert!(g.saturation().is_none());
    }

    #[test]
    fn a_generator_with_many_late_starts_is_saturated() {
        let mut g = GeneratorHealth {
            scheduled_starts: 1000,
            ..Default::default()
        };
        for i in 0..1000 {
            g.record_start_lag(if i % 10 == 0 { 50_000 } else { 100 });
        }
        let why = g.saturation().expect("10% late is saturated");
        assert!(why.contains("10.0%"), "{why}");
    }
}
