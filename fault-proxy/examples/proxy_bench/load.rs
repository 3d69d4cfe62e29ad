//! The benchmark's load: raw HTTP/1.1 keep-alive requests on loopback, closed
//! loop, and the statistics it reports.

use crate::children::ChildProcess;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n";

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The body length a response head announces (0 when it announces none).
fn content_length(head: &[u8]) -> usize {
    String::from_utf8_lossy(head)
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0)
}

async fn connect(addr: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpStream::connect(addr).await?;
    socket.set_nodelay(true)?;
    Ok(socket)
}

/// One request and its full response (head, then the body its
/// Content-Length announces); returns the latency.
async fn request(socket: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<Duration> {
    let started = Instant::now();
    socket.write_all(REQUEST).await?;
    buf.clear();
    let mut chunk = [0u8; 1024];
    loop {
        let n = socket.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = find(buf, b"\r\n\r\n") {
            if buf.len() >= end + 4 + content_length(&buf[..end]) {
                return Ok(started.elapsed());
            }
        }
    }
}

pub(crate) fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

pub(crate) fn median_f64(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

pub(crate) fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

pub(crate) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Medians of request latency on one connection, direct and proxied,
/// measured in alternating blocks so drift hits both alike.
pub(crate) async fn one_connection(
    direct: SocketAddr,
    proxied: SocketAddr,
    blocks: usize,
) -> anyhow::Result<(Duration, Duration)> {
    let mut d = connect(direct).await?;
    let mut p = connect(proxied).await?;
    let mut buf = Vec::with_capacity(256);
    let (mut ds, mut ps) = (Vec::new(), Vec::new());
    for block in 0..blocks {
        for _ in 0..2000 {
            let (a, b) = (
                request(&mut d, &mut buf).await?,
                request(&mut p, &mut buf).await?,
            );
            if block > 0 {
                ds.push(a);
                ps.push(b);
            }
        }
    }
    ds.sort();
    ps.sort();
    Ok((percentile(&ds, 0.5), percentile(&ps, 0.5)))
}

/// Closed-loop load on `conns` connections for `secs` (after a warm-up);
/// returns requests per second and every latency (sorted), measured after the
/// warm-up, and how many requests were made in all.
pub(crate) async fn load(
    addr: SocketAddr,
    conns: usize,
    secs: f64,
    think: Option<Duration>,
) -> anyhow::Result<(f64, Vec<Duration>, usize)> {
    let mut sockets = Vec::with_capacity(conns);
    for chunk in (0..conns).collect::<Vec<_>>().chunks(250) {
        let opened = futures::future::join_all(chunk.iter().map(|_| connect(addr))).await;
        for s in opened {
            sockets.push(s?);
        }
    }
    let warmup = Duration::from_millis(500);
    let start = Instant::now();
    let measure_from = start + warmup;
    let end = measure_from + Duration::from_secs_f64(secs);
    let tasks: Vec<_> = sockets
        .into_iter()
        .map(|mut socket| {
            tokio::spawn(async move {
                let mut buf = Vec::with_capacity(256);
                let mut samples = Vec::new();
                let mut made = 0;
                while Instant::now() < end {
                    if let Some(think) = think {
                        tokio::time::sleep(think).await;
                    }
                    let began = Instant::now();
                    let latency = request(&mut socket, &mut buf).await?;
                    made += 1;
                    if began >= measure_from {
                        samples.push(latency);
                    }
                }
                Ok::<_, std::io::Error>((samples, made))
            })
        })
        .collect();
    let (mut all, mut made) = (Vec::new(), 0);
    for t in tasks {
        let (samples, n) = t.await??;
        all.extend(samples);
        made += n;
    }
    all.sort();
    Ok((all.len() as f64 / secs, all, made))
}

/// Opens `n` idle proxied connections, checks every one answers, holds them
/// for a while, checks again; returns how many held and the proxy's RSS growth.
pub(crate) async fn idle(
    proxied: SocketAddr,
    proxy: &ChildProcess,
    n: usize,
) -> anyhow::Result<(usize, u64, u64)> {
    let before = proxy.rss_kb();
    let mut sockets = Vec::with_capacity(n);
    let mut failures = 0;
    for chunk in (0..n).collect::<Vec<_>>().chunks(200) {
        for s in futures::future::join_all(chunk.iter().map(|_| connect(proxied))).await {
            match s {
                Ok(s) => sockets.push(s),
                Err(_) => failures += 1,
            }
        }
    }
    let first = answering(&mut sockets)
        .await
        .iter()
        .filter(|ok| **ok)
        .count();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let held = answering(&mut sockets)
        .await
        .iter()
        .filter(|ok| **ok)
        .count();
    let after = proxy.rss_kb();
    drop(sockets);
    if failures > 0 || first != n {
        eprintln!("idle: {failures} connects failed, {first} of {n} answered at first");
    }
    Ok((held, before, after))
}

/// Sends one request on every socket at once; returns which answered.
async fn answering(sockets: &mut [TcpStream]) -> Vec<bool> {
    let futs = sockets.iter_mut().map(|s| async move {
        let mut buf = Vec::with_capacity(256);
        tokio::time::timeout(Duration::from_secs(10), request(s, &mut buf))
            .await
            .is_ok_and(|r| r.is_ok())
    });
    futures::future::join_all(futs).await
}
