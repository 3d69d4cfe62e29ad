//! Scenario files: a TOML file becomes a validated [`Scenario`] plan, or a
//! [`ScenarioError`] naming the file, line and field, before anything runs.
//!
//! The format is documented by example in `scenarios/*.toml`; the types here
//! are the plan the load engine executes (templates compiled, durations
//! parsed, request names assigned).

pub mod bounds;
mod checks;
mod duration;
mod env;
mod error;
mod faults;
mod kitchen_faults;
pub mod profile;
mod raw;
mod server_metrics;
mod steps;
mod template;
pub mod url;
mod validate;

pub use checks::GateNames;
pub use duration::{parse as parse_duration, show as show_duration};
pub use error::ScenarioError;
pub use server_metrics::undeclared as undeclared_series;
pub use template::{Template, Var, Vars};

use crate::chaos::{Fault, Link};
use crate::record::{LoadModel, RequestIdx};
use crate::slo::Gate;
use std::path::Path;
use std::time::Duration;

/// Request timeout when a scenario names none: long enough for a server that
/// sheds load properly to answer, short enough that a hung server shows as
/// timeouts within a run of a few minutes.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// A validated scenario, ready to run.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    /// The file as it was given.
    pub file: String,
    pub seed: u64,
    pub target: TargetSpec,
    pub load: LoadPlan,
    /// `[data]` lists: each user draws one value of each when it starts.
    pub data: Vec<(String, Vec<String>)>,
    pub flows: Vec<Flow>,
    pub gates: Vec<Gate>,
    /// Window gates declared with `abort = true`: a failed window stops the run.
    pub aborts: Vec<GateAbort>,
    /// The fault timeline, each fault on a known link.
    pub faults: Vec<Fault>,
    /// Kitchen workers taken away for a window (`type = "worker_stop"`).
    pub worker_stops: Vec<crate::chaos::kitchen::WorkerStop>,
    /// Links declared for an external target (the bundled server's are wired by the harness).
    pub links: Vec<Link>,
    /// `[[targets]]`: the backends a comparison may run against, each with
    /// its own links and settings.
    pub targets: Vec<TargetEntry>,
    /// The settings of the `[[targets]]` entry this run's URL target matched.
    pub target_settings: Vec<String>,
    /// Every request name, indexed by [`Step::request`].
    pub request_names: Vec<String>,
    /// What the command line's overrides changed that the reader must know
    /// (e.g. a fault dropped because its link does not exist on `--target`).
    pub notes: Vec<String>,
    /// `[target] http2 = true`: offer HTTP/2 to an https target.
    pub http2: bool,
    /// Faults the command line's target cannot take (their link does not
    /// exist there), dropped from `faults`, with why.
    pub not_injected: Vec<crate::record::MissedWindow>,
    /// `[server_metrics]`: the metrics endpoint scraped through the run and
    /// the series kept from it.
    pub server_metrics: crate::scrape::ScrapePlan,
    /// `[capacity] slo`: the gates `harness capacity` searches with when
    /// `--slo` is not given (per request, so that a business wait does not
    /// hide in a run-wide percentile).
    pub capacity_slo: Vec<Gate>,
}

/// A window gate whose first failed window (ending `after` or later) stops the run.
#[derive(Clone, Debug, PartialEq)]
pub struct GateAbort {
    pub gate: Gate,
    /// Grace from the start: windows ending earlier do not stop the run.
    pub after: Duration,
}

/// One `[[targets]]` entry: a backend of a comparison and what only it has.
#[derive(Clone, Debug, PartialEq)]
pub struct TargetEntry {
    pub spec: TargetSpec,
    /// Its own links (e.g. `payments` pointed at its gateway), so that every
    /// side of a comparison gets the scenario's faults.
    pub links: Vec<crate::chaos::Link>,
    /// How it is set up, in words (e.g. "payment timeout 850 ms"), listed
    /// beside the bundled server's flags in a comparison.
    pub settings: Vec<String>,
}

impl TargetEntry {
    /// The entry as a `--target` value: its URL or `bundled:<profile>`.
    pub fn label(&self) -> String {
        match &self.spec {
            TargetSpec::Url(url) => url.clone(),
            TargetSpec::Bundled { profile, .. } => format!("bundled:{}", profile::name(*profile)),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum TargetSpec {
    /// The reference server shipped with the project, started by the harness.
    Bundled {
        profile: profile::Profile,
        server_args: Vec<String>,
        gateway_args: Vec<String>,
    },
    /// A backend already running at this URL (http or https, on this machine or not).
    Url(String),
}

#[derive(Clone, Debug)]
pub struct LoadPlan {
    pub model: LoadModel,
    pub timeout: Duration,
    /// Open model: how many users may work at once on arrivals.
    pub max_users: usize,
    pub stages: Vec<Stage>,
}

impl LoadPlan {
    pub fn total(&self) -> Duration {
        self.stages.iter().map(|s| s.duration).sum()
    }
}

/// A stage of the load shape: a linear ramp from the previous stage's level
/// (0 before the first) to `target` over `duration`.
#[derive(Clone, Debug)]
pub struct Stage {
    pub name: String,
    pub duration: Duration,
    /// Concurrent users (closed model) or arrivals per second (open model).
    pub target: f64,
}

#[derive(Clone, Debug)]
pub struct Flow {
    pub name: String,
    pub weight: u32,
    /// Runs once at this time since the start, outside the weighted mix.
    pub at: Option<Duration>,
    pub steps: Vec<Step>,
    /// How many distinct names the flow's steps capture.
    pub capture_slots: usize,
}

#[derive(Clone, Debug)]
pub struct Step {
    pub request: RequestIdx,
    pub method: reqwest::Method,
    pub path: Template,
    pub headers: Vec<(reqwest::header::HeaderName, Template)>,
    pub body: Option<BodyNode>,
    pub think: Think,
    /// Statuses that count as success; empty means any 2xx.
    pub expect: Vec<u16>,
    /// (capture slot, JSON pointer into the response body, or `header:NAME`).
    pub captures: Vec<(usize, String)>,
    pub until: Option<Until>,
    /// Wait on the answer as a Server-Sent Event stream until an event matches.
    pub until_event: Option<UntilEvent>,
    /// Expected statuses after which the flow ends without error (a declined
    /// card: the customer leaves instead of waiting for the order).
    pub end_flow_on: Vec<u16>,
    /// The path as written (templates unrendered): how the step is found in
    /// the target's OpenAPI document.
    pub route: String,
    /// `check = "openapi"`: each answer is validated against the response
    /// schema the target's `/openapi.json` declares for it.
    pub check_openapi: bool,
}

impl Step {
    pub fn expects(&self, status: u16) -> bool {
        if self.expect.is_empty() {
            (200..300).contains(&status)
        } else {
            self.expect.contains(&status)
        }
    }
}

/// A JSON body with templates in its strings.
#[derive(Debug, Clone, PartialEq)]
pub enum BodyNode {
    Fixed(serde_json::Value),
    Text(Template),
    /// A string that is only `{{int:a,b}}`: sent as a JSON number.
    Number(Template),
    Array(Vec<BodyNode>),
    Object(Vec<(String, BodyNode)>),
}

impl BodyNode {
    pub fn render(&self, vars: &mut Vars<'_>) -> serde_json::Value {
        match self {
            BodyNode::Fixed(v) => v.clone(),
            BodyNode::Text(t) => serde_json::Value::String(t.render(vars)),
            BodyNode::Number(t) => {
                let s = t.render(vars);
                s.parse::<i64>()
                    .map_or(serde_json::Value::String(s), serde_json::Value::from)
            }
            BodyNode::Array(items) => items.iter().map(|i| i.render(vars)).collect(),
            BodyNode::Object(fields) => serde_json::Value::Object(
                fields
                    .iter()
                    .map(|(k, v)| (k.clone(), v.render(vars)))
                    .collect(),
            ),
        }
    }
}

/// Time a user waits after a step, as a customer reading the menu would.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Think {
    None,
    Fixed(Duration),
    /// Uniform between the two.
    Range(Duration, Duration),
}

/// Repeat a step until a JSON pointer in its answer equals a value.
#[derive(Clone, Debug)]
pub struct Until {
    pub pointer: String,
    pub equals: serde_json::Value,
    pub every: Duration,
    pub max: u32,
}

/// Read a step's answer as Server-Sent Events until one event's JSON data has `pointer` equal to
/// `equals`; the step is one request timed from its start to that event, and a stream that ends
/// or runs past `timeout` without it is an error, as a poll that runs out is.
#[derive(Clone, Debug)]
pub struct UntilEvent {
    pub pointer: String,
    pub equals: serde_json::Value,
    pub timeout: Duration,
}

/// Reads and validates a scenario file.
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    let text = std::fs::read_to_string(path).map_err(|e| error::unreadable(path, &e))?;
    parse(&text, path)
}

/// Validates scenario text; `file` names it in errors.
pub fn parse(text: &str, file: &Path) -> Result<Scenario, ScenarioError> {
    validate::scenario(text, file)
}

impl Scenario {
    /// Stretches or shrinks the timeline (stages, timed flows, faults) so the
    /// stages add up to `total`, keeping its proportions.
    pub fn set_duration(&mut self, total: Duration) {
        let old = self.load.total().as_secs_f64();
        if old <= 0.0 || total.is_zero() {
            return;
        }
        let k = total.as_secs_f64() / old;
        let scale = |d: Duration| Duration::from_secs_f64(d.as_secs_f64() * k);
        for stage in &mut self.load.stages {
            stage.duration = scale(stage.duration);
        }
        for flow in &mut self.flows {
            flow.at = flow.at.map(scale);
        }
        for fault in &mut self.faults {
            fault.at = scale(fault.at);
            fault.duration = scale(fault.duration);
        }
        for stop in &mut self.worker_stops {
            stop.at = scale(stop.at);
            stop.duration = scale(stop.duration);
        }
        // The grace before an abort is a time on the same timeline.
        for abort in &mut self.aborts {
            abort.after = scale(abort.after);
        }
    }

    /// Multiplies the load (users, arrival rates, the open model's pool) by `factor`.
    pub fn set_scale(&mut self, factor: f64) {
        for stage in &mut self.load.stages {
            stage.target *= factor;
            if self.load.model == LoadModel::Closed && stage.target > 0.0 {
                // A stage with users keeps at least one.
                stage.target = stage.target.round().max(1.0);
            }
        }
        self.load.max_users = ((self.load.max_users as f64 * factor).ceil() as usize).max(1);
    }

    /// The weighted flows (those without `at`).
    pub fn weighted_flows(&self) -> impl Iterator<Item = (usize, &Flow)> {
        self.flows
            .iter()
            .enumerate()
            .filter(|(_, f)| f.at.is_none())
    }

    /// Where each stage starts and ends, seconds from the start of the load.
    pub fn stage_bounds(&self) -> Vec<(f64, f64)> {
        let mut t = 0.0;
        self.load
            .stages
            .iter()
            .map(|s| {
                let start = t;
                t += s.duration.as_secs_f64();
                (start, t)
            })
            .collect()
    }
}
