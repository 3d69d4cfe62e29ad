//! The run report: figures computed from known samples, every file written,
//! summary.json valid against the committed schema, the HTML self-contained
//! with its charts, junit.xml with one case per gate, the `latest` link.

use harness::gate::Gate;
use harness::record::{
    FaultWindow, GeneratorHealth, LoadModel, MachineInfo, Outcome, Recorder, RunMeta, RunRecord,
    Sample, StageMark,
};
use harness::report::{self, Verdict};
use std::path::Path;
use time::macros::datetime;
use time::Duration;

/// A run record of `seconds` seconds made of `samples`, with request names `names`.
pub fn synthetic_run(
    names: &[&str],
    seconds: u64,
    samples: impl IntoIterator<Item = Sample>,
) -> RunRecord {
    let mut recorder = Recorder::new(names.iter().map(|n| n.to_string()).collect());
    for s in samples {
        recorder.record(&s);
    }
    let started_at = datetime!(2026-11-22 01:30:00 UTC);
    RunRecord {
        meta: RunMeta {
            scenario: "synthetic".into(),
            description: "samples with known values".into(),
            scenario_file: "scenarios/synthetic.toml".into(),
            seed: 42,
            target: "http://127.0.0.1:9".into(),
            model: LoadModel::Open,
            started_at,
            ended_at: started_at + Duration::seconds(seconds as i64),
            planned_duration_s: seconds as f64,
            harness_version: "0.1.0".into(),
            git_commit: Some("0123456789abcdef".into()),
            machine: MachineInfo::current(),
        },
        recorder,
        stages: vec![
            StageMark {
                name: "warm-up".into(),
                description: "ramp to 100/s".into(),
                start_s: 0.0,
                end_s: seconds as f64 / 2.0,
            },
            StageMark {
                name: "steady".into(),
                description: "100/s constant".into(),
                start_s: seconds as f64 / 2.0,
                end_s: seconds as f64,
            },
        ],
        faults: Vec::new(),
        generator: GeneratorHealth::default(),
        interrupted: false,
        notes: Vec::new(),
    }
}

/// A finished request of `latency_ms`, intended to start at `at_ms`.
pub fn sample(request: u32, outcome: Outcome, at_ms: u64, latency_ms: u64) -> Sample {
    Sample {
        request,
        status: match outcome {
            Outcome::Ok => 200,
            Outcome::Shed => 503,
            Outcome::HttpError => 500,
            Outcome::Timeout | Outcome::Transport => 0,
        },
        outcome,
        intended_us: at_ms * 1000,
        latency_us: latency_ms * 1000,
        service_us: latency_ms * 1000 / 2,
    }
}

/// 1,000 requests at 10 ms to GET /menu over 10 s, and 10 shed requests at 500 ms to POST /orders.
pub fn known_run() -> RunRecord {
    let fast = (0..1000).map(|i| sample(0, Outcome::Ok, i * 10, 10));
    let slow = (0..10).map(|i| sample(1, Outcome::Shed, i * 1000, 500));
    synthetic_run(&["GET /menu", "POST /orders"], 10, fast.chain(slow))
}

fn gates(texts: &[&str]) -> Vec<Gate> {
    texts.iter().map(|t| t.parse().unwrap()).collect()
}

fn close(actual: f64, expected: f64) -> bool {
    (actual - expected).abs() <= expected * 0.01
}

fn schema() -> serde_json::Value {
    let text = include_str!("../../schema/summary.schema.json");
    serde_json::from_str(text).expect("the committed schema is JSON")
}

fn assert_valid_summary(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("summary.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let validator = jsonschema::draft202012::new(&schema()).expect("the schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&json)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "summary.json breaks its schema: {errors:#?}"
    );
    json
}

#[test]
fn the_committed_schema_is_a_valid_draft_2020_12_schema() {
    let schema = schema();
    if let Err(e) = jsonschema::meta::validate(&schema) {
        panic!("summary.schema.json is not a valid JSON Schema: {e}");
    }
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
}

#[test]
fn a_summary_that_breaks_the_schema_is_caught() {
    let mut json = serde_json::to_value(report::summarize(&known_run(), &[])).unwrap();
    let validator = jsonschema::draft202012::new(&schema()).unwrap();
    assert!(validator.is_valid(&json));
    json["overall"]["shed_rate"] = serde_json::json!(1.5);
    json["verdict"] = serde_json::json!("maybe");
    json["surprise"] = serde_json::json!(true);
    assert_eq!(validator.iter_errors(&json).count(), 3);
}

#[test]
fn a_summary_of_known_samples_has_the_expected_percentiles_and_shed_rate() {
    let summary = report::summarize(&known_run(), &[]);
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
fn a_report_folder_holds_every_file_and_latest_points_at_it() {
    let root = tempfile::tempdir().unwrap();
    let written = report::write_run_report(
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
    let back = report::read_summary(&written.dir).unwrap();
    assert_eq!(back.overall.count, 1010);
    let verdicts = |s: &report::Summary| {
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
    });
    let written = report::write_run_report(&run, &gates(&["p95 < 250ms"]), root.path()).unwrap();
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
    run.interrupted = true;
    run.notes.push("the target exited early".into());
    run.generator.scheduled_starts = 100;
    run.generator.missed_starts = 40;
    let written = report::write_run_report(&run, &gates(&["p95 < 250ms"]), root.path()).unwrap();
    assert_eq!(written.verdict, Verdict::Invalid);
    let html = std::fs::read_to_string(written.dir.join("index.html")).unwrap();
    assert!(
        html.contains("INTERRUPTED")
            && html.contains("INVALID RUN")
            && html.contains("the target exited early")
    );
    let md = std::fs::read_to_string(written.dir.join("summary.md")).unwrap();
    assert!(md.contains("INVALID") && md.contains("INTERRUPTED"), "{md}");
    let junit = std::fs::read_to_string(written.dir.join("junit.xml")).unwrap();
    assert!(junit.contains("load generator kept its schedule"));
    let json = assert_valid_summary(&written.dir);
    assert_eq!(json["run"]["interrupted"], true);
    assert_eq!(json["verdict"], "invalid");
}

#[test]
fn a_run_interrupted_before_any_answer_still_gets_a_whole_report() {
    let root = tempfile::tempdir().unwrap();
    let mut run = synthetic_run(&["GET /menu"], 0, []);
    run.interrupted = true;
    run.stages.clear();
    let written = report::write_run_report(
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
        Verdict::GateFailed,
        "no latency to judge fails p95"
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
    let written = report::write_run_report(&known_run(), &[], root.path()).unwrap();
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
    let written = report::write_run_report(
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
    });
    let summary = report::summarize(&run, &gates(&["p95 < 100ms during payments-latency"]));
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

#[test]
fn histogram_logs_can_be_read_back_by_hdrhistogram() {
    use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
    use hdrhistogram::serialization::Deserializer;
    let root = tempfile::tempdir().unwrap();
    let written = report::write_run_report(&known_run(), &[], root.path()).unwrap();
    let bytes = std::fs::read(written.dir.join("GET-menu.hlog")).unwrap();
    let mut total = 0;
    let mut intervals = 0;
    for entry in IntervalLogIterator::new(&bytes) {
        if let LogEntry::Interval(h) = entry.expect("a well-formed log line") {
            let decoded = base64_decode(h.encoded_histogram());
            let hist: hdrhistogram::Histogram<u64> = Deserializer::new()
                .deserialize(&mut decoded.as_slice())
                .unwrap();
            total += hist.len();
            intervals += 1;
        }
    }
    assert_eq!(total, 1000);
    assert_eq!(intervals, 11);
}

/// Standard base64 (the .hlog encoding), decoded without another dependency.
fn base64_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in text.bytes().filter(|c| *c != b'=') {
        acc = (acc << 6) | ALPHABET.iter().position(|a| *a == c).expect("base64") as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

#[test]
fn a_ten_minute_report_stays_small() {
    // 600 s at 200 requests a second over 4 request names.
    let names = [
        "GET /menu",
        "POST /orders",
        "POST /orders/{id}/payments",
        "GET /orders/{id}",
    ];
    let samples = (0..120_000u64).map(|i| {
        let latency = 5 + (i * 7919) % 200;
        let outcome = if i % 97 == 0 {
            Outcome::Shed
        } else {
            Outcome::Ok
        };
        sample((i % 4) as u32, outcome, i * 5, latency)
    });
    let mut run = synthetic_run(&names, 600, samples);
    run.faults.push(FaultWindow {
        name: "payments-latency".into(),
        link: "payments".into(),
        toxic: "latency 800 ms ± 200 ms downstream".into(),
        planned_start_s: 200.0,
        start_s: 200.0,
        end_s: 260.0,
    });
    let root = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let written = report::write_run_report(&run, &gates(&["p95 < 250ms"]), root.path()).unwrap();
    let elapsed = started.elapsed();
    let html = std::fs::metadata(written.dir.join("index.html"))
        .unwrap()
        .len();
    eprintln!("10-minute report written in {elapsed:?}; index.html {html} bytes");
    assert!(html < 3 * 1024 * 1024, "index.html is {html} bytes");
    // Generous: the figure to reach (< 2 s) is for release builds on an idle machine.
    assert!(elapsed.as_secs() < 60, "took {elapsed:?}");
    assert_valid_summary(&written.dir);
}

mod compare {
    use super::{known_run, sample, synthetic_run};
    use harness::record::{FaultWindow, Outcome};
    use harness::report::{self, compare};

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
        });
        [a, b]
            .iter()
            .map(|run| report::write_run_report(run, &[], root).unwrap().dir)
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
        assert_eq!(p50.best, Some(0), "the faster run has the better p50");
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
        let json: compare::Comparison = serde_json::from_str(
            &std::fs::read_to_string(written.dir.join("compare.json")).unwrap(),
        )
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
        let e = compare::load_runs(&[root.path().to_path_buf(), root.path().to_path_buf()])
            .unwrap_err();
        assert!(format!("{e:#}").contains("summary.json"), "{e:#}");
        let old = root.path().join("old.json");
        std::fs::write(&old, r#"{"schema_version": 0}"#).unwrap();
        let e = report::read_summary(&old).unwrap_err();
        assert!(
            e.to_string()
                .contains("schema version 0, this harness reads version 1"),
            "{e}"
        );
    }
}
