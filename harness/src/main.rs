//! `harness`: parses the command line and hands it to the library, which
//! returns the exit code (see `harness --help`).

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    harness::cli::run(harness::cli::Cli::parse())
}
