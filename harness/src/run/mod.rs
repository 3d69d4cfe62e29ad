//! `harness run`: scenario → target (and fault proxies) → load with its fault
//! timeline → record → summary and verdict → report, with cleanup on every
//! path (the bundled server is stopped and every fault removed whether the
//! run ends, fails or is interrupted), and the verdict as an exit code.
//!
//! [`measure`] makes the run and keeps what it measured in memory;
//! [`write_report`] writes the report of it. A batch of runs judged against a
//! baseline uses the two apart, so the last run's report carries the verdict.

mod connect;
mod missed;
mod overrides;
mod prepare;
mod scrape;
mod sharded;
mod test_hook;

pub use prepare::prepare;
pub(crate) use prepare::{apply, refuse_not_injected};
pub(crate) use sharded::Sharding;

use crate::backend::{remote, ConnectOptions, Connection, Target, TargetOptions, Tls};
use crate::baseline::BaselineComparison;
use crate::chaos::kitchen::{KitchenAdmin, KitchenTimeline};
use crate::chaos::Chaos;
use crate::exit;
use crate::gate;
use crate::load::{self, LoadOptions, LoadResult};
use crate::record::{FaultWindow, MachineInfo, RunMeta, RunRecord};
use crate::report;
use crate::scenario::{self, Scenario, TargetSpec};
use crate::slo::Gate;
use crate::stop;
use crate::summary::{Summary, Verdict};
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
    /// TLS and HTTP/2 towards a URL target (`--ca-cert`, `--insecure`, ...).
    pub connect: ConnectOptions,
    /// This process's shard of a sharded run, and the shards' common start.
    pub sharding: Sharding,
    /// What the run watches as it goes: window gates that abort, the dashboard.
    pub live: crate::live::LiveOptions,
    /// Where the run is recorded (`--history`, `--no-history`, `--meta`).
    pub history: crate::history::HistoryOptions,
}

/// Why a run could not happen; each maps to an exit code (see [`crate::exit`]).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{0}")]
    Scenario(#[from] scenario::ScenarioError),
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Shard(#[from] crate::shard::ShardError),
    #[error("the target could not be started or reached: {0:#}")]
    Target(anyhow::Error),
    #[error("the fault proxy could not be started or reached: {0:#}")]
    Proxy(anyhow::Error),
    /// The harness itself failed: the load engine broke, or a report could not be written.
    #[error("{0:#}")]
    Internal(anyhow::Error),
    /// A command of several runs (the capacity search) was stopped between
    /// or during its runs; each run's own report says so.
    #[error("{}: the search ended there, each step's report is written", .0.describe())]
    Stopped(stop::StopReason),
}

impl RunError {
    pub fn exit_code(&self) -> u8 {
        match self {
            RunError::Scenario(_) | RunError::Usage(_) | RunError::Shard(_) => exit::USAGE,
            RunError::Target(_) | RunError::Proxy(_) => exit::UNREACHABLE,
            RunError::Internal(_) => exit::INTERNAL,
            RunError::Stopped(reason) => exit::of_stop(*reason),
        }
    }
}

/// What a finished run measured and where its report is.
#[derive(Debug)]
pub struct RunOutcome {
    pub(crate) report_dir: PathBuf,
    /// The run's figures and verdicts, as its summary.json holds them.
    pub(crate) summary: Summary,
    pub(crate) interrupted: bool,
    pub(crate) exit_code: u8,
}

/// A run that has ended, before its report is written.
pub(crate) struct Measured {
    /// The record: histograms (for the .hlog files), stages, fault windows.
    pub(crate) record: RunRecord,
    /// Its figures, judged against the run's gates.
    pub(crate) summary: Summary,
    /// The bundled server's own `/metrics`, read before it stopped.
    server_metrics: Option<String>,
}

/// Runs a scenario end to end and writes its report; prints progress and the
/// summary to `out`, the report's path last.
pub async fn run(args: &RunArgs, out: &mut dyn Write) -> Result<RunOutcome, RunError> {
    let (sc, gates) = prepare(args)?;
    prepare::refuse_not_injected(&sc, &gates)?;
    run_scenario(sc, gates, args, out).await
}

/// Runs an already prepared scenario (see [`prepare`]) with these gates; the
/// rest of `args` (target executable, proxy, reports folder, quiet) applies.
pub(crate) async fn run_scenario(
    sc: Scenario,
    gates: Vec<Gate>,
    args: &RunArgs,
    out: &mut dyn Write,
) -> Result<RunOutcome, RunError> {
    let measured = measure(sc, &gates, args, out).await?;
    write_report(measured, None, args, out)
}

/// Makes the run: fault proxies, target, load with its fault timeline, then
/// cleanup, and the record summarised and judged against `gates`.
pub(crate) async fn measure(
    sc: Scenario,
    gates: &[Gate],
    args: &RunArgs,
    out: &mut dyn Write,
) -> Result<Measured, RunError> {
    sharded::check_start(args)?;
    let tls = connect::tls_for(args, &sc)?;
    let mut chaos = start_chaos(&sc, args).await?;
    let mut target = start_target(&sc, args, &tls, &mut chaos).await?;
    sharded::route_through_shard_zero(&sc, args, &mut target).await?;
    announce(&sc, &target, args, out);
    let client = match target.http_client(&tls, sc.load.timeout) {
        Ok(c) => c,
        Err(e) => {
            target.stop().await;
            cleanup_chaos(chaos.as_mut(), &mut Vec::new()).await;
            return Err(RunError::Internal(e));
        }
    };
    let connection = target.connection.clone();
    let kitchen = match kitchen_admin(&sc, &target, &client, args).await {
        Ok(k) => k,
        Err(e) => {
            target.stop().await;
            cleanup_chaos(chaos.as_mut(), &mut Vec::new()).await;
            return Err(RunError::Target(e));
        }
    };
    // The dashboard shows the target's series as they are scraped.
    let live_series = crate::live::LiveSeries::default();
    let listener = args
        .live
        .dashboard
        .is_some()
        .then(|| live_series.listener());
    let (mut scraper, scrape_notes) =
        match scrape::start(&sc, &target, chaos.as_ref(), args, listener).await {
            Ok(s) => s,
            Err(e) => {
                target.stop().await;
                cleanup_chaos(chaos.as_mut(), &mut Vec::new()).await;
                return Err(e);
            }
        };
    let sc = Arc::new(sc);
    let metrics_client = client.clone();
    let injectors = Injectors {
        chaos: chaos.as_ref(),
        kitchen,
    };
    let observers = Observers {
        watch: crate::live::Watcher::new(&sc, gates, &args.live, live_series),
        scraper: scraper.as_mut(),
    };
    let (loaded, windows, mut notes) =
        drive_load(&sc, &target, client, injectors, observers, args, out).await;
    let scraped = match scraper {
        Some(s) => s.finish().await,
        None => crate::scrape::ScrapeOutcome::default(),
    };
    notes.extend(scrape_notes);
    notes.extend(scraped.notes);
    notes.extend(target.died());
    notes.append(&mut target.notes);
    notes.extend(chaos.as_mut().map(Chaos::take_notes).unwrap_or_default());
    let server_metrics = match &target.server_url {
        Some(url) => scrape_metrics(&metrics_client, url).await,
        None => None,
    };
    if let Some(text) = &server_metrics {
        notes.extend(crate::backend::kitchen_notes(text));
    }
    target.stop().await;
    cleanup_chaos(chaos.as_mut(), &mut notes).await;
    let mut loaded = loaded.map_err(RunError::Internal)?;
    notes.append(&mut loaded.notes);
    connect::finish_notes(&connection, &tls, &mut notes);
    let shard = sharded::shard_info(args, &loaded);
    if let Some(a) = &loaded.aborted {
        notes.push(format!(
            "the run was aborted at {:.0} s of {:.0} s planned: a window of `{}` failed ({}), and the gate stops the run at its first failed window",
            a.at_s,
            sc.load.total().as_secs_f64(),
            a.gate,
            a.actual
        ));
    }
    let mut record = record_of(&sc, loaded, windows, notes, connection);
    record.meta.shard = shard;
    let mut summary = crate::summary::compute(&record);
    summary.server_metrics = scraped.metrics;
    gate::judge_run(&record, &mut summary, gates);
    Ok(Measured {
        record,
        summary,
        server_metrics,
    })
}

/// Writes the report of a measured run (with the verdict against a baseline
/// when there is one), prints its table, and returns its outcome.
pub(crate) fn write_report(
    measured: Measured,
    baseline: Option<&BaselineComparison>,
    args: &RunArgs,
    out: &mut dyn Write,
) -> Result<RunOutcome, RunError> {
    let Measured {
        record,
        summary,
        server_metrics,
    } = measured;
    let unwritten = summary.clone();
    let mut written = report::write_run_report(&record, summary, baseline, &args.reports_dir)
        .context("writing the report")
        .map_err(RunError::Internal)?;
    test_hook::hold_report(out);
    if let Some(reason) = stop::requested().filter(|_| !record.interrupted()) {
        // Stopped while the report was written: it is written again, marked
        // so. The request is recorded once, so this happens at most once.
        let mut summary = unwritten;
        crate::gate::mark_stopped(&mut summary, reason);
        report::write_report_files(&record, &mut summary, baseline, &written.dir)
            .context("writing the report again, marked interrupted")
            .map_err(RunError::Internal)?;
        written.verdict = summary.verdict;
        written.summary = summary;
    }
    args.live.show_final(&written.summary);
    sharded::write_recording(&record, args, &written.dir)?;
    if let Some(text) = server_metrics {
        let _ = std::fs::write(written.dir.join("server-metrics.prom"), text);
    }
    if !args.quiet {
        let _ = report::print_summary_table(&written.summary, out);
    }
    if let Some(reason) = written.summary.run.stopped_by {
        let _ = writeln!(
            out,
            "interrupted: {}; the report holds what was measured until then",
            reason.describe()
        );
    }
    if let Some(a) = &record.aborted {
        let _ = writeln!(
            out,
            "aborted at {:.0} s: a window of `{}` failed ({}); the report holds what was measured until then",
            a.at_s, a.gate, a.actual
        );
    }
    let exit_code = exit::of_verdict(written.verdict);
    let exit_code = sharded::exit_code(args, exit_code, written.verdict, out);
    record_history(args, &written, &record, out);
    let _ = writeln!(
        out,
        "report: {}",
        display_path(&written.dir.join("index.html"))
    );
    Ok(RunOutcome {
        report_dir: written.dir,
        summary: written.summary,
        interrupted: written.verdict == Verdict::Interrupted,
        exit_code,
    })
}

/// Records the run in the history (a shard's share is not a run: `harness
/// merge` records the merged one); a failure is a note, never the run's.
fn record_history(
    args: &RunArgs,
    written: &report::RunReport,
    record: &RunRecord,
    out: &mut dyn Write,
) {
    if args.sharding.shard.is_some() {
        return;
    }
    let line = crate::history::record_line(
        &args.history,
        &args.reports_dir,
        &written.summary,
        &record.recorder,
        Some(&written.dir),
    );
    // --quiet keeps the output to the report's path, and notes.
    if let Some(line) = line.filter(|l| !args.quiet || l.starts_with("note:")) {
        let _ = writeln!(out, "{line}");
    }
}

/// The fault proxies, when some fault needs one.
async fn start_chaos(sc: &Scenario, args: &RunArgs) -> Result<Option<Chaos>, RunError> {
    if sc.faults.is_empty() || !sharded::drives_faults(args) {
        return Ok(None);
    }
    Chaos::start(args.toxiproxy.as_deref())
        .await
        .map(Some)
        .map_err(|e| RunError::Proxy(e.into()))
}

/// The target, its faulted links behind proxies; on failure the proxies are removed.
async fn start_target(
    sc: &Scenario,
    args: &RunArgs,
    tls: &Tls,
    chaos: &mut Option<Chaos>,
) -> Result<Target, RunError> {
    let faulted: BTreeSet<String> = sc.faults.iter().map(|f| f.link.clone()).collect();
    let opts = TargetOptions {
        spec: &sc.target,
        exe: args.server_exe.clone(),
        faulted_links: faulted,
        links: &sc.links,
        seed: sc.seed,
        tls,
    };
    match Target::start(opts, chaos.as_mut()).await {
        Ok(t) => Ok(t),
        Err(e) => {
            cleanup_chaos(chaos.as_mut(), &mut Vec::new()).await;
            // A proxy that could not be put on a link is the proxy's failure.
            let proxy = e
                .chain()
                .any(|c| c.downcast_ref::<crate::chaos::ChaosError>().is_some());
            Err(if proxy {
                RunError::Proxy(e)
            } else {
                RunError::Target(e)
            })
        }
    }
}

/// The run's first lines: what runs against what, and the scenario's notes.
fn announce(sc: &Scenario, target: &Target, args: &RunArgs, out: &mut dyn Write) {
    if !args.quiet {
        let _ = writeln!(
            out,
            "running {} against {} ({} planned)",
            sc.name,
            target.description,
            scenario::show_duration(sc.load.total())
        );
    }
    if target.connection.remote {
        let _ = writeln!(out, "{}", remote::announcement(&target.connection));
    }
    for note in &sc.notes {
        let _ = writeln!(out, "note: {}", crate::redact::scrub(note));
    }
}

/// What injects the scenario's faults on the load's timeline: the fault
/// proxy's and the kitchen's (worker stops).
struct Injectors<'a> {
    chaos: Option<&'a Chaos>,
    kitchen: Option<KitchenAdmin>,
}

/// What looks at the run as it goes, off the load's threads: the window
/// gates and the dashboard (once a second, from the aggregator), and the
/// scraper of the target's own metrics.
struct Observers<'a> {
    watch: Option<crate::live::Watcher>,
    scraper: Option<&'a mut crate::scrape::Scraper>,
}

/// The load, with the fault timeline started on its epoch; returns what the
/// engine measured, the fault windows as they really ran, and the notes so far.
async fn drive_load(
    sc: &Arc<Scenario>,
    target: &Target,
    client: reqwest::Client,
    injectors: Injectors<'_>,
    observers: Observers<'_>,
    args: &RunArgs,
    out: &mut dyn Write,
) -> (anyhow::Result<LoadResult>, Vec<FaultWindow>, Vec<String>) {
    let Injectors { chaos, kitchen } = injectors;
    let timeline = Mutex::new(None);
    let kitchen_timeline = Mutex::new(None);
    let loaded = load::run(
        Arc::clone(sc),
        LoadOptions {
            base_url: target.base_url.clone(),
            quiet: args.quiet,
            client,
            shard: args.sharding.shard,
            start_at: args.sharding.start_at,
            watch: observers.watch.map(|w| Box::new(w) as Box<dyn load::Watch>),
        },
        |epoch| {
            if !args.quiet {
                // A line scripts (and the tests) can wait for: the load is on.
                let _ = writeln!(out, "load started");
                let _ = out.flush();
            }
            if let Some(scraper) = observers.scraper {
                scraper.begin(epoch);
            }
            if let Some(chaos) = chaos {
                *timeline.lock().expect("not poisoned") =
                    Some(chaos.start_timeline(sc.faults.clone(), epoch.into()));
            }
            if let Some(admin) = kitchen.clone() {
                *kitchen_timeline.lock().expect("not poisoned") = Some(KitchenTimeline::start(
                    admin,
                    sc.worker_stops.clone(),
                    epoch.into(),
                ));
            }
        },
    )
    .await;
    let mut notes = sc.notes.clone();
    let mut windows = sharded::windows_recorded_elsewhere(sc, args);
    if let Some(t) = timeline.into_inner().expect("not poisoned") {
        let (w, n) = t.finish().await;
        windows = w;
        notes.extend(n);
    }
    if let Some(t) = kitchen_timeline.into_inner().expect("not poisoned") {
        let (w, n) = t.finish().await;
        windows.extend(w);
        windows.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
        notes.extend(n);
    }
    (loaded, windows, notes)
}

/// The kitchen admin access for the run's worker stops (shard 0 only, as
/// for every fault), after checking that the target has each worker.
async fn kitchen_admin(
    sc: &Scenario,
    target: &Target,
    client: &reqwest::Client,
    args: &RunArgs,
) -> anyhow::Result<Option<KitchenAdmin>> {
    if !sharded::drives_faults(args) {
        return Ok(None);
    }
    let admin = KitchenAdmin::for_run(
        &sc.worker_stops,
        target.server_url.as_deref(),
        target.admin_token.clone(),
        client.clone(),
    );
    if let Some(admin) = &admin {
        crate::chaos::kitchen::preflight(admin, &sc.worker_stops).await?;
    }
    Ok(admin)
}

/// What the run hands to the summary and the report.
fn record_of(
    sc: &Scenario,
    loaded: LoadResult,
    faults: Vec<FaultWindow>,
    notes: Vec<String>,
    connection: Connection,
) -> RunRecord {
    let missed = missed::missed_windows(sc, &faults, &loaded.stages, loaded.elapsed_s);
    RunRecord {
        meta: RunMeta {
            scenario: sc.name.clone(),
            description: sc.description.clone(),
            scenario_file: sc.file.clone(),
            seed: sc.seed,
            target: target_description(&sc.target),
            settings: target_settings(sc),
            model: sc.load.model,
            started_at: loaded.started_at,
            ended_at: loaded.ended_at,
            planned_duration_s: sc.load.total().as_secs_f64(),
            harness_version: env!("CARGO_PKG_VERSION").to_string(),
            git_commit: git_commit(),
            machine: MachineInfo::current(),
            connection: Some(connection),
            shard: None,
        },
        recorder: loaded.recorder,
        stages: loaded.stages,
        faults,
        generator: loaded.generator,
        // The one stop request, read now: goose may have returned before any
        // timer saw it, and a stop before the load began counts too.
        stop: stop::requested(),
        aborted: loaded.aborted,
        missed,
        notes,
    }
}

async fn cleanup_chaos(chaos: Option<&mut Chaos>, notes: &mut Vec<String>) {
    if let Some(chaos) = chaos {
        if let Err(e) = chaos.cleanup().await {
            notes.push(format!("removing the fault proxies failed: {e}"));
        }
    }
}

/// The target's settings as the report lists them (see `RunMeta::settings`).
fn target_settings(sc: &Scenario) -> Vec<String> {
    match &sc.target {
        TargetSpec::Bundled {
            server_args,
            gateway_args,
            ..
        } => [("server", server_args), ("gateway", gateway_args)]
            .into_iter()
            .filter(|(_, args)| !args.is_empty())
            .map(|(who, args)| format!("{who} {}", crate::redact::scrub(&args.join(" "))))
            .collect(),
        TargetSpec::Url(_) => sc.target_settings.clone(),
    }
}

/// What was load-tested, as reports name it (a URL's password shown as `***`).
pub(crate) fn target_description(spec: &TargetSpec) -> String {
    match spec {
        TargetSpec::Bundled { profile, .. } => format!(
            "bundled reference-server ({} profile)",
            scenario::profile::name(*profile)
        ),
        TargetSpec::Url(url) => crate::redact::url(url),
    }
}

/// The target's own `/metrics`, read before it stops, so its counts can be
/// set beside the harness's (a backend that does not serve it is no error:
/// the file is left out).
async fn scrape_metrics(client: &reqwest::Client, server_url: &str) -> Option<String> {
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
