//! Regressions judged against baseline runs: tolerances per metric, A/A
//! comparisons that never fail, inconclusive changes with advice, the noise
//! floor of repeats, and the baseline files written next to a report.

use crate::report::{sample, synthetic_run};

use harness::baseline::{compare_to_baseline, RegressionVerdict};
use harness::gate;
use harness::record::Outcome;
use harness::report;
use harness::slo::parse_tolerances;
use harness::summary::Summary;

/// A 10 s run at 100 requests a second whose latencies sit around
/// `center_ms`, jittered per run by `noise` (a share, drawn from `seed`),
/// with one request in `shed_every` shed.
fn run_summary(center_ms: f64, noise: f64, seed: u64, shed_every: u64) -> Summary {
    // A small deterministic generator keeps the test free of flaky randomness.
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as f64 / (1u64 << 31) as f64
    };
    let run_factor = 1.0 + noise * (2.0 * next() - 1.0);
    let samples: Vec<_> = (0..1000u64)
        .map(|i| {
            let spread = 0.5 + next();
            let latency = (center_ms * run_factor * spread).max(1.0) as u64;
            let outcome = if i % shed_every == 0 {
                Outcome::Shed
            } else {
                Outcome::Ok
            };
            sample(0, outcome, i * 10, latency)
        })
        .collect();
    gate::summarize(&synthetic_run(&["GET /menu"], 10, samples), &[])
}

fn runs(center_ms: f64, noise: f64, seeds: std::ops::Range<u64>, shed_every: u64) -> Vec<Summary> {
    seeds
        .map(|s| run_summary(center_ms, noise, s, shed_every))
        .collect()
}

#[test]
fn a_30_percent_slower_candidate_fails_and_an_unchanged_one_passes() {
    let tolerances = parse_tolerances("p95=10%,p50=10%").unwrap();
    let base = runs(100.0, 0.03, 0..5, 1000);
    let slower = runs(130.0, 0.03, 10..15, 1000);
    let cmp = compare_to_baseline(&base, &slower, &tolerances);
    assert_eq!(cmp.verdict, RegressionVerdict::Fail, "{cmp:#?}");
    let p95 = &cmp.checks[0];
    assert!(p95.worsening > 0.2 && p95.ci_low.unwrap() > 0.1, "{p95:#?}");
    assert!(
        p95.message.contains("worse by") && p95.message.contains("95% CI"),
        "{}",
        p95.message
    );

    let same = runs(100.0, 0.03, 20..25, 1000);
    let cmp = compare_to_baseline(&base, &same, &tolerances);
    assert_eq!(cmp.verdict, RegressionVerdict::Pass, "{cmp:#?}");
    assert!(cmp.advice.is_none());
}

#[test]
fn an_a_a_comparison_with_noisy_runs_never_fails() {
    let tolerances = parse_tolerances("p95=10%,throughput=-5%,shed-rate=+1pt").unwrap();
    for trial in 0..20u64 {
        let a = runs(100.0, 0.15, trial * 100..trial * 100 + 5, 50);
        let b = runs(100.0, 0.15, trial * 100 + 50..trial * 100 + 55, 50);
        let cmp = compare_to_baseline(&a, &b, &tolerances);
        assert_ne!(
            cmp.verdict,
            RegressionVerdict::Fail,
            "trial {trial}: {cmp:#?}"
        );
    }
}

#[test]
fn a_change_inside_the_noise_is_inconclusive_with_advice() {
    let tolerances = parse_tolerances("p95=10%").unwrap();
    let a = runs(100.0, 0.25, 0..3, 1000);
    let b = runs(110.0, 0.25, 30..33, 1000);
    let cmp = compare_to_baseline(&a, &b, &tolerances);
    assert_eq!(cmp.verdict, RegressionVerdict::Inconclusive, "{cmp:#?}");
    assert!(
        cmp.advice.as_deref().unwrap().contains("--repeat"),
        "{:?}",
        cmp.advice
    );
}

#[test]
fn shed_rate_points_and_throughput_drops_are_judged_in_their_units() {
    // 1 in 100 shed (1 %) against 1 in 20 (5 %): +4 pt.
    let base = runs(50.0, 0.0, 0..1, 100);
    let worse = runs(50.0, 0.0, 1..2, 20);
    let cmp = compare_to_baseline(&base, &worse, &parse_tolerances("shed-rate=+1pt").unwrap());
    assert_eq!(cmp.verdict, RegressionVerdict::Fail);
    assert!(
        (cmp.checks[0].worsening - 4.0).abs() < 0.01,
        "{:?}",
        cmp.checks[0]
    );
    assert!(
        cmp.checks[0].message.contains("one run a side"),
        "{}",
        cmp.checks[0].message
    );
    assert!(cmp.advice.as_deref().unwrap().contains("--repeat"));
    let cmp = compare_to_baseline(
        &base,
        &worse,
        &parse_tolerances("shed-rate=+5pt,throughput=-5%").unwrap(),
    );
    assert_eq!(cmp.verdict, RegressionVerdict::Pass, "{cmp:#?}");
}

#[test]
fn repeats_against_a_single_baseline_run_measure_the_candidates_noise() {
    let base = runs(100.0, 0.03, 0..1, 1000);
    let slower = runs(130.0, 0.03, 10..15, 1000);
    let cmp = compare_to_baseline(&base, &slower, &parse_tolerances("p95=10%").unwrap());
    assert_eq!(cmp.verdict, RegressionVerdict::Fail);
    assert!(cmp.checks[0].ci_low.is_some(), "{:?}", cmp.checks[0]);
    assert!(
        cmp.advice.as_deref().unwrap().contains("single run"),
        "{:?}",
        cmp.advice
    );
}

#[test]
fn the_noise_floor_of_repeats_reports_their_spread() {
    use harness::baseline::noise_floor;
    use harness::slo::{Metric, Permille};
    let repeats = runs(100.0, 0.10, 0..5, 1000);
    let floor = noise_floor(&repeats, Metric::Percentile(Permille::P95)).unwrap();
    let p95s: Vec<f64> = repeats.iter().map(|s| s.overall.latency_ms.p95).collect();
    assert_eq!(floor.runs, 5);
    assert_eq!(floor.min, p95s.iter().copied().fold(f64::MAX, f64::min));
    assert_eq!(floor.max, p95s.iter().copied().fold(f64::MIN, f64::max));
    assert!(floor.spread > 0.0 && floor.spread < 0.5, "{floor:?}");
    assert!(
        floor.ci_half_width > 0.0 && floor.ci_half_width <= floor.spread,
        "{floor:?}"
    );
    assert!(noise_floor(&repeats[..1], Metric::Percentile(Permille::P95)).is_none());
}

#[test]
fn baseline_outputs_hold_one_case_per_tolerance() {
    let base = runs(100.0, 0.03, 0..5, 1000);
    let slower = runs(130.0, 0.03, 10..15, 1000);
    let cmp = compare_to_baseline(
        &base,
        &slower,
        &parse_tolerances("p95=10%,shed-rate=+1pt").unwrap(),
    );
    let root = tempfile::tempdir().unwrap();
    let run = synthetic_run(
        &["GET /menu"],
        10,
        (0..100).map(|i| sample(0, Outcome::Ok, i * 100, 130)),
    );
    let written =
        report::write_run_report(&run, gate::summarize(&run, &[]), Some(&cmp), root.path())
            .unwrap();
    let dir = &written.dir;
    let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
    assert!(html.contains("Against the baseline: FAIL") && html.contains("p95=+10%"));
    assert_eq!(
        html.matches("<svg").count(),
        5,
        "the charts are still there"
    );
    assert!(html.contains("all.hlog"));
    let junit = std::fs::read_to_string(dir.join("baseline-junit.xml")).unwrap();
    assert_eq!(junit.matches("<testcase ").count(), 2);
    assert_eq!(junit.matches("<failure ").count(), 1);
    assert!(junit.contains("name=\"p95=+10%\""), "{junit}");
    let md = std::fs::read_to_string(dir.join("baseline.md")).unwrap();
    assert!(
        md.contains("FAIL") && md.contains("`p95=+10%`") && md.contains("95% CI"),
        "{md}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("baseline.json")).unwrap()).unwrap();
    assert_eq!(json["verdict"], "fail");
    assert_eq!(
        json["checks"][0]["baseline_values"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
}
