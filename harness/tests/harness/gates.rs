//! SLO gates judged against summaries of known samples: each kind passing and
//! failing, scoped to a request and to a fault window.

use super::report::{sample, synthetic_run};
use harness::gate::{self, Gate};
use harness::record::{FaultWindow, Outcome, RunRecord};
use harness::report::{self, Summary, Verdict};

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
    });
    run
}

fn summary() -> Summary {
    report::summarize(&run(), &[])
}

fn judge(text: &str) -> gate::GateResult {
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
    let empty = report::summarize(&synthetic_run(&["GET /menu"], 5, []), &[]);
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
    assert_eq!(report::summarize(&run(), &gates).verdict, Verdict::Pass);
    let failing: Vec<Gate> = vec!["p50 < 1ms".parse().unwrap()];
    let s = report::summarize(&run(), &failing);
    assert_eq!(s.verdict, Verdict::GateFailed);
    assert!(
        s.verdict_reason.contains("p50 < 1ms"),
        "{}",
        s.verdict_reason
    );
    let mut behind = run();
    behind.generator.scheduled_starts = 1000;
    behind.generator.missed_starts = 200;
    let s = report::summarize(&behind, &gates);
    assert_eq!(s.verdict, Verdict::Invalid);
    assert!(
        s.verdict_reason.contains("fell behind its schedule"),
        "{}",
        s.verdict_reason
    );
}

mod baseline {
    use super::super::report::{sample, synthetic_run};
    use harness::gate::{compare_to_baseline, parse_tolerances, RegressionVerdict};
    use harness::record::Outcome;
    use harness::report::{self, Summary};

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
        report::summarize(&synthetic_run(&["GET /menu"], 10, samples), &[])
    }

    fn runs(
        center_ms: f64,
        noise: f64,
        seeds: std::ops::Range<u64>,
        shed_every: u64,
    ) -> Vec<Summary> {
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
        use harness::gate::{noise_floor, Metric, Permille};
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
        let written = report::write_run_report(&run, &[], root.path()).unwrap();
        let dir = &written.dir;
        report::write_baseline_files(dir, &cmp).unwrap();
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
            serde_json::from_str(&std::fs::read_to_string(dir.join("baseline.json")).unwrap())
                .unwrap();
        assert_eq!(json["verdict"], "fail");
        assert_eq!(
            json["checks"][0]["baseline_values"]
                .as_array()
                .unwrap()
                .len(),
            5
        );
    }
}

/// Gates judged on a real run of the harness against a wiremock backend that
/// answers GET /menu after 50 ms, sheds every GET /busy with 503 and fails
/// every GET /fail with 500, each in its own flow (a failed step ends its
/// iteration), picked 2:1:1.
mod end_to_end {
    use crate::helpers::{report_dir, run_cli, summary, write_scenario};
    use std::time::Duration;
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    const SCENARIO: &str = r#"name = "gates"
seed = 1

[load]
model = "closed"
timeout = "2s"
[[load.stages]]
duration = "2s"
users = 3

[[flows]]
name = "menu"
weight = 2
[[flows.steps]]
method = "GET"
path = "/menu"

[[flows]]
name = "busy"
weight = 1
[[flows.steps]]
method = "GET"
path = "/busy"

[[flows]]
name = "fail"
weight = 1
[[flows.steps]]
method = "GET"
path = "/fail"
"#;

    async fn backend() -> MockServer {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/menu"))
            .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_millis(50)))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/busy"))
            .respond_with(ResponseTemplate::new(503).insert_header("Retry-After", "1"))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/fail"))
            .respond_with(ResponseTemplate::new(500))
            .mount(&server)
            .await;
        server
    }

    /// (gate, whether it must pass): each kind once on each side of the figures.
    const GATES: [(&str, bool); 20] = [
        ("p50 >= 50ms for GET /menu", true),
        ("p50 < 40ms for GET /menu", false),
        ("p90 < 5s for GET /menu", true),
        ("p90 < 45ms for GET /menu", false),
        ("p95 > 49ms for GET /menu", true),
        ("p95 < 0.04s for GET /menu", false),
        ("p99 < 5s", true),
        ("p99 < 45ms for GET /menu", false),
        ("p99.9 < 5s", true),
        ("p99.9 < 45ms", false),
        ("max >= 50ms", true),
        ("max < 45000us", false),
        ("mean < 5s for GET /menu", true),
        ("mean < 45ms for GET /menu", false),
        ("shed-rate > 10%", true),
        ("shed-rate < 2%", false),
        ("error-rate > 10%", true),
        ("error-rate < 1%", false),
        ("throughput >= 5/s", true),
        ("throughput >= 100000/s", false),
    ];

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn each_gate_kind_passes_and_fails_against_a_backend_with_a_known_delay() {
        let backend = backend().await;
        let dir = tempfile::tempdir().unwrap();
        let file = write_scenario(dir.path(), "gates.toml", SCENARIO);
        let reports = dir.path().join("reports");
        let uri = backend.uri();
        let mut args = vec![
            "run",
            file.to_str().unwrap(),
            "--target",
            &uri,
            "--reports-dir",
            reports.to_str().unwrap(),
        ];
        for (gate, _) in GATES {
            args.extend(["--gate", gate]);
        }
        let (code, out) = run_cli(&args).await;
        assert_eq!(code, 1, "a failed gate exits 1\n{out}");
        let run = report_dir(&out);
        let json = summary(&run);
        let results = json["gates"].as_array().expect("gate results");
        assert_eq!(results.len(), GATES.len());
        for (result, (gate, must_pass)) in results.iter().zip(GATES) {
            assert_eq!(result["gate"], gate);
            assert_eq!(result["passed"], must_pass, "{gate}: {}", result["message"]);
        }
        let junit = std::fs::read_to_string(run.join("junit.xml")).unwrap();
        assert_eq!(junit.matches("<testcase ").count(), GATES.len());
        assert_eq!(junit.matches("<failure ").count(), GATES.len() / 2);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_run_whose_gates_all_hold_exits_0() {
        let backend = backend().await;
        let dir = tempfile::tempdir().unwrap();
        let file = write_scenario(dir.path(), "gates.toml", SCENARIO);
        let reports = dir.path().join("reports");
        let (code, out) = run_cli(&[
            "run",
            file.to_str().unwrap(),
            "--target",
            &backend.uri(),
            "--reports-dir",
            reports.to_str().unwrap(),
            "--gate",
            "p95 < 5s for GET /menu",
            "--gate",
            "shed-rate < 50%",
        ])
        .await;
        assert_eq!(code, 0, "{out}");
        let json = summary(&report_dir(&out));
        assert_eq!(json["verdict"], "pass");
    }
}
