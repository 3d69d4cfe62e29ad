//! `harness capacity`: the highest arrival rate at which a scenario still
//! meets its SLO, as a batch of runs. Each step runs the scenario's flows in
//! the open model at one constant rate (a full run with its own report, the
//! bundled server started afresh so steps do not inherit each other's
//! backlog), judged against the SLO gates, and `capacity::search` raises then
//! bisects the rate. A step whose load generator fell behind ends the search:
//! past that point the figures would be the generator's, not the server's.

use crate::capacity::{conclude, search, Outcome, SearchPlan, SearchRun, StepResult};
use crate::exit;
use crate::record::LoadModel;
use crate::report;
use crate::run::{self, RunArgs, RunError};
use crate::scenario::{Scenario, Stage};
use crate::slo::Gate;
use anyhow::Context;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

/// Everything `harness capacity` takes.
#[derive(Clone, Debug)]
pub struct CapacityArgs {
    /// Scenario, target, seed, reports folder, proxy and server executable, as for `run`.
    pub run: RunArgs,
    /// The SLO, as comma-separated gates: "p95<250ms,shed-rate<1%".
    pub slo: String,
    /// First rate tried, arrivals per second (default: a quarter of the
    /// scenario's peak rate for an open-model scenario, else 10/s).
    pub start_rate: Option<f64>,
    /// No rate above this is tried.
    pub max_rate: f64,
    /// How long each step holds its rate (after a short warm-up ramp).
    pub step: Duration,
    /// Stop bisecting when the bracket is narrower than this share of the rate.
    pub precision: f64,
    pub max_steps: usize,
    /// Run the whole search this many times and report the spread.
    pub repeat: usize,
}

/// Warm-up ramp before each step's constant rate: long enough for pools and
/// caches to fill, short enough not to dominate a step (at most half of it).
const WARM_UP: Duration = Duration::from_secs(2);

/// Parses "p95<250ms, shed-rate<1%" into gates.
pub(crate) fn parse_slo(text: &str) -> Result<Vec<Gate>, RunError> {
    let gates: Result<Vec<Gate>, _> = text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|g| {
            g.parse::<Gate>()
                .map_err(|e| RunError::Usage(format!("--slo {g:?}: {e}")))
        })
        .collect();
    let gates = gates?;
    if gates.is_empty() {
        return Err(RunError::Usage(
            "--slo: give at least one gate, e.g. \"p95<250ms,shed-rate<1%\"".into(),
        ));
    }
    Ok(gates)
}

/// The search's SLO: `--slo`, else the scenario's `[capacity] slo`; a gate
/// on a server series the scenario does not declare is refused.
pub(crate) fn capacity_slo(args: &CapacityArgs, sc: &Scenario) -> Result<Vec<Gate>, RunError> {
    if args.slo.trim().is_empty() {
        if sc.capacity_slo.is_empty() {
            return Err(RunError::Usage(format!(
                "--slo: give the SLO each step must meet (e.g. \"p95<250ms for GET /menu,shed-rate<1%\"), \
                 or declare it in {} under `[capacity] slo = [...]`",
                sc.file
            )));
        }
        return Ok(sc.capacity_slo.clone());
    }
    let gates = parse_slo(&args.slo)?;
    for g in &gates {
        if let Some(m) = crate::scenario::undeclared_series(&sc.server_metrics, g) {
            return Err(RunError::Usage(format!("--slo: {m}")));
        }
    }
    Ok(gates)
}

/// A capacity search, checked before its first step: the SLO (its names
/// resolved against the scenario's requests), the search's numbers, the
/// reports folder, and the scenario read once, as every step runs it.
pub(crate) struct CapacityPlan {
    pub(crate) args: CapacityArgs,
    pub(crate) slo: Vec<Gate>,
    /// The scenario with the command line's overrides; each step runs a copy.
    pub(crate) probe: Scenario,
    /// The first rate tried.
    pub(crate) start: f64,
}

impl CapacityPlan {
    pub(crate) fn build(args: &CapacityArgs) -> Result<CapacityPlan, RunError> {
        super::checks::repeat(args.repeat)?;
        super::checks::search(args.step, args.precision, args.max_steps, args.max_rate)?;
        super::checks::toxiproxy(args.run.toxiproxy.as_deref())?;
        let (probe, _) = run::prepare(&args.run)?;
        let slo = capacity_slo(args, &probe)?;
        let names = crate::scenario::GateNames {
            requests: &probe.request_names,
            windows: Vec::new(),
        };
        for g in &slo {
            if let Some(why) = names.unknown(g) {
                let why = match g.during {
                    Some(_) => "a capacity step has no faults and no stages of the scenario's: leave `during` out".to_string(),
                    None => why,
                };
                return Err(RunError::Usage(format!("--slo \"{g}\": {why}")));
            }
        }
        let start = start_rate(args, &probe)?;
        let mut connect = args.run.connect.clone();
        connect.http2 |= probe.http2;
        crate::backend::Tls::new(&connect).map_err(|e| RunError::Usage(e.to_string()))?;
        super::checks::reports_dir(&args.run.reports_dir)?;
        Ok(CapacityPlan {
            args: args.clone(),
            slo,
            probe,
            start,
        })
    }
}

/// Builds the plan of a capacity search and executes it (see `execute`).
pub async fn capacity(args: &CapacityArgs, out: &mut dyn Write) -> Result<u8, RunError> {
    execute(CapacityPlan::build(args)?, out).await
}

/// Runs the search (repeated as asked), writes the capacity report, and
/// returns the exit code: 0 a capacity was found, 1 the SLO failed even at
/// the first rate, 4 the generator saturated before the server. A search
/// that could not run (its target unreachable) leaves no empty folder.
pub(crate) async fn execute(plan: CapacityPlan, out: &mut dyn Write) -> Result<u8, RunError> {
    let dir = report::output::create_run_dir(
        &plan.args.run.reports_dir,
        &format!("{}-capacity", plan.probe.name),
        time::OffsetDateTime::now_utc(),
    )
    .context("creating the capacity report folder")
    .map_err(RunError::Internal)?;
    let result = search_all(&plan, &dir, out).await;
    if result.is_err()
        && !dir
            .join("steps")
            .read_dir()
            .is_ok_and(|mut d| d.next().is_some())
    {
        let _ = std::fs::remove_dir_all(&dir);
        // `<scenario>-capacity/` too, when this search was its only content.
        if let Some(parent) = dir.parent() {
            let _ = std::fs::remove_dir(parent);
        }
    }
    result
}

async fn search_all(
    plan: &CapacityPlan,
    dir: &std::path::Path,
    out: &mut dyn Write,
) -> Result<u8, RunError> {
    let CapacityPlan {
        args,
        slo,
        probe,
        start,
    } = plan;
    let start = *start;
    // Shared (not &mut) so each step's future can print its own line.
    let out = std::cell::RefCell::new(out);
    let dir = dir.to_path_buf();
    let plan = SearchPlan {
        start,
        max: args.max_rate,
        growth: 2.0,
        precision: args.precision,
        max_steps: args.max_steps,
    };
    let slo_text: Vec<String> = slo.iter().map(Gate::to_string).collect();
    let _ = writeln!(
        out.borrow_mut(),
        "capacity of {} under \"{}\": steps of {} s from {start:.1}/s",
        probe.name,
        slo_text.join(", "),
        args.step.as_secs()
    );
    let mut searches = Vec::new();
    for round in 0..args.repeat.max(1) {
        if args.repeat > 1 {
            let _ = writeln!(out.borrow_mut(), "search {} of {}", round + 1, args.repeat);
        }
        let step_args = RunArgs {
            quiet: true,
            reports_dir: dir.join("steps"),
            ..args.run.clone()
        };
        let (steps, outcome) = search(&plan, |rate| {
            let step_args = step_args.clone();
            let slo = slo.clone();
            let step = args.step;
            let sc = probe.clone();
            let out = &out;
            async move {
                let r = run_step(sc, &step_args, &slo, rate, step).await?;
                if let Some(reason) = crate::stop::requested() {
                    // An interrupted step measures nothing the search can use.
                    return Err(RunError::Stopped(reason));
                }
                let _ = report::capacity::print_step(&r, &mut **out.borrow_mut());
                Ok::<_, RunError>(r)
            }
        })
        .await?;
        searches.push(SearchRun { steps, outcome });
    }
    let target = run::target_description(&probe.target);
    let report = conclude(&probe.name, target, slo, args.step, searches);
    report::capacity::write_capacity_report(&report, &dir)
        .context("writing the capacity report")
        .map_err(RunError::Internal)?;
    let out = out.into_inner();
    let _ = writeln!(out, "{}", report.conclusion);
    let _ = writeln!(out, "report: {}", relative(&dir.join("index.html")));
    let last = &report.searches.last().expect("at least one search").outcome;
    Ok(match last {
        Outcome::GeneratorLimited { .. } => exit::INVALID,
        Outcome::BelowStart { .. } => exit::GATE_FAILED,
        _ => exit::PASS,
    })
}

/// The first rate tried: `--start-rate`, else a quarter of an open-model
/// scenario's peak rate, else 10/s; checked against `--max-rate`.
fn start_rate(args: &CapacityArgs, probe: &Scenario) -> Result<f64, RunError> {
    let peak = probe
        .load
        .stages
        .iter()
        .map(|s| s.target)
        .fold(0.0, f64::max);
    let start = args.start_rate.unwrap_or(match probe.load.model {
        LoadModel::Open if peak > 0.0 => (peak / 4.0).max(1.0),
        _ => 10.0,
    });
    if !(start.is_finite() && start > 0.0 && args.max_rate >= start) {
        return Err(RunError::Usage(format!(
            "--start-rate {start} and --max-rate {}: expected 0 < start <= max",
            args.max_rate
        )));
    }
    Ok(start)
}

/// One step: the scenario's flows, open model, one constant rate.
async fn run_step(
    mut sc: Scenario,
    args: &RunArgs,
    slo: &[Gate],
    rate: f64,
    hold: Duration,
) -> Result<StepResult, RunError> {
    sc.load.model = LoadModel::Open;
    sc.load.stages = vec![
        Stage {
            name: "warm-up".into(),
            duration: WARM_UP.min(hold / 2),
            target: rate,
        },
        Stage {
            name: format!("{rate:.1}/s"),
            duration: hold,
            target: rate,
        },
    ];
    // Enough users for every arrival of a long flow (polls and think time) to
    // find one free, bounded so a huge rate cannot exhaust memory.
    sc.load.max_users = sc
        .load
        .max_users
        .max((rate * 30.0).ceil() as usize)
        .clamp(64, 20_000);
    sc.faults.clear();
    sc.worker_stops.clear();
    let mut sink = std::io::sink();
    let mut args = args.clone();
    args.live.context = Some(format!(
        "capacity step at {rate:.1}/s (held {} s)",
        hold.as_secs()
    ));
    let outcome = run::run_scenario(sc, slo.to_vec(), &args, &mut sink).await?;
    // The step ran with the SLO as its gates: its summary holds their results.
    let summary = &outcome.summary;
    let results = &summary.gates;
    Ok(StepResult {
        offered: rate,
        throughput_rps: summary.overall.throughput_rps,
        p50_ms: summary.overall.latency_ms.p50,
        p95_ms: summary.overall.latency_ms.p95,
        p99_ms: summary.overall.latency_ms.p99,
        shed_rate: summary.overall.shed_rate,
        error_rate: summary.overall.error_rate,
        passed: !results.iter().any(|r| r.failed()),
        failed_gates: results
            .iter()
            .filter(|r| r.failed())
            .map(|r| r.message.clone())
            .collect(),
        saturated: summary.generator.invalidates(),
        report_dir: relative(&outcome.report_dir),
        slowest_request: summary
            .requests
            .iter()
            .filter(|r| r.count > 0)
            .max_by(|a, b| a.latency_ms.p95.total_cmp(&b.latency_ms.p95))
            .map(|r| (r.name.clone(), r.latency_ms.p95)),
        at_limit: at_limit(summary),
        rates: rate_means(summary),
    })
}

/// The mean of each rate series over the step.
fn rate_means(summary: &crate::summary::Summary) -> Vec<(String, f64)> {
    let Some(m) = &summary.server_metrics else {
        return Vec::new();
    };
    m.series
        .iter()
        .filter(|s| s.kind == crate::scrape::SeriesKind::Rate && !s.points.is_empty())
        .map(|s| {
            let mean = s.points.iter().map(|p| p[1]).sum::<f64>() / s.points.len() as f64;
            (s.title(), mean)
        })
        .collect()
}

/// The server series that came within 5 % of their declared limit, in words.
fn at_limit(summary: &crate::summary::Summary) -> Vec<String> {
    let Some(m) = &summary.server_metrics else {
        return Vec::new();
    };
    m.series
        .iter()
        .filter_map(|s| {
            let limit = s.bound().filter(|l| *l > 0.0)?;
            let peak = s.points.iter().map(|p| p[1]).fold(f64::MIN, f64::max);
            (peak >= limit * 0.95).then(|| {
                let who: Vec<&str> = s.labels.values().map(String::as_str).collect();
                let who = if who.is_empty() {
                    String::new()
                } else {
                    format!("{} ", who.join(","))
                };
                format!("{who}{} reached {peak:.0} of {limit:.0}", s.name)
            })
        })
        .collect()
}

fn relative(p: &std::path::Path) -> String {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| p.strip_prefix(cwd).ok().map(PathBuf::from))
        .unwrap_or_else(|| p.to_path_buf())
        .display()
        .to_string()
}
