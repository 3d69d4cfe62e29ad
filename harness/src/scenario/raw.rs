//! The scenario file as written: serde types that refuse unknown keys and
//! keep the span of every value a later check may need to point at.

use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

type S<T> = Spanned<T>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct File {
    pub name: S<String>,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub seed: Option<u64>,
    #[serde(default)]
    pub target: Option<S<Target>>,
    pub load: S<Load>,
    #[serde(default)]
    pub data: BTreeMap<String, S<Vec<String>>>,
    #[serde(default)]
    pub flows: Vec<S<Flow>>,
    #[serde(default)]
    pub gates: Vec<S<GateEntry>>,
    #[serde(default)]
    pub faults: Vec<S<Fault>>,
    #[serde(default)]
    pub links: Vec<S<Link>>,
    /// The backends a comparison runs against, each with its own links and
    /// settings, so that every side gets the same faults.
    #[serde(default)]
    pub targets: Vec<S<TargetEntry>>,
    /// The target's metrics scraped through the run, and the series kept.
    #[serde(default)]
    pub server_metrics: Option<S<ServerMetrics>>,
    /// `harness capacity`'s SLO when the command line gives none.
    #[serde(default)]
    pub capacity: Option<S<Capacity>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Capacity {
    #[serde(default)]
    pub slo: Vec<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerMetrics {
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub url: Option<S<String>>,
    #[serde(default)]
    pub interval: Option<S<String>>,
    #[serde(default)]
    pub required: Option<bool>,
    #[serde(default)]
    pub headers: BTreeMap<String, S<String>>,
    #[serde(default)]
    pub series: Vec<S<Series>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Series {
    pub name: S<String>,
    pub metric: S<String>,
    #[serde(default)]
    pub by: Vec<S<String>>,
    #[serde(default)]
    pub kind: Option<S<String>>,
    #[serde(default)]
    pub source: Option<S<String>>,
    #[serde(default)]
    pub limit: Option<S<SeriesLimit>>,
    #[serde(default)]
    pub max_series: Option<S<u64>>,
}

/// `limit = 500` or `limit = "metric{...}"`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum SeriesLimit {
    Number(f64),
    Metric(String),
}

/// A gate: its text, or a table with the text and whether a failed window
/// stops the run (`{ gate = "p95 < 500ms over 10s", abort = true, after = "30s" }`).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum GateEntry {
    Text(String),
    Table(GateTable),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GateTable {
    // Plain values: an untagged enum cannot carry spans; errors point at the entry.
    pub gate: String,
    #[serde(default)]
    pub abort: bool,
    #[serde(default)]
    pub after: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetEntry {
    #[serde(default)]
    pub url: Option<S<String>>,
    #[serde(default)]
    pub profile: Option<S<String>>,
    #[serde(default)]
    pub links: Vec<S<Link>>,
    #[serde(default)]
    pub settings: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    #[serde(default)]
    pub url: Option<S<String>>,
    #[serde(default)]
    pub profile: Option<S<String>>,
    #[serde(default)]
    pub server_args: Vec<String>,
    #[serde(default)]
    pub gateway_args: Vec<String>,
    /// Offer HTTP/2 to an https target (as `--http2` does).
    #[serde(default)]
    pub http2: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Load {
    pub model: S<String>,
    #[serde(default)]
    pub timeout: Option<S<String>>,
    #[serde(default)]
    pub max_users: Option<S<u64>>,
    pub stages: Vec<S<Stage>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stage {
    #[serde(default)]
    pub name: Option<String>,
    pub duration: S<String>,
    #[serde(default)]
    pub users: Option<S<u64>>,
    #[serde(default)]
    pub rate: Option<S<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Flow {
    pub name: S<String>,
    #[serde(default)]
    pub weight: Option<S<u32>>,
    /// A flow with `at` runs once at that time, outside the weighted mix.
    #[serde(default)]
    pub at: Option<S<String>>,
    pub steps: Vec<S<Step>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    #[serde(default)]
    pub name: Option<String>,
    pub method: S<String>,
    pub path: S<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, S<String>>,
    #[serde(default)]
    pub body: Option<S<toml::Value>>,
    #[serde(default)]
    pub think: Option<S<String>>,
    #[serde(default)]
    pub expect: Option<S<Vec<u16>>>,
    #[serde(default)]
    pub capture: BTreeMap<String, S<String>>,
    #[serde(default)]
    pub until: Option<S<Until>>,
    #[serde(default)]
    pub until_event: Option<S<UntilEvent>>,
    #[serde(default)]
    pub end_flow_on: Option<S<Vec<u16>>>,
    /// `"openapi"`: check each answer against the target's `/openapi.json`.
    #[serde(default)]
    pub check: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Until {
    pub pointer: S<String>,
    pub equals: toml::Value,
    pub every: S<String>,
    pub max: S<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UntilEvent {
    pub pointer: S<String>,
    pub equals: toml::Value,
    pub timeout: S<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    pub name: S<String>,
    pub at: S<String>,
    pub duration: S<String>,
    pub link: S<String>,
    #[serde(rename = "type")]
    pub kind: S<String>,
    #[serde(default)]
    pub stream: Option<S<String>>,
    #[serde(default)]
    pub toxicity: Option<S<f32>>,
    #[serde(default)]
    pub attributes: Option<S<toml::Value>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Link {
    pub name: S<String>,
    pub listen: S<String>,
    pub upstream: S<String>,
    /// `"http"` for a link that carries plain HTTP/1.1 and so takes HTTP
    /// toxics; `"tcp"` (the default) passes bytes, whatever they are.
    #[serde(default)]
    pub protocol: Option<S<String>>,
}
