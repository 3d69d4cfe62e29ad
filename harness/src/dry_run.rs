//! `--dry-run`: the plan a reviewer needs before a run is let loose on a
//! service (target, stages over time, the peak request rate they imply,
//! flows and weights, faults and links with their windows, gates, where the
//! report would go), printed after the scenario and every option have been
//! read and validated. Nothing is resolved or connected: a dry run works
//! offline, against any URL, and is safe to run in review.

use crate::backend::{remote, Tls};
use crate::batch::{CapacityPlan, Plan};
use crate::record::LoadModel;
use crate::run::{RunArgs, RunError};
use crate::scenario::{show_duration, Flow, Scenario, TargetSpec, Think};
use crate::slo::Gate;
use std::io::Write;
use std::time::Duration;

/// `harness run --dry-run`: prints the plan the run would execute (built
/// and checked by [`Plan::build`], as for the run itself).
pub(crate) fn run_plan(plan: &Plan, out: &mut dyn Write) -> Result<u8, RunError> {
    let first = &plan.lanes[0];
    let tls = checked_tls(&first.args, &first.scenario)?;
    let mut p = Printer::new(out);
    p.line(format!(
        "dry run of {} ({}): nothing is resolved or connected",
        first.scenario.name, first.scenario.file
    ));
    for lane in &plan.lanes {
        if plan.lanes.len() > 1 {
            p.line(format!("side {}:", lane.label));
        }
        p.target(&lane.scenario.target, &tls);
    }
    if plan.repeat > 1 {
        p.line(format!(
            "repeat: {} runs per target, interleaved",
            plan.repeat
        ));
    }
    for b in &plan.baseline_paths {
        p.line(format!("baseline run: {}", b.display()));
    }
    // The candidate's scenario (the last lane), with every lane's own notes.
    let candidate = plan.lanes.last().expect("a plan has a lane");
    for lane in plan
        .lanes
        .iter()
        .filter(|l| l.scenario.notes != candidate.scenario.notes)
    {
        for note in &lane.scenario.notes {
            p.line(format!("note ({}): {note}", lane.label));
        }
    }
    p.scenario(&candidate.scenario, &candidate.gates);
    for w in crate::live::watched_gates(&candidate.scenario, &candidate.gates, &candidate.args.live)
    {
        if let Some(after) = w.abort_after {
            let when = match after.is_zero() {
                true => "from the start".to_string(),
                false => format!("ending at {} or later", show_duration(after)),
            };
            p.line(format!(
                "abort: the run stops at the first failed window of `{}` {when}",
                w.gate
            ));
        }
    }
    for line in &plan.from_history {
        p.line(line.clone());
    }
    let folder = plan.reports_dir.join(&candidate.scenario.name);
    p.line(format!(
        "report: {}/<UTC timestamp>/ (index.html, summary.json, summary.md, junit.xml)",
        folder.display()
    ));
    Ok(0)
}

/// `harness capacity --dry-run`: the scenario's flows and the search it would make.
pub(crate) fn capacity_plan(plan: &CapacityPlan, out: &mut dyn Write) -> Result<u8, RunError> {
    let (args, sc, slo) = (&plan.args, &plan.probe, &plan.slo);
    let tls = checked_tls(&args.run, sc)?;
    let mut p = Printer::new(out);
    p.line(format!(
        "dry run of a capacity search on {} ({}): nothing is resolved or connected",
        sc.name, sc.file
    ));
    p.target(&sc.target, &tls);
    let start = format!("{:.1}/s", plan.start);
    p.line(format!(
        "search: open model from {start}, doubling then bisecting up to {:.1}/s; each step {} after a 2 s warm-up; at most {} steps, precision {:.0} %, {} search(es); faults are not injected",
        args.max_rate,
        show_duration(args.step),
        args.max_steps,
        args.precision * 100.0,
        args.repeat.max(1)
    ));
    let rate = requests_per_arrival(sc);
    p.line(format!(
        "implied request rate: {rate:.2} requests per arrival, so {:.0} req/s at the highest rate tried",
        rate * args.max_rate
    ));
    p.flows(sc);
    p.gates("SLO", slo);
    p.line(format!(
        "report: {}/<UTC timestamp>/",
        args.run
            .reports_dir
            .join(format!("{}-capacity", sc.name))
            .display()
    ));
    Ok(0)
}

/// The TLS files are read (a wrong path is found now), nothing connects.
fn checked_tls(args: &RunArgs, sc: &Scenario) -> Result<Tls, RunError> {
    let mut connect = args.connect.clone();
    connect.http2 |= sc.http2;
    Tls::new(&connect).map_err(|e| RunError::Usage(e.to_string()))
}

struct Printer<'a> {
    out: &'a mut dyn Write,
}

impl<'a> Printer<'a> {
    fn new(out: &'a mut dyn Write) -> Self {
        Printer { out }
    }

    fn line(&mut self, text: impl AsRef<str>) {
        let _ = writeln!(self.out, "{}", crate::redact::scrub(text.as_ref()));
    }

    fn target(&mut self, spec: &TargetSpec, tls: &Tls) {
        let line = match spec {
            TargetSpec::Bundled { profile, .. } => format!(
                "target: bundled reference-server ({} profile), started on loopback",
                crate::scenario::profile::name(*profile)
            ),
            TargetSpec::Url(url) => {
                let parsed = remote::check_url(url).ok();
                let remote = parsed.as_ref().is_some_and(|u| !remote::is_loopback(u));
                let https = parsed.as_ref().is_some_and(|u| u.scheme() == "https");
                let mut line = format!(
                    "target: {} ({})",
                    crate::redact::url(url),
                    if remote {
                        "remote: not on this machine"
                    } else {
                        "on this machine"
                    }
                );
                if https {
                    line.push_str(&format!(
                        "; TLS certificate {}; {} offered",
                        tls.verification,
                        if tls.http2 {
                            "HTTP/2 and HTTP/1.1"
                        } else {
                            "HTTP/1.1"
                        }
                    ));
                    if tls.client_identity {
                        line.push_str("; client certificate given");
                    }
                }
                line
            }
        };
        self.line(line);
    }

    fn scenario(&mut self, sc: &Scenario, gates: &[Gate]) {
        let model = match sc.load.model {
            LoadModel::Closed => "closed model (concurrent users)",
            LoadModel::Open => "open model (arrivals per second)",
        };
        self.line(format!(
            "load: {model}, {} planned, request timeout {}{}",
            show_duration(sc.load.total()),
            show_duration(sc.load.timeout),
            match sc.load.model {
                LoadModel::Open => format!(", pool of {} users", sc.load.max_users),
                LoadModel::Closed => String::new(),
            }
        ));
        let unit = |v: f64| match sc.load.model {
            LoadModel::Closed => format!("{v:.0} users"),
            LoadModel::Open => format!("{v:.1}/s"),
        };
        let mut prev = 0.0;
        for (stage, (from, to)) in sc.load.stages.iter().zip(sc.stage_bounds()) {
            let what = match (stage.target - prev).abs() < f64::EPSILON {
                true => format!("hold {}", unit(stage.target)),
                false => format!("ramp {} → {}", unit(prev), unit(stage.target)),
            };
            self.line(format!(
                "  stage {:<14} {:>7.1}s → {:>7.1}s  {what}",
                stage.name, from, to
            ));
            prev = stage.target;
        }
        self.line(peak_line(sc));
        self.flows(sc);
        for f in &sc.faults {
            self.line(format!(
                "  fault {:<14} on link {:<10} {} from {} to {}",
                f.name,
                f.link,
                f.toxic.type_name(),
                show_duration(f.at),
                show_duration(f.at + f.duration)
            ));
        }
        for w in &sc.worker_stops {
            self.line(format!(
                "  fault {:<14} on link {:<10} worker_stop {} from {} to {} (admin routes)",
                w.name,
                crate::chaos::kitchen::LINK,
                w.worker,
                show_duration(w.at),
                show_duration(w.at + w.duration)
            ));
        }
        if !sc.faults.is_empty() {
            self.links(sc);
        }
        for note in &sc.notes {
            self.line(format!("note: {note}"));
        }
        self.gates("gates", gates);
    }

    fn links(&mut self, sc: &Scenario) {
        let faulted = |name: &str| sc.faults.iter().any(|f| f.link == name);
        match &sc.target {
            TargetSpec::Bundled { .. } => {
                for name in ["edge", "payments"].into_iter().filter(|n| faulted(n)) {
                    self.line(format!(
                        "  link {name:<10} a fault proxy on loopback in front of the bundled {}",
                        if name == "edge" {
                            "server"
                        } else {
                            "gateway simulator"
                        }
                    ));
                }
            }
            TargetSpec::Url(url) => {
                for l in sc.links.iter().filter(|l| faulted(&l.name)) {
                    self.line(format!(
                        "  link {:<10} {} → {}",
                        l.name, l.listen, l.upstream
                    ));
                }
                if faulted("edge") && !sc.links.iter().any(|l| l.name == "edge") {
                    self.line(format!(
                        "  link edge       a fault proxy on loopback → {} (TLS passes through untouched)",
                        crate::redact::url(url)
                    ));
                }
            }
        }
    }

    fn flows(&mut self, sc: &Scenario) {
        let total: u64 = sc.weighted_flows().map(|(_, f)| u64::from(f.weight)).sum();
        for flow in &sc.flows {
            let steps: Vec<String> = flow
                .steps
                .iter()
                .map(|s| sc.request_names[s.request as usize].clone())
                .collect();
            let when = match flow.at {
                Some(at) => format!("once at {}", show_duration(at)),
                None => format!(
                    "weight {} ({:.0} %)",
                    flow.weight,
                    100.0 * f64::from(flow.weight) / total.max(1) as f64
                ),
            };
            self.line(format!(
                "  flow {:<16} {when}: {}",
                flow.name,
                steps.join(" → ")
            ));
        }
    }

    fn gates(&mut self, label: &str, gates: &[Gate]) {
        match gates.is_empty() {
            true => self.line(format!(
                "{label}: none (the run passes unless the generator falls behind)"
            )),
            false => {
                let shown: Vec<String> = gates.iter().map(Gate::to_string).collect();
                self.line(format!("{label}: {}", shown.join(" · ")));
            }
        }
    }
}

/// The peak load and the request rate it implies.
fn peak_line(sc: &Scenario) -> String {
    let peak = sc.load.stages.iter().map(|s| s.target).fold(0.0, f64::max);
    let per_flow = requests_per_arrival(sc);
    match sc.load.model {
        LoadModel::Open => format!(
            "peak: {peak:.1} arrivals/s × {per_flow:.2} requests each ≈ {:.0} req/s",
            peak * per_flow
        ),
        LoadModel::Closed => {
            let think = think_per_iteration(sc).as_secs_f64();
            match think > 0.0 {
                true => format!(
                    "peak: {peak:.0} users; at most ≈ {:.0} req/s ({per_flow:.2} requests per iteration, {think:.2} s of think time each; fewer as answers slow down)",
                    peak * per_flow / think
                ),
                false => format!(
                    "peak: {peak:.0} users with no think time: the request rate is bounded only by how fast the target answers"
                ),
            }
        }
    }
}

/// Requests in one iteration of the weighted mix (a poll counts once).
fn requests_per_arrival(sc: &Scenario) -> f64 {
    weighted_mean(sc, |f| f.steps.len() as f64)
}

/// Think time in one iteration of the weighted mix (ranges at their middle).
fn think_per_iteration(sc: &Scenario) -> Duration {
    Duration::from_secs_f64(weighted_mean(sc, |f| {
        f.steps
            .iter()
            .map(|s| match s.think {
                Think::None => 0.0,
                Think::Fixed(d) => d.as_secs_f64(),
                Think::Range(a, b) => (a + b).as_secs_f64() / 2.0,
            })
            .sum()
    }))
}

fn weighted_mean(sc: &Scenario, value: impl Fn(&Flow) -> f64) -> f64 {
    let (sum, weights) = sc.weighted_flows().fold((0.0, 0.0), |(s, w), (_, f)| {
        (s + f64::from(f.weight) * value(f), w + f64::from(f.weight))
    });
    if weights > 0.0 {
        sum / weights
    } else {
        0.0
    }
}
