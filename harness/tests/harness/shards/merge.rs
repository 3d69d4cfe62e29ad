//! `harness merge`: the shards' folders become one run whose counts are the
//! sums and whose percentiles are those of every sample together; gates are
//! judged on the merged run; shards that are not one run are refused.

use super::{run_shards, start_at, Backend, ARRIVALS, SCENARIO};
use crate::helpers::{run_cli, summary, write_scenario};
use crate::report::schema::assert_valid_summary;
use crate::report::{sample, synthetic_run, write_report};
use harness::record::{Outcome, RunRecord, Sample, ShardInfo};
use harness::shard::{recording, Shard};
use hdrhistogram::Histogram;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Writes shard `index` of `count` made of `samples` (a synthetic run of 10 s)
/// as `harness run --shard` would, and returns its run folder.
fn write_shard(
    root: &Path,
    index: u32,
    count: u32,
    samples: &[Sample],
    edit: impl Fn(&mut RunRecord),
) -> PathBuf {
    let mut run = synthetic_run(&["GET /menu", "POST /orders"], 10, samples.iter().copied());
    run.meta.shard = Some(ShardInfo {
        index,
        count,
        start_at: Some(run.meta.started_at),
        clock_at_wait: run.meta.started_at,
        started_at: run.meta.started_at,
        start_skew_ms: Some(f64::from(index)),
    });
    edit(&mut run);
    let gates = ["p99 < 10s".parse().unwrap()];
    let reports = root.join(format!("shard-{index}"));
    let written = write_report(&run, &gates, &reports).unwrap();
    recording::write(&run, Shard { index, count }, &written.dir).unwrap();
    written.dir
}

/// 3,000 requests over 10 s with latencies from 1 ms to about 2 s, dealt to
/// shards by number; a single run holding all of them is the oracle.
fn samples() -> Vec<Sample> {
    (0..3000u64)
        .map(|k| {
            let latency = 1 + (k * k * 7919) % 2000;
            let outcome = if k % 41 == 0 {
                Outcome::Shed
            } else {
                Outcome::Ok
            };
            sample(
                (k % 2) as u32,
                outcome,
                k * 3,
                latency.min(9_000 - k * 3 % 1000),
            )
        })
        .collect()
}

async fn merge(dirs: &[PathBuf], out: &Path, extra: &[&str]) -> (u8, String) {
    // --no-history: -o alone would record in ./reports/history.db.
    let mut args = vec![
        "merge".to_string(),
        "--no-history".into(),
        "-o".into(),
        out.display().to_string(),
    ];
    args.extend(dirs.iter().map(|d| d.display().to_string()));
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run_cli(&args).await
}

/// Rates summed in another order differ in the last bits: compare them to 12
/// significant digits (counts and percentiles are integers of µs, so exact).
fn rounded(v: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::Number(n) if n.is_f64() => {
            let x = n.as_f64().unwrap();
            Value::from(format!("{x:.12e}"))
        }
        Value::Array(a) => Value::Array(a.iter().map(rounded).collect()),
        Value::Object(o) => Value::Object(o.iter().map(|(k, v)| (k.clone(), rounded(v))).collect()),
        other => other.clone(),
    }
}

fn ms(us: u64) -> f64 {
    (us as f64 / 1000.0 * 1000.0).round() / 1000.0
}

#[tokio::test]
async fn every_merged_percentile_is_the_percentile_of_every_sample_together() {
    let root = tempfile::tempdir().unwrap();
    let all = samples();
    let count = 3;
    let dirs: Vec<PathBuf> = (0..count)
        .map(|i| {
            let mine: Vec<Sample> = all
                .iter()
                .enumerate()
                .filter(|(k, _)| *k as u32 % count == i)
                .map(|(_, s)| *s)
                .collect();
            write_shard(root.path(), i, count, &mine, |_| {})
        })
        .collect();
    let out = root.path().join("merged");
    let (code, text) = merge(&dirs, &out, &[]).await;
    assert_eq!(code, 0, "{text}");
    let merged = assert_valid_summary(&out);

    // The oracle: one histogram of every sample, and one unsharded run of them all.
    let mut every = Histogram::<u64>::new(3).unwrap();
    for s in &all {
        every.record(s.latency_us).unwrap();
    }
    let latency = &merged["overall"]["latency_ms"];
    assert_eq!(merged["overall"]["count"], 3000);
    for (key, q) in [
        ("p50", 0.5),
        ("p90", 0.9),
        ("p95", 0.95),
        ("p99", 0.99),
        ("p99.9", 0.999),
    ] {
        assert_eq!(
            latency[key].as_f64().unwrap(),
            ms(every.value_at_quantile(q)),
            "{key}"
        );
    }
    assert_eq!(latency["max"].as_f64().unwrap(), ms(every.max()));
    let single = synthetic_run(&["GET /menu", "POST /orders"], 10, all.iter().copied());
    let single = harness::gate::summarize(&single, &[]);
    let single = serde_json::to_value(&single).unwrap();
    for part in ["overall", "requests", "timeline", "stages"] {
        assert_eq!(
            rounded(&merged[part]),
            rounded(&single[part]),
            "{part} of the merged run"
        );
    }
    let shards = merged["shards"].as_array().unwrap();
    assert_eq!(shards.len(), 3);
    assert_eq!(shards[2]["start_skew_ms"], 2.0);
    for file in [
        "index.html",
        "summary.md",
        "junit.xml",
        "all.hlog",
        "GET-menu.hlog",
    ] {
        assert!(out.join(file).is_file(), "{file}");
    }
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(html.contains(r#"id="shards""#));
}

#[tokio::test]
async fn shards_that_are_not_one_run_are_refused() {
    let root = tempfile::tempdir().unwrap();
    let few: Vec<Sample> = (0..50)
        .map(|k| sample(0, Outcome::Ok, k * 100, 5))
        .collect();
    let base = root.path();
    let s0 = write_shard(base, 0, 3, &few, |_| {});
    let s1 = write_shard(base, 1, 3, &few, |_| {});
    let s2 = write_shard(base, 2, 3, &few, |_| {});
    let other_seed = write_shard(&base.join("seed"), 2, 3, &few, |r| r.meta.seed = 43);
    let other_scenario = write_shard(&base.join("scenario"), 2, 3, &few, |r| {
        r.meta.scenario = "other".into()
    });
    let other_count = write_shard(&base.join("count"), 2, 4, &few, |_| {});
    let unsharded = write_shard(&base.join("plain"), 2, 3, &few, |r| r.meta.shard = None);
    let cases: [(&[&PathBuf], &str); 6] = [
        (&[&s0, &s1, &other_seed], "seed"),
        (&[&s0, &s1, &other_scenario], "scenario"),
        (&[&s0, &s1, &other_count], "shard count"),
        (&[&s0, &s2], "shard 1 of 3 is missing"),
        (&[&s0, &s1, &s1, &s2], "shard 1 is given twice"),
        (&[&s0, &s1, &unsharded], "not a shard"),
    ];
    for (i, (dirs, why)) in cases.iter().enumerate() {
        let dirs: Vec<PathBuf> = dirs.iter().map(|d| d.to_path_buf()).collect();
        let out = base.join(format!("merged-{i}"));
        let (code, text) = merge(&dirs, &out, &[]).await;
        assert_eq!(code, 2, "{why}: {text}");
        assert!(!out.join("summary.json").exists(), "{why}: nothing merged");
    }
    // The message names the problem (stderr is not captured in-process: check the error itself).
    let err = harness::merge::merge(
        &harness::merge::MergeArgs {
            dirs: vec![s0.clone(), s2.clone()],
            out: Some(base.join("merged-msg")),
            reports_dir: base.join("reports"),
            gates: Vec::new(),
            baseline: Vec::new(),
            max_regression: None,
            quiet: true,
            history: Default::default(),
        },
        &mut Vec::new(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("shard 1 of 3 is missing"), "{err}");
}

#[tokio::test]
async fn a_shard_whose_generator_fell_behind_makes_the_merged_run_invalid() {
    let root = tempfile::tempdir().unwrap();
    let few: Vec<Sample> = (0..500)
        .map(|k| sample(0, Outcome::Ok, k * 10, 5))
        .collect();
    let s0 = write_shard(root.path(), 0, 2, &few, |_| {});
    let s1 = write_shard(root.path(), 1, 2, &few, |r| {
        r.generator.scheduled_starts = 500;
        for i in 0..500 {
            r.generator
                .record_start_lag(if i % 5 == 0 { 80_000 } else { 100 });
        }
    });
    let out = root.path().join("merged");
    let (code, text) = merge(&[s0, s1], &out, &[]).await;
    assert_eq!(code, 4, "{text}");
    let merged = summary(&out);
    assert_eq!(merged["verdict"], "invalid");
    assert!(
        merged["verdict_reason"]
            .as_str()
            .unwrap()
            .contains("shard 1:"),
        "{}",
        merged["verdict_reason"]
    );
}

#[tokio::test]
async fn a_shard_stopped_by_a_window_gate_is_named_and_the_merged_run_is_aborted_by_it() {
    let root = tempfile::tempdir().unwrap();
    let few: Vec<Sample> = (0..500)
        .map(|k| sample(0, Outcome::Ok, k * 10, 5))
        .collect();
    let s0 = write_shard(root.path(), 0, 2, &few, |_| {});
    let s1 = write_shard(root.path(), 1, 2, &few, |r| {
        r.aborted = Some(harness::record::Aborted {
            gate: "p95 < 500ms over 2s".into(),
            at_s: 4.0,
            actual: "1.2s".into(),
        });
    });
    let out = root.path().join("merged");
    let (code, text) = merge(&[s0, s1], &out, &[]).await;
    assert_eq!(code, 1, "an aborted run fails: {text}");
    let merged = assert_valid_summary(&out);
    assert_eq!(merged["run"]["aborted_by"], "p95 < 500ms over 2s");
    assert_eq!(merged["run"]["aborted_at_s"], 4.0);
    assert_eq!(merged["shards"][1]["aborted_by"], "p95 < 500ms over 2s");
    assert!(merged["shards"][0].get("aborted_by").is_none());
    let notes = merged["run"]["notes"].to_string();
    assert!(notes.contains("shard 1 was aborted at 4 s"), "{notes}");
}

/// Arrival k's answer takes 600 ms when k % 20 == 1 (so only on shard 1 of
/// 2), 2 ms otherwise. The gate is 400 ms: shard 0's p99 (2 ms answers)
/// could grow 200 ms on a loaded machine before the mean of the two crossed it.
fn tail_in_shard_one(k: u64) -> Duration {
    Duration::from_millis(if k % 20 == 1 { 600 } else { 2 })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tail_in_one_shard_fails_the_merged_gate_though_the_mean_of_the_shards_p99_passes() {
    let backend = Backend::start(tail_in_shard_one).await;
    let dir = tempfile::tempdir().unwrap();
    let scenario = write_scenario(dir.path(), "sharded.toml", SCENARIO);
    let (_, at) = start_at(Duration::from_secs(3));
    let shards = run_shards(dir.path(), &scenario, &backend.url, 2, &at, &[]).await;
    let mut p99s = Vec::new();
    let mut total = 0;
    let mut folders = Vec::new();
    for (i, (code, folder)) in shards.into_iter().enumerate() {
        // A shard exits 0: the verdict is the merged run's.
        assert_eq!(code, 0, "shard {i}: {}", folder.display());
        let s = summary(&folder);
        p99s.push(s["overall"]["latency_ms"]["p99"].as_f64().unwrap());
        total += s["overall"]["count"].as_u64().unwrap();
        folders.push(folder);
    }
    // Averaging the shards' p99s (all a per-runner summary allows) would pass...
    let mean = p99s.iter().sum::<f64>() / 2.0;
    assert!(mean < 400.0, "the mean of {p99s:?}");
    // ...the union of their histograms does not: 13 of 250 answers took 600 ms.
    let out = dir.path().join("merged");
    let (code, text) = merge(&folders, &out, &["--gate", "p99 < 400ms"]).await;
    assert_eq!(code, 1, "{text}");
    let merged = assert_valid_summary(&out);
    assert_eq!(merged["overall"]["count"].as_u64().unwrap(), total);
    assert_eq!(total, ARRIVALS);
    assert!(merged["overall"]["latency_ms"]["p99"].as_f64().unwrap() >= 600.0);
    assert_eq!(merged["gates"][0]["passed"], false);
    // Every per-second count is the sum of the shards'.
    let per_second = |s: &serde_json::Value| -> u64 {
        s["timeline"]["overall"]["count"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_u64().unwrap())
            .sum()
    };
    assert_eq!(per_second(&merged), total);
}

#[tokio::test]
async fn the_merged_run_is_judged_against_a_baseline_and_its_exit_code_says_so() {
    let root = tempfile::tempdir().unwrap();
    let at = |latency| -> Vec<Sample> {
        (0..400)
            .map(|k| sample(0, Outcome::Ok, k * 20, latency))
            .collect()
    };
    let fast = synthetic_run(&["GET /menu", "POST /orders"], 10, at(5));
    let base = write_report(&fast, &[], &root.path().join("base"))
        .unwrap()
        .dir;
    let s0 = write_shard(root.path(), 0, 2, &at(50), |_| {});
    let s1 = write_shard(root.path(), 1, 2, &at(50), |_| {});
    let out = root.path().join("merged");
    let base_arg = base.display().to_string();
    let flags = [
        "--baseline",
        base_arg.as_str(),
        "--max-regression",
        "p95=10%",
    ];
    let (code, text) = merge(&[s0.clone(), s1.clone()], &out, &flags).await;
    assert_eq!(code, 1, "{text}");
    assert!(out.join("baseline.json").is_file());
    // Judged against itself (the same figures), the merged run passes.
    let same = root.path().join("merged-again");
    let (code, text) = merge(
        &[s0, s1],
        &same,
        &["--baseline", &out.display().to_string()],
    )
    .await;
    assert_eq!(code, 0, "{text}");
}
