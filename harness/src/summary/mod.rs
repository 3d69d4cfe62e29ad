//! `Summary`: the figures of a run (overall, per request, per second, per
//! stage, per fault window, the load generator's health), computed once from
//! its record, and the verdicts judged on them. `gate` fills the verdicts,
//! `report` renders the whole; summary.json holds exactly this, read back
//! (by commands whose input is a run folder) through [`read`], which checks
//! the schema version. Its JSON Schema is committed at
//! `harness/schema/summary.schema.json`.
//!
//! Units: latencies in milliseconds, rates as fractions (0.02 = 2 %),
//! throughput in requests per second, times in seconds since the run started.

mod compute;
mod figures;
mod file;
mod host;
mod recovery;
mod verdict;
mod windows;

pub(crate) use compute::compute;
pub use file::read;
pub(crate) use file::{write, SUMMARY_FILE};
pub use recovery::NOT_MEASURABLE;
pub use verdict::{GateResult, Verdict};
pub(crate) use verdict::{WindowVerdict, WorstWindow};

use crate::record::RunMeta;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Bumped when a field changes meaning or disappears.
pub(crate) const SCHEMA_VERSION: u32 = 1;

/// A run's figures and verdicts, as summary.json holds them.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Summary {
    pub(crate) schema_version: u32,
    pub run: RunInfo,
    pub verdict: Verdict,
    /// One sentence saying why the verdict is what it is.
    pub verdict_reason: String,
    /// All requests together.
    pub overall: RequestSummary,
    /// One entry per request name, in the scenario's order.
    pub(crate) requests: Vec<RequestSummary>,
    /// Per-second figures, overall and per request.
    pub timeline: Timeline,
    pub(crate) stages: Vec<StageSummary>,
    pub faults: Vec<FaultSummary>,
    pub(crate) generator: GeneratorSummary,
    /// Filled by `gate::judge`, with `verdict` and `verdict_reason`.
    pub gates: Vec<GateResult>,
    /// A merged run's shards, one row each (`harness merge`); empty otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) shards: Vec<ShardSummary>,
    /// Flows begun and completed: goodput beside throughput.
    #[serde(default)]
    pub(crate) flows: FlowFigures,
    /// Planned fault windows and stages that did not happen in this run, with
    /// why; a gate judged during one is not evaluated.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) missed_windows: Vec<crate::record::MissedWindow>,
    /// The target's own series scraped through the run (`[server_metrics]`);
    /// absent when nothing was scraped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) server_metrics: Option<crate::scrape::ServerMetrics>,
}

/// Flows (customers' visits), as opposed to requests. In the closed model a
/// backend that sheds more ends more flows early (a 503 ends the flow and
/// skips its think times) and so answers more requests per second; goodput,
/// the flows that got every answer they expected, does not reward that.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
pub(crate) struct FlowFigures {
    /// Iterations (closed model) or arrivals (open model) begun.
    pub(crate) started: u64,
    /// Flows whose every step got an expected answer.
    pub(crate) completed: u64,
    /// Completed flows per second over the run.
    pub(crate) goodput_per_s: f64,
}

/// One shard of a merged run, as the report's per-shard table shows it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct ShardSummary {
    pub(crate) index: u32,
    /// The shard's run folder, as given to `harness merge`.
    pub(crate) folder: String,
    pub(crate) requests: u64,
    pub(crate) throughput_rps: f64,
    pub(crate) p99_ms: f64,
    pub(crate) scheduled_starts: u64,
    pub(crate) late_starts: u64,
    pub(crate) missed_starts: u64,
    pub(crate) cpu_mean_cores: f64,
    /// Why this shard's generator fell behind, when it did (the merged run is then invalid).
    pub(crate) saturation: Option<String>,
    /// When its load started against the common start (or the earliest shard's start), ms.
    pub(crate) start_skew_ms: f64,
    /// The shard's verdict on its own figures (its gates, judged on its share alone).
    pub(crate) verdict_alone: Verdict,
    /// The window gate that stopped this shard early, when one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) aborted_by: Option<String>,
}

impl Summary {
    /// The figures of one request name, or of all requests together for `None`.
    pub fn request(&self, name: Option<&str>) -> Option<&RequestSummary> {
        match name {
            None => Some(&self.overall),
            Some(name) => self.requests.iter().find(|r| r.name == name),
        }
    }

    pub(crate) fn fault(&self, name: &str) -> Option<&FaultSummary> {
        self.faults.iter().find(|f| f.name == name)
    }

    pub fn stage(&self, name: &str) -> Option<&StageSummary> {
        self.stages.iter().find(|s| s.name == name)
    }
}

/// Run metadata: what ran, where, when (the record's [`RunMeta`]), and what
/// the run itself told: how long it lasted, whether it was stopped early, and
/// anything the reader must know.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunInfo {
    #[serde(flatten)]
    pub(crate) meta: RunMeta,
    /// Measured length of the run, seconds.
    pub(crate) duration_s: f64,
    /// Stopped early (Ctrl-C, SIGTERM); figures cover what was measured until then.
    pub(crate) interrupted: bool,
    /// What stopped it, when it was stopped early.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) stopped_by: Option<crate::stop::StopReason>,
    /// The window gate whose failed window stopped the run early, as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) aborted_by: Option<String>,
    /// When the run was aborted, seconds since the load started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) aborted_at_s: Option<f64>,
    pub notes: Vec<String>,
}

/// Corrected latency percentiles, ms.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    pub p50: f64,
    pub(crate) p90: f64,
    pub p95: f64,
    pub p99: f64,
    #[serde(rename = "p99.9")]
    pub p99_9: f64,
    pub max: f64,
    pub(crate) mean: f64,
}

/// One point of a latency distribution: `percentile` in 0..=100, latency in ms.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct PercentilePoint {
    pub(crate) percentile: f64,
    pub(crate) latency_ms: f64,
}

/// Whole-run figures of one request name (or of all of them).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RequestSummary {
    pub(crate) name: String,
    pub count: u64,
    pub(crate) ok: u64,
    /// 503 answers (shed on purpose).
    pub shed: u64,
    /// Unexpected HTTP statuses, polls that ran out, timeouts and transport failures.
    pub(crate) errors: u64,
    /// Unexpected HTTP statuses, and last looks of `until` polls that still did
    /// not see their value.
    pub(crate) http_errors: u64,
    pub(crate) timeouts: u64,
    pub(crate) transport_errors: u64,
    /// Completed requests per second over the run.
    pub throughput_rps: f64,
    /// Corrected (from the intended start) latency, ms.
    pub latency_ms: Latency,
    /// p50 / p99 of the service time alone (actual send → response), what an uncorrected tool reports.
    pub(crate) uncorrected_p50_ms: f64,
    pub uncorrected_p99_ms: f64,
    /// Polls whose last look still did not see the awaited value (also in `http_errors`).
    #[serde(default)]
    pub(crate) gave_up: u64,
    /// Answers checked against the target's `/openapi.json`.
    #[serde(default)]
    pub(crate) schema_checked: u64,
    /// Checked answers that did not match the contract (also in `http_errors`
    /// when their status was expected).
    #[serde(default)]
    pub(crate) schema_mismatches: u64,
    /// The first distinct reasons of the mismatches.
    #[serde(default)]
    pub(crate) schema_examples: Vec<String>,
    pub shed_rate: f64,
    pub error_rate: f64,
    /// Count per HTTP status ("0" = no response).
    pub statuses: BTreeMap<String, u64>,
    /// The latency distribution at log-spaced percentiles ("nines"), for charts and comparisons.
    pub(crate) distribution: Vec<PercentilePoint>,
}

/// Per-second figures as parallel arrays; index i covers second `t_s[i]` of the run
/// (by completion time). Latency is `null` in a second with no completed request.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct SecondSeries {
    pub t_s: Vec<u32>,
    pub count: Vec<u64>,
    pub(crate) rps: Vec<f64>,
    pub(crate) p50_ms: Vec<Option<f64>>,
    pub(crate) p95_ms: Vec<Option<f64>>,
    pub(crate) p99_ms: Vec<Option<f64>>,
    pub(crate) shed: Vec<u64>,
    pub(crate) errors: Vec<u64>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Timeline {
    pub(crate) interval_s: f64,
    pub overall: SecondSeries,
    /// Keyed by request name.
    pub requests: BTreeMap<String, SecondSeries>,
}

/// Figures of one stretch of the run (before, during or after a fault).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WindowFigures {
    pub start_s: f64,
    pub end_s: f64,
    pub(crate) count: u64,
    pub(crate) throughput_rps: f64,
    /// `None` when no request completed in the window.
    pub latency_ms: Option<Latency>,
    pub(crate) shed_rate: f64,
    pub(crate) error_rate: f64,
}

/// The same stretch of the run for one request name.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RequestWindow {
    pub name: String,
    pub(crate) before: WindowFigures,
    pub(crate) during: WindowFigures,
    pub(crate) after: WindowFigures,
}

/// One request name's figures in a window.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NamedWindow {
    pub name: String,
    pub(crate) figures: WindowFigures,
}

/// A stage of the load shape as it really ran, with its figures (the whole
/// seconds nearest its start and end), so a gate can judge one stage.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StageSummary {
    pub(crate) name: String,
    /// What the stage does, e.g. "ramp 0 users → 1200 users".
    pub(crate) description: String,
    pub(crate) start_s: f64,
    pub(crate) end_s: f64,
    pub figures: WindowFigures,
    pub requests: Vec<NamedWindow>,
}

/// A fault window with its effect.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FaultSummary {
    pub name: String,
    pub(crate) link: String,
    pub(crate) toxic: String,
    pub(crate) planned_start_s: f64,
    pub(crate) start_s: f64,
    pub(crate) end_s: f64,
    pub before: WindowFigures,
    pub during: WindowFigures,
    pub after: WindowFigures,
    pub requests: Vec<RequestWindow>,
    /// Seconds from the fault's end until p95 is back within 20 % of its value
    /// before the fault; `None` when it never came back before the run ended
    /// (or there was nothing to compare with).
    pub recovery_s: Option<f64>,
    /// An HTTP toxic's requests in the window and the share it acted on.
    #[serde(default)]
    pub(crate) http_requests: Option<crate::record::HttpShare>,
    /// What crossed the link during the window, by the proxy's byte counters.
    #[serde(default)]
    pub(crate) traffic: Option<crate::record::LinkTraffic>,
    /// Why the before/during/after figures do not show this fault's effect:
    /// no request crossed its link, or whether any did is unknown.
    #[serde(default)]
    pub(crate) warning: Option<String>,
    /// What `recovery_s` was judged against, or why it could not be.
    #[serde(default)]
    pub recovery: Option<Recovery>,
}

/// How a fault's recovery was judged.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Recovery {
    pub basis: RecoveryBasis,
    /// The gates judged second by second (basis `gates`), as written.
    #[serde(default)]
    pub gates: Vec<String>,
    /// "recovery not measurable: the system was already degraded before the
    /// fault (...)" when the seconds before it were not steady or already
    /// over the gates; `recovery_s` is then null.
    pub not_measurable: Option<String>,
    /// Basis `gates`: they held in every second of the fault with traffic,
    /// so there was nothing to recover from (`recovery_s` is then 0).
    #[serde(default)]
    pub held: bool,
}

/// What "recovered" means for a fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecoveryBasis {
    /// Every whole-run gate that can be judged on one second held again,
    /// for 3 seconds with traffic in a row.
    Gates,
    /// The p95 back within 20 % of the steady state before the fault.
    P95,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct GeneratorSummary {
    pub(crate) scheduled_starts: u64,
    pub(crate) late_starts: u64,
    pub(crate) missed_starts: u64,
    pub(crate) start_lag_p50_ms: f64,
    pub(crate) start_lag_p99_ms: f64,
    pub(crate) start_lag_max_ms: f64,
    pub(crate) cpu_mean_cores: f64,
    pub(crate) cpu_max_cores: f64,
    pub(crate) peak_rss_mb: f64,
    /// Why the run is not a measure of the server, when the generator fell behind.
    pub(crate) saturation: Option<String>,
    /// Why the corrected latencies overstate the server's, when the start lag
    /// is large beside the measured p50 (the run stays valid).
    #[serde(default)]
    pub(crate) inflated: Option<String>,
    /// What `saturation` does to the verdict; `None` when it is null.
    #[serde(default)]
    pub(crate) saturation_effect: Option<SaturationEffect>,
    /// The harness process's CPU per second of the run, in cores.
    #[serde(default)]
    pub(crate) cpu_per_second: Vec<f64>,
    /// The whole host's CPU per second of the load.
    #[serde(default)]
    pub(crate) host: HostSummary,
}

impl GeneratorSummary {
    /// Whether `saturation` makes the run invalid (it does unless it is a
    /// warning, see `summary::host`).
    pub(crate) fn invalidates(&self) -> bool {
        self.saturation.is_some() && self.saturation_effect != Some(SaturationEffect::Warning)
    }

    /// The saturation, when it is only a warning.
    pub(crate) fn warning(&self) -> Option<&str> {
        self.saturation.as_deref().filter(|_| !self.invalidates())
    }
}

/// What a saturated generator or host does to the verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum SaturationEffect {
    /// The figures measure the generator or the host: the run is INVALID.
    Invalid,
    /// The latencies include the host's queueing; the verdict stands.
    Warning,
}

/// The whole host's CPU, one entry per second of the load (second i of the
/// timeline), and whether it was saturated by the rule in `record::host`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct HostSummary {
    /// All cores' busy share (steal included), %.
    pub(crate) busy_pct: Vec<f64>,
    /// Share stolen by the hypervisor, %.
    pub(crate) steal_pct: Vec<f64>,
    /// Runnable threads at the end of each second.
    pub(crate) run_queue: Vec<u32>,
    /// The one-minute load average at the end of each second.
    pub(crate) load_1m: Vec<f64>,
    pub(crate) busy_mean_pct: f64,
    /// Seconds with the cores at least 90 % busy, when the rule says saturated (else 0).
    pub(crate) saturated_seconds: u64,
    pub(crate) saturated_share: f64,
    pub(crate) saturated: bool,
}
