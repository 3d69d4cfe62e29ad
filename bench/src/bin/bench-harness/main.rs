//! The harness's own figures, measured side by side in one run against
//! `wrk`, `oha` and a bare goose load test, all on loopback:
//!
//! - accuracy: p50/p99 against a backend that answers after 50 ms, 1,000 users;
//! - open model: achieved arrival rate against the target rate;
//! - open-model pacing: start lag at 2,000 arrivals/s, and CPU beside k6;
//! - stall honesty: p99 when the backend stalls for 1 s, corrected vs uncorrected;
//! - cost: request rate on the reference server's `GET /health` vs bare goose and oha;
//! - memory: peak RSS with 5,000 users, harness vs bare goose.
//!
//! Every figure is the median of `--rounds` rounds. Each tool runs for a
//! bounded time; every child process is killed when the bench ends.

mod pacing;
mod sections;
mod tools;

use anyhow::Result;
use clap::Parser;
use sections::{accuracy, cost, memory, open_rate_and_stall};
use std::path::PathBuf;

#[derive(Parser)]
#[command(about = "Harness accuracy, honesty and cost benchmarks (loopback only)")]
pub(crate) struct Args {
    /// Directory with the release binaries (harness, bench-backend, bare-goose).
    #[arg(long, default_value = "target/release")]
    bin_dir: PathBuf,
    /// oha binary; the oha column is left out when it is missing.
    #[arg(long, default_value = ".bench-tools/bin/oha")]
    oha: PathBuf,
    /// Rounds per figure (the median is printed).
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Seconds per measurement.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Where the harness writes its reports during the bench.
    #[arg(long, default_value = "target/bench-reports")]
    reports: PathBuf,
    /// Run only these sections (accuracy, open, pacing, cost, memory); all by default.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
}

fn main() -> Result<()> {
    let args = Args::parse();
    println!(
        "harness benchmarks: {} round(s) of {} s each, medians",
        args.rounds, args.seconds
    );
    let wanted = |name: &str| args.only.is_empty() || args.only.iter().any(|o| o == name);
    if wanted("accuracy") {
        accuracy(&args)?;
    }
    if wanted("open") {
        open_rate_and_stall(&args)?;
    }
    if wanted("pacing") {
        pacing::open_pacing(&args)?;
    }
    if wanted("cost") {
        cost(&args)?;
    }
    if wanted("memory") {
        memory(&args)?;
    }
    Ok(())
}
