//! Each kind of SLO gate judged against summaries of known samples, passing
//! and failing, scoped to a request, a fault window or a stage; unknown names
//! and empty requests; and the run's verdict.

use crate::report::{sample, synthetic_run};

use harness::gate;
use harness::record::{FaultWindow, Outcome, RunRecord};
use harness::slo::Gate;
use harness::summary::{GateResult, Summary, Verdict};

/// 10 s at 100 requests a second: GET /menu 10 ms (90 %), POST /orders 200 ms
/// (10 %) of which half are shed; 2 % of menu reads fail with 500; from 4 s to
/// 6 s every menu read takes 400 ms (fault `edge-latency`).
fn run() -> RunRecord {
    let samples = (0..1000u64).map(|i| {
        let at = i * 10;
        if i % 10 == 0 {
            let outcome = if i % 20 == 0 {
                Outcome::Shed
            } else {
                Outcome::Ok
            };
            sample(1, outcome, at, 200)
        } else {
            let latency = if (4000..6000).contains(&at) { 400 } else { 10 };
            let outcome = if i % 50 == 1 {
                Outcome::HttpError
            } else {
                Outcome::Ok
            };
            sample(0, outcome, at, latency)
        }
    });
    let mut run = synthetic_run(&["GET /menu", "POST /orders"], 10, samples);
    run.faults.push(FaultWindow {
        name: "edge-latency".into(),
        link: "edge".into(),
        toxic: "latency 400 ms downstream".into(),
        planned_start_s: 4.0,
        start_s: 4.0,
        end_s: 6.0,
        http_requests: None,
        traffic: None,
    });
    run
}

fn summary() -> Summary {
    gate::summarize(&run(), &[])
}

fn judge(text: &str) -> GateResult {
    let g: Gate = text.parse().unwrap();
    gate::evaluate(&summary(), &[g]).remove(0)
}

fn passes(text: &str) {
    let r = judge(text);
    assert!(r.passed, "`{text}` should pass: {}", r.message);
}

fn fails(text: &str) {
    let r = judge(text);
    assert!(!r.passed, "`{text}` should fail: {}", r.message);
    assert_ne!(r.actual, "", "a failure says what was measured");
}

#[test]
fn latency_percentile_gates_pass_and_fail_on_their_threshold() {
    // Overall: 72 % at 10 ms, 10 % at 200 ms, 18 % at 400 ms (menu reads during the fault).
    passes("p50 < 20ms");
    fails("p50 < 5ms");
    passes("p90 <= 401ms");
    fails("p90 < 300ms");
    passes("p95 < 450ms");
    fails("p95 < 300ms");
    passes("p99 < 1s");
    fails("p99 < 0.3s");
    passes("p99.9 < 500ms");
    fails("p99.9 < 390ms");
    passes("max <= 401ms");
    fails("max < 399ms");
    passes("mean > 50ms");
    fails("mean < 40000us");
}

#[test]
fn shed_error_and_throughput_gates_pass_and_fail() {
    // 50 of 1000 shed, 20 menu reads failed with 500, 100 requests a second.
    passes("shed-rate < 6%");
    fails("shed-rate < 4%");
    passes("error-rate < 2.5%");
    fails("error-rate < 2%");
    passes("throughput >= 99/s");
    fails("throughput > 150/s");
    let r = judge("shed-rate < 4%");
    assert_eq!(r.actual, "5%");
    assert!(
        r.message
            .contains("shed-rate was 5%; the gate requires < 4%"),
        "{}",
        r.message
    );
}

#[test]
fn a_gate_for_one_request_reads_only_that_request() {
    passes("p99 < 450ms for GET /menu");
    fails("p99 < 250ms for GET /menu");
    fails("p50 < 100ms for POST /orders");
    passes("p50 < 250ms for POST /orders");
    passes("shed-rate < 1% for GET /menu");
    fails("shed-rate < 40% for POST /orders");
    let r = judge("throughput >= 10/s for POST /orders");
    assert!(r.passed && r.actual == "10/s", "{r:?}");
}

#[test]
fn a_gate_during_a_fault_reads_the_figures_of_its_window() {
    // Whole run: p50 of menu reads is 10 ms; during the fault it is 400 ms.
    passes("p50 < 20ms for GET /menu");
    fails("p50 < 20ms for GET /menu during edge-latency");
    passes("p50 < 500ms for GET /menu during edge-latency");
    fails("p95 < 300ms during edge-latency");
    // Slow answers complete later: fewer completions land in the window.
    passes("throughput >= 80/s during edge-latency");
    fails("throughput >= 95/s during edge-latency");
}

#[test]
fn a_gate_during_a_stage_reads_the_figures_of_that_stage() {
    // Stages: warm-up 0-5 s, steady 5-10 s; slow menu reads complete from 4.4 s to 6.4 s.
    passes("p50 < 20ms for GET /menu during steady");
    fails("p95 < 100ms for GET /menu during warm-up");
    passes("shed-rate < 6% during warm-up");
    let s = summary();
    let warm = s.stage("warm-up").unwrap();
    assert_eq!((warm.figures.start_s, warm.figures.end_s), (0.0, 5.0));
    assert_eq!(warm.requests[1].name, "POST /orders");
}

#[test]
fn a_gate_naming_an_unknown_request_or_fault_fails_and_says_why() {
    let r = judge("p95 < 1s for GET /nothing");
    assert!(!r.passed && r.actual == "n/a");
    assert!(
        r.message.contains("no request named `GET /nothing`") && r.message.contains("GET /menu"),
        "{}",
        r.message
    );
    let r = judge("p95 < 1s during no-such-fault");
    assert!(
        !r.passed
            && r.message
                .contains("no fault window or stage named `no-such-fault`")
            && r.message.contains("edge-latency"),
        "{}",
        r.message
    );
}

#[test]
fn a_latency_gate_on_a_request_that_never_completed_fails() {
    let empty = gate::summarize(&synthetic_run(&["GET /menu"], 5, []), &[]);
    let g: Gate = "p95 < 1s".parse().unwrap();
    let r = gate::evaluate(&empty, &[g]).remove(0);
    assert!(
        !r.passed && r.message.contains("no request completed"),
        "{}",
        r.message
    );
}

#[test]
fn the_verdict_is_invalid_when_the_generator_fell_behind_whatever_the_gates_say() {
    let gates: Vec<Gate> = vec!["p50 < 20ms".parse().unwrap()];
    assert_eq!(gate::summarize(&run(), &gates).verdict, Verdict::Pass);
    let failing: Vec<Gate> = vec!["p50 < 1ms".parse().unwrap()];
    let s = gate::summarize(&run(), &failing);
    assert_eq!(s.verdict, Verdict::GateFailed);
    assert!(
        s.verdict_reason.contains("p50 < 1ms"),
        "{}",
        s.verdict_reason
    );
    let mut behind = run();
    behind.generator.scheduled_starts = 1000;
    behind.generator.missed_starts = 200;
    let s = gate::summarize(&behind, &gates);
    assert_eq!(s.verdict, Verdict::Invalid);
    assert!(
        s.verdict_reason.contains("fell behind its schedule"),
        "{}",
        s.verdict_reason
    );
}

#[test]
fn a_gate_during_a_window_that_never_happened_is_not_evaluated_and_never_fails_the_run() {
    use harness::record::MissedWindow;
    let mut run = run();
    run.missed.push(MissedWindow::fault(
        "payments-503",
        "its link `payments` exists only around the bundled server, not in front of http://127.0.0.1:9000",
    ));
    let gates: Vec<Gate> = [
        "shed-rate > 10% during payments-503",
        "p95 < 1s during edge-latency",
    ]
    .iter()
    .map(|g| g.parse().unwrap())
    .collect();
    let s = gate::summarize(&run, &gates);
    let skipped = &s.gates[0];
    assert!(!skipped.passed && !skipped.failed());
    assert_eq!(skipped.actual, "not evaluated");
    let why = skipped.not_evaluated.as_deref().unwrap();
    assert!(why.contains("fault `payments-503` did not happen"), "{why}");
    assert!(
        why.contains("exists only around the bundled server"),
        "{why}"
    );
    assert!(s.gates[1].passed, "{}", s.gates[1].message);
    assert_eq!(s.verdict, Verdict::Pass, "{}", s.verdict_reason);
    assert!(
        s.verdict_reason.contains("1 not evaluated"),
        "{}",
        s.verdict_reason
    );

    // Every output says so.
    let dir = tempfile::tempdir().unwrap();
    let mut written = s.clone();
    harness::report::write_report_files(&run, &mut written, None, dir.path()).unwrap();
    let json = crate::report::schema::assert_valid_summary(dir.path());
    assert_eq!(json["gates"][0]["not_evaluated"], why);
    assert_eq!(json["missed_windows"][0]["name"], "payments-503");
    let junit = std::fs::read_to_string(dir.path().join("junit.xml")).unwrap();
    assert!(
        junit.contains("<skipped message=\"not evaluated: fault `payments-503`"),
        "{junit}"
    );
    assert!(
        junit.contains("failures=\"0\"") && junit.contains("skipped=\"1\""),
        "{junit}"
    );
    let md = std::fs::read_to_string(dir.path().join("summary.md")).unwrap();
    assert!(
        md.contains("| ➖ | `shed-rate > 10% during payments-503` | not evaluated |"),
        "{md}"
    );
    let html = std::fs::read_to_string(dir.path().join("index.html")).unwrap();
    assert!(
        html.contains("<td class=\"muted\">not evaluated</td>"),
        "{html}"
    );
}

#[test]
fn a_gate_during_a_window_the_plan_does_not_have_still_fails() {
    fails("p95 < 1s during no-such-window");
}
