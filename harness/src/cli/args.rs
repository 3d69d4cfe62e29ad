//! The arguments of each subcommand, and their conversion into the
//! library's own argument types.

use super::connect::ConnectArgs;
use super::history::HistoryFlags;
use crate::batch::{BatchArgs, CapacityArgs};
use crate::run::{RunArgs, Sharding};
use crate::shard::{self, Shard, ShardError};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, clap::Args)]
pub(crate) struct RunCmd {
    /// The scenario file (see scenarios/*.toml for commented examples).
    pub(crate) scenario: PathBuf,
    /// Load this running backend instead of the scenario's target: any http(s) URL
    /// (e.g. https://staging.example.com, http://127.0.0.1:8080) or the bundled server in a
    /// profile (bundled:default, bundled:naive). Given twice or more, the same seeded scenario runs against each in
    /// turn (interleaved with --repeat) and the runs are compared in one report.
    #[arg(long = "target", value_name = "URL|bundled:PROFILE")]
    pub(crate) targets: Vec<String>,
    /// Stretch or shrink the whole timeline (stages, timed flows, faults) to this length, e.g. 30s or 2m.
    #[arg(long, value_name = "D", value_parser = parse_duration)]
    pub(crate) duration: Option<Duration>,
    /// Multiply users (closed model) or arrival rates (open model) by this factor, e.g. 0.5.
    #[arg(long, value_name = "F")]
    pub(crate) scale: Option<f64>,
    /// An SLO gate, added to the scenario's, e.g. 'p95 < 250ms', 'p99 < 1s for POST /orders',
    /// 'shed-rate < 2%', 'error-rate < 1%', 'throughput >= 800/s', 'p95 < 2s during payments-latency'.
    #[arg(long = "gate", value_name = "G")]
    pub(crate) gates: Vec<String>,
    /// Seed for every random choice of the run (overrides the scenario's).
    #[arg(long, value_name = "N")]
    pub(crate) seed: Option<u64>,
    /// No progress bar and no summary table; only the report's path (and the one
    /// "N users launched." line the load engine, goose, prints itself).
    #[arg(long, short)]
    pub(crate) quiet: bool,
    /// Where reports go: <DIR>/<scenario>/<UTC timestamp>/.
    #[arg(long, value_name = "DIR", default_value = "reports")]
    pub(crate) reports_dir: PathBuf,
    /// Use this Toxiproxy (or `harness proxy`) for faults instead of starting the built-in one.
    #[arg(long, value_name = "URL")]
    pub(crate) toxiproxy: Option<String>,
    /// The bundled server's profile, "default" or "naive" (overrides the scenario's).
    #[arg(long, value_name = "PROFILE")]
    pub(crate) profile: Option<String>,
    /// Run the scenario N times (with several targets or a baseline target, interleaved:
    /// A B A B ...), so verdicts can account for run-to-run noise.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub(crate) repeat: usize,
    /// Judge this run against an earlier one (its folder or summary.json; repeatable):
    /// exit 1 when it is worse beyond --max-regression, 5 when noise hides the answer.
    /// `history` (or `history:last=N`): against the recorded runs of the same scenario and
    /// target since their last change point (the newest N of them).
    #[arg(long, value_name = "RUN")]
    pub(crate) baseline: Vec<PathBuf>,
    /// Run this backend as the baseline, interleaved with the candidate in the same job.
    #[arg(long, value_name = "URL")]
    pub(crate) baseline_target: Option<String>,
    /// How much worse than the baseline a figure may get, e.g. 'p95=10%,shed-rate=+1pt,throughput=-5%'
    /// (default with a baseline: p95=10%,error-rate=+1pt,shed-rate=+1pt,throughput=-5%).
    #[arg(long, value_name = "TOLERANCES")]
    pub(crate) max_regression: Option<String>,
    /// The executable that serves the bundled reference server (default: this one).
    #[arg(long, value_name = "PATH", hide = true)]
    pub(crate) server_exe: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) connect: ConnectArgs,
    /// Run shard I (0-based) of N: arrival k (open model) or user k (closed model) is
    /// shard k mod N's; `harness merge` adds the shards' folders into one report.
    /// Default: JOB_COMPLETION_INDEX of HARNESS_SHARDS (a Kubernetes Indexed Job's pod).
    #[arg(long, value_name = "I/N")]
    pub(crate) shard: Option<String>,
    /// Wait for this wall-clock instant (RFC 3339, e.g. 2026-12-01T10:00:00Z) before the
    /// first stage; refuse (exit 2) when it passed more than 2 s ago. Default: HARNESS_START_AT.
    #[arg(long, value_name = "RFC3339")]
    pub(crate) start_at: Option<String>,
    /// Stop the run at the first failed window of any window gate (a gate ending in
    /// `over <duration>`, e.g. 'p95 < 500ms over 10s'): users stopped, faults removed, the
    /// report written with what was measured and marked aborted; exit 1.
    #[arg(long)]
    pub(crate) abort_on_fail: bool,
    #[command(flatten)]
    pub(crate) dashboard: DashboardArgs,
    #[command(flatten)]
    pub(crate) history: HistoryFlags,
}

/// `--dashboard [ADDR]` and its token.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct DashboardArgs {
    /// Serve a live dashboard of the run (one self-contained page, Server-Sent Events at
    /// /events, one snapshot a second) at ADDR; default 127.0.0.1 and a free port. Its URL
    /// is printed at the start. An address other than loopback needs --dashboard-token.
    #[arg(long, value_name = "ADDR", num_args = 0..=1, default_missing_value = "127.0.0.1:0")]
    pub(crate) dashboard: Option<SocketAddr>,
    /// The token every dashboard request must carry (`?token=` or `Authorization: Bearer`).
    #[arg(
        long,
        value_name = "TOKEN",
        env = "HARNESS_DASHBOARD_TOKEN",
        hide_env_values = true
    )]
    pub(crate) dashboard_token: Option<String>,
}

impl DashboardArgs {
    /// Refuses, before anything runs, an address that is not loopback without a token.
    pub(crate) fn check(&self) -> Result<(), crate::live::dashboard::DashboardError> {
        match self.dashboard {
            Some(addr) => crate::live::dashboard::check(addr, self.dashboard_token.as_deref()),
            None => Ok(()),
        }
    }

    /// Starts the dashboard when asked for, printing its URL.
    pub(crate) async fn start(
        &self,
        out: &mut dyn std::io::Write,
    ) -> Result<Option<crate::live::dashboard::Hub>, crate::live::dashboard::DashboardError> {
        let Some(addr) = self.dashboard else {
            return Ok(None);
        };
        let hub = crate::live::dashboard::Hub::start(addr, self.dashboard_token.clone()).await?;
        let _ = writeln!(out, "dashboard: {}", hub.url());
        let _ = out.flush();
        Ok(Some(hub))
    }
}

/// `--shard` and `--start-at`, or else the environment an Indexed Job sets.
fn sharding(cmd: &RunCmd, var: impl Fn(&str) -> Option<String>) -> Result<Sharding, ShardError> {
    let shard = match &cmd.shard {
        Some(text) => Some(Shard::parse(text)?),
        None => Shard::from_env(&var)?,
    };
    let start_at = match (&cmd.start_at, var(shard::ENV_START_AT)) {
        (Some(text), _) => Some(shard::parse_start_at("--start-at", text)?),
        (None, Some(text)) => Some(shard::parse_start_at(shard::ENV_START_AT, &text)?),
        (None, None) => None,
    };
    Ok(Sharding { shard, start_at })
}

#[derive(Debug, clap::Args)]
pub(crate) struct CompareCmd {
    /// Run folders (reports/<scenario>/<timestamp>) or their summary.json files.
    #[arg(required = true, num_args = 2..)]
    pub(crate) runs: Vec<PathBuf>,
    /// Where the comparison goes: <DIR>/compare/<UTC timestamp>/.
    #[arg(long, value_name = "DIR", default_value = "reports")]
    pub(crate) reports_dir: PathBuf,
}

#[derive(Debug, clap::Args)]
pub(crate) struct MergeCmd {
    /// The shards' run folders (reports/<scenario>/<timestamp> of each `harness run --shard I/N`).
    #[arg(required = true, num_args = 1..)]
    pub(crate) shards: Vec<PathBuf>,
    /// The merged run folder (new or empty). Default: <reports-dir>/<scenario>/<UTC timestamp>/.
    #[arg(short = 'o', long = "out", value_name = "OUT")]
    pub(crate) out: Option<PathBuf>,
    /// Where the merged run goes without -o.
    #[arg(long, value_name = "DIR", default_value = "reports")]
    pub(crate) reports_dir: PathBuf,
    /// A gate judged on the merged run, added to the scenario's (see `harness run --gate`).
    #[arg(long = "gate", value_name = "G")]
    pub(crate) gates: Vec<String>,
    /// Judge the merged run against an earlier run (its folder or summary.json; repeatable).
    #[arg(long, value_name = "RUN")]
    pub(crate) baseline: Vec<PathBuf>,
    /// How much worse than the baseline a figure may get (as for `harness run`).
    #[arg(long, value_name = "TOLERANCES")]
    pub(crate) max_regression: Option<String>,
    /// No summary table; only the verdict and the report's path.
    #[arg(long, short)]
    pub(crate) quiet: bool,
    #[command(flatten)]
    pub(crate) history: HistoryFlags,
}

#[derive(Debug, clap::Args)]
pub(crate) struct ProxyCmd {
    /// Address of the Toxiproxy HTTP API (loopback only).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8474")]
    pub(crate) listen: SocketAddr,
}

/// Why `harness run`'s arguments could not be turned into a run.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RunArgsError {
    #[error("{0}")]
    Shard(#[from] ShardError),
    #[error("cannot find the harness executable: {0}")]
    Exe(std::io::Error),
}

impl RunArgsError {
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            RunArgsError::Shard(_) => crate::exit::USAGE,
            RunArgsError::Exe(_) => crate::exit::INTERNAL,
        }
    }
}

pub(super) fn parse_duration(s: &str) -> Result<Duration, String> {
    crate::scenario::parse_duration(s)
}

/// The whole program after parsing: builds the runtime (except for the
/// bundled server, which builds its own) and returns the exit code.
pub(super) fn run_args(cmd: RunCmd) -> Result<BatchArgs, RunArgsError> {
    let sharding = sharding(&cmd, |k| std::env::var(k).ok())?;
    let server_exe = match cmd.server_exe {
        Some(p) => p,
        None => std::env::current_exe().map_err(RunArgsError::Exe)?,
    };
    // One `--target bundled:<profile>` is a profile, not another backend.
    let (target, profile) = match cmd.targets.as_slice() {
        [one] => match one.strip_prefix("bundled:") {
            Some(p) => (None, Some(p.to_string())),
            None => (Some(one.clone()), cmd.profile),
        },
        _ => (None, cmd.profile),
    };
    let run = RunArgs {
        scenario: cmd.scenario,
        target,
        duration: cmd.duration,
        scale: cmd.scale,
        gates: cmd.gates,
        seed: cmd.seed,
        quiet: cmd.quiet,
        reports_dir: cmd.reports_dir,
        toxiproxy: cmd.toxiproxy,
        profile,
        server_exe,
        connect: cmd.connect.options(),
        sharding,
        live: crate::live::LiveOptions {
            abort_on_fail: cmd.abort_on_fail,
            ..Default::default()
        },
        history: cmd.history.options(),
    };
    Ok(BatchArgs {
        run,
        targets: if cmd.targets.len() > 1 {
            cmd.targets
        } else {
            Vec::new()
        },
        repeat: cmd.repeat,
        baseline: cmd.baseline,
        baseline_target: cmd.baseline_target,
        max_regression: cmd.max_regression,
    })
}

#[derive(Debug, clap::Args)]
pub(crate) struct CapacityCmd {
    /// The scenario whose flows make the load (run in the open model, one rate per step).
    pub(crate) scenario: PathBuf,
    /// The SLO each step must meet, as comma-separated gates, e.g. "p95<250ms,shed-rate<1%"
    /// (default: the scenario's `[capacity] slo`). Gate per request where a flow waits on
    /// the business (`p95<2s for time to ready`): a run-wide percentile mixes that wait in.
    #[arg(long, value_name = "GATES", default_value = "")]
    pub(crate) slo: String,
    /// Search this running backend instead of the bundled server (any http(s) URL).
    #[arg(long, value_name = "URL")]
    pub(crate) target: Option<String>,
    /// The bundled server's profile: default, or naive (no cache, a commit per write, unbounded queue).
    #[arg(long, value_name = "PROFILE", conflicts_with = "target")]
    pub(crate) profile: Option<String>,
    /// First rate tried, arrivals/s (default: a quarter of the scenario's peak rate, else 10/s).
    #[arg(long, value_name = "RATE")]
    pub(crate) start_rate: Option<f64>,
    /// No rate above this is tried, arrivals/s.
    #[arg(long, value_name = "RATE", default_value_t = 5000.0)]
    pub(crate) max_rate: f64,
    /// How long each step holds its rate (after a 2 s warm-up). A queue that fills more
    /// slowly than a step lasts stays hidden (a kitchen backlog absorbs a short burst): hold
    /// each step several times as long as the longest wait the scenario allows.
    #[arg(long, value_name = "D", default_value = "20s", value_parser = parse_duration)]
    pub(crate) step: Duration,
    /// Stop narrowing when the bracket is within this share of the rate.
    #[arg(long, value_name = "SHARE", default_value_t = 0.05)]
    pub(crate) precision: f64,
    /// At most this many steps per search.
    #[arg(long, value_name = "N", default_value_t = 12)]
    pub(crate) max_steps: usize,
    /// Search this many times and report the spread.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub(crate) repeat: usize,
    /// Seed for every random choice (overrides the scenario's).
    #[arg(long, value_name = "N")]
    pub(crate) seed: Option<u64>,
    /// Where reports go: <DIR>/<scenario>-capacity/<UTC timestamp>/.
    #[arg(long, value_name = "DIR", default_value = "reports")]
    pub(crate) reports_dir: PathBuf,
    /// Use this Toxiproxy for faults instead of the built-in one.
    #[arg(long, value_name = "URL")]
    pub(crate) toxiproxy: Option<String>,
    /// The executable that serves the bundled reference server (default: this one).
    #[arg(long, value_name = "PATH", hide = true)]
    pub(crate) server_exe: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) connect: ConnectArgs,
    #[command(flatten)]
    pub(crate) dashboard: DashboardArgs,
}

pub(super) fn capacity_args(cmd: CapacityCmd) -> anyhow::Result<CapacityArgs> {
    let server_exe = match cmd.server_exe {
        Some(p) => p,
        None => std::env::current_exe()
            .map_err(|e| anyhow::anyhow!("cannot find the harness executable: {e}"))?,
    };
    Ok(CapacityArgs {
        run: RunArgs {
            scenario: cmd.scenario,
            target: cmd.target,
            duration: None,
            scale: None,
            gates: Vec::new(),
            seed: cmd.seed,
            quiet: true,
            reports_dir: cmd.reports_dir,
            toxiproxy: cmd.toxiproxy,
            profile: cmd.profile,
            server_exe,
            connect: cmd.connect.options(),
            sharding: Default::default(),
            live: Default::default(),
            // A capacity step is not a run of the scenario as written.
            history: crate::history::HistoryOptions {
                off: true,
                ..Default::default()
            },
        },
        slo: cmd.slo,
        start_rate: cmd.start_rate,
        max_rate: cmd.max_rate,
        step: cmd.step,
        precision: cmd.precision,
        max_steps: cmd.max_steps,
        repeat: cmd.repeat,
    })
}
