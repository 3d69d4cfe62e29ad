//! Window gates judged while the run goes: each complete second slides into
//! the gate's window (the same [`Slider`] that judges the finished run), the
//! window is judged, and a gate that aborts stops the run at its first failed
//! window (after its grace). The states feed the dashboard.

use crate::gate::window::{judge_now, Judged, Slider};
use crate::record::{Aborted, Recorder};
use crate::slo::Gate;
use serde::Serialize;
use std::time::Duration;

/// A window gate, and whether (and after how long) a failed window stops the run.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct WatchedGate {
    pub(crate) gate: Gate,
    /// `Some(grace)`: the first failed window ending at or after `grace` aborts the run.
    pub(crate) abort_after: Option<Duration>,
    /// A gate judged `during` a stage or fault: the planned seconds of it
    /// (shown live; the final verdict uses the real ones). Such a gate never aborts.
    pub(crate) during_s: Option<(u64, u64)>,
}

/// One window gate's state, as the dashboard shows it.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub(crate) struct GateState {
    pub(crate) gate: String,
    pub(crate) aborts: bool,
    /// The last window judged: its end (s), value in the gate's unit, pass or fail.
    pub(crate) last_end_s: Option<u32>,
    pub(crate) last_actual: Option<String>,
    pub(crate) last_passed: Option<bool>,
    pub(crate) judged: u32,
    pub(crate) failed: u32,
}

struct Live {
    watched: WatchedGate,
    /// The series the gate reads: `None` all requests, else the request's index.
    request: Option<usize>,
    slider: Slider,
    /// Seconds pushed so far (the next second to push).
    pushed: usize,
    last: Option<Judged>,
    judged: u32,
    failed: u32,
}

/// Every window gate of a run, judged each second.
pub(crate) struct GateWatch {
    gates: Vec<Live>,
}

impl GateWatch {
    /// `names`: the scenario's request names. Gates without a window, and
    /// gates scoped `during` a fault or stage the plan does not have, are
    /// left out.
    pub(crate) fn new(gates: &[WatchedGate], names: &[String]) -> GateWatch {
        let gates = gates
            .iter()
            .filter_map(|w| {
                let window = w.gate.window?;
                if w.gate.during.is_some() && w.during_s.is_none() {
                    return None;
                }
                let request = match &w.gate.request {
                    None => None,
                    Some(name) => Some(names.iter().position(|n| n == name)?),
                };
                Some(Live {
                    watched: w.clone(),
                    request,
                    slider: Slider::new(window.length_s),
                    pushed: 0,
                    last: None,
                    judged: 0,
                    failed: 0,
                })
            })
            .collect();
        GateWatch { gates }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.gates.is_empty()
    }

    /// Slides every complete second (those before `elapsed_s`) into each
    /// gate's window; the first failed full window of a gate that aborts
    /// (past its grace) is returned.
    pub(crate) fn advance(&mut self, recorder: &Recorder, elapsed_s: u64) -> Option<Aborted> {
        let mut abort = None;
        let empty = crate::record::Second::empty();
        for g in &mut self.gates {
            let seconds = match g.request {
                None => &recorder.overall().seconds,
                Some(i) => match recorder.requests().nth(i) {
                    Some((_, s)) => &s.seconds,
                    None => continue,
                },
            };
            while (g.pushed as u64) < elapsed_s {
                let at = g.pushed as u64;
                g.pushed += 1;
                // Only the seconds of its stage or fault count for a `during` gate.
                if g.watched.during_s.is_some_and(|(a, b)| at < a || at >= b) {
                    continue;
                }
                g.slider.push(seconds.get(at as usize).unwrap_or(&empty));
                if !g.slider.is_full() {
                    continue;
                }
                let Some(j) = judge_now(&g.slider, &g.watched.gate, g.pushed as u32) else {
                    continue;
                };
                g.judged += 1;
                g.last = Some(j);
                if j.passed {
                    continue;
                }
                g.failed += 1;
                let due = g.watched.during_s.is_none()
                    && g.watched
                        .abort_after
                        .is_some_and(|grace| f64::from(j.end_s) >= grace.as_secs_f64());
                if due && abort.is_none() {
                    abort = Some(Aborted {
                        gate: g.watched.gate.to_string(),
                        at_s: f64::from(j.end_s),
                        actual: crate::gate::show(j.value, g.watched.gate.threshold.unit),
                    });
                }
            }
        }
        abort
    }

    /// Each gate's state now.
    pub(crate) fn states(&self) -> Vec<GateState> {
        self.gates
            .iter()
            .map(|g| GateState {
                gate: g.watched.gate.to_string(),
                aborts: g.watched.abort_after.is_some(),
                last_end_s: g.last.map(|j| j.end_s),
                last_actual: g
                    .last
                    .map(|j| crate::gate::show(j.value, g.watched.gate.threshold.unit)),
                last_passed: g.last.map(|j| j.passed),
                judged: g.judged,
                failed: g.failed,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Outcome, Sample};

    fn recorder_with(slow_from_s: u64, seconds: u64) -> Recorder {
        let mut r = Recorder::new(vec!["GET /".into()]);
        for t in 0..seconds {
            for k in 0..20 {
                let latency_ms = if t >= slow_from_s { 900 } else { 10 };
                // Completes within second t (at most 19 + 900 ms into it).
                r.record(&Sample {
                    request: 0,
                    status: 200,
                    outcome: Outcome::Ok,
                    intended_us: t * 1_000_000 + k * 1000,
                    latency_us: latency_ms * 1000,
                    service_us: latency_ms * 1000,
                });
            }
        }
        r
    }

    fn watched(text: &str, abort_after: Option<u64>) -> WatchedGate {
        WatchedGate {
            gate: text.parse().unwrap(),
            abort_after: abort_after.map(Duration::from_secs),
            during_s: None,
        }
    }

    #[test]
    fn a_gate_judged_during_a_stage_slides_over_its_seconds_only_and_never_aborts() {
        let r = recorder_with(2, 20);
        let mut during = watched("p95 < 500ms over 3s during peak", Some(0));
        during.during_s = Some((10, 16));
        let mut w = GateWatch::new(&[during], r.names());
        assert_eq!(
            w.advance(&r, 20),
            None,
            "failed windows, but a `during` gate does not abort"
        );
        let state = &w.states()[0];
        // Windows of the seconds 10..16 only: ending at 13, 14, 15, 16.
        assert_eq!((state.judged, state.failed), (4, 4));
        assert_eq!(state.last_end_s, Some(16));
    }

    #[test]
    fn a_gate_that_aborts_stops_at_its_first_failed_full_window() {
        let r = recorder_with(8, 20);
        let mut w = GateWatch::new(&[watched("p95 < 500ms over 4s", Some(0))], r.names());
        // Seconds 0..8 are quiet: every window passes.
        assert_eq!(w.advance(&r, 8), None);
        assert_eq!(w.states()[0].judged, 5);
        assert_eq!(w.states()[0].failed, 0);
        // Second 8 is slow: the window 5..9 has 20 slow of 80 requests.
        let abort = w.advance(&r, 12).expect("an abort");
        assert_eq!(abort.gate, "p95 < 500ms over 4s");
        assert_eq!(abort.at_s, 9.0);
        assert!(abort.actual.ends_with("ms"), "{}", abort.actual);
    }

    #[test]
    fn a_grace_or_a_gate_that_does_not_abort_lets_the_run_go_on() {
        let r = recorder_with(3, 20);
        let mut w = GateWatch::new(
            &[
                watched("p95 < 500ms over 2s", None),
                watched("p99 < 500ms over 2s", Some(15)),
            ],
            r.names(),
        );
        assert_eq!(
            w.advance(&r, 14),
            None,
            "failed windows, but within the grace"
        );
        assert!(w
            .states()
            .iter()
            .all(|s| s.failed > 0 && s.last_passed == Some(false)));
        assert_eq!(w.advance(&r, 16).map(|a| a.at_s), Some(15.0));
    }

    #[test]
    fn gates_without_a_window_or_during_an_unknown_window_are_not_watched() {
        let names = vec!["GET /".to_string()];
        let w = GateWatch::new(
            &[
                watched("p95 < 500ms", None),
                watched("p95 < 500ms over 5s during peak", None),
                watched("p95 < 500ms over 5s for POST /nowhere", None),
            ],
            &names,
        );
        assert!(w.is_empty());
    }
}
