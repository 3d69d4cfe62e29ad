//! The files of a run report: the folder and its `latest` link, the HTML
//! self-contained with its charts, junit.xml with one case per gate,
//! summary.md, and interrupted or invalid runs said so in every output.

use super::schema::assert_valid_summary;
use super::{gates, known_run, synthetic_run, write_report};
use harness::record::FaultWindow;
use harness::summary::{self, Summary, Verdict};

#[test]
fn a_report_folder_holds_every_file_and_latest_points_at_it() {
    let root = tempfile::tempdir().unwrap();
    let written = write_report(
        &known_run(),
        &gates(&[
            "p99 < 50ms",
            "shed-rate < 0.5%",
            "p50 < 1s for POST /orders",
        ]),
        root.path(),
    )
    .unwrap();
    assert!(
        written.dir.ends_with("synthetic/20261122T013000Z"),
        "{}",
        written.dir.display()
    );
    for file in [
        "summary.json",
        "index.html",
        "junit.xml",
        "summary.md",
        "all.hlog",
        "GET-menu.hlog",
        "POST-orders.hlog",
    ] {
        assert!(written.dir.join(file).is_file(), "{file} missing");
    }
    let latest = std::fs::canonicalize(root.path().join("synthetic/latest")).unwrap();
    assert_eq!(latest, std::fs::canonicalize(&written.dir).unwrap());
    assert_eq!(written.verdict, Verdict::GateFailed);
    assert!(
        written.summary.run.notes.is_empty(),
        "{:?}",
        written.summary.run.notes
    );

    let json = assert_valid_summary(&written.dir);
    assert_eq!(json["verdict"], "gate_failed");
    let back = summary::read(&written.dir).unwrap();
    assert_eq!(back.overall.count, 1010);
    let verdicts = |s: &Summary| {
        s.gates
            .iter()
            .map(|g| (g.gate.to_string(), g.passed, g.actual.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(verdicts(&back), verdicts(&written.summary));
}

#[test]
fn the_html_report_is_self_contained_and_holds_its_charts() {
    let root = tempfile::tempdir().unwrap();
    let mut run = known_run();
    run.faults.push(FaultWindow {
        name: "edge-latency".into(),
        link: "edge".into(),
        toxic: "latency 100 ms downstream".into(),
        planned_start_s: 4.0,
        start_s: 4.01,
        end_s: 6.02,
        http_requests: None,
        traffic: None,
    });
    let written = write_report(&run, &gates(&["p95 < 250ms"]), root.path()).unwrap();
    let html = std::fs::read_to_string(written.dir.join("index.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.trim_end().ends_with("</html>"));
    assert_eq!(html.matches("<svg").count(), 5, "one inline SVG per chart");
    assert_eq!(html.matches("<svg").count(), html.matches("</svg>").count());
    for tag in [
        "table", "tr", "figure", "dl", "ul", "li", "h2", "p", "code", "text",
    ] {
        let (open, close) = (
            html.matches(&format!("<{tag}>")).count() + html.matches(&format!("<{tag} ")).count(),
            html.matches(&format!("</{tag}>")).count(),
        );
        assert_eq!(
            open, close,
            "<{tag}> opened {open} times, closed {close} times"
        );
    }
    assert!(!html.contains("<script"), "no scripts at all");
    assert!(!html.contains("<link"), "no external stylesheets");
    assert!(
        !html.contains("src=\"http"),
        "nothing loaded from the network"
    );
    for part in [
        "Verdict: PASS",
        "GET /menu",
        "POST /orders",
        "fault: edge-latency",
        "stage boundary",
        "warm-up",
        "99.9%",
    ] {
        assert!(html.contains(part), "the report lacks `{part}`");
    }
    assert!(!html.contains("INTERRUPTED") && !html.contains("INVALID RUN"));
}

#[test]
fn interrupted_and_invalid_runs_say_so_in_every_output() {
    let root = tempfile::tempdir().unwrap();
    let mut run = known_run();
    run.stop = Some(harness::stop::StopReason::Sigterm);
    run.notes.push("the target exited early".into());
    run.generator.scheduled_starts = 100;
    run.generator.missed_starts = 40;
    let written = write_report(&run, &gates(&["p95 < 250ms"]), root.path()).unwrap();
    // Stopped early comes first: the figures cover part of the plan.
    assert_eq!(written.verdict, Verdict::Interrupted);
    let html = std::fs::read_to_string(written.dir.join("index.html")).unwrap();
    assert!(
        html.contains("INTERRUPTED")
            && html.contains("INVALID RUN")
            && html.contains("the target exited early")
    );
    let md = std::fs::read_to_string(written.dir.join("summary.md")).unwrap();
    assert!(md.contains("INVALID") && md.contains("INTERRUPTED"), "{md}");
    assert!(md.starts_with("## ⏹️ synthetic: INTERRUPTED"), "{md}");
    let junit = std::fs::read_to_string(written.dir.join("junit.xml")).unwrap();
    assert!(junit.contains("load generator kept its schedule"));
    assert!(junit.contains("<failure type=\"interrupted\" message=\"stopped by SIGTERM"));
    let json = assert_valid_summary(&written.dir);
    assert_eq!(json["run"]["interrupted"], true);
    assert_eq!(json["run"]["stopped_by"], "sigterm");
    assert_eq!(json["verdict"], "interrupted");
}

#[test]
fn a_run_interrupted_before_any_answer_still_gets_a_whole_report() {
    let root = tempfile::tempdir().unwrap();
    let mut run = synthetic_run(&["GET /menu"], 0, []);
    run.stop = Some(harness::stop::StopReason::Sigint);
    run.stages.clear();
    let written = write_report(
        &run,
        &gates(&["p95 < 250ms", "error-rate < 1%"]),
        root.path(),
    )
    .unwrap();
    assert!(
        written.summary.run.notes.is_empty(),
        "{:?}",
        written.summary.run.notes
    );
    assert_eq!(written.summary.overall.count, 0);
    assert_eq!(
        written.verdict,
        Verdict::Interrupted,
        "stopped before any answer: interrupted, whatever the gates say"
    );
    assert!(
        written.summary.gates.iter().any(|g| g.failed()),
        "the gates are still shown as judged"
    );
    let html = std::fs::read_to_string(written.dir.join("index.html")).unwrap();
    assert_eq!(html.matches("<svg").count(), 5);
    assert!(html.contains("INTERRUPTED"));
    assert_valid_summary(&written.dir);
}

#[test]
fn a_latest_that_cannot_be_replaced_is_a_note_not_a_lost_report() {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("synthetic/latest/occupied")).unwrap();
    let written = write_report(&known_run(), &[], root.path()).unwrap();
    assert!(written.dir.join("index.html").is_file());
    let notes = &written.summary.run.notes;
    assert!(
        notes
            .iter()
            .any(|n| n.contains("`latest` link was not updated")),
        "{notes:?}"
    );
    let html = std::fs::read_to_string(written.dir.join("index.html")).unwrap();
    assert!(html.contains("`latest` link was not updated"));
    let leftovers = std::fs::read_dir(root.path().join("synthetic"))
        .unwrap()
        .count();
    assert_eq!(
        leftovers, 2,
        "the run and the old `latest`, no temporary link left behind"
    );
}

#[test]
fn junit_has_one_testcase_per_gate_with_failures_where_expected() {
    let root = tempfile::tempdir().unwrap();
    let written = write_report(
        &known_run(),
        &gates(&[
            "p99 < 50ms",
            "max < 100ms",
            "shed-rate < 2%",
            "throughput >= 200/s",
        ]),
        root.path(),
    )
    .unwrap();
    let junit = std::fs::read_to_string(written.dir.join("junit.xml")).unwrap();
    assert!(junit.starts_with("<?xml"));
    assert_eq!(junit.matches("<testcase ").count(), 4);
    assert_eq!(junit.matches("<failure ").count(), 2);
    assert!(junit.contains("tests=\"4\" failures=\"2\""));
    assert!(
        junit.contains("name=\"max &lt; 100ms\""),
        "gate text is escaped: {junit}"
    );
    assert!(
        junit.contains("max was 500.2ms; the gate requires &lt; 100ms"),
        "{junit}"
    );
    assert!(junit.contains("throughput was 101/s"), "{junit}");
    let md = std::fs::read_to_string(written.dir.join("summary.md")).unwrap();
    assert!(
        md.contains("FAIL") && md.contains("`max < 100ms`") && md.contains("| GET /menu |"),
        "{md}"
    );
}
