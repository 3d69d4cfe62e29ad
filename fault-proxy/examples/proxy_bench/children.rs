//! The benchmark's child processes: the backend and the proxy under test, each
//! announcing its address on stdout and stopping when its stdin closes, and
//! what the parent reads of them (CPU time, memory).

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;

/// Child mode: a minimal HTTP server (axum, keep-alive) answering `ok`.
pub(crate) async fn backend() -> anyhow::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    announce(&listener.local_addr()?.to_string());
    let app = axum::Router::new().route("/", axum::routing::get(|| async { "ok" }));
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::task::spawn_blocking(wait_for_stdin_eof).await;
        })
        .await?;
    Ok(())
}

/// Child mode: the built-in Toxiproxy-compatible server.
pub(crate) async fn proxy() -> anyhow::Result<()> {
    let server = fault_proxy::Server::bind("127.0.0.1:0").await?;
    announce(&server.url());
    server
        .run_until(async {
            let _ = tokio::task::spawn_blocking(wait_for_stdin_eof).await;
        })
        .await?;
    Ok(())
}

pub(crate) fn announce(line: &str) {
    let mut out = std::io::stdout();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// Children stop when the parent closes their stdin (or dies).
pub(crate) fn wait_for_stdin_eof() {
    let mut sink = String::new();
    while std::io::stdin()
        .read_line(&mut sink)
        .map(|n| n > 0)
        .unwrap_or(false)
    {
        sink.clear();
    }
}

pub(crate) struct ChildProcess {
    pub(crate) child: Child,
    pub(crate) line: String,
}

impl ChildProcess {
    pub(crate) fn spawn(mode: &str) -> anyhow::Result<ChildProcess> {
        let mut child = Command::new(std::env::current_exe()?)
            .arg(mode)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?;
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped")).read_line(&mut line)?;
        Ok(ChildProcess {
            child,
            line: line.trim().to_string(),
        })
    }

    /// User and kernel CPU time the child has used so far.
    pub(crate) fn cpu(&self) -> Cpu {
        Cpu::of(&self.child.id().to_string())
    }

    pub(crate) fn rss_kb(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }
}

/// CPU time from `/proc/<pid>/stat`, in seconds.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Cpu {
    pub(crate) user: f64,
    pub(crate) kernel: f64,
}

impl Cpu {
    pub(crate) fn of(pid: &str) -> Cpu {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        // Fields after the command name (which may hold spaces) ends with ')'.
        let fields: Vec<f64> = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest)
            .unwrap_or_default()
            .split_whitespace()
            .map(|f| f.parse().unwrap_or(0.0))
            .collect();
        // utime and stime are fields 14 and 15, in clock ticks (100 per second).
        let tick = |i: usize| fields.get(i).copied().unwrap_or(0.0) / 100.0;
        Cpu {
            user: tick(11),
            kernel: tick(12),
        }
    }

    pub(crate) fn since(self, before: Cpu) -> Cpu {
        Cpu {
            user: self.user - before.user,
            kernel: self.kernel - before.kernel,
        }
    }

    pub(crate) fn total(self) -> f64 {
        self.user + self.kernel
    }
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
