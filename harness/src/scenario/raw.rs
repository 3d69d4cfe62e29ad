//! The scenario file as written: serde types that refuse unknown keys and
//! keep the span of every value a later check may need to point at.

use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

type S<T> = Spanned<T>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct File {
    pub(crate) name: S<String>,
    #[serde(default)]
    pub(crate) description: String,
    #[serde(default)]
    pub(crate) seed: Option<u64>,
    #[serde(default)]
    pub(crate) target: Option<S<Target>>,
    pub(crate) load: S<Load>,
    #[serde(default)]
    pub(crate) data: BTreeMap<String, S<Vec<String>>>,
    #[serde(default)]
    pub(crate) flows: Vec<S<Flow>>,
    #[serde(default)]
    pub(crate) gates: Vec<S<GateEntry>>,
    #[serde(default)]
    pub(crate) faults: Vec<S<Fault>>,
    #[serde(default)]
    pub(crate) links: Vec<S<Link>>,
    /// The backends a comparison runs against, each with its own links and
    /// settings, so that every side gets the same faults.
    #[serde(default)]
    pub(crate) targets: Vec<S<TargetEntry>>,
    /// The target's metrics scraped through the run, and the series kept.
    #[serde(default)]
    pub(crate) server_metrics: Option<S<ServerMetrics>>,
    /// `harness capacity`'s SLO when the command line gives none.
    #[serde(default)]
    pub(crate) capacity: Option<S<Capacity>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Capacity {
    #[serde(default)]
    pub(crate) slo: Vec<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ServerMetrics {
    #[serde(default)]
    pub(crate) enabled: Option<bool>,
    #[serde(default)]
    pub(crate) url: Option<S<String>>,
    #[serde(default)]
    pub(crate) interval: Option<S<String>>,
    #[serde(default)]
    pub(crate) required: Option<bool>,
    #[serde(default)]
    pub(crate) headers: BTreeMap<String, S<String>>,
    #[serde(default)]
    pub(crate) series: Vec<S<Series>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Series {
    pub(crate) name: S<String>,
    pub(crate) metric: S<String>,
    #[serde(default)]
    pub(crate) by: Vec<S<String>>,
    #[serde(default)]
    pub(crate) kind: Option<S<String>>,
    #[serde(default)]
    pub(crate) source: Option<S<String>>,
    #[serde(default)]
    pub(crate) limit: Option<S<SeriesLimit>>,
    #[serde(default)]
    pub(crate) max_series: Option<S<u64>>,
}

/// `limit = 500` or `limit = "metric{...}"`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum SeriesLimit {
    Number(f64),
    Metric(String),
}

/// A gate: its text, or a table with the text and whether a failed window
/// stops the run (`{ gate = "p95 < 500ms over 10s", abort = true, after = "30s" }`).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum GateEntry {
    Text(String),
    Table(GateTable),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct GateTable {
    // Plain values: an untagged enum cannot carry spans; errors point at the entry.
    pub(crate) gate: String,
    #[serde(default)]
    pub(crate) abort: bool,
    #[serde(default)]
    pub(crate) after: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TargetEntry {
    #[serde(default)]
    pub(crate) url: Option<S<String>>,
    #[serde(default)]
    pub(crate) profile: Option<S<String>>,
    #[serde(default)]
    pub(crate) links: Vec<S<Link>>,
    #[serde(default)]
    pub(crate) settings: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Target {
    #[serde(default)]
    pub(crate) url: Option<S<String>>,
    #[serde(default)]
    pub(crate) profile: Option<S<String>>,
    #[serde(default)]
    pub(crate) server_args: Vec<String>,
    #[serde(default)]
    pub(crate) gateway_args: Vec<String>,
    /// Offer HTTP/2 to an https target (as `--http2` does).
    #[serde(default)]
    pub(crate) http2: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Load {
    pub(crate) model: S<String>,
    #[serde(default)]
    pub(crate) timeout: Option<S<String>>,
    #[serde(default)]
    pub(crate) max_users: Option<S<u64>>,
    pub(crate) stages: Vec<S<Stage>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Stage {
    #[serde(default)]
    pub(crate) name: Option<String>,
    pub(crate) duration: S<String>,
    #[serde(default)]
    pub(crate) users: Option<S<u64>>,
    #[serde(default)]
    pub(crate) rate: Option<S<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Flow {
    pub(crate) name: S<String>,
    #[serde(default)]
    pub(crate) weight: Option<S<u32>>,
    /// A flow with `at` runs once at that time, outside the weighted mix.
    #[serde(default)]
    pub(crate) at: Option<S<String>>,
    pub(crate) steps: Vec<S<Step>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Step {
    #[serde(default)]
    pub(crate) name: Option<String>,
    pub(crate) method: S<String>,
    pub(crate) path: S<String>,
    #[serde(default)]
    pub(crate) headers: BTreeMap<String, S<String>>,
    #[serde(default)]
    pub(crate) body: Option<S<toml::Value>>,
    #[serde(default)]
    pub(crate) think: Option<S<String>>,
    #[serde(default)]
    pub(crate) expect: Option<S<Vec<u16>>>,
    #[serde(default)]
    pub(crate) capture: BTreeMap<String, S<String>>,
    #[serde(default)]
    pub(crate) until: Option<S<Until>>,
    #[serde(default)]
    pub(crate) until_event: Option<S<UntilEvent>>,
    #[serde(default)]
    pub(crate) end_flow_on: Option<S<Vec<u16>>>,
    /// `"openapi"`: check each answer against the target's `/openapi.json`.
    #[serde(default)]
    pub(crate) check: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Until {
    pub(crate) pointer: S<String>,
    pub(crate) equals: toml::Value,
    pub(crate) every: S<String>,
    pub(crate) max: S<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct UntilEvent {
    pub(crate) pointer: S<String>,
    pub(crate) equals: toml::Value,
    pub(crate) timeout: S<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Fault {
    pub(crate) name: S<String>,
    pub(crate) at: S<String>,
    pub(crate) duration: S<String>,
    pub(crate) link: S<String>,
    #[serde(rename = "type")]
    pub(crate) kind: S<String>,
    #[serde(default)]
    pub(crate) stream: Option<S<String>>,
    #[serde(default)]
    pub(crate) toxicity: Option<S<f32>>,
    #[serde(default)]
    pub(crate) attributes: Option<S<toml::Value>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Link {
    pub(crate) name: S<String>,
    pub(crate) listen: S<String>,
    pub(crate) upstream: S<String>,
    /// `"http"` for a link that carries plain HTTP/1.1 and so takes HTTP
    /// toxics; `"tcp"` (the default) passes bytes, whatever they are.
    #[serde(default)]
    pub(crate) protocol: Option<S<String>>,
}
