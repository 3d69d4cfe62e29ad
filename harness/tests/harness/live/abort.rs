//! `--abort-on-fail`: a backend that stops answering 3 s into a 30 s run is
//! found by `p95 < 500ms over 2s` (its requests time out after 1 s) and the
//! run ends there, long before its planned end, with exit 1 and a report
//! saying which gate stopped it and when.

use super::{backend, menu_scenario};
use crate::helpers::{report_dir, run_cli, write_scenario};
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread")]
async fn a_backend_that_stops_answering_ends_the_run_at_the_first_failed_window() {
    let backend = backend(Duration::from_secs(3), Duration::from_secs(3600)).await;
    let dir = tempfile::tempdir().unwrap();
    let file = write_scenario(dir.path(), "live.toml", &menu_scenario(30, 2, "1s", ""));
    let reports = dir.path().join("reports");
    let started = Instant::now();
    let (code, out) = run_cli(&[
        "run",
        file.to_str().unwrap(),
        "--target",
        &backend.url,
        "--reports-dir",
        reports.to_str().unwrap(),
        "--gate",
        "p95 < 500ms over 2s",
        "--abort-on-fail",
    ])
    .await;
    let took = started.elapsed();
    assert_eq!(code, 1, "{out}");
    assert!(took < Duration::from_secs(25), "ended early, took {took:?}");
    assert!(out.contains("aborted at"), "{out}");
    let run = report_dir(&out);
    let s = crate::report::schema::assert_valid_summary(&run);
    assert_eq!(s["run"]["aborted_by"], "p95 < 500ms over 2s");
    let at = s["run"]["aborted_at_s"].as_f64().unwrap();
    assert!((4.0..15.0).contains(&at), "after the stop at 3 s: {at}");
    assert!(
        s["run"]["duration_s"].as_f64().unwrap() < 20.0,
        "{}",
        s["run"]
    );
    assert_eq!(s["verdict"], "gate_failed");
    assert!(
        s["verdict_reason"]
            .as_str()
            .unwrap()
            .starts_with("aborted at"),
        "{}",
        s["verdict_reason"]
    );
    assert!(
        s["overall"]["count"].as_u64().unwrap() > 0,
        "what was measured is reported"
    );
    let md = std::fs::read_to_string(run.join("summary.md")).unwrap();
    assert!(md.contains("**ABORTED**"), "{md}");
    let junit = std::fs::read_to_string(run.join("junit.xml")).unwrap();
    assert!(
        junit.contains(r#"name="aborted_by" value="p95 &lt; 500ms over 2s""#),
        "{junit}"
    );
    let html = std::fs::read_to_string(run.join("index.html")).unwrap();
    assert!(html.contains(r#"id="aborted""#));
}

#[tokio::test]
async fn abort_on_fail_without_a_window_gate_is_refused_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_scenario(dir.path(), "live.toml", &menu_scenario(1, 1, "1s", ""));
    let (code, _) = run_cli(&[
        "run",
        file.to_str().unwrap(),
        "--target",
        "http://127.0.0.1:9",
        "--gate",
        "p95 < 500ms",
        "--abort-on-fail",
    ])
    .await;
    assert_eq!(code, 2);
}

#[tokio::test]
async fn the_dry_run_names_the_gates_that_stop_the_run_and_their_grace() {
    let dir = tempfile::tempdir().unwrap();
    let gates = r#"{ gate = "p95 < 500ms over 10s", abort = true, after = "30s" }, "error-rate < 1% over 5s""#;
    let file = write_scenario(dir.path(), "live.toml", &menu_scenario(60, 1, "1s", gates));
    let (code, out) = run_cli(&[
        "run",
        file.to_str().unwrap(),
        "--target",
        "http://127.0.0.1:9",
        "--dry-run",
    ])
    .await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("p95 < 500ms over 10s"), "{out}");
    assert!(
        out.contains("abort: the run stops at the first failed window of `p95 < 500ms over 10s` ending at 30s or later"),
        "{out}"
    );
    assert!(
        !out.contains("abort: the run stops at the first failed window of `error-rate"),
        "{out}"
    );
    // Stretched with the timeline: half the length, half the grace.
    let (code, out) = run_cli(&[
        "run",
        file.to_str().unwrap(),
        "--target",
        "http://127.0.0.1:9",
        "--dry-run",
        "--duration",
        "30s",
        "--abort-on-fail",
    ])
    .await;
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("`p95 < 500ms over 10s` ending at 15s or later"),
        "{out}"
    );
    assert!(
        out.contains("`error-rate < 1% over 5s` from the start"),
        "{out}"
    );
}
