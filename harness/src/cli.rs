//! The command line: `harness run`, `harness proxy`, and the hidden
//! `harness reference-server` that the bundled target runs as a child.
//! Parsing is clap's; every command is an async function the tests call
//! in-process, returning its exit code.

use crate::repeat::{self, Multi};
use crate::report;
use crate::run::{self, RunArgs};
use clap::{Parser, Subcommand};
use std::ffi::OsString;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

const EXAMPLES: &str = "\
Examples:
  harness run scenarios/smoke.toml
      Start the bundled reference server, replay the smoke scenario, write
      reports/smoke/<UTC timestamp>/index.html (and reports/smoke/latest).
  harness run scenarios/rush-hour.toml --duration 30s --scale 0.25
      The same shape, shortened to 30 s with a quarter of the users.
  harness run scenarios/menu-storm.toml --target http://127.0.0.1:8080 --gate 'p95 < 50ms'
      Load your own backend (loopback only) and fail (exit 1) if p95 >= 50 ms.
  harness proxy --listen 127.0.0.1:8474
      Serve the built-in Toxiproxy-compatible fault proxy.

Exit codes:
  0 pass · 1 an SLO gate failed · 2 bad usage or bad scenario · 3 target or
  proxy could not be started or reached · 4 run invalid (the load generator
  could not keep its schedule) · 130 interrupted (Ctrl-C; the report is
  still written and marked as such)";

/// Rush-hour load and chaos harness for order, payment and inventory backends.
#[derive(Debug, Parser)]
#[command(name = "harness", version, after_help = EXAMPLES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Replay a scenario file against the bundled reference server or a URL, and write its report.
    #[command(after_help = EXAMPLES)]
    Run(Box<RunCmd>),
    /// Set two or more finished runs side by side in one report (compare.html, .json, .md).
    Compare(CompareCmd),
    /// Serve the built-in Toxiproxy-compatible fault proxy (HTTP API and data plane).
    Proxy(ProxyCmd),
    /// Run the bundled reference server (used by `run` to start it as a child process).
    #[command(hide = true, disable_help_flag = true)]
    ReferenceServer {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<OsString>,
    },
}

#[derive(Debug, clap::Args)]
pub struct RunCmd {
    /// The scenario file (see scenarios/*.toml for commented examples).
    pub scenario: PathBuf,
    /// Load this running backend instead of the bundled server (loopback only, e.g.
    /// http://127.0.0.1:8080). Given twice or more, the same seeded scenario runs against
    /// each backend in turn and the runs are compared in one report.
    #[arg(long = "target", value_name = "URL")]
    pub targets: Vec<String>,
    /// Stretch or shrink the whole timeline (stages, timed flows, faults) to this length, e.g. 30s or 2m.
    #[arg(long, value_name = "D", value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// Multiply users (closed model) or arrival rates (open model) by this factor, e.g. 0.5.
    #[arg(long, value_name = "F")]
    pub scale: Option<f64>,
    /// An SLO gate, added to the scenario's, e.g. 'p95 < 250ms', 'p99 < 1s for POST /orders',
    /// 'shed-rate < 2%', 'error-rate < 1%', 'throughput >= 800/s', 'p95 < 2s during payments-latency'.
    #[arg(long = "gate", value_name = "G")]
    pub gates: Vec<String>,
    /// Seed for every random choice of the run (overrides the scenario's).
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// No progress bar and no summary table; only the report's path.
    #[arg(long, short)]
    pub quiet: bool,
    /// Where reports go: <DIR>/<scenario>/<UTC timestamp>/.
    #[arg(long, value_name = "DIR", default_value = "reports")]
    pub reports_dir: PathBuf,
    /// Use this Toxiproxy (or `harness proxy`) for faults instead of starting the built-in one.
    #[arg(long, value_name = "URL")]
    pub toxiproxy: Option<String>,
    /// Run the scenario N times (with several targets or a baseline target, interleaved:
    /// A B A B ...), so verdicts can account for run-to-run noise.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub repeat: usize,
    /// Judge this run against an earlier one (its folder or summary.json; repeatable):
    /// exit 1 when it is worse beyond --max-regression, 5 when noise hides the answer.
    #[arg(long, value_name = "RUN")]
    pub baseline: Vec<PathBuf>,
    /// Run this backend as the baseline, interleaved with the candidate in the same job.
    #[arg(long, value_name = "URL")]
    pub baseline_target: Option<String>,
    /// How much worse than the baseline a figure may get, e.g. 'p95=10%,shed-rate=+1pt,throughput=-5%'
    /// (default with a baseline: p95=10%,error-rate=+1pt,shed-rate=+1pt,throughput=-5%).
    #[arg(long, value_name = "TOLERANCES")]
    pub max_regression: Option<String>,
    /// The executable that serves the bundled reference server (default: this one).
    #[arg(long, value_name = "PATH", hide = true)]
    pub server_exe: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct CompareCmd {
    /// Run folders (reports/<scenario>/<timestamp>) or their summary.json files.
    #[arg(required = true, num_args = 2..)]
    pub runs: Vec<PathBuf>,
    /// Where the comparison goes: <DIR>/compare/<UTC timestamp>/.
    #[arg(long, value_name = "DIR", default_value = "reports")]
    pub reports_dir: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct ProxyCmd {
    /// Address of the Toxiproxy HTTP API (loopback only).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8474")]
    pub listen: SocketAddr,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    crate::scenario::parse_duration(s)
}

/// The whole program after parsing: builds the runtime (except for the
/// bundled server, which builds its own) and returns the exit code.
pub fn run(cli: Cli) -> ExitCode {
    if let Command::ReferenceServer { args } = cli.command {
        let argv = std::iter::once(OsString::from("reference-server")).chain(args);
        return reference_server::run_cli(argv);
    }
    // Logs (goose's, the harness's) go to stderr, only when asked for with RUST_LOG.
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .try_init();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(3);
        }
    };
    let code = runtime.block_on(async {
        stop_on_sigterm();
        execute(cli, &mut std::io::stdout()).await
    });
    // Users still sleeping in goose or the proxy must not delay the exit.
    runtime.shutdown_timeout(Duration::from_secs(1));
    ExitCode::from(code)
}

/// SIGTERM (a CI job cancelled, `kill`) ends a run as Ctrl-C does: goose's
/// own handler owns SIGINT, and this turns SIGTERM into the same stop, so the
/// bundled server is stopped, faults removed and the report written.
fn stop_on_sigterm() {
    use tokio::signal::unix::{signal, SignalKind};
    if let Ok(mut term) = signal(SignalKind::terminate()) {
        tokio::spawn(async move {
            while term.recv().await.is_some() {
                goose::trigger_killswitch("SIGTERM received");
            }
        });
    }
}

/// Runs a parsed command; output to `out`, errors to stderr; returns the exit code.
pub async fn execute(cli: Cli, out: &mut dyn Write) -> u8 {
    match cli.command {
        Command::Run(cmd) => {
            let (args, multi) = match run_args(*cmd) {
                Ok(a) => a,
                Err(e) => {
                    eprintln!("error: {e:#}");
                    return 3;
                }
            };
            let result = if multi.is_single() {
                run::run(&args, out).await.map(|o| o.exit_code)
            } else {
                repeat::run_multi(&args, &multi, out).await
            };
            result.unwrap_or_else(|e| {
                eprintln!("error: {e}");
                e.exit_code()
            })
        }
        Command::Compare(cmd) => {
            let written = report::compare::load_runs(&cmd.runs)
                .and_then(|runs| report::compare::write_comparison_report(&runs, &cmd.reports_dir));
            match written {
                Ok(w) => {
                    let _ = writeln!(out, "report: {}", w.dir.join("compare.html").display());
                    0
                }
                Err(e) => {
                    eprintln!("error: {e:#}");
                    2
                }
            }
        }
        Command::Proxy(cmd) => {
            if !cmd.listen.ip().is_loopback() {
                eprintln!("error: --listen {}: the fault proxy only listens on loopback (127.0.0.1 or [::1])", cmd.listen);
                return 2;
            }
            let shutdown = async {
                let _ = tokio::signal::ctrl_c().await;
            };
            match crate::chaos::serve_proxy(cmd.listen, shutdown).await {
                Ok(()) => 0,
                Err(e) => {
                    eprintln!("error: the fault proxy failed: {e:#}");
                    3
                }
            }
        }
        Command::ReferenceServer { .. } => {
            eprintln!("error: `reference-server` runs only as its own process");
            2
        }
    }
}

fn run_args(cmd: RunCmd) -> anyhow::Result<(RunArgs, Multi)> {
    let server_exe = match cmd.server_exe {
        Some(p) => p,
        None => std::env::current_exe()
            .map_err(|e| anyhow::anyhow!("cannot find the harness executable: {e}"))?,
    };
    let multi = Multi {
        targets: cmd.targets.clone(),
        repeat: cmd.repeat,
        baselines: cmd.baseline,
        baseline_target: cmd.baseline_target,
        max_regression: cmd.max_regression,
    };
    let args = RunArgs {
        scenario: cmd.scenario,
        target: cmd.targets.first().cloned(),
        duration: cmd.duration,
        scale: cmd.scale,
        gates: cmd.gates,
        seed: cmd.seed,
        quiet: cmd.quiet,
        reports_dir: cmd.reports_dir,
        toxiproxy: cmd.toxiproxy,
        server_exe,
    };
    Ok((args, multi))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn run_takes_repeated_gates_and_a_duration() {
        let cli = Cli::try_parse_from([
            "harness",
            "run",
            "s.toml",
            "--gate",
            "p95 < 1s",
            "--gate",
            "shed-rate < 2%",
            "--duration",
            "30s",
        ])
        .unwrap();
        let Command::Run(run) = cli.command else {
            panic!("not run")
        };
        assert_eq!(run.gates.len(), 2);
        assert_eq!(run.duration, Some(Duration::from_secs(30)));
    }

    #[test]
    fn the_hidden_server_command_passes_its_flags_through() {
        let cli = Cli::try_parse_from([
            "harness",
            "reference-server",
            "--listen",
            "127.0.0.1:0",
            "gateway",
        ])
        .unwrap();
        let Command::ReferenceServer { args } = cli.command else {
            panic!("not reference-server")
        };
        assert_eq!(args, ["--listen", "127.0.0.1:0", "gateway"]);
    }
}
