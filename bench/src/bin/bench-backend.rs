//! A backend whose answer time is known: every request is answered after
//! `--delay-ms`, and optionally the whole server stalls once (`--stall-at-ms`
//! for `--stall-ms`), the way a GC pause or a lock convoy would. Requests that
//! arrive during the stall are answered when it ends. Used by the benchmarks to
//! check that the harness reports what really happened.
//!
//! Prints `listening on http://ADDR` once bound and exits by itself after
//! `--max-seconds`, so a benchmark can never leave it behind.

use axum::{extract::State, routing::get, Router};
use clap::Parser;
use std::time::Duration;
use tokio::time::Instant;

#[derive(Parser, Clone)]
#[command(about = "Fixed-delay HTTP backend for benchmarks (loopback only)")]
struct Args {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: std::net::SocketAddr,
    /// Every answer waits this long.
    #[arg(long, default_value_t = 0)]
    delay_ms: u64,
    /// The server stalls once, this long after it starts...
    #[arg(long)]
    stall_at_ms: Option<u64>,
    /// ...for this long.
    #[arg(long, default_value_t = 1000)]
    stall_ms: u64,
    /// Exit after this many seconds whatever happens.
    #[arg(long, default_value_t = 600)]
    max_seconds: u64,
}

#[derive(Clone)]
struct Plan {
    delay: Duration,
    stall: Option<(Instant, Instant)>,
}

async fn answer(State(plan): State<Plan>) -> &'static str {
    if !plan.delay.is_zero() {
        tokio::time::sleep(plan.delay).await;
    }
    if let Some((from, to)) = plan.stall {
        let now = Instant::now();
        if now >= from && now < to {
            tokio::time::sleep_until(to).await;
        }
    }
    "ok"
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    anyhow::ensure!(
        args.listen.ip().is_loopback(),
        "bench-backend listens on loopback only"
    );
    let started = Instant::now();
    let plan = Plan {
        delay: Duration::from_millis(args.delay_ms),
        stall: args.stall_at_ms.map(|at| {
            let from = started + Duration::from_millis(at);
            (from, from + Duration::from_millis(args.stall_ms))
        }),
    };
    let app = Router::new().fallback(get(answer)).with_state(plan);
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    println!("listening on http://{}", listener.local_addr()?);
    let deadline = tokio::time::sleep(Duration::from_secs(args.max_seconds));
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            tokio::select! {
                _ = deadline => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        })
        .await?;
    Ok(())
}
