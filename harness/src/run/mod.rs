//! `harness run`: scenario → target (and fault proxies) → load with its fault
//! timeline → record → summary and verdict → report, with cleanup on every
//! path (the bundled server is stopped and every fault removed whether the
//! run ends, fails or is interrupted), and the verdict as an exit code.
//!
//! `measure` makes the run and keeps what it measured in memory;
//! `write_report` writes the report of it. A batch of runs judged against a
//! baseline uses the two apart, so the last run's report carries the verdict.
//!
//! The steps live apart: `prepare` (the scenario with the command line's
//! overrides), `setup` (fault proxies, target, kitchen access, and their
//! removal), `drive` (the load with its fault timeline), `meta` (the run's
//! record), `finish` (report, history, exit code); `sharded`, `connect` and
//! `scrape` hold what a shard, TLS and the metrics scraper change.

mod connect;
mod drive;
mod finish;
mod meta;
mod missed;
mod overrides;
mod prepare;
mod scrape;
mod setup;
mod sharded;
mod test_hook;

pub(crate) use finish::write_report;
pub(crate) use meta::target_description;
pub use prepare::prepare;
pub(crate) use prepare::{apply, refuse_not_injected};
pub(crate) use sharded::Sharding;

use crate::backend::ConnectOptions;
use crate::chaos::Chaos;
use crate::exit;
use crate::gate;
use crate::record::RunRecord;
use crate::scenario::{self, Scenario};
use crate::slo::Gate;
use crate::stop;
use crate::summary::Summary;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
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
    let mut chaos = setup::start_chaos(&sc, args).await?;
    let mut target = setup::start_target(&sc, args, &tls, &mut chaos).await?;
    sharded::route_through_shard_zero(&sc, args, &mut target).await?;
    setup::announce(&sc, &target, args, out);
    let client = match target.http_client(&tls, sc.load.timeout) {
        Ok(c) => c,
        Err(e) => {
            target.stop().await;
            setup::cleanup_chaos(chaos.as_mut(), &mut Vec::new()).await;
            return Err(RunError::Internal(e));
        }
    };
    let connection = target.connection.clone();
    let kitchen = match setup::kitchen_admin(&sc, &target, &client, args).await {
        Ok(k) => k,
        Err(e) => {
            target.stop().await;
            setup::cleanup_chaos(chaos.as_mut(), &mut Vec::new()).await;
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
                setup::cleanup_chaos(chaos.as_mut(), &mut Vec::new()).await;
                return Err(e);
            }
        };
    let sc = Arc::new(sc);
    let metrics_client = client.clone();
    let injectors = drive::Injectors {
        chaos: chaos.as_ref(),
        kitchen,
    };
    let observers = drive::Observers {
        watch: crate::live::Watcher::new(&sc, gates, &args.live, live_series),
        scraper: scraper.as_mut(),
    };
    let (loaded, windows, mut notes) =
        drive::drive_load(&sc, &target, client, injectors, observers, args, out).await;
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
        Some(url) => setup::scrape_metrics(&metrics_client, url).await,
        None => None,
    };
    if let Some(text) = &server_metrics {
        notes.extend(crate::backend::kitchen_notes(text));
    }
    target.stop().await;
    setup::cleanup_chaos(chaos.as_mut(), &mut notes).await;
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
    let mut record = meta::record_of(&sc, loaded, windows, notes, connection);
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
