//! A run stopped by Ctrl-C or SIGTERM, at any phase (before its load, during
//! it, while its report is written): the harness exits 130 and every output
//! says INTERRUPTED (SIGTERM during the load: `smoke`). Each test waits for a
//! line the harness prints, never a fixed sleep.

use crate::helpers::{repo_file, report_dir, Background};
use crate::report::schema::assert_valid_summary;
use std::path::Path;
use std::time::Duration;

/// Generous: a loaded 2-core machine starts the bundled server slowly.
pub(crate) const PHASE: Duration = Duration::from_secs(120);

/// Asserts that every output of the run in `dir` says it was interrupted by `by`.
pub(crate) fn assert_interrupted_everywhere(dir: &Path, by: &str) -> serde_json::Value {
    let s = assert_valid_summary(dir);
    assert_eq!(s["verdict"], "interrupted", "{}", s["verdict_reason"]);
    assert_eq!(s["run"]["interrupted"], true);
    assert_eq!(s["run"]["stopped_by"], by);
    let md = std::fs::read_to_string(dir.join("summary.md")).unwrap();
    let headline = md.lines().next().unwrap_or_default();
    assert!(headline.contains("INTERRUPTED"), "{headline}");
    let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
    assert!(html.contains("Verdict: INTERRUPTED"), "index.html headline");
    let junit = std::fs::read_to_string(dir.join("junit.xml")).unwrap();
    assert!(junit.contains("<failure type=\"interrupted\""), "{junit}");
    assert!(!junit.contains("failures=\"0\""), "{junit}");
    s
}

/// `harness run scenarios/smoke.toml --reports-dir reports <extra>`.
fn smoke_args(extra: &[&str]) -> Vec<String> {
    let smoke = repo_file("scenarios/smoke.toml").display().to_string();
    ["run", &smoke, "--reports-dir", "reports"]
        .iter()
        .chain(extra)
        .map(|s| s.to_string())
        .collect()
}

#[test]
fn a_run_stopped_by_ctrl_c_during_its_load_exits_130_and_says_ctrl_c() {
    let dir = tempfile::tempdir().unwrap();
    let mut run = Background::spawn(&smoke_args(&["--duration", "60s"]), dir.path(), &[]);
    run.wait_for_line("load started", PHASE);
    run.signal("INT");
    let (code, out) = run.finish(PHASE);
    assert_eq!(code, Some(130), "{out}");
    assert_interrupted_everywhere(&dir.path().join(report_dir(&out)), "sigint");
}

#[test]
fn a_run_stopped_before_its_load_begins_sends_nothing_and_exits_130() {
    let dir = tempfile::tempdir().unwrap();
    // A common start far ahead: the run waits for it, after its start-up.
    let at = time::OffsetDateTime::now_utc() + Duration::from_secs(600);
    let at = at
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let mut run = Background::spawn(&smoke_args(&["--start-at", &at]), dir.path(), &[]);
    run.wait_for_line("running smoke against", PHASE);
    run.signal("TERM");
    let (code, out) = run.finish(PHASE);
    assert_eq!(code, Some(130), "{out}");
    assert!(!out.contains("load started"), "{out}");
    let s = assert_interrupted_everywhere(&dir.path().join(report_dir(&out)), "sigterm");
    assert_eq!(s["overall"]["count"], 0, "no request was sent");
}

#[test]
fn a_run_stopped_while_its_report_is_written_is_reported_again_as_interrupted() {
    let dir = tempfile::tempdir().unwrap();
    let mut run = Background::spawn(
        &smoke_args(&["--duration", "2s"]),
        dir.path(),
        &[("HARNESS_TEST_HOLD_REPORT", "1")],
    );
    run.wait_for_line("load started", PHASE);
    // The report files are written (with the verdict of a complete run)...
    run.wait_for_line("test hook: report written, holding", PHASE);
    // ...and the stop arrives before the run has ended.
    run.signal("TERM");
    let (code, out) = run.finish(PHASE);
    assert_eq!(code, Some(130), "{out}");
    let s = assert_interrupted_everywhere(&dir.path().join(report_dir(&out)), "sigterm");
    assert!(
        s["overall"]["count"].as_u64().unwrap() > 0,
        "the whole load was measured and kept: {}",
        s["overall"]
    );
}
