//! Window gates (`p95 < 500ms over 10s`): a gate judged every second on the
//! sliding window of its last N seconds. The window's figures come from the
//! recorder's per-second HDR histograms, added as a second slides in and
//! subtracted as it slides out, so a window's p95 is the p95 of every
//! request in it (at the per-second histograms' precision), never an average
//! of percentiles. The same [`Slider`] judges a finished run (here) and a
//! running one (`live`), so both see the same windows.

use super::show;
use crate::record::{Counts, Second};
use crate::slo::{Gate, Metric, Window};
use crate::summary::{WindowVerdict, WorstWindow};
use hdrhistogram::Histogram;
use std::collections::VecDeque;
use std::ops::Range;

/// The sliding window: the sum of the last `length` seconds pushed.
#[derive(Clone, Debug)]
pub(crate) struct Slider {
    length: usize,
    /// Copies of the seconds in the window (a second that gets a late
    /// sample after it slid in is subtracted as it was added).
    seconds: VecDeque<Second>,
    latency: Histogram<u64>,
    counts: Counts,
}

impl Slider {
    pub(crate) fn new(length_s: u32) -> Slider {
        Slider {
            length: length_s.max(1) as usize,
            seconds: VecDeque::new(),
            latency: Histogram::new(2).expect("2 significant figures is valid"),
            counts: Counts::default(),
        }
    }

    /// Slides one second in (and the oldest out once the window is full).
    pub(crate) fn push(&mut self, second: &Second) {
        if self.seconds.len() == self.length {
            if let Some(old) = self.seconds.pop_front() {
                self.latency
                    .subtract(&old.latency)
                    .expect("a second is subtracted as it was added");
                subtract(&mut self.counts, &old.counts);
            }
        }
        self.latency
            .add(&second.latency)
            .expect("auto-resizing histograms merge");
        self.counts.merge(&second.counts);
        self.seconds.push_back(second.clone());
    }

    /// Whether the window holds its whole length.
    pub(crate) fn is_full(&self) -> bool {
        self.seconds.len() == self.length
    }

    /// Seconds in the window now.
    pub(crate) fn len(&self) -> usize {
        self.seconds.len()
    }

    /// The metric over the window, canonical units (ms, fraction, /s);
    /// `None` when no request completed in it (throughput excepted: none is 0/s).
    pub(crate) fn value(&self, metric: Metric) -> Option<f64> {
        let h = &self.latency;
        let n = self.counts.total;
        let ms = |us: u64| round3(us as f64 / 1000.0);
        match metric {
            Metric::Throughput => Some(round3(n as f64 / self.seconds.len().max(1) as f64)),
            _ if n == 0 => None,
            Metric::Percentile(p) => (!h.is_empty()).then(|| ms(h.value_at_quantile(p.quantile()))),
            Metric::Max => (!h.is_empty()).then(|| ms(h.max())),
            Metric::Mean => (!h.is_empty()).then(|| round3(h.mean() / 1000.0)),
            Metric::ShedRate => Some(self.counts.shed as f64 / n as f64),
            Metric::ErrorRate => Some(self.counts.errors() as f64 / n as f64),
            // Refused with `over` when the gate is parsed: a series has its own seconds.
            Metric::Series(_) => None,
        }
    }
}

fn subtract(total: &mut Counts, gone: &Counts) {
    total.total -= gone.total;
    total.ok -= gone.ok;
    total.shed -= gone.shed;
    total.http_error -= gone.http_error;
    total.timeout -= gone.timeout;
    total.transport -= gone.transport;
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

/// One judged window.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Judged {
    pub(crate) start_s: u32,
    pub(crate) end_s: u32,
    pub(crate) value: f64,
    pub(crate) passed: bool,
}

/// Judges the window ending now, when it has a value.
pub(crate) fn judge_now(slider: &Slider, gate: &Gate, end_s: u32) -> Option<Judged> {
    let value = slider.value(gate.metric)?;
    Some(Judged {
        start_s: end_s.saturating_sub(slider.len() as u32),
        end_s,
        value,
        passed: gate.comparison.holds(value, gate.threshold.canonical()),
    })
}

/// Every window of `range` (seconds of `seconds`): each full window ending
/// within it, or, when the range is shorter than the window, the range as
/// one window.
pub(crate) fn judge_all(
    seconds: &[Second],
    range: Range<usize>,
    gate: &Gate,
    window: Window,
) -> Vec<Judged> {
    let mut slider = Slider::new(window.length_s);
    let empty = Second::empty();
    let mut out = Vec::new();
    for i in range.clone() {
        slider.push(seconds.get(i).unwrap_or(&empty));
        if slider.is_full() {
            out.extend(judge_now(&slider, gate, i as u32 + 1));
        }
    }
    if !range.is_empty() && !slider.is_full() {
        out.extend(judge_now(&slider, gate, range.end as u32));
    }
    out
}

/// The verdict of a window gate from its judged windows.
pub(crate) fn verdict(gate: &Gate, window: Window, judged: &[Judged]) -> WindowVerdict {
    let failed = judged.iter().filter(|j| !j.passed).count() as u32;
    let worse = |a: &&Judged, b: &&Judged| {
        if gate.metric.higher_is_better() {
            b.value.total_cmp(&a.value)
        } else {
            a.value.total_cmp(&b.value)
        }
    };
    // The first of equally bad windows: when the trouble began.
    let worst = judged.iter().rev().max_by(worse).map(|j| WorstWindow {
        start_s: f64::from(j.start_s),
        end_s: f64::from(j.end_s),
        value: j.value,
        actual: show(j.value, gate.threshold.unit),
        passed: j.passed,
    });
    WindowVerdict {
        length_s: window.length_s,
        judged: judged.len() as u32,
        failed,
        failed_share: if judged.is_empty() {
            0.0
        } else {
            f64::from(failed) / judged.len() as f64
        },
        tolerated_share: window.tolerated_share(),
        worst,
        first_failed_end_s: judged
            .iter()
            .find(|j| !j.passed)
            .map(|j| f64::from(j.end_s)),
    }
}

/// Whether a window gate holds: no window failed, or no more than the share
/// it tolerates; and at least one window was judged.
pub(crate) fn holds(v: &WindowVerdict) -> bool {
    v.judged > 0 && (v.failed == 0 || v.failed_share <= v.tolerated_share)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Outcome;

    /// Seconds with `n` requests each, all at `ms[i]` ms, `shed[i]` of them 503.
    fn seconds(ms: &[u64], n: u64, shed: &[u64]) -> Vec<Second> {
        ms.iter()
            .zip(shed)
            .map(|(&ms, &shed)| {
                let mut s = Second::empty();
                for k in 0..n {
                    s.latency.record(ms * 1000).unwrap();
                    s.counts
                        .add(if k < shed { Outcome::Shed } else { Outcome::Ok });
                }
                s
            })
            .collect()
    }

    fn gate(text: &str) -> (Gate, Window) {
        let g: Gate = text.parse().unwrap();
        let w = g.window.unwrap();
        (g, w)
    }

    #[test]
    fn a_window_percentile_is_the_percentile_of_every_request_in_it_not_an_average() {
        // 3 s window: seconds of 10 ms, 10 ms and 1000 ms, 100 requests each.
        // The merged p95 is 1000 ms (a third of the requests are slow); the
        // mean of the per-second p95s would say 340 ms.
        let s = seconds(&[10, 10, 1000], 100, &[0, 0, 0]);
        let (g, w) = gate("p95 < 500ms over 3s");
        let judged = judge_all(&s, 0..3, &g, w);
        assert_eq!(judged.len(), 1);
        assert!((judged[0].value - 1000.0).abs() < 10.0, "{:?}", judged[0]);
        assert!(!judged[0].passed);
        // p50 of the same window is 10 ms.
        let (g, w) = gate("p50 < 500ms over 3s");
        assert!(judge_all(&s, 0..3, &g, w)[0].value < 11.0);
    }

    #[test]
    fn every_second_ends_a_window_and_the_worst_is_named_with_its_place() {
        // 10 quiet seconds, a 2-second collapse at 10-12, quiet again.
        let mut ms = vec![20; 20];
        ms[10] = 900;
        ms[11] = 900;
        let s = seconds(&ms, 50, &[0; 20]);
        let (g, w) = gate("p95 < 500ms over 5s");
        let judged = judge_all(&s, 0..20, &g, w);
        assert_eq!(judged.len(), 16, "windows ending at 5..=20");
        assert_eq!(judged[0].end_s, 5);
        // Windows ending at 11..=16 hold a slow second (at least 50 of 250 requests).
        let failed: Vec<u32> = judged
            .iter()
            .filter(|j| !j.passed)
            .map(|j| j.end_s)
            .collect();
        assert_eq!(failed, vec![11, 12, 13, 14, 15, 16]);
        let v = verdict(&g, w, &judged);
        assert_eq!((v.judged, v.failed), (16, 6));
        assert!((v.failed_share - 6.0 / 16.0).abs() < 1e-9);
        let worst = v.worst.clone().unwrap();
        // Every failed window's p95 is the slow seconds' 900 ms: the first names when it began.
        assert_eq!((worst.start_s, worst.end_s), (6.0, 11.0));
        assert!(worst.actual.ends_with("ms"));
        assert_eq!(v.first_failed_end_s, Some(11.0));
        assert!(!holds(&v));
        // The whole run's p95 would pass: 100 slow of 1000 requests is p90.
        let (g, w) = gate("p95 < 500ms over 5s at most 40% of windows");
        assert!(holds(&verdict(&g, w, &judge_all(&s, 0..20, &g, w))));
        let (g, w) = gate("p95 < 500ms over 5s at most 30% of windows");
        assert!(!holds(&verdict(&g, w, &judge_all(&s, 0..20, &g, w))));
    }

    #[test]
    fn rates_and_throughput_slide_with_the_window() {
        let s = seconds(&[5, 5, 5, 5], 10, &[0, 0, 5, 5]);
        let (g, w) = gate("shed-rate < 30% over 2s");
        let values: Vec<f64> = judge_all(&s, 0..4, &g, w).iter().map(|j| j.value).collect();
        assert_eq!(values, vec![0.0, 0.25, 0.5]);
        let (g, w) = gate("throughput >= 10/s over 2s");
        let v = verdict(&g, w, &judge_all(&s, 0..4, &g, w));
        assert_eq!((v.judged, v.failed), (3, 0));
        // An empty second lowers throughput and leaves no latency to judge.
        let mut s = seconds(&[5, 5], 10, &[0, 0]);
        s.push(Second::empty());
        let (g, w) = gate("throughput >= 8/s over 2s");
        let v = verdict(&g, w, &judge_all(&s, 0..3, &g, w));
        assert_eq!((v.failed, v.worst.unwrap().value), (1, 5.0));
    }

    #[test]
    fn a_run_shorter_than_the_window_is_judged_as_one_window() {
        let s = seconds(&[5, 600], 10, &[0, 0]);
        let (g, w) = gate("p95 < 500ms over 10s");
        let judged = judge_all(&s, 0..2, &g, w);
        assert_eq!(judged.len(), 1);
        assert_eq!((judged[0].start_s, judged[0].end_s), (0, 2));
        assert!(!judged[0].passed);
    }

    #[test]
    fn sliding_gives_the_same_figures_as_merging_the_window_afresh() {
        let ms: Vec<u64> = (0..30).map(|i| (i * 37 % 23 + 1) * 10).collect();
        let s = seconds(&ms, 20, &[0; 30]);
        let mut slider = Slider::new(7);
        for end in 1..=30 {
            slider.push(&s[end - 1]);
            let mut fresh = Histogram::<u64>::new(2).unwrap();
            for sec in &s[end.saturating_sub(7)..end] {
                fresh.add(&sec.latency).unwrap();
            }
            let p99 = Metric::Percentile(crate::slo::Permille::P99);
            assert_eq!(
                slider.value(p99),
                Some(round3(fresh.value_at_quantile(0.99) as f64 / 1000.0))
            );
            assert_eq!(
                slider.value(Metric::Max),
                Some(round3(fresh.max() as f64 / 1000.0))
            );
        }
    }
}
