//! A bundled server (the reference server or its payment gateway simulator)
//! run as a child process of the harness binary: it binds 127.0.0.1:0, says
//! where it listens on its first stdout line, and dies with its handle, or
//! with the harness however the harness ends (`--exit-with-parent`: the
//! child stops when its stdin, a pipe the harness holds, reaches its end;
//! the kernel closes that pipe even when the harness is SIGKILLed).

use anyhow::{anyhow, bail, Context};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};

/// How long a child may take to print where it listens: a cold SQLite data
/// directory and migrations take well under a second; ten leaves room for a
/// loaded CI machine.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// A running child server; killed when dropped.
#[derive(Debug)]
pub struct ChildServer {
    pub(crate) what: &'static str,
    pub(crate) addr: SocketAddr,
    child: Child,
    log: PathBuf,
    /// The write end of the child's stdin, never written: held so that the
    /// child sees its end only when this process is gone (or stops it).
    _lifeline: Option<ChildStdin>,
}

impl ChildServer {
    /// Runs `exe reference-server <args>` and waits for its `listening on` line.
    /// Its logs (stderr) go to `log`.
    pub async fn spawn(
        what: &'static str,
        exe: &Path,
        args: &[String],
        log: &Path,
    ) -> anyhow::Result<ChildServer> {
        let log_file = std::fs::File::create(log)
            .with_context(|| format!("creating the {what} log {}", log.display()))?;
        let mut child = Command::new(exe)
            .arg("reference-server")
            .args(args)
            // Last: after `gateway`, as the simulator's own flag.
            .arg("--exit-with-parent")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log_file)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting the {what} with {}", exe.display()))?;
        let lifeline = child.stdin.take();
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut lines = BufReader::new(stdout).lines();
        let first = tokio::time::timeout(START_TIMEOUT, lines.next_line()).await;
        let addr = match first {
            Ok(Ok(Some(line))) => parse_listening(&line),
            Ok(Ok(None)) => Err(anyhow!("it exited before saying where it listens")),
            Ok(Err(e)) => Err(anyhow!(e).context("reading its stdout")),
            Err(_) => Err(anyhow!(
                "it did not say where it listens within {START_TIMEOUT:?}"
            )),
        };
        let addr = match addr {
            Ok(addr) => addr,
            Err(e) => {
                let _ = child.start_kill();
                let tail = log_tail(log);
                return Err(e.context(format!(
                    "the {what} did not start (args: {}){tail}",
                    args.join(" ")
                )));
            }
        };
        // Keep reading stdout so the child never blocks or fails on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(ChildServer {
            what,
            addr,
            child,
            log: log.to_path_buf(),
            _lifeline: lifeline,
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Whether the child is still running; `Some(description)` when it exited.
    pub(crate) fn exited(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(Some(status)) => Some(format!(
                "the {} exited during the run ({status}){}",
                self.what,
                log_tail(&self.log)
            )),
            _ => None,
        }
    }

    /// Stops the child and waits for it.
    pub async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = tokio::time::timeout(Duration::from_secs(5), self.child.wait()).await;
    }
}

fn parse_listening(line: &str) -> anyhow::Result<SocketAddr> {
    let Some(rest) = line.trim().strip_prefix("listening on http://") else {
        bail!("its first line was {line:?}, expected `listening on http://ADDR`");
    };
    rest.trim_end_matches('/')
        .parse()
        .with_context(|| format!("bad address in {line:?}"))
}

/// The last lines of a child's log, to explain why it failed.
fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    if lines.is_empty() {
        return String::new();
    }
    let tail = lines[lines.len().saturating_sub(8)..].join("\n  ");
    format!("; its log ends with:\n  {tail}")
}

/// Polls `GET {url}/ready` until it answers 200.
pub async fn wait_ready(
    client: &reqwest::Client,
    url: &str,
    within: Duration,
) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + within;
    let ready = format!("{url}/ready");
    let mut last = String::from("no answer");
    while tokio::time::Instant::now() < deadline {
        match client
            .get(&ready)
            .timeout(Duration::from_secs(2))
            .send()
            .await
        {
            Ok(r) if r.status().is_success() => return Ok(()),
            Ok(r) => last = format!("status {}", r.status()),
            Err(e) => last = e.to_string(),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("{ready} was not ready within {within:?} (last: {last})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_listening_line_gives_the_address() {
        assert_eq!(
            parse_listening("listening on http://127.0.0.1:4321\n").unwrap(),
            "127.0.0.1:4321".parse().unwrap()
        );
        assert!(parse_listening("hello").is_err());
    }
}
