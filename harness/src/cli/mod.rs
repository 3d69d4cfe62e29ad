//! The command line: `harness run`, `harness proxy`, and the hidden
//! `harness reference-server` that the bundled target runs as a child.
//! Parsing is clap's; every command is an async function the tests call
//! in-process, returning its exit code.

mod args;
mod connect;
mod history;

pub(crate) use args::{CapacityCmd, CompareCmd, MergeCmd, ProxyCmd, RunCmd};
pub(crate) use history::HistoryCmd;

use crate::batch;
use crate::exit;
use crate::redact;
use args::{capacity_args, run_args};
use clap::{Parser, Subcommand};
use std::ffi::OsString;
use std::io::Write;
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
      Load your own backend and fail (exit 1) if p95 >= 50 ms.
  API_TOKEN=... harness run scenarios/smoke.toml --target https://staging.example.com --ca-cert ca.pem
      Load a deployed service over TLS, trusting a private CA; a step header
      `Authorization = 'Bearer {{env.API_TOKEN}}'` sends the token (shown as *** everywhere).
  harness run scenarios/rush-hour.toml --target https://staging.example.com --dry-run
      Print the plan (target, stages, peak rate, flows, faults, gates) without connecting.
  harness run scenarios/rush-hour.toml --target bundled:default --target bundled:naive
      The same seeded load against two backends (URLs or bundled profiles),
      then one comparison report.
  harness run scenarios/smoke.toml --baseline reports/smoke/latest --repeat 5
      Fail (exit 1) when this backend got slower than the baseline run beyond
      the noise of 5 repeats; exit 5 when the noise hides the answer.
  harness capacity scenarios/rush-hour.toml --slo 'p95<250ms for GET /menu,shed-rate<1%'
      Raise the arrival rate, then bisect, to the highest rate meeting the SLO
      (without --slo: the scenario's [capacity] slo).
  harness compare reports/rush-hour/20260101T080000Z reports/rush-hour/latest
      Set finished runs side by side.
  harness run scenarios/rush-hour.toml --target http://127.0.0.1:8080 --toxiproxy http://127.0.0.1:8474 --shard 0/4
      One shard of four (the others: 1/4, 2/4, 3/4; or JOB_COMPLETION_INDEX and
      HARNESS_SHARDS in a Kubernetes Indexed Job); add --start-at to start together.
      Shard 0 puts the faults on that Toxiproxy (`harness proxy`); the others send through it.
  harness merge reports/shard-*/rush-hour/latest
      One report and one verdict (exit code) for the whole sharded run.
  harness proxy --listen 127.0.0.1:8474
      Serve the built-in Toxiproxy-compatible fault proxy.
  harness run scenarios/smoke.toml --baseline history
      Judge the run against the recorded runs since their last change point
      (every run is recorded in reports/history.db unless --no-history).
  harness history --scenario smoke -o reports/trends
      Trends and change points across recorded runs: history.html, .md, .json.

Exit codes:
  0 pass · 1 an SLO gate failed (or a baseline regression, or a side of a
  comparison failed its gates) · 2 bad usage or bad scenario (nothing ran; a
  fault that cannot be injected into this target is refused so) · 3 target or
  proxy could not be started or reached (or the target's TLS certificate was
  refused) · 4 run invalid (the load generator could not keep its schedule) ·
  5 inconclusive (run-to-run noise hides the answer) · 6 the harness itself
  failed (the load engine broke, a report could not be written) · 7 a
  comparison whose sides did not get the same scenario (compare.md says what)
  · 130 stopped by Ctrl-C or SIGTERM at any moment before the report was
  complete (the report is still written, verdict INTERRUPTED)
  When a command has several codes to give (runs of a batch, the sides of a
  comparison, a merged run and its baseline), the most serious wins, in this
  order for run, compare, merge and capacity alike:
  130 > 6 > 3 > 2 > 4 > 7 > 1 > 5 > 0
  (stopped; the tool broke; nothing reachable; bad usage; figures that measure
  the generator; sides not comparable; a gate failed; noise; pass)";

/// Rush-hour load and chaos harness for order, payment and inventory backends.
#[derive(Debug, Parser)]
#[command(name = "harness", version, after_help = EXAMPLES)]
pub struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Replay a scenario file against the bundled reference server or a URL, and write its report.
    #[command(after_help = EXAMPLES)]
    Run(Box<RunCmd>),
    /// Find the highest arrival rate at which a scenario still meets an SLO.
    Capacity(Box<CapacityCmd>),
    /// Set two or more finished runs side by side in one report (compare.html, .json, .md).
    Compare(CompareCmd),
    /// Merge the run folders of a sharded run (`run --shard I/N`) into one report and one verdict.
    Merge(MergeCmd),
    /// Serve the built-in Toxiproxy-compatible fault proxy (HTTP API and data plane).
    Proxy(ProxyCmd),
    /// Trends and change points of the recorded runs (history.html, .md, .json), or
    /// `history import` to record runs made before the history existed.
    History(HistoryCmd),
    /// Run the bundled reference server (used by `run` to start it as a child process).
    #[command(hide = true, disable_help_flag = true)]
    ReferenceServer {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<OsString>,
    },
}

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
            return ExitCode::from(exit::INTERNAL);
        }
    };
    // `run` and `capacity` turn Ctrl-C and SIGTERM into a stop that still
    // writes the report; `proxy` stops on them itself; `compare` and `merge`
    // only read and write files and end as any program does.
    let loads = matches!(cli.command, Command::Run(_) | Command::Capacity(_));
    let code = runtime.block_on(async {
        if loads {
            crate::stop::install_signal_handlers();
        }
        execute(cli, &mut std::io::stdout()).await
    });
    // Users still sleeping in goose or the proxy must not delay the exit.
    runtime.shutdown_timeout(Duration::from_secs(1));
    ExitCode::from(code)
}

/// Runs a parsed command; output to `out`, errors to stderr; returns the exit code.
pub async fn execute(cli: Cli, out: &mut dyn Write) -> u8 {
    match cli.command {
        Command::Run(cmd) => {
            let dry_run = cmd.connect.dry_run;
            let dashboard = cmd.dashboard.clone();
            if let Err(e) = dashboard.check() {
                eprintln!("error: {e}");
                return exit::USAGE;
            }
            let mut args = match run_args(*cmd) {
                Ok(a) => a,
                Err(e) => {
                    eprintln!("error: {e}");
                    return e.exit_code();
                }
            };
            if !dry_run {
                match dashboard.start(out).await {
                    Ok(hub) => args.run.live.dashboard = hub,
                    Err(e) => {
                        eprintln!("error: {e}");
                        return exit::USAGE;
                    }
                }
            }
            // One plan, checked once: the dry run prints it, the run executes it.
            let result = match batch::Plan::build(&args) {
                Ok(plan) if dry_run => crate::dry_run::run_plan(&plan, out),
                Ok(plan) => Box::pin(batch::execute(plan, out)).await,
                Err(e) => Err(e),
            };
            if let Some(hub) = &args.run.live.dashboard {
                hub.finish().await;
            }
            result.unwrap_or_else(|e| {
                eprintln!("error: {}", redact::scrub(&e.to_string()));
                e.exit_code()
            })
        }
        Command::Capacity(cmd) => {
            let dry_run = cmd.connect.dry_run;
            let dashboard = cmd.dashboard.clone();
            if let Err(e) = dashboard.check() {
                eprintln!("error: {e}");
                return exit::USAGE;
            }
            let mut args = match capacity_args(*cmd) {
                Ok(a) => a,
                Err(e) => {
                    eprintln!("error: {e:#}");
                    return exit::INTERNAL;
                }
            };
            if !dry_run {
                match dashboard.start(out).await {
                    Ok(hub) => args.run.live.dashboard = hub,
                    Err(e) => {
                        eprintln!("error: {e}");
                        return exit::USAGE;
                    }
                }
            }
            let result = match batch::CapacityPlan::build(&args) {
                Ok(plan) if dry_run => crate::dry_run::capacity_plan(&plan, out),
                Ok(plan) => Box::pin(batch::capacity::execute(plan, out)).await,
                Err(e) => Err(e),
            };
            if let Some(hub) = &args.run.live.dashboard {
                hub.finish().await;
            }
            result.unwrap_or_else(|e| {
                eprintln!("error: {}", redact::scrub(&e.to_string()));
                e.exit_code()
            })
        }
        Command::Compare(cmd) => batch::compare_runs(&cmd.runs, &cmd.reports_dir, out)
            .await
            .unwrap_or_else(|e| {
                eprintln!("error: {e}");
                e.exit_code()
            }),
        Command::Merge(cmd) => {
            let args = crate::merge::MergeArgs {
                dirs: cmd.shards,
                out: cmd.out,
                reports_dir: cmd.reports_dir,
                gates: cmd.gates,
                baseline: cmd.baseline,
                max_regression: cmd.max_regression,
                quiet: cmd.quiet,
                history: cmd.history.options(),
            };
            crate::merge::merge(&args, out).unwrap_or_else(|e| {
                eprintln!("error: {e}");
                e.exit_code()
            })
        }
        Command::Proxy(cmd) => {
            if !cmd.listen.ip().is_loopback() {
                eprintln!("error: --listen {}: the fault proxy only listens on loopback (127.0.0.1 or [::1])", cmd.listen);
                return exit::USAGE;
            }
            // SIGTERM or SIGINT, as toxiproxy-server stops on both.
            let Ok(shutdown) = fault_proxy::stop_signal() else {
                eprintln!("error: cannot install the SIGTERM/SIGINT handlers");
                return 3;
            };
            match crate::chaos::serve_proxy(cmd.listen, shutdown).await {
                Ok(()) => exit::PASS,
                Err(e) => {
                    eprintln!("error: the fault proxy failed: {e:#}");
                    exit::UNREACHABLE
                }
            }
        }
        Command::History(cmd) => history::history(cmd, out),
        Command::ReferenceServer { .. } => {
            eprintln!("error: `reference-server` runs only as its own process");
            exit::USAGE
        }
    }
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
