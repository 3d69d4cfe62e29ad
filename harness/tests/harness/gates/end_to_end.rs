//! Gates judged on a real run of the harness against a wiremock backend that
//! answers GET /menu after 50 ms, sheds every GET /busy with 503 and fails
//! every GET /fail with 500, each in its own flow (a failed step ends its
//! iteration), picked 2:1:1.

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

#[test]
fn a_gate_during_a_fault_this_target_cannot_take_is_refused_before_the_load_with_how_to_declare_its_link(
) {
    let dir = tempfile::tempdir().unwrap();
    let spike = crate::helpers::repo_file("scenarios/payment-spike.toml");
    // Nothing listens there: had the run gone past the check, it would exit 3.
    let out = crate::helpers::run_binary(
        &[
            "run",
            spike.to_str().unwrap(),
            "--target",
            "http://127.0.0.1:9",
            "--reports-dir",
            "reports",
        ],
        dir.path(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    for part in [
        "judged during a fault that cannot be injected into http://127.0.0.1:9",
        "fault `payments-503`: its link `payments` exists only around the bundled server",
        "[[targets.links]]",
        "name = \"payments\"",
    ] {
        assert!(stderr.contains(part), "missing {part:?} in:\n{stderr}");
    }
    assert!(!dir.path().join("reports").exists(), "nothing ran");
}
