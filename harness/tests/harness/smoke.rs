//! End to end: the `smoke` scenario against the real bundled reference
//! server (the harness's count of requests equals the server's own), and the
//! open model's accuracy against a backend with a known fixed delay, and the
//! refusal of a reports folder that cannot be written.

use crate::helpers::{repo_file, report_dir, run_cli, summary, write_scenario};
use std::time::Duration;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Sums `http_requests_total` over the routes the scenario drives (not the
/// harness's own `/ready` probe nor the final `/metrics` read).
fn server_request_count(prometheus: &str) -> u64 {
    prometheus
        .lines()
        .filter(|l| l.starts_with("http_requests_total{"))
        .filter(|l| !l.contains("route=\"/ready\"") && !l.contains("route=\"/metrics\""))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<f64>().unwrap() as u64)
        .sum()
}

#[tokio::test]
async fn the_smoke_scenario_runs_against_the_bundled_server_and_agrees_with_its_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let reports = dir.path().join("reports");
    let smoke = repo_file("scenarios/smoke.toml");
    let (code, out) = run_cli(&[
        "run",
        smoke.to_str().unwrap(),
        "--reports-dir",
        reports.to_str().unwrap(),
    ])
    .await;
    assert_eq!(code, 0, "{out}");
    let run = report_dir(&out);
    assert!(run.starts_with(reports.join("smoke")), "{}", run.display());
    assert!(run.join("index.html").is_file());
    let s = summary(&run);
    let sent = s["overall"]["count"].as_u64().unwrap();
    assert!(
        sent > 20,
        "a few seconds of 4 users send dozens of requests, got {sent}"
    );
    assert_eq!(s["overall"]["errors"], 0, "{}", s["overall"]);

    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo_file("harness/schema/summary.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the committed schema compiles");
    let problems: Vec<String> = validator
        .iter_errors(&s)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(
        problems.is_empty(),
        "summary.json breaks its schema: {problems:#?}"
    );

    let metrics = std::fs::read_to_string(run.join("server-metrics.prom"))
        .expect("the server's /metrics was kept");
    assert_eq!(
        server_request_count(&metrics),
        sent,
        "requests sent = requests the server saw"
    );
}

#[tokio::test]
async fn the_open_model_keeps_its_rate_and_measures_a_fixed_delay() {
    let backend = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_millis(50)))
        .mount(&backend)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let file = crate::helpers::write_scenario(
        dir.path(),
        "paced.toml",
        r#"name = "paced"
seed = 3
[load]
model = "open"
timeout = "2s"
max_users = 100
[[load.stages]]
duration = "1s"
rate = 100
[[load.stages]]
duration = "3s"
rate = 100
[[flows]]
name = "read"
[[flows.steps]]
method = "GET"
path = "/menu"
"#,
    );
    let (code, out) = run_cli(&[
        "run",
        file.to_str().unwrap(),
        "--target",
        &backend.uri(),
        "--reports-dir",
        dir.path().join("reports").to_str().unwrap(),
    ])
    .await;
    // 4 (generator late) is possible on a loaded machine; the figures below must hold anyway.
    assert!(code == 0 || code == 4, "exit code {code}\n{out}");
    let s = summary(&report_dir(&out));
    // 50 arrivals in the 0 → 100/s ramp, then 300 at 100/s: every one sent.
    assert_eq!(s["overall"]["count"], 350);
    assert_eq!(s["generator"]["missed_starts"], 0);
    // Completions per second in the steady part stay near the target rate: paced, not sent in
    // bursts (a burst would put most of the 300 in one second). The band is wide because a
    // loaded machine that stalls the run for a moment moves completions into the next second.
    let counts = s["timeline"]["overall"]["count"].as_array().unwrap();
    for second in 2..4 {
        let n = counts[second].as_u64().unwrap();
        assert!(
            (50..=150).contains(&n),
            "second {second} completed {n} requests, expected ~100: {counts:?}"
        );
    }
    // Never below the backend's delay; above it by what the host adds, which is a few
    // milliseconds on a quiet machine and is left room on a loaded one (the precision itself
    // is the pacing bench's and the generator's own checks' business).
    let p50 = s["overall"]["latency_ms"]["p50"].as_f64().unwrap();
    assert!(
        (49.0..150.0).contains(&p50),
        "p50 {p50} ms against a 50 ms backend"
    );
}

#[test]
fn a_run_stopped_by_sigterm_still_writes_its_report_marked_interrupted() {
    let dir = tempfile::tempdir().unwrap();
    let smoke = repo_file("scenarios/smoke.toml");
    let args = [
        "run",
        smoke.to_str().unwrap(),
        "--duration",
        "60s",
        "--reports-dir",
        "reports",
    ];
    let mut run = crate::helpers::Background::spawn(&args, dir.path(), &[]);
    // Past the server's start, inside the 60 s of load: the line says so. Then past the
    // warm-up's ramp (its first 15 s), which goose ends with "4 users launched.", so that
    // requests have been measured however loaded the machine is.
    run.wait_for_line("load started", crate::interrupt::PHASE);
    run.wait_for_line("4 users launched", crate::interrupt::PHASE);
    run.signal("TERM");
    let started = std::time::Instant::now();
    let (code, stdout) = run.finish(crate::interrupt::PHASE);
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "the run stops promptly"
    );
    assert_eq!(code, Some(130), "{stdout}");
    assert!(
        stdout.contains("interrupted: stopped by SIGTERM"),
        "{stdout}"
    );
    let run = dir.path().join(report_dir(&stdout));
    let s = crate::interrupt::assert_interrupted_everywhere(&run, "sigterm");
    assert!(
        s["run"]["duration_s"].as_f64().unwrap() < 50.0,
        "{}",
        s["run"]
    );
    assert!(
        s["overall"]["count"].as_u64().unwrap() > 0,
        "what was measured is kept"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reports_folder_that_cannot_be_written_is_refused_before_any_load() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let scenario = write_scenario(
        dir.path(),
        "tiny.toml",
        r#"name = "tiny"
[load]
model = "closed"
[[load.stages]]
duration = "1s"
users = 1
[[flows]]
name = "read"
[[flows.steps]]
method = "GET"
path = "/menu"
"#,
    );
    // A file where the reports folder should be: the results would be lost, so nothing runs.
    let not_a_folder = dir.path().join("reports");
    std::fs::write(&not_a_folder, "a file").unwrap();
    let (code, out) = run_cli(&[
        "run",
        scenario.to_str().unwrap(),
        "--target",
        &server.uri(),
        "--reports-dir",
        not_a_folder.to_str().unwrap(),
    ])
    .await;
    assert_eq!(code, harness::exit::USAGE, "{out}");
    assert!(!out.contains("report: "), "{out}");
    server.verify().await;
}
