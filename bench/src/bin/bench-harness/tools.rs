//! What the sections share: child processes that die with the bench, the
//! tools run beside the harness (wrk, oha, bare goose) and their parsing, the
//! harness run itself, and the printed rows.

use crate::Args;
use anyhow::{bail, Context, Result};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// A child process killed when dropped.
pub(crate) struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts a program that prints `listening on http://ADDR` and returns its URL.
pub(crate) fn spawn_listening(mut cmd: Command) -> Result<(Guard, String)> {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {cmd:?}"))?;
    let stdout = child.stdout.take().context("child stdout")?;
    let guard = Guard(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .with_context(|| format!("unexpected first line {line:?} from {cmd:?}"))?
        .to_string();
    Ok((guard, url))
}

/// Starts `bench-backend` with these flags; killed when the guard drops.
pub(crate) fn start_backend(args: &Args, flags: &[&str]) -> Result<(Guard, String)> {
    let mut cmd = Command::new(args.bin_dir.join("bench-backend"));
    cmd.args(flags);
    spawn_listening(cmd)
}

pub(crate) fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return f64::NAN;
    }
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

pub(crate) fn parse_wrk_duration_ms(text: &str) -> Option<f64> {
    let (num, unit) = text
        .find(|c: char| c.is_ascii_alphabetic())
        .map(|i| text.split_at(i))?;
    let n: f64 = num.parse().ok()?;
    Some(match unit {
        "us" => n / 1000.0,
        "ms" => n,
        "s" => n * 1000.0,
        "m" => n * 60_000.0,
        _ => return None,
    })
}

pub(crate) struct Figures {
    pub(crate) rps: f64,
    pub(crate) p50_ms: f64,
    pub(crate) p99_ms: f64,
}

pub(crate) fn wrk(url: &str, connections: usize, seconds: u64) -> Result<Figures> {
    let out = Command::new("wrk")
        .args([
            "-t2",
            &format!("-c{connections}"),
            &format!("-d{seconds}s"),
            "--latency",
            "--timeout",
            "10s",
            url,
        ])
        .output()
        .context("running wrk (bench/tools.sh installs it)")?;
    let text = String::from_utf8_lossy(&out.stdout);
    let pick = |label: &str| {
        text.lines().map(str::trim).find_map(|l| {
            l.strip_prefix(label)
                .map(str::trim)
                .and_then(parse_wrk_duration_ms)
        })
    };
    let rps = text
        .lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok());
    match (rps, pick("50%"), pick("99%")) {
        (Some(rps), Some(p50_ms), Some(p99_ms)) => Ok(Figures {
            rps,
            p50_ms,
            p99_ms,
        }),
        _ => bail!("could not read wrk's output:\n{text}"),
    }
}

pub(crate) fn oha(oha: &Path, url: &str, connections: usize, seconds: u64) -> Result<f64> {
    let out = Command::new(oha)
        .args([
            "--no-tui",
            "--output-format",
            "json",
            "-c",
            &connections.to_string(),
            "-z",
            &format!("{seconds}s"),
            url,
        ])
        .output()
        .context("running oha")?;
    let v: Value = serde_json::from_slice(&out.stdout)
        .with_context(|| format!("oha output: {}", String::from_utf8_lossy(&out.stderr)))?;
    v.pointer("/summary/requestsPerSec")
        .and_then(Value::as_f64)
        .context("oha JSON has no summary.requestsPerSec")
}

pub(crate) fn bare_goose(
    bin_dir: &Path,
    url: &str,
    path: &str,
    users: usize,
    seconds: u64,
) -> Result<Value> {
    let out = Command::new(bin_dir.join("bare-goose"))
        .args(["--host", url, "--path", path, "--users", &users.to_string()])
        .args([
            "--hatch-rate",
            &users.max(1).to_string(),
            "--seconds",
            &seconds.to_string(),
        ])
        .stderr(Stdio::null())
        .output()
        .context("running bare-goose")?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().last().unwrap_or_default();
    serde_json::from_str(line).with_context(|| format!("bare-goose output: {text}"))
}

pub(crate) struct HarnessRun<'a> {
    pub(crate) args: &'a Args,
    pub(crate) scenario: &'a str,
    pub(crate) target: &'a str,
    pub(crate) scale: f64,
    pub(crate) seconds: u64,
}

impl HarnessRun<'_> {
    pub(crate) fn summary(&self) -> Result<Value> {
        self.summary_with(&[])
    }

    /// The run with extra flags (e.g. `--ca-cert`).
    pub(crate) fn summary_with(&self, extra: &[&str]) -> Result<Value> {
        let status = Command::new(self.args.bin_dir.join("harness"))
            .arg("run")
            .args(extra)
            .arg(format!("bench/scenarios/{}.toml", self.scenario))
            .args([
                "--target",
                self.target,
                "--quiet",
                "--scale",
                &self.scale.to_string(),
            ])
            .args(["--duration", &format!("{}s", self.seconds)])
            .arg("--reports-dir")
            .arg(&self.args.reports)
            .stdout(Stdio::null())
            .status()
            .context("running harness")?;
        // 4 = the generator could not keep its schedule: still a figure, flagged below.
        if !matches!(status.code(), Some(0) | Some(4)) {
            bail!("harness run {} exited with {status}", self.scenario);
        }
        let path = self
            .args
            .reports
            .join(self.scenario)
            .join("latest/summary.json");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        Ok(serde_json::from_str(&text)?)
    }
}

pub(crate) fn num(v: &Value, pointer: &str) -> f64 {
    v.pointer(pointer)
        .and_then(Value::as_f64)
        .unwrap_or(f64::NAN)
}

/// Mean completions per second over the run's middle seconds (ramp and drain left out).
pub(crate) fn steady_rate(v: &Value) -> f64 {
    let rps: Vec<f64> = v
        .pointer("/timeline/overall/rps")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_f64).collect())
        .unwrap_or_default();
    if rps.len() < 5 {
        return f64::NAN;
    }
    let middle = &rps[2..rps.len() - 2];
    middle.iter().sum::<f64>() / middle.len() as f64
}

pub(crate) fn saturated(v: &Value) -> bool {
    v.pointer("/generator/saturation")
        .is_some_and(|s| !s.is_null())
}

pub(crate) fn row(name: &str, ours: f64, theirs: f64, unit: &str, target: &str) {
    let ratio = if theirs == 0.0 {
        f64::NAN
    } else {
        ours / theirs
    };
    println!("  {name:<44} {ours:>10.2} {theirs:>10.2} {unit:<5} ratio {ratio:>6.3}  {target}");
}

pub(crate) fn tempdir() -> Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("bench-harness-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
