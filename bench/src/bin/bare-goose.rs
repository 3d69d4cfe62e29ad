//! A plain goose load test (one GET, N users, fixed time) with goose's own
//! metrics: the baseline the benchmarks set the harness beside. Prints one
//! JSON line: requests, rate, goose's p50/p99 (uncorrected) and peak RSS.

use clap::Parser;
use goose::config::GooseConfiguration;
use goose::prelude::*;

#[derive(Parser)]
#[command(about = "Bare goose GET load test for benchmarks (loopback only)")]
struct Args {
    /// Base URL, e.g. http://127.0.0.1:8080
    #[arg(long)]
    host: String,
    /// Path to GET.
    #[arg(long, default_value = "/")]
    path: String,
    #[arg(long, default_value_t = 100)]
    users: usize,
    /// Users started per second.
    #[arg(long, default_value_t = 1000)]
    hatch_rate: usize,
    #[arg(long, default_value_t = 10)]
    seconds: usize,
}

static PATH: std::sync::OnceLock<String> = std::sync::OnceLock::new();

async fn get_path(user: &mut GooseUser) -> TransactionResult {
    let _ = user.get(PATH.get().map_or("/", String::as_str)).await?;
    Ok(())
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    anyhow::ensure!(
        args.host.starts_with("http://127.") || args.host.starts_with("http://localhost"),
        "bare-goose targets loopback only"
    );
    PATH.set(args.path.clone()).ok();
    let mut config = GooseConfiguration::default();
    config.host = Some(args.host.clone());
    config.users = Some(args.users);
    config.increase_rate = Some(args.hatch_rate.to_string());
    config.run_time = Some(args.seconds.to_string());
    config.quiet = 1;
    config.no_print_metrics = true;
    config.no_telnet = true;
    config.no_websocket = true;
    let metrics = Box::pin(
        GooseAttack::initialize_with_config(config)?
            .register_scenario(scenario!("Get").register_transaction(transaction!(get_path)))
            .execute(),
    )
    .await?;
    let mut buckets: Vec<(u64, usize)> = Vec::new();
    let mut total = 0usize;
    for aggregate in metrics.requests.values() {
        total += aggregate.raw_data.counter;
        buckets.extend(aggregate.raw_data.times_us.iter().map(|(t, n)| (*t, *n)));
    }
    buckets.sort_unstable();
    let quantile = |q: f64| {
        let want = (q * total as f64).ceil() as usize;
        let mut seen = 0;
        for (t, n) in &buckets {
            seen += n;
            if seen >= want {
                return *t as f64 / 1000.0;
            }
        }
        0.0
    };
    let seconds = metrics.duration.max(1) as f64;
    println!(
        "{}",
        serde_json::json!({
            "requests": total,
            "rps": total as f64 / seconds,
            "p50_ms": quantile(0.50),
            "p99_ms": quantile(0.99),
            "peak_rss_mb": peak_rss_mb(),
        })
    );
    Ok(())
}
