//! Window gates on a real run: a backend that slows down for the last
//! second and a half of a 5 s run. A whole-run p95 dilutes the slow end
//! among the fast seconds; a 1 s window sees it.

use super::{backend, menu_scenario};
use crate::helpers::{report_dir, run_cli, write_scenario};
use std::time::Duration;

fn gate<'a>(s: &'a serde_json::Value, text: &str) -> &'a serde_json::Value {
    s["gates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["gate"] == text)
        .unwrap_or_else(|| panic!("no gate {text:?} in {}", s["gates"]))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_slow_end_fails_a_window_gate_names_its_worst_window_and_reaches_every_report() {
    let backend = backend(Duration::from_millis(3500), Duration::from_millis(400)).await;
    let dir = tempfile::tempdir().unwrap();
    let file = write_scenario(dir.path(), "live.toml", &menu_scenario(5, 3, "5s", ""));
    let reports = dir.path().join("reports");
    let (code, out) = run_cli(&[
        "run",
        file.to_str().unwrap(),
        "--target",
        &backend.url,
        "--reports-dir",
        reports.to_str().unwrap(),
        "--gate",
        "p95 < 300ms over 1s",
        "--gate",
        "p95 < 300ms over 1s at most 90% of windows",
        "--gate",
        "throughput > 0/s over 2s",
    ])
    .await;
    assert_eq!(code, 1, "a window failed: {out}");
    let run = report_dir(&out);
    let s = crate::report::schema::assert_valid_summary(&run);
    let strict = gate(&s, "p95 < 300ms over 1s");
    assert_eq!(strict["passed"], false, "{strict}");
    let w = &strict["window"];
    assert_eq!(w["length_s"], 1);
    let judged = w["judged"].as_u64().unwrap();
    let failed = w["failed"].as_u64().unwrap();
    assert!(judged >= 4, "a window a second: {w}");
    assert!(
        failed >= 1 && failed < judged,
        "the fast seconds pass, the slow fail: {w}"
    );
    let worst = &w["worst"];
    assert!(worst["value"].as_f64().unwrap() >= 390.0, "{worst}");
    assert!(
        worst["start_s"].as_f64().unwrap() >= 3.0,
        "the slow end: {worst}"
    );
    assert_eq!(
        worst["end_s"].as_f64().unwrap() - worst["start_s"].as_f64().unwrap(),
        1.0
    );
    assert_eq!(strict["actual_value"], worst["value"]);
    // The whole run's p95 is diluted by the fast seconds; the worst window's is not.
    let whole_p95 = s["overall"]["latency_ms"]["p95"].as_f64().unwrap();
    assert!(whole_p95 <= worst["value"].as_f64().unwrap(), "{whole_p95}");
    // With a tolerated share, the same windows pass.
    assert_eq!(
        gate(&s, "p95 < 300ms over 1s at most 90% of windows")["passed"],
        true
    );
    let tput = gate(&s, "throughput > 0/s over 2s");
    assert_eq!(tput["passed"], true, "{tput}");
    assert_eq!(tput["window"]["failed"], 0);
    // summary.md, junit.xml and index.html carry the windows.
    let md = std::fs::read_to_string(run.join("summary.md")).unwrap();
    assert!(md.contains("### Window gates"), "{md}");
    assert!(md.contains(&format!("{failed} of {judged}")), "{md}");
    let junit = std::fs::read_to_string(run.join("junit.xml")).unwrap();
    assert!(
        junit.contains(&format!("{failed} of {judged} windows of 1 s failed")),
        "{junit}"
    );
    let html = std::fs::read_to_string(run.join("index.html")).unwrap();
    assert!(html.contains("id=\"window-gates\""));
    assert!(backend.hits() > 0);
}

#[tokio::test]
async fn a_gate_that_aborts_must_be_a_window_gate_and_after_needs_abort() {
    let dir = tempfile::tempdir().unwrap();
    for (gates, expected) in [
        (
            r#"{ gate = "p95 < 500ms", abort = true }"#,
            "only a window gate can stop the run early",
        ),
        (
            r#"{ gate = "p95 < 500ms over 10s", after = "5s" }"#,
            "needs `abort = true`",
        ),
        (r#""p95 < 500ms over 1.5s""#, "whole seconds or minutes"),
    ] {
        let file = write_scenario(dir.path(), "bad.toml", &menu_scenario(1, 1, "1s", gates));
        let (code, _) = run_cli(&[
            "run",
            file.to_str().unwrap(),
            "--target",
            "http://127.0.0.1:9",
            "--dry-run",
        ])
        .await;
        assert_eq!(code, 2, "{gates}");
        let err = harness::scenario::load(&file).unwrap_err().to_string();
        assert!(err.contains(expected), "{gates}: {err}");
        assert!(err.contains("gates[0]"), "{err}");
    }
}
