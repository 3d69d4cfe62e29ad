//! Batches against a baseline: a backend made twice as slow fails it, an
//! unchanged one does not, an A/A run interleaved in one job is never a
//! FAIL, and repeats alone report their spread.
//!
//! Each verdict compares a few 2 s runs on a machine that may be busy with
//! other work (CI runs every suite at once on two cores), and such a machine
//! moves a 40 ms backend's p95 by several milliseconds from one run to the
//! next. So the changes the tests make, and the tolerances they judge with,
//! are far apart from that noise: a FAIL is looked for where the backend
//! doubled its delay (not beside a 10 % tolerance with 30 %), and a PASS or
//! INCONCLUSIVE where tolerances are wide; the statistics themselves are
//! tested on synthetic runs (`gates::baseline`).

/// Tolerances for the unchanged-backend runs: wide, because only a real
/// change must FAIL, and an A/A pair can differ by a load spike's worth.
const WIDE: &str = "p95=50%,throughput=-30%";

use super::{backend, baseline_run, batch, reported, run, set_delay, DELAY_MS};
use std::path::Path;

#[tokio::test]
async fn a_backend_made_twice_as_slow_fails_its_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let server = backend(DELAY_MS).await;
    let base = baseline_run(dir.path(), &server).await;

    set_delay(&server, DELAY_MS * 2).await;
    let mut args = batch(dir.path(), Some(&server));
    args.baseline = vec![base];
    args.repeat = 2;
    args.max_regression = Some("p95=10%".into());
    let (code, out) = run(&args).await;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("baseline verdict: FAIL"), "{out}");
    // Which figure, by how much, with what confidence.
    let line = out
        .lines()
        .find(|l| l.trim_start().starts_with("FAIL") && l.contains("p95:"))
        .unwrap_or_else(|| panic!("no failing p95 line in\n{out}"));
    assert!(
        line.contains("worse by") && line.contains("95% CI"),
        "{line}"
    );
    let candidate = reported(&out);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(candidate.join("baseline.json")).unwrap())
            .unwrap();
    assert_eq!(json["verdict"], "fail");
    assert_eq!(json["candidate_runs"], 2);
    // 100 % worse, give or take what a busy machine adds to either side.
    let worsening = json["checks"][0]["worsening"].as_f64().unwrap();
    assert!(
        (0.25..3.0).contains(&worsening),
        "a backend twice as slow measured {:.0} % worse",
        worsening * 100.0
    );
    assert!(candidate.join("baseline-junit.xml").is_file());
}

#[tokio::test]
async fn an_unchanged_backend_does_not_fail_its_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let server = backend(DELAY_MS).await;
    let base = baseline_run(dir.path(), &server).await;

    let mut args = batch(dir.path(), Some(&server));
    args.baseline = vec![base.join("summary.json")];
    args.repeat = 2;
    args.max_regression = Some(WIDE.into());
    let (code, out) = run(&args).await;
    assert!(code == 0 || code == 5, "exit {code}\n{out}");
    assert!(!out.contains("baseline verdict: FAIL"), "{out}");
    if code == 5 {
        assert!(out.contains("advice: "), "{out}");
    }
}

#[tokio::test]
async fn an_a_a_run_interleaved_in_one_job_is_never_a_failure() {
    let dir = tempfile::tempdir().unwrap();
    let server = backend(DELAY_MS).await;
    let mut args = batch(dir.path(), Some(&server));
    args.baseline_target = Some(server.uri());
    args.repeat = 2;
    args.max_regression = Some(WIDE.into());
    let (code, out) = run(&args).await;
    assert!(code == 0 || code == 5, "exit {code}\n{out}");
    // Base and candidate alternate: A B A B.
    let order: Vec<&str> = out
        .lines()
        .filter_map(|l| l.strip_prefix("run "))
        .map(|l| l.split(": ").nth(1).unwrap().split(' ').next().unwrap())
        .collect();
    assert_eq!(
        order,
        ["baseline", "candidate", "baseline", "candidate"],
        "{out}"
    );
    assert!(
        out.contains("(2 baseline run(s), 2 candidate run(s))"),
        "{out}"
    );
    let received = server.received_requests().await.unwrap().len();
    assert!(received > 100, "four runs sent only {received} requests");
    // Base and candidate runs are also set side by side.
    let compare = out
        .lines()
        .find_map(|l| l.strip_prefix("comparison: "))
        .unwrap_or_else(|| panic!("no comparison in\n{out}"));
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(Path::new(compare).with_file_name("compare.json")).unwrap(),
    )
    .unwrap();
    let labels: Vec<&str> = json["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["label"].as_str().unwrap())
        .collect();
    let url = server.uri();
    assert_eq!(
        labels,
        [
            format!("baseline {url} #1"),
            format!("candidate {url} #1"),
            format!("baseline {url} #2"),
            format!("candidate {url} #2"),
        ]
    );
}

#[tokio::test]
async fn repeats_alone_report_the_spread_of_p95_and_throughput() {
    let dir = tempfile::tempdir().unwrap();
    let server = backend(DELAY_MS).await;
    let mut args = batch(dir.path(), Some(&server));
    args.repeat = 2;
    let (code, out) = run(&args).await;
    assert_eq!(code, 0, "{out}");
    let p95 = out
        .lines()
        .find(|l| l.trim_start().starts_with("p95 median"))
        .unwrap_or_else(|| panic!("no p95 spread in\n{out}"));
    let median: f64 = p95.split_whitespace().nth(2).unwrap().parse().unwrap();
    assert!(
        (DELAY_MS as f64..DELAY_MS as f64 * 3.0).contains(&median),
        "{p95}"
    );
    assert!(
        p95.contains("over 2 runs") && p95.contains("spread"),
        "{p95}"
    );
    assert!(out.contains("throughput median"), "{out}");
}
