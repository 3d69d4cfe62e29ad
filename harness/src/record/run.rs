//! Everything a finished (or interrupted) run hands to the report.

use super::{GeneratorHealth, Recorder};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoadModel {
    /// N concurrent users looping through flows (goose's own model).
    Closed,
    /// Flows started at a target arrival rate, whatever the server does.
    Open,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MachineInfo {
    pub(crate) hostname: String,
    pub(crate) os: String,
    pub(crate) arch: String,
    pub(crate) cores: usize,
}

impl MachineInfo {
    pub fn current() -> Self {
        MachineInfo {
            hostname: std::fs::read_to_string("/proc/sys/kernel/hostname")
                .map(|s| s.trim().to_string())
                .unwrap_or_else(|_| "unknown".into()),
            os: std::env::consts::OS.into(),
            arch: std::env::consts::ARCH.into(),
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunMeta {
    pub scenario: String,
    pub description: String,
    /// The scenario file as given on the command line.
    pub scenario_file: String,
    pub seed: u64,
    /// What was load-tested: "bundled reference-server (default profile)" or a URL.
    pub target: String,
    /// How the target was set up beyond its defaults: the bundled server's
    /// and gateway's extra flags, or what a `[[targets]]` entry declares of
    /// a backend given by URL. A comparison names any difference.
    #[serde(default)]
    pub settings: Vec<String>,
    pub model: LoadModel,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub ended_at: OffsetDateTime,
    /// How long the scenario's stages add up to, seconds.
    pub planned_duration_s: f64,
    pub harness_version: String,
    pub git_commit: Option<String>,
    pub machine: MachineInfo,
    /// How the target was reached (URL, remote or not, TLS, protocol).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection: Option<crate::backend::Connection>,
    /// Which shard of a sharded run this is, with its clocks (`None` unsharded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardInfo>,
}

/// A stage of the load shape, as it really ran (seconds since the run started).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StageMark {
    pub name: String,
    /// What the stage does, e.g. "ramp to 1200 users" or "200/s constant".
    pub description: String,
    pub start_s: f64,
    pub end_s: f64,
}

/// A fault that was injected, with its real start and end (seconds since the run started).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FaultWindow {
    pub name: String,
    pub link: String,
    /// Human description, e.g. "latency 800 ms ± 200 ms downstream".
    pub toxic: String,
    pub planned_start_s: f64,
    pub start_s: f64,
    pub end_s: f64,
    /// An HTTP toxic's counts over its window, read just before it was removed.
    #[serde(default)]
    pub http_requests: Option<HttpShare>,
    /// Whether anything crossed the link during the window; `None` when not
    /// measured (a shard that does not drive the faults, an older recording).
    #[serde(default)]
    pub traffic: Option<LinkTraffic>,
}

/// Requests an HTTP toxic saw during its window, and those it acted on.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct HttpShare {
    pub(crate) requests: u64,
    pub(crate) affected: u64,
    /// `affected / requests`; `None` when no request reached the toxic.
    pub(crate) affected_share: Option<f64>,
}

impl HttpShare {
    pub(crate) fn new(requests: u64, affected: u64) -> HttpShare {
        HttpShare {
            requests,
            affected,
            affected_share: (requests > 0).then(|| affected as f64 / requests as f64),
        }
    }
}

/// What the fault proxy's byte counters say about a link during a window.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum LinkTraffic {
    /// Bytes went through the link's proxy (both directions, as read).
    Crossed { bytes: u64 },
    /// Not a byte: no request met the fault, whatever the figures say.
    Idle,
    /// The counters could not tell (why says what was missing).
    Unknown { why: String },
}

/// A run's whole record: what the report is made from.
#[derive(Clone, Debug)]
pub struct RunRecord {
    pub meta: RunMeta,
    pub recorder: Recorder,
    pub stages: Vec<StageMark>,
    pub faults: Vec<FaultWindow>,
    pub generator: GeneratorHealth,
    /// Why the run stopped before its planned end (Ctrl-C, SIGTERM), read
    /// from the one stop request (`crate::stop`) when the run was recorded.
    pub stop: Option<crate::stop::StopReason>,
    /// Planned fault windows and stages that did not happen, with why.
    pub missed: Vec<super::MissedWindow>,
    /// Stopped early because a window gate that aborts failed a window.
    pub aborted: Option<Aborted>,
    /// Problems met during the run that the reader must see (target died, a fault could not be removed, ...).
    pub notes: Vec<String>,
}

impl RunRecord {
    /// Stopped before its planned end: its figures cover only part of the plan.
    pub(crate) fn interrupted(&self) -> bool {
        self.stop.is_some()
    }
}

/// A shard's identity and clocks, as summary.json records them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShardInfo {
    pub index: u32,
    pub count: u32,
    /// The common start every shard waited for, when one was given.
    #[serde(with = "time::serde::rfc3339::option")]
    pub start_at: Option<OffsetDateTime>,
    /// This machine's wall clock when the shard began waiting for the start
    /// (or began its load, without a common start).
    #[serde(with = "time::serde::rfc3339")]
    pub clock_at_wait: OffsetDateTime,
    /// When the load really started (the run's epoch), by this machine's clock.
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    /// `started_at - start_at`, ms; `None` without a common start.
    pub start_skew_ms: Option<f64>,
}

/// A run stopped at the first failed window of a gate that aborts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Aborted {
    /// The gate's text, e.g. "p95 < 500ms over 10s".
    pub gate: String,
    /// When the run was stopped, seconds since the load started (the end
    /// of the window that failed).
    pub at_s: f64,
    /// The failing window's value in the gate's unit, e.g. "1.2s".
    pub actual: String,
}
