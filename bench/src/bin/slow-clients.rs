//! Slow clients beside a normal one, against a server on loopback: `--slow` connections each send
//! a request head one header line per second and never finish it (slowloris); when the server
//! closes one, it connects again at once. Meanwhile one normal client sends `GET /health` on its
//! keep-alive connection every `--interval-ms`. The normal client is measured first alone, then
//! with the slow clients holding their connections, and the server's open file descriptors
//! (`/proc/PID/fd`) are sampled throughout. Prints one machine-readable `RESULT` line.
//! Every loop ends by itself after `--seconds`.

use std::{
    net::SocketAddr,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering::Relaxed},
        Arc,
    },
    time::{Duration, Instant},
};

use anyhow::{bail, Context};
use clap::Parser;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

#[derive(Parser)]
#[command(about = "Slow clients (slowloris) beside a normal client, loopback only")]
struct Args {
    /// The server, e.g. 127.0.0.1:8080 (loopback only).
    #[arg(long)]
    addr: SocketAddr,
    /// The server's process id, to count its open file descriptors.
    #[arg(long)]
    pid: u32,
    /// Slow connections to hold.
    #[arg(long, default_value_t = 3000)]
    slow: usize,
    /// Seconds measured with the slow clients connected (and as long again alone before).
    #[arg(long, default_value_t = 15)]
    seconds: u64,
    /// The normal client's pause between requests.
    #[arg(long, default_value_t = 5)]
    interval_ms: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if !args.addr.ip().is_loopback() {
        bail!("{} is not a loopback address", args.addr);
    }
    let measure = Duration::from_secs(args.seconds);
    let alone = normal_client(args.addr, measure / 3, args.interval_ms).await?;
    let stop = Arc::new(AtomicBool::new(false));
    let reconnects = Arc::new(AtomicU64::new(0));
    let mut slow = Vec::with_capacity(args.slow);
    for i in 0..args.slow {
        slow.push(tokio::spawn(slow_client(
            args.addr,
            stop.clone(),
            reconnects.clone(),
        )));
        if i % 250 == 249 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    // Let every slow client connect and start its head before measuring.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let sampler = tokio::spawn(peak_fds(args.pid, stop.clone()));
    let crowded = normal_client(args.addr, measure, args.interval_ms).await?;
    stop.store(true, Relaxed);
    let peak = sampler.await?;
    for task in slow {
        task.abort();
    }
    println!(
        "RESULT slow={} alone_p50_ms={:.3} alone_p99_ms={:.3} p50_ms={:.3} p99_ms={:.3} max_ms={:.3} \
         requests={} errors={} fds_peak={} slow_reconnects={}",
        args.slow,
        alone.percentile(50.0),
        alone.percentile(99.0),
        crowded.percentile(50.0),
        crowded.percentile(99.0),
        crowded.percentile(100.0),
        crowded.took.len(),
        crowded.errors,
        peak,
        reconnects.load(Relaxed),
    );
    Ok(())
}

struct Latencies {
    took: Vec<Duration>,
    errors: u64,
}

impl Latencies {
    fn percentile(&self, p: f64) -> f64 {
        let mut sorted = self.took.clone();
        sorted.sort();
        if sorted.is_empty() {
            return f64::NAN;
        }
        let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
        sorted[rank.clamp(1, sorted.len()) - 1].as_secs_f64() * 1000.0
    }
}

/// `GET /health` on one keep-alive connection every `interval_ms` for `time`; a failed request
/// is counted and the connection opened again.
async fn normal_client(
    addr: SocketAddr,
    time: Duration,
    interval_ms: u64,
) -> anyhow::Result<Latencies> {
    let end = Instant::now() + time;
    let mut result = Latencies {
        took: Vec::new(),
        errors: 0,
    };
    let mut conn = TcpStream::connect(addr).await.context("connecting")?;
    conn.set_nodelay(true)?;
    while Instant::now() < end {
        let started = Instant::now();
        match tokio::time::timeout(Duration::from_secs(5), get_health(&mut conn)).await {
            Ok(Ok(())) => result.took.push(started.elapsed()),
            _ => {
                result.errors += 1;
                conn = TcpStream::connect(addr).await.context("reconnecting")?;
                conn.set_nodelay(true)?;
            }
        }
        tokio::time::sleep(Duration::from_millis(interval_ms)).await;
    }
    Ok(result)
}

async fn get_health(conn: &mut TcpStream) -> anyhow::Result<()> {
    conn.write_all(b"GET /health HTTP/1.1\r\nhost: bench\r\n\r\n")
        .await?;
    let mut buf = Vec::with_capacity(512);
    let mut chunk = [0u8; 512];
    loop {
        let n = conn.read(&mut chunk).await?;
        if n == 0 {
            bail!("closed");
        }
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            if !head.starts_with("HTTP/1.1 200") {
                bail!("{head}");
            }
            let length: usize = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length: ")
                        .map(str::to_owned)
                })
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if body.len() >= length {
                return Ok(());
            }
        }
    }
}

/// One slow client: a request head, one header line a second, never the blank line that ends it.
async fn slow_client(addr: SocketAddr, stop: Arc<AtomicBool>, reconnects: Arc<AtomicU64>) {
    while !stop.load(Relaxed) {
        if let Ok(mut conn) = TcpStream::connect(addr).await {
            if conn
                .write_all(b"GET /health HTTP/1.1\r\nhost: slow\r\n")
                .await
                .is_ok()
            {
                let mut i = 0u64;
                while !stop.load(Relaxed) {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    i += 1;
                    let line = format!("x-slow-{i}: 1\r\n");
                    if conn.write_all(line.as_bytes()).await.is_err() {
                        break;
                    }
                }
            }
        }
        reconnects.fetch_add(1, Relaxed);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The highest count of the process's open file descriptors, sampled every 100 ms until `stop`.
async fn peak_fds(pid: u32, stop: Arc<AtomicBool>) -> usize {
    let mut peak = 0;
    while !stop.load(Relaxed) {
        if let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/fd")) {
            peak = peak.max(dir.count());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    peak
}
