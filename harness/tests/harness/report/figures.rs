//! The summary's figures computed from known samples: percentiles, shed
//! rate, throughput and timeline, and the before/during/after figures and
//! recovery time of a fault window.

use super::{gates, known_run, sample, synthetic_run};
use harness::gate;
use harness::record::{FaultWindow, Outcome};
use harness::summary::Verdict;

fn close(actual: f64, expected: f64) -> bool {
    (actual - expected).abs() <= expected * 0.01
}

#[test]
fn a_summary_of_known_samples_has_the_expected_percentiles_and_shed_rate() {
    let summary = gate::summarize(&known_run(), &[]);
    let all = &summary.overall;
    assert_eq!(all.count, 1010);
    assert!(
        close(all.latency_ms.p50, 10.0),
        "p50 {}",
        all.latency_ms.p50
    );
    // 1000 of 1010 samples (99.01 %) are at 10 ms, so p99 is 10 ms and p99.9 is 500 ms.
    assert!(
        close(all.latency_ms.p99, 10.0),
        "p99 {}",
        all.latency_ms.p99
    );
    assert!(
        close(all.latency_ms.p99_9, 500.0),
        "p99.9 {}",
        all.latency_ms.p99_9
    );
    assert!(close(all.latency_ms.max, 500.0));
    assert!(
        close(all.uncorrected_p99_ms, 5.0),
        "uncorrected p99 {}",
        all.uncorrected_p99_ms
    );
    assert!((all.shed_rate - 10.0 / 1010.0).abs() < 1e-12);
    assert_eq!(all.error_rate, 0.0);
    assert!(close(all.throughput_rps, 101.0));
    assert_eq!(all.statuses["503"], 10);
    let orders = summary.request(Some("POST /orders")).unwrap();
    assert_eq!((orders.count, orders.shed, orders.shed_rate), (10, 10, 1.0));
    assert!(close(orders.latency_ms.p50, 500.0));
    assert_eq!(summary.timeline.overall.t_s.len(), 11);
    assert_eq!(summary.timeline.overall.count.iter().sum::<u64>(), 1010);
    assert_eq!(summary.timeline.requests["GET /menu"].count[3], 100);
    assert_eq!(summary.verdict, Verdict::Pass);
}

#[test]
fn fault_windows_get_before_during_after_figures_and_a_recovery_time() {
    // 100 requests a second for 40 s: 10 ms, but 300 ms from 10 s to 20 s.
    let samples = (0..4000u64).map(|i| {
        let at = i * 10;
        let latency = if (10_000..20_000).contains(&at) {
            300
        } else {
            10
        };
        sample(0, Outcome::Ok, at, latency)
    });
    let mut run = synthetic_run(&["GET /menu"], 40, samples);
    run.faults.push(FaultWindow {
        name: "payments-latency".into(),
        link: "payments".into(),
        toxic: "latency 300 ms downstream".into(),
        planned_start_s: 10.0,
        start_s: 10.0,
        end_s: 20.0,
        http_requests: None,
        traffic: None,
    });
    let summary = gate::summarize(&run, &gates(&["p95 < 100ms during payments-latency"]));
    let f = &summary.faults[0];
    assert!(
        close(f.before.latency_ms.unwrap().p95, 10.0),
        "{:?}",
        f.before
    );
    assert!(f.during.latency_ms.unwrap().p95 >= 290.0, "{:?}", f.during);
    assert!(
        close(f.after.latency_ms.unwrap().p95, 10.0),
        "{:?}",
        f.after
    );
    assert_eq!((f.before.start_s, f.before.end_s), (0.0, 10.0));
    assert_eq!((f.after.start_s, f.after.end_s), (20.0, 30.0));
    // The requests that started just before 20 s finish at up to 20.3 s, so second 20 is still slow.
    assert_eq!(f.recovery_s, Some(1.0));
    assert_eq!(f.requests[0].name, "GET /menu");
    assert!(!summary.gates[0].passed, "{:?}", summary.gates[0]);
    assert_eq!(summary.verdict, Verdict::GateFailed);
}
