//! `reference-server`: see the library for everything; this only hands it the process arguments.

use std::process::ExitCode;

fn main() -> ExitCode {
    reference_server::run_cli(std::env::args_os())
}
