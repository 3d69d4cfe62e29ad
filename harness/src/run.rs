//! `harness run`: scenario → target (and fault proxies) → load with its fault
//! timeline → report, with cleanup on every path (the bundled server is
//! stopped and every fault removed whether the run ends, fails or is
//! interrupted), and the verdict as an exit code.

use crate::chaos::{Chaos, Fault};
use crate::gate::Gate;
use crate::load::{self, LoadOptions};
use crate::record::{MachineInfo, RunMeta, RunRecord};
use crate::report::{self, Verdict};
use crate::scenario::{self, Scenario, ScenarioError, TargetSpec};
use crate::target::{Target, TargetOptions};
use anyhow::Context;
use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Everything `harness run` takes.
#[derive(Clone, Debug)]
pub struct RunArgs {
    pub scenario: PathBuf,
    pub target: Option<String>,
    pub duration: Option<Duration>,
    pub scale: Option<f64>,
    pub gates: Vec<String>,
    pub seed: Option<u64>,
    pub quiet: bool,
    pub reports_dir: PathBuf,
    pub toxiproxy: Option<String>,
    /// The bundled server's profile, overriding the scenario's ("default" or "naive").
    pub profile: Option<String>,
    /// The executable that serves `reference-server` for the bundled target.
    pub server_exe: PathBuf,
}

/// Why a run could not happen; each maps to an exit code.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{0}")]
    Scenario(#[from] ScenarioError),
    #[error("{0}")]
    Usage(String),
    #[error("the target could not be started or reached: {0:#}")]
    Target(anyhow::Error),
    #[error("the fault proxy could not be started or reached: {0:#}")]
    Proxy(anyhow::Error),
    #[error("{0:#}")]
    Failed(anyhow::Error),
}

impl RunError {
    pub fn exit_code(&self) -> u8 {
        match self {
            RunError::Scenario(_) | RunError::Usage(_) => 2,
            RunError::Target(_) | RunError::Proxy(_) => 3,
            RunError::Failed(_) => 3,
        }
    }
}

/// Exit code of an interrupted run (128 + SIGINT, as shells report Ctrl-C).
pub const EXIT_INTERRUPTED: u8 = 130;

/// What a finished run produced.
#[derive(Debug)]
pub struct RunOutcome {
    pub report_dir: PathBuf,
    pub verdict: Verdict,
    pub interrupted: bool,
    pub exit_code: u8,
}

/// Reads the scenario and applies the command line's overrides; nothing runs.
pub fn prepare(args: &RunArgs) -> Result<(Scenario, Vec<Gate>), RunError> {
    let mut sc = scenario::load(&args.scenario)?;
    if let Some(seed) = args.seed {
        sc.seed = seed;
    }
    if let Some(p) = &args.profile {
        match &mut sc.target {
            _ if !["default", "naive"].contains(&p.as_str()) => {
                return Err(RunError::Usage(format!(
                    "--profile {p:?}: expected \"default\" or \"naive\""
                )))
            }
            TargetSpec::Bundled { profile, .. } if args.target.is_none() => *profile = p.clone(),
            _ => {
                return Err(RunError::Usage(
                    "--profile chooses the bundled server's profile; it cannot apply to --target"
                        .into(),
                ))
            }
        }
    }
    if let Some(url) = &args.target {
        crate::target::check_loopback(url)
            .map_err(|e| RunError::Usage(format!("--target: {e}")))?;
        // `edge` can be put in front of any URL; other links of the bundled
        // server (`payments`) exist on another backend only if it declares them.
        let links: Vec<String> = sc.links.iter().map(|l| l.name.clone()).collect();
        let (kept, dropped): (Vec<_>, Vec<_>) = std::mem::take(&mut sc.faults)
            .into_iter()
            .partition(|f| f.link == "edge" || links.contains(&f.link));
        sc.faults = kept;
        for f in dropped {
            sc.notes.push(format!(
                "fault `{}` was not injected: its link `{}` exists only around the bundled server; \
                 to inject it into {url}, declare the link in the scenario's `[[links]]`",
                f.name, f.link
            ));
        }
        sc.target = TargetSpec::Url(url.clone());
    }
    if let Some(d) = args.duration {
        if d.is_zero() {
            return Err(RunError::Usage("--duration must be above zero".into()));
        }
        sc.set_duration(d);
    }
    if let Some(k) = args.scale {
        if !(k.is_finite() && k > 0.0) {
            return Err(RunError::Usage(format!(
                "--scale {k}: expected a factor above zero, e.g. 0.5 or 2"
            )));
        }
        sc.set_scale(k);
    }
    load::align_stages(&mut sc);
    let mut gates = std::mem::take(&mut sc.gates);
    for g in &args.gates {
        gates.push(
            g.parse()
                .map_err(|e| RunError::Usage(format!("--gate {g:?}: {e}")))?,
        );
    }
    Ok((sc, gates))
}

/// Runs a scenario end to end and writes its report; prints progress and the
/// summary to `out`, the report's path last.
pub async fn run(args: &RunArgs, out: &mut dyn Write) -> Result<RunOutcome, RunError> {
    let (sc, gates) = prepare(args)?;
    run_scenario(sc, gates, args, out).await
}

/// Runs an already prepared scenario (see [`prepare`]) with these gates; the
/// rest of `args` (target executable, proxy, reports folder, quiet) applies.
pub async fn run_scenario(
    sc: Scenario,
    gates: Vec<Gate>,
    args: &RunArgs,
    out: &mut dyn Write,
) -> Result<RunOutcome, RunError> {
    let faulted: BTreeSet<String> = sc.faults.iter().map(|f| f.link.clone()).collect();
    let mut chaos = match faulted.is_empty() {
        true => None,
        false => Some(
            Chaos::start(args.toxiproxy.as_deref())
                .await
                .map_err(|e| RunError::Proxy(e.into()))?,
        ),
    };
    let opts = TargetOptions {
        spec: &sc.target,
        exe: args.server_exe.clone(),
        faulted_links: faulted,
        links: &sc.links,
        seed: sc.seed,
    };
    let target = Target::start(opts, chaos.as_mut()).await;
    let mut target = match target {
        Ok(t) => t,
        Err(e) => {
            cleanup_chaos(chaos.as_mut(), &mut Vec::new()).await;
            return Err(RunError::Target(e));
        }
    };
    if !args.quiet {
        let _ = writeln!(
            out,
            "running {} against {} ({} planned)",
            sc.name,
            target.description,
            scenario::show_duration(sc.load.total())
        );
    }
    for note in &sc.notes {
        let _ = writeln!(out, "note: {note}");
    }
    let sc = Arc::new(sc);
    let faults: Vec<Fault> = sc
        .faults
        .iter()
        .map(|f| Fault {
            name: f.name.clone(),
            at: f.at,
            duration: f.duration,
            link: f.link.clone(),
            toxic: f.toxic.clone(),
        })
        .collect();
    let timeline = Mutex::new(None);
    let loaded = load::run(
        Arc::clone(&sc),
        LoadOptions {
            base_url: target.base_url.clone(),
            quiet: args.quiet,
        },
        |epoch| {
            if let Some(chaos) = chaos.as_ref() {
                *timeline.lock().expect("not poisoned") =
                    Some(chaos.start_timeline(faults, epoch.into()));
            }
        },
    )
    .await;
    let mut notes = sc.notes.clone();
    let mut windows = Vec::new();
    if let Some(t) = timeline.into_inner().expect("not poisoned") {
        let (w, n) = t.finish().await;
        windows = w;
        notes.extend(n);
    }
    notes.extend(target.died());
    let server_metrics = match &target.server_url {
        Some(url) => scrape_metrics(url).await,
        None => None,
    };
    if let Some(text) = &server_metrics {
        notes.extend(crate::target::kitchen_notes(text));
    }
    target.stop().await;
    cleanup_chaos(chaos.as_mut(), &mut notes).await;
    let mut loaded = loaded.map_err(RunError::Failed)?;
    notes.append(&mut loaded.notes);
    let record = RunRecord {
        meta: RunMeta {
            scenario: sc.name.clone(),
            description: sc.description.clone(),
            scenario_file: sc.file.clone(),
            seed: sc.seed,
            target: target_description(&sc.target),
            model: sc.load.model,
            started_at: loaded.started_at,
            ended_at: loaded.ended_at,
            planned_duration_s: sc.load.total().as_secs_f64(),
            harness_version: env!("CARGO_PKG_VERSION").to_string(),
            git_commit: git_commit(),
            machine: MachineInfo::current(),
        },
        recorder: loaded.recorder,
        stages: loaded.stages,
        faults: windows,
        generator: loaded.generator,
        interrupted: loaded.interrupted,
        notes,
    };
    let written = report::write_run_report(&record, &gates, &args.reports_dir)
        .context("writing the report")
        .map_err(RunError::Failed)?;
    if let Some(text) = server_metrics {
        let _ = std::fs::write(written.dir.join("server-metrics.prom"), text);
    }
    if !args.quiet {
        let _ = report::print_summary_table(&written.summary, out);
    }
    if record.interrupted {
        let _ = writeln!(
            out,
            "interrupted: the report holds what was measured until the run was stopped (Ctrl-C or SIGTERM)"
        );
    }
    let exit_code = match (record.interrupted, &written.verdict) {
        (true, _) => EXIT_INTERRUPTED,
        (false, Verdict::Pass) => 0,
        (false, Verdict::GateFailed) => 1,
        (false, Verdict::Invalid) => 4,
    };
    let _ = writeln!(
        out,
        "report: {}",
        display_path(&written.dir.join("index.html"))
    );
    Ok(RunOutcome {
        report_dir: written.dir,
        verdict: written.verdict,
        interrupted: record.interrupted,
        exit_code,
    })
}

async fn cleanup_chaos(chaos: Option<&mut Chaos>, notes: &mut Vec<String>) {
    if let Some(chaos) = chaos {
        if let Err(e) = chaos.cleanup().await {
            notes.push(format!("removing the fault proxies failed: {e}"));
        }
    }
}

fn target_description(spec: &TargetSpec) -> String {
    match spec {
        TargetSpec::Bundled { profile, .. } => {
            format!("bundled reference-server ({profile} profile)")
        }
        TargetSpec::Url(url) => url.clone(),
    }
}

/// The server's own `/metrics`, read before it stops, so its counts can be set beside the harness's.
async fn scrape_metrics(server_url: &str) -> Option<String> {
    let client = reqwest::Client::new();
    let resp = client
        .get(format!("{server_url}/metrics"))
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .ok()?;
    if !resp.status().is_success() {
        return None;
    }
    resp.text().await.ok()
}

fn git_commit() -> Option<String> {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
        .filter(|s| !s.is_empty())
}

/// A path relative to the working directory when it is under it.
fn display_path(p: &Path) -> String {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| p.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| p.to_path_buf())
        .display()
        .to_string()
}
