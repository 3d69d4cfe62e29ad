//! Live-event figures of the reference server (release build, loopback): with `--streams` open
//! `GET /events` streams, the server's peak RSS and how late each status change reaches every
//! subscriber (receipt minus the change's own `at` timestamp); and, order by order, time to ready
//! as an event wait measures it (from the order's POST to its `ready` event, the way the harness's
//! `until_event` step times it) against the same order's history timestamps (ready - received).
//! Every wait is bounded; the server is a child process killed at the end.

use anyhow::{bail, Context};
use clap::Parser;
use futures::future::join_all;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use time::{format_description::well_known::Rfc3339, OffsetDateTime};
use tokio::io::{AsyncBufReadExt, BufReader};

#[derive(Parser)]
#[command(about = "SSE fan-out and time-to-ready figures of the reference server (loopback only)")]
struct Args {
    /// Open `GET /events` streams.
    #[arg(long, default_value_t = 1000)]
    streams: usize,
    /// Orders made one after the other; each makes three status changes.
    #[arg(long, default_value_t = 30)]
    orders: usize,
    /// Rounds, each with a fresh server; the medians are printed.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
}

/// Reads one figure of a round.
type Figure = dyn Fn(&Round) -> f64;

/// One round's figures, in ms (RSS in MB).
struct Round {
    rss_mb: f64,
    delivered: usize,
    late: [f64; 3],
    differences: [f64; 2],
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut rounds = Vec::new();
    for _ in 0..args.rounds.max(1) {
        rounds.push(round(&args).await?);
    }
    let median = |f: &dyn Fn(&Round) -> f64| {
        let mut v: Vec<f64> = rounds.iter().map(f).collect();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let each = |f: &dyn Fn(&Round) -> f64| {
        rounds
            .iter()
            .map(|r| format!("{:.1}", f(r)))
            .collect::<Vec<_>>()
            .join(" / ")
    };
    let changes = args.orders * 3;
    println!(
        "Live events, default profile: {} open GET /events streams, {changes} status changes; median of {} rounds (each round)",
        args.streams,
        rounds.len()
    );
    let rows: [(&str, &Figure); 7] = [
        ("server peak RSS (MB)", &|r| r.rss_mb),
        ("deliveries received", &|r| r.delivered as f64),
        ("status change to every subscriber, p50 (ms)", &|r| {
            r.late[0]
        }),
        ("status change to every subscriber, p99 (ms)", &|r| {
            r.late[1]
        }),
        ("status change to every subscriber, max (ms)", &|r| {
            r.late[2]
        }),
        ("time to ready: |event wait - history|, median (ms)", &|r| {
            r.differences[0]
        }),
        ("time to ready: |event wait - history|, max (ms)", &|r| {
            r.differences[1]
        }),
    ];
    for (label, f) in rows {
        println!("{label:<54} {:>9.1}   ({})", median(f), each(f));
    }
    println!(
        "  (expected deliveries per round: {}; time to ready compares, over {} orders made with no other stream open,",
        args.streams * changes,
        args.orders
    );
    println!("   the wait from POST to the `ready` event against the order's history: ready.at - received.at)");
    Ok(())
}

async fn round(args: &Args) -> anyhow::Result<Round> {
    let exe = std::env::current_exe()?.with_file_name("reference-server");
    let data = tempfile::tempdir()?;
    let mut server = tokio::process::Command::new(&exe)
        .args([
            "--listen",
            "127.0.0.1:0",
            "--cook-on",
            "received",
            "--prep-time-ms",
            "200",
        ])
        .args([
            "--synchronous",
            "normal",
            "--payment-gateway-url",
            "http://127.0.0.1:9",
        ])
        .arg("--data-dir")
        .arg(data.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {}", exe.display()))?;
    let pid = server.id().context("server pid")?;
    let mut lines = BufReader::new(server.stdout.take().context("stdout")?).lines();
    let line = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
        .await
        .context("the server did not announce itself")??
        .unwrap_or_default();
    let Some(base) = line.strip_prefix("listening on ").map(str::to_owned) else {
        bail!("unexpected first line {line:?}");
    };
    let client = reqwest::Client::new();
    let changes = args.orders * 3;
    let readers: Vec<_> = (0..args.streams)
        .map(|_| tokio::spawn(lateness(client.clone(), format!("{base}/events"), changes)))
        .collect();
    wait_for_subscribers(&client, &base, args.streams).await?;
    // Fan-out: orders made one after the other while every stream is open.
    for _ in 0..args.orders {
        time_to_ready(&client, &base).await?;
    }
    let mut late_ms: Vec<f64> = Vec::new();
    for reader in join_all(readers).await {
        late_ms.extend(reader??);
    }
    let rss_mb = peak_rss_mb(pid)?;
    // Time to ready alone: the streams above are closed, so this measures the wait, not the fan-out.
    wait_for_subscribers(&client, &base, 0).await?;
    let mut differences_ms = Vec::new();
    for _ in 0..args.orders {
        differences_ms.push(time_to_ready(&client, &base).await?);
    }
    let _ = server.kill().await;
    late_ms.sort_by(f64::total_cmp);
    differences_ms.sort_by(f64::total_cmp);
    Ok(Round {
        rss_mb,
        delivered: late_ms.len(),
        late: [0.5, 0.99, 1.0].map(|q| quantile(&late_ms, q)),
        differences: [0.5, 1.0].map(|q| quantile(&differences_ms, q)),
    })
}

/// How late each event of one stream arrives, in ms, until `want` events came (or 60 s passed).
async fn lateness(client: reqwest::Client, url: String, want: usize) -> anyhow::Result<Vec<f64>> {
    let mut response = client.get(url).send().await?;
    let mut pending = String::new();
    let mut late = Vec::with_capacity(want);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while late.len() < want {
        let Ok(chunk) = tokio::time::timeout_at(deadline, response.chunk()).await else {
            break;
        };
        let Some(chunk) = chunk? else { break };
        let now = OffsetDateTime::now_utc();
        pending.push_str(std::str::from_utf8(&chunk)?);
        while let Some(end) = pending.find("\n\n") {
            let block: String = pending.drain(..end + 2).collect();
            if let Some(event) = data(&block) {
                let at = OffsetDateTime::parse(event["at"].as_str().unwrap_or_default(), &Rfc3339)?;
                late.push((now - at).as_seconds_f64() * 1000.0);
            }
        }
    }
    Ok(late)
}

fn data(block: &str) -> Option<Value> {
    let text: String = block
        .lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .map(str::trim_start)
        .collect();
    serde_json::from_str(&text).ok()
}

async fn wait_for_subscribers(
    client: &reqwest::Client,
    base: &str,
    n: usize,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let series = "events_subscribers{stream=\"all\"} ";
    loop {
        let text = client
            .get(format!("{base}/metrics"))
            .send()
            .await?
            .text()
            .await?;
        let open = text
            .lines()
            .find_map(|l| l.strip_prefix(series))
            .and_then(|v| v.parse::<usize>().ok());
        if open == Some(n) {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("only {open:?} of {n} streams opened");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// One order: POST, then its event stream until `ready`, timed from the POST as the harness's
/// `until_event` flow would; returns |that - (ready.at - received.at)| in ms.
async fn time_to_ready(client: &reqwest::Client, base: &str) -> anyhow::Result<f64> {
    let order = json!({"store_id": "store-1", "customer": {"name": "Ada"}, "order_type": {"kind": "takeout"},
                       "items": [{"sku": "latte", "quantity": 1}]});
    let started = Instant::now();
    let created: Value = client
        .post(format!("{base}/orders"))
        .json(&order)
        .send()
        .await?
        .json()
        .await?;
    let id = created["id"].as_str().context("an order id")?.to_owned();
    let mut response = client
        .get(format!("{base}/orders/{id}/events"))
        .send()
        .await?;
    let mut pending = String::new();
    let mut waited = None;
    while waited.is_none() {
        let chunk = tokio::time::timeout(Duration::from_secs(10), response.chunk()).await??;
        let Some(chunk) = chunk else {
            bail!("the stream of {id} ended before ready")
        };
        pending.push_str(std::str::from_utf8(&chunk)?);
        while let Some(end) = pending.find("\n\n") {
            let block: String = pending.drain(..end + 2).collect();
            if data(&block).is_some_and(|e| e["status"] == "ready") {
                waited = Some(started.elapsed());
            }
        }
    }
    let history: Value = client
        .get(format!("{base}/orders/{id}/history"))
        .send()
        .await?
        .json()
        .await?;
    let at = |status: &str| -> anyhow::Result<OffsetDateTime> {
        let events = history["events"].as_array().context("history events")?;
        let e = events
            .iter()
            .find(|e| e["status"] == status)
            .context("a history entry")?;
        Ok(OffsetDateTime::parse(
            e["at"].as_str().unwrap_or_default(),
            &Rfc3339,
        )?)
    };
    let recorded = (at("ready")? - at("received")?).as_seconds_f64() * 1000.0;
    let measured = waited.unwrap_or_default().as_secs_f64() * 1000.0;
    Ok((measured - recorded).abs())
}

fn peak_rss_mb(pid: u32) -> anyhow::Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("VmHWM")?;
    Ok(kb / 1024.0)
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}
