//! Each shard runs its own share, at the common start, and says so in its
//! summary.json; bad shard settings run nothing.

use super::{run_shards, spawn_proxy, start_at, Backend, ARRIVALS, SCENARIO};
use crate::helpers::{run_cli, summary, write_scenario};
use std::collections::BTreeSet;
use std::time::{Duration, SystemTime};

/// When arrival `k` of [`SCENARIO`] is due, seconds after the start.
fn due_s(k: u64) -> f64 {
    if k < 50 {
        (k as f64 / 50.0).sqrt()
    } else {
        1.0 + (k - 50) as f64 / 100.0
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shards_started_by_environment_split_the_arrivals_and_start_together() {
    let backend = Backend::start(|_| Duration::from_millis(1)).await;
    let dir = tempfile::tempdir().unwrap();
    let scenario = write_scenario(dir.path(), "sharded.toml", SCENARIO);
    let (at, at_text) = start_at(Duration::from_secs(4));
    let shards = run_shards(dir.path(), &scenario, &backend.url, 3, &at_text, &[]).await;
    let seen = backend.seen.lock().unwrap().clone();
    let mut total = 0;
    for (i, (code, folder)) in shards.iter().enumerate() {
        assert_eq!(*code, 0, "shard {i}: {}", folder.display());
        let s = summary(folder);
        assert_eq!(s["run"]["shard"]["index"], i);
        assert_eq!(s["run"]["shard"]["count"], 3);
        let skew = s["run"]["shard"]["start_skew_ms"].as_f64().unwrap();
        // At the common start 4 s ahead (a shard ignoring it would be seconds early): within a
        // second, room for a loaded machine's late wake-ups.
        assert!(skew.abs() < 1000.0, "shard {i} started {skew} ms off");
        total += s["overall"]["count"].as_u64().unwrap();
        // Its first request reached the backend when its schedule said, from the common start.
        let (k, when) = seen
            .iter()
            .filter(|(k, _)| k % 3 == i as u64)
            .min_by_key(|(_, t)| *t)
            .copied()
            .expect("the shard sent requests");
        let due = SystemTime::from(at) + Duration::from_secs_f64(due_s(k));
        let off = when.duration_since(due).unwrap_or_else(|e| e.duration());
        assert!(
            off < Duration::from_secs(1),
            "shard {i}: first request {off:?} off"
        );
    }
    assert_eq!(total, ARRIVALS);
    let ks: BTreeSet<u64> = seen.iter().map(|(k, _)| *k).collect();
    assert_eq!(
        ks,
        (0..ARRIVALS).collect(),
        "every arrival once, none twice"
    );
    assert_eq!(seen.len() as u64, ARRIVALS);
}

#[tokio::test]
async fn a_common_start_long_past_is_refused_with_exit_2() {
    let backend = Backend::start(|_| Duration::ZERO).await;
    let dir = tempfile::tempdir().unwrap();
    let scenario = write_scenario(dir.path(), "sharded.toml", SCENARIO);
    let reports = dir.path().join("reports");
    // Further back than the 2 s a late shard is allowed, without waiting for it.
    let past = (time::OffsetDateTime::now_utc() - Duration::from_secs(10))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let (code, _) = run_cli(&[
        "run",
        scenario.to_str().unwrap(),
        "--target",
        &backend.url,
        "--shard",
        "0/2",
        "--start-at",
        &past,
        "--reports-dir",
        reports.to_str().unwrap(),
    ])
    .await;
    assert_eq!(code, 2);
    assert!(backend.seen.lock().unwrap().is_empty(), "nothing was sent");
    assert!(!reports.exists(), "no report for a run that did not happen");
}

#[tokio::test]
async fn bad_shard_settings_run_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write_scenario(dir.path(), "sharded.toml", SCENARIO);
    let reports = dir.path().join("reports");
    let file = scenario.to_str().unwrap();
    let reports = reports.to_str().unwrap();
    for extra in [
        &["--shard", "2/2", "--target", "http://127.0.0.1:9"][..],
        &[
            "--shard",
            "0/2",
            "--start-at",
            "soon",
            "--target",
            "http://127.0.0.1:9",
        ],
        // The bundled server would start once per shard: a sharded run needs one URL.
        &["--shard", "0/2"],
    ] {
        let mut args = vec!["run", file, "--reports-dir", reports];
        args.extend_from_slice(extra);
        let (code, out) = run_cli(&args).await;
        assert_eq!(code, 2, "{extra:?}: {out}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shard_zero_drives_the_fault_and_every_shard_meets_it() {
    let backend = Backend::start(|_| Duration::from_millis(1)).await;
    // `harness proxy` on a free port, for the run's length.
    let (api, mut proxy) = spawn_proxy().await;
    let dir = tempfile::tempdir().unwrap();
    let faulted = format!(
        "{SCENARIO}\n[[faults]]\nname = \"slow-edge\"\nat = \"1500ms\"\nduration = \"1s\"\n\
         link = \"edge\"\ntype = \"latency\"\nattributes = {{ latency = 200 }}\n"
    );
    let scenario = write_scenario(dir.path(), "sharded.toml", &faulted);
    let (_, at_text) = start_at(Duration::from_secs(4));
    let shards = run_shards(
        dir.path(),
        &scenario,
        &backend.url,
        2,
        &at_text,
        &["--toxiproxy", &api],
    )
    .await;
    let _ = proxy.kill().await;
    for (i, (code, folder)) in shards.iter().enumerate() {
        assert_eq!(*code, 0, "shard {i}: {}", folder.display());
        let s = summary(folder);
        let fault = &s["faults"][0];
        assert_eq!(fault["name"], "slow-edge", "shard {i}");
        // The window's whole seconds (1 s to 3 s) hold the 1 s fault and some time without it.
        let during = fault["during"]["latency_ms"]["p90"].as_f64().unwrap();
        assert!(
            during >= 200.0,
            "shard {i}: p90 {during} ms during the fault"
        );
        let before = fault["before"]["latency_ms"]["p50"].as_f64().unwrap();
        assert!(
            before < 100.0,
            "shard {i}: p50 {before} ms before the fault"
        );
    }
}
