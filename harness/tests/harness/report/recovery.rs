//! Fault recovery judged against something real, on recorded samples: a
//! fault during an overloaded stage (latency climbing before it) has no
//! recovery time, with or without gates; a fault on a steady system recovers
//! when its p95 is back, or when the run's gates hold again.

use super::{gates, sample, synthetic_run, write_report};
use harness::gate;
use harness::record::{FaultWindow, Outcome, RunRecord};
use harness::summary::{RecoveryBasis, NOT_MEASURABLE};

/// 100 requests a second for 40 s, `latency(t_ms)` each, and a fault from 20 s to 25 s.
fn run(latency: impl Fn(u64) -> u64) -> RunRecord {
    let samples = (0..4000u64).map(|i| {
        let at = i * 10;
        sample(0, Outcome::Ok, at, latency(at))
    });
    let mut run = synthetic_run(&["GET /menu"], 40, samples);
    run.faults.push(FaultWindow {
        name: "counter-down".into(),
        link: "edge".into(),
        toxic: "latency 300 ms downstream".into(),
        planned_start_s: 20.0,
        start_s: 20.0,
        end_s: 25.0,
        http_requests: None,
        traffic: None,
    });
    run
}

/// An overloaded stage: the queue (and the latency) climbs by 100 ms a
/// second from 10 s, so by the fault the system is far over any SLO; the
/// fault adds to it, then the queue drains after 30 s.
fn overloaded(at: u64) -> u64 {
    match at {
        0..10_000 => 20,
        10_000..30_000 => 20 + (at - 10_000) / 10,
        _ => 20,
    }
}

#[test]
fn a_fault_during_an_overloaded_stage_has_no_recovery_time_without_gates() {
    let summary = gate::summarize(&run(overloaded), &[]);
    let f = &summary.faults[0];
    assert_eq!(f.recovery_s, None, "{f:?}");
    let r = f.recovery.as_ref().expect("judged");
    assert_eq!(r.basis, RecoveryBasis::P95);
    let why = r.not_measurable.as_deref().expect("not measurable");
    assert!(why.starts_with(NOT_MEASURABLE), "{why}");
    assert!(why.contains("p95 moved from"), "{why}");
}

#[test]
fn a_fault_during_an_overloaded_stage_has_no_recovery_time_against_gates_already_failed() {
    let gates = gates(&["p95 < 250ms", "error-rate < 1%"]);
    let summary = gate::summarize(&run(overloaded), &gates);
    let f = &summary.faults[0];
    assert_eq!(f.recovery_s, None);
    let r = f.recovery.as_ref().unwrap();
    assert_eq!(r.basis, RecoveryBasis::Gates);
    assert_eq!(r.gates, ["p95 < 250ms", "error-rate < 1%"]);
    let why = r.not_measurable.as_deref().unwrap();
    assert!(why.starts_with(NOT_MEASURABLE), "{why}");
    assert!(why.contains("`p95 < 250ms` failed"), "{why}");
    // Every output says so instead of a number.
    let dir = tempfile::tempdir().unwrap();
    let report = write_report(&run(overloaded), &gates, dir.path()).unwrap();
    let folder = &report.dir;
    for file in ["index.html", "summary.md", "summary.json"] {
        let text = std::fs::read_to_string(folder.join(file)).unwrap();
        assert!(text.contains(NOT_MEASURABLE), "{file}");
    }
}

#[test]
fn a_fault_on_a_steady_system_recovers_when_its_gates_hold_again() {
    // Steady at 20 ms; 300 ms during the fault; 150 ms for 4 s after it.
    let latency = |at: u64| match at {
        20_000..25_000 => 300,
        25_000..29_000 => 150,
        _ => 20,
    };
    let with_gates = gate::summarize(&run(latency), &gates(&["p95 < 200ms"]));
    let f = &with_gates.faults[0];
    assert_eq!(f.recovery.as_ref().unwrap().basis, RecoveryBasis::Gates);
    assert_eq!(f.recovery.as_ref().unwrap().not_measurable, None);
    // Second 25 still holds requests that started in the fault (up to 25.3 s).
    assert_eq!(f.recovery_s, Some(1.0), "{f:?}");
    // Without gates, p95 must be back within 20 % of the 20 ms before: second
    // 29 still holds the last 150 ms requests, so at 30 s.
    let without = gate::summarize(&run(latency), &[]);
    let f = &without.faults[0];
    assert_eq!(f.recovery.as_ref().unwrap().basis, RecoveryBasis::P95);
    assert_eq!(f.recovery_s, Some(5.0), "{f:?}");
}

#[test]
fn a_fault_the_gates_hold_through_is_said_so_not_timed() {
    // 300 ms during the fault, under the gate's 500 ms: nothing to recover from.
    let latency = |at: u64| {
        if (20_000..25_000).contains(&at) {
            300
        } else {
            20
        }
    };
    let holding = gates(&["p95 < 500ms"]);
    let summary = gate::summarize(&run(latency), &holding);
    let f = &summary.faults[0];
    let r = f.recovery.as_ref().unwrap();
    assert_eq!(r.basis, RecoveryBasis::Gates);
    assert!(r.held, "{f:?}");
    assert_eq!(f.recovery_s, Some(0.0));
    // A gate the fault breaks is timed as before, not "held".
    let broken = gate::summarize(&run(latency), &gates(&["p95 < 200ms"]));
    assert!(!broken.faults[0].recovery.as_ref().unwrap().held);
    let dir = tempfile::tempdir().unwrap();
    let report = write_report(&run(latency), &holding, dir.path()).unwrap();
    for (file, words) in [
        ("index.html", "the gates held through the fault"),
        ("summary.md", "the gates held through it"),
    ] {
        let text = std::fs::read_to_string(report.dir.join(file)).unwrap();
        assert!(text.contains(words), "{file}: {words}");
    }
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(report.dir.join("summary.json")).unwrap()).unwrap();
    assert_eq!(json["faults"][0]["recovery"]["held"], true);
}
