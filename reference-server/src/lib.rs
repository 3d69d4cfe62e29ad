//! A coffee-shop order/payment/inventory backend that sheds load instead of collapsing: the
//! reference target of the load-testing harness. See `startup` for the server, `config` for every
//! knob, `http` for connection limits and the error envelope, and `payments::simulator` for the
//! payment gateway simulator.
//!
//! The public API is what the binary and the tests use: `run_cli`, `Application` (build on port 0,
//! `local_addr`, `run_until_stopped`), its configuration types, and `GatewaySimulator`.

mod config;
mod domain;
mod error;
mod http;
mod inventory;
mod kitchen;
mod layout;
mod menu;
mod metrics;
mod openapi;
mod payments;
mod routes;
mod shutdown;
mod startup;
mod state;
mod store;

pub use config::{Cli, Command, CookOn, GatewayConfig, Profile, ServerConfig, Synchronous};
pub use payments::simulator::GatewaySimulator;
pub use startup::Application;

use std::{ffi::OsString, io::Write, net::SocketAddr, process::ExitCode};

use clap::Parser;

/// Parses `args` (program name first), runs the server or the gateway simulator until Ctrl-C or
/// SIGTERM, and returns the exit code: 0 after a clean stop, 2 for bad configuration, 1 otherwise.
pub fn run_cli<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let invalid = match &cli.command {
        Some(Command::Gateway(g)) => g.validate().err(),
        None => cli.server.validate().err(),
    };
    if let Some(problem) = invalid {
        eprintln!("error: invalid configuration: {problem}");
        return ExitCode::from(2);
    }
    init_tracing();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let watch_parent = cli.exit_with_parent;
    let result = runtime.block_on(async move {
        match cli.command {
            Some(Command::Gateway(config)) => {
                eprintln!("gateway configuration: {config:?}");
                let gateway = GatewaySimulator::build(config).await?;
                announce(gateway.local_addr());
                gateway
                    .run_until_stopped(shutdown::stop(watch_parent))
                    .await
            }
            None => {
                let mut shown = cli.server.clone();
                shown.admin_token = shown.admin_token.map(|_| "<redacted>".into());
                eprintln!("server configuration: {shown:?}");
                let app = startup::Application::build(cli.server).await?;
                announce(app.local_addr());
                app.run_until_stopped(shutdown::stop(watch_parent)).await
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The one line on stdout that tells a parent process where we listen.
fn announce(addr: SocketAddr) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "listening on http://{addr}");
    let _ = out.flush();
}

/// Structured (JSON) logs on stderr; `RUST_LOG` filters, `info` by default.
fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
