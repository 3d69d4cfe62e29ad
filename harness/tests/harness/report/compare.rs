//! `compare` of finished run reports: one page whose table matches the
//! runs' summaries, and refusals of too few runs or unreadable folders.

use super::{known_run, sample, synthetic_run, write_report};
use harness::record::{FaultWindow, Outcome};
use harness::report::compare;
use harness::summary;

/// Writes two reports of the same scenario against different targets:
/// the second twice as slow, with a fault window.
fn two_runs(root: &std::path::Path) -> Vec<std::path::PathBuf> {
    let a = known_run();
    let slow = (0..1000).map(|i| sample(0, Outcome::Ok, i * 10, 20));
    let shed = (0..10).map(|i| sample(1, Outcome::Shed, i * 1000, 400));
    let mut b = synthetic_run(&["GET /menu", "POST /orders"], 10, slow.chain(shed));
    b.meta.target = "bundled reference-server (naive profile)".into();
    b.meta.started_at += time::Duration::minutes(1);
    b.faults.push(FaultWindow {
        name: "edge-latency".into(),
        link: "edge".into(),
        toxic: "latency 10 ms downstream".into(),
        planned_start_s: 3.0,
        start_s: 3.0,
        end_s: 5.0,
        http_requests: None,
        traffic: None,
    });
    [a, b]
        .iter()
        .map(|run| write_report(run, &[], root).unwrap().dir)
        .collect()
}

#[test]
fn comparing_two_runs_renders_one_page_whose_table_matches_their_summaries() {
    let root = tempfile::tempdir().unwrap();
    let dirs = two_runs(root.path());
    let runs = compare::load_runs(&dirs).unwrap();
    assert_eq!(
        runs[0].label, "http://127.0.0.1:9",
        "targets differ, so runs go by target"
    );
    assert_eq!(runs[1].label, "bundled reference-server (naive profile)");
    let written = compare::write_comparison_report(&runs, root.path()).unwrap();
    let c = &written.comparison;

    let all = &c.requests[0];
    assert_eq!(all.name, "all requests");
    let p50 = all.metrics.iter().find(|m| m.metric == "p50").unwrap();
    assert_eq!(p50.values[0], Some(runs[0].summary.overall.latency_ms.p50));
    assert_eq!(p50.values[1], Some(runs[1].summary.overall.latency_ms.p50));
    assert_eq!(
        p50.best, None,
        "one run per backend cannot tell a difference from noise"
    );
    let why = c
        .no_stars
        .as_deref()
        .expect("the report says why nothing is marked");
    assert!(why.contains("--repeat 3"), "{why}");
    assert_eq!(
        c.not_comparable.len(),
        1,
        "the fault reached one side only: {:?}",
        c.not_comparable
    );
    assert!(
        c.not_comparable[0]
            .starts_with("edge-latency applied to bundled reference-server (naive profile) only"),
        "{:?}",
        c.not_comparable
    );
    assert!(
        (p50.change_vs_first[1].unwrap() - 1.0).abs() < 0.01,
        "twice as slow: {:?}",
        p50.change_vs_first
    );
    let menu = c.requests.iter().find(|r| r.name == "GET /menu").unwrap();
    let count = menu.metrics.iter().find(|m| m.metric == "count").unwrap();
    assert_eq!(count.values, vec![Some(1000.0), Some(1000.0)]);
    assert_eq!(count.best, None);
    assert_eq!(c.runs[1].faults[0].name, "edge-latency");

    let html = std::fs::read_to_string(written.dir.join("compare.html")).unwrap();
    assert_eq!(html.matches("<svg").count(), 5);
    assert!(!html.contains("<script") && !html.contains("<link"));
    assert!(
        html.contains("edge-latency (bundled reference-server (naive profile))"),
        "fault named by run"
    );
    assert!(html.contains("★") && html.contains("+100.0%"));
    let md = std::fs::read_to_string(written.dir.join("compare.md")).unwrap();
    assert!(
        md.contains("### GET /menu") && md.contains("| p50 (ms) |"),
        "{md}"
    );
    let json: compare::Comparison =
        serde_json::from_str(&std::fs::read_to_string(written.dir.join("compare.json")).unwrap())
            .unwrap();
    assert_eq!(json.requests.len(), 3);
    let latest = std::fs::canonicalize(root.path().join("compare/latest")).unwrap();
    assert_eq!(latest, std::fs::canonicalize(&written.dir).unwrap());
}

#[test]
fn compare_refuses_fewer_than_two_runs_and_unreadable_folders() {
    let root = tempfile::tempdir().unwrap();
    let e = compare::load_runs(&[root.path().to_path_buf()]).unwrap_err();
    assert!(e.to_string().contains("at least two runs"), "{e}");
    let e =
        compare::load_runs(&[root.path().to_path_buf(), root.path().to_path_buf()]).unwrap_err();
    assert!(format!("{e:#}").contains("summary.json"), "{e:#}");
    let old = root.path().join("old.json");
    std::fs::write(&old, r#"{"schema_version": 0}"#).unwrap();
    let e = summary::read(&old).unwrap_err();
    assert!(
        e.to_string()
            .contains("schema version 0, this harness reads version 1"),
        "{e}"
    );
}
