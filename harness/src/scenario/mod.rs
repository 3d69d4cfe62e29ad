//! Scenario files: a TOML file becomes a validated [`Scenario`] plan, or a
//! [`ScenarioError`] naming the file, line and field, before anything runs.
//!
//! The format is documented by example in `scenarios/*.toml`; the types here
//! are the plan the load engine executes (templates compiled, durations
//! parsed, request names assigned).

pub(crate) mod bounds;
mod checks;
mod duration;
mod env;
mod error;
mod faults;
mod kitchen_faults;
pub(crate) mod profile;
mod raw;
mod server_metrics;
mod steps;
mod template;
pub(crate) mod url;
mod validate;

pub(crate) use checks::GateNames;
pub(crate) use duration::{parse as parse_duration, show as show_duration};
pub use error::ScenarioError;
pub(crate) use server_metrics::undeclared as undeclared_series;
pub(crate) use template::{Template, Var, Vars};

use crate::chaos::{Fault, Link};
use crate::record::{LoadModel, RequestIdx};
use crate::slo::Gate;
use std::path::Path;
use std::time::Duration;

/// Request timeout when a scenario names none: long enough for a server that
/// sheds load properly to answer, short enough that a hung server shows as
/// timeouts within a run of a few minutes.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// A validated scenario, ready to run.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub name: String,
    pub(crate) description: String,
    /// The file as it was given.
    pub(crate) file: String,
    pub(crate) seed: u64,
    pub(crate) target: TargetSpec,
    pub(crate) load: LoadPlan,
    /// `[data]` lists: each user draws one value of each when it starts.
    pub(crate) data: Vec<(String, Vec<String>)>,
    pub(crate) flows: Vec<Flow>,
    pub(crate) gates: Vec<Gate>,
    /// Window gates declared with `abort = true`: a failed window stops the run.
    pub(crate) aborts: Vec<GateAbort>,
    /// The fault timeline, each fault on a known link.
    pub faults: Vec<Fault>,
    /// Kitchen workers taken away for a window (`type = "worker_stop"`).
    pub worker_stops: Vec<crate::chaos::kitchen::WorkerStop>,
    /// Links declared for an external target (the bundled server's are wired by the harness).
    pub(crate) links: Vec<Link>,
    /// `[[targets]]`: the backends a comparison may run against, each with
    /// its own links and settings.
    pub(crate) targets: Vec<TargetEntry>,
    /// The settings of the `[[targets]]` entry this run's URL target matched.
    pub(crate) target_settings: Vec<String>,
    /// Every request name, indexed by `Step::request`.
    pub request_names: Vec<String>,
    /// What the command line's overrides changed that the reader must know
    /// (e.g. a fault dropped because its link does not exist on `--target`).
    pub(crate) notes: Vec<String>,
    /// `[target] http2 = true`: offer HTTP/2 to an https target.
    pub http2: bool,
    /// Faults the command line's target cannot take (their link does not
    /// exist there), dropped from `faults`, with why.
    pub(crate) not_injected: Vec<crate::record::MissedWindow>,
    /// `[server_metrics]`: the metrics endpoint scraped through the run and
    /// the series kept from it.
    pub(crate) server_metrics: crate::scrape::ScrapePlan,
    /// `[capacity] slo`: the gates `harness capacity` searches with when
    /// `--slo` is not given (per request, so that a business wait does not
    /// hide in a run-wide percentile).
    pub(crate) capacity_slo: Vec<Gate>,
}

/// A window gate whose first failed window (ending `after` or later) stops the run.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct GateAbort {
    pub(crate) gate: Gate,
    /// Grace from the start: windows ending earlier do not stop the run.
    pub(crate) after: Duration,
}

/// One `[[targets]]` entry: a backend of a comparison and what only it has.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct TargetEntry {
    pub(crate) spec: TargetSpec,
    /// Its own links (e.g. `payments` pointed at its gateway), so that every
    /// side of a comparison gets the scenario's faults.
    pub(crate) links: Vec<crate::chaos::Link>,
    /// How it is set up, in words (e.g. "payment timeout 850 ms"), listed
    /// beside the bundled server's flags in a comparison.
    pub(crate) settings: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum TargetSpec {
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
pub(crate) struct LoadPlan {
    pub(crate) model: LoadModel,
    pub(crate) timeout: Duration,
    /// Open model: how many users may work at once on arrivals.
    pub(crate) max_users: usize,
    pub(crate) stages: Vec<Stage>,
}

impl LoadPlan {
    pub(crate) fn total(&self) -> Duration {
        self.stages.iter().map(|s| s.duration).sum()
    }
}

/// A stage of the load shape: a linear ramp from the previous stage's level
/// (0 before the first) to `target` over `duration`.
#[derive(Clone, Debug)]
pub(crate) struct Stage {
    pub(crate) name: String,
    pub(crate) duration: Duration,
    /// Concurrent users (closed model) or arrivals per second (open model).
    pub(crate) target: f64,
}

#[derive(Clone, Debug)]
pub(crate) struct Flow {
    pub(crate) name: String,
    pub(crate) weight: u32,
    /// Runs once at this time since the start, outside the weighted mix.
    pub(crate) at: Option<Duration>,
    pub(crate) steps: Vec<Step>,
    /// How many distinct names the flow's steps capture.
    pub(crate) capture_slots: usize,
}

#[derive(Clone, Debug)]
pub(crate) struct Step {
    pub(crate) request: RequestIdx,
    pub(crate) method: reqwest::Method,
    pub(crate) path: Template,
    pub(crate) headers: Vec<(reqwest::header::HeaderName, Template)>,
    pub(crate) body: Option<BodyNode>,
    pub(crate) think: Think,
    /// Statuses that count as success; empty means any 2xx.
    pub(crate) expect: Vec<u16>,
    /// (capture slot, JSON pointer into the response body, or `header:NAME`).
    pub(crate) captures: Vec<(usize, String)>,
    pub(crate) until: Option<Until>,
    /// Wait on the answer as a Server-Sent Event stream until an event matches.
    pub(crate) until_event: Option<UntilEvent>,
    /// Expected statuses after which the flow ends without error (a declined
    /// card: the customer leaves instead of waiting for the order).
    pub(crate) end_flow_on: Vec<u16>,
    /// The path as written (templates unrendered): how the step is found in
    /// the target's OpenAPI document.
    pub(crate) route: String,
    /// `check = "openapi"`: each answer is validated against the response
    /// schema the target's `/openapi.json` declares for it.
    pub(crate) check_openapi: bool,
}

impl Step {
    pub(crate) fn expects(&self, status: u16) -> bool {
        if self.expect.is_empty() {
            (200..300).contains(&status)
        } else {
            self.expect.contains(&status)
        }
    }
}

/// A JSON body with templates in its strings.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum BodyNode {
    Fixed(serde_json::Value),
    Text(Template),
    /// A string that is only `{{int:a,b}}`: sent as a JSON number.
    Number(Template),
    Array(Vec<BodyNode>),
    Object(Vec<(String, BodyNode)>),
}

impl BodyNode {
    pub(crate) fn render(&self, vars: &mut Vars<'_>) -> serde_json::Value {
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
pub(crate) enum Think {
    None,
    Fixed(Duration),
    /// Uniform between the two.
    Range(Duration, Duration),
}

/// Repeat a step until a JSON pointer in its answer equals a value.
#[derive(Clone, Debug)]
pub(crate) struct Until {
    pub(crate) pointer: String,
    pub(crate) equals: serde_json::Value,
    pub(crate) every: Duration,
    pub(crate) max: u32,
}

/// Read a step's answer as Server-Sent Events until one event's JSON data has `pointer` equal to
/// `equals`; the step is one request timed from its start to that event, and a stream that ends
/// or runs past `timeout` without it is an error, as a poll that runs out is.
#[derive(Clone, Debug)]
pub(crate) struct UntilEvent {
    pub(crate) pointer: String,
    pub(crate) equals: serde_json::Value,
    pub(crate) timeout: Duration,
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
    pub(crate) fn set_duration(&mut self, total: Duration) {
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
    pub(crate) fn set_scale(&mut self, factor: f64) {
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
    pub(crate) fn weighted_flows(&self) -> impl Iterator<Item = (usize, &Flow)> {
        self.flows
            .iter()
            .enumerate()
            .filter(|(_, f)| f.at.is_none())
    }

    /// Where each stage starts and ends, seconds from the start of the load.
    pub(crate) fn stage_bounds(&self) -> Vec<(f64, f64)> {
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
