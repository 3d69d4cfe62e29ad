//! What a run was judged to be: the verdict and each gate's result, as
//! summary.json holds them. `gate` decides them; here they are data.

use crate::slo::Gate;
use serde::{Deserialize, Serialize};

/// What a run proves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Every gate held and the generator kept its schedule.
    Pass,
    /// At least one gate failed.
    GateFailed,
    /// The generator could not keep its schedule: the figures measure the generator, not the server.
    Invalid,
    /// Stopped before its planned end (Ctrl-C, SIGTERM): the figures cover
    /// part of the plan, so they pass nothing, whatever the gates say.
    Interrupted,
}

impl Verdict {
    pub(crate) fn label(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::GateFailed => "FAIL",
            Verdict::Invalid => "INVALID",
            Verdict::Interrupted => "INTERRUPTED",
        }
    }
}

/// How one gate fared.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct GateResult {
    pub gate: Gate,
    pub passed: bool,
    /// The measured value in the gate's unit ("312ms", "1.25%", "812.5/s"), or "n/a".
    pub actual: String,
    /// The measured value in canonical units (ms, fraction, /s), when there was one.
    pub(crate) actual_value: Option<f64>,
    /// The threshold in canonical units.
    pub(crate) threshold_value: f64,
    /// A sentence for the report: what was measured against what.
    pub message: String,
    /// A window gate's windows: the worst and the share that failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) window: Option<WindowVerdict>,
    /// Why the gate was not evaluated: the window it names did not happen in
    /// this run (a fault not injected, a stage never reached). Such a gate
    /// neither passes nor fails, and never decides the verdict.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_evaluated: Option<String>,
}

impl GateResult {
    /// Evaluated, and did not hold.
    pub fn failed(&self) -> bool {
        !self.passed && self.not_evaluated.is_none()
    }
}

/// How a window gate (`over <duration>`) fared over the run's sliding windows.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub(crate) struct WindowVerdict {
    /// The window's length, seconds.
    pub(crate) length_s: u32,
    /// Windows judged (those with a value: a latency needs a completed request).
    pub(crate) judged: u32,
    /// Windows whose value broke the gate.
    pub(crate) failed: u32,
    /// `failed / judged` (0 when nothing was judged).
    pub(crate) failed_share: f64,
    /// The share of windows allowed to fail (`at most N% of windows`; 0 otherwise).
    pub(crate) tolerated_share: f64,
    /// The window farthest on the failing side (the highest latency or rate,
    /// the lowest throughput); `None` when nothing was judged.
    pub(crate) worst: Option<WorstWindow>,
    /// The end of the first window that failed, seconds since the run started.
    pub(crate) first_failed_end_s: Option<f64>,
}

/// One window of a window gate: where it lies and what it measured.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub(crate) struct WorstWindow {
    pub(crate) start_s: f64,
    pub(crate) end_s: f64,
    /// In canonical units (ms, fraction, /s).
    pub(crate) value: f64,
    /// In the gate's own unit, e.g. "812ms".
    pub(crate) actual: String,
    pub(crate) passed: bool,
}
