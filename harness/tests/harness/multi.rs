//! Runs made of several runs: the same scenario against two backends
//! (compared in one report), and a candidate judged against a baseline run.

use crate::helpers::{report_dir, run_cli, write_scenario};
use std::path::Path;
use std::time::Duration;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Exactly 5 arrivals (a 0 → 10/s ramp over 1 s), one GET each.
const PACED: &str = r#"name = "multi"
seed = 5
[load]
model = "open"
timeout = "2s"
[[load.stages]]
duration = "1s"
rate = 10
[[flows]]
name = "read"
[[flows.steps]]
method = "GET"
path = "/menu"
"#;

async fn backend(delay_ms: u64) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_millis(delay_ms)))
        .mount(&server)
        .await;
    server
}

/// The scenario's requests a backend got (the harness also reads `/metrics`
/// once after the load, which is not the scenario's).
fn requests_seen(received: Option<Vec<wiremock::Request>>) -> usize {
    received.map_or(0, |r| {
        r.iter().filter(|r| r.url.path() != "/metrics").count()
    })
}

async fn run(dir: &Path, extra: &[&str]) -> (u8, String) {
    let file = write_scenario(dir, "multi.toml", PACED);
    let reports = dir.join("reports");
    let mut args = vec![
        "run",
        file.to_str().unwrap(),
        "--reports-dir",
        reports.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    run_cli(&args).await
}

#[tokio::test]
async fn two_targets_get_the_same_scenario_and_one_comparison() {
    let (fast, slow) = (backend(1).await, backend(30).await);
    let dir = tempfile::tempdir().unwrap();
    let (code, out) = run(
        dir.path(),
        &["--target", &fast.uri(), "--target", &slow.uri()],
    )
    .await;
    assert!(code == 0 || code == 4, "exit {code}\n{out}");
    assert_eq!(requests_seen(fast.received_requests().await), 5);
    assert_eq!(requests_seen(slow.received_requests().await), 5);
    // The comparison's line (a warning about a late generator may follow it).
    let last = out
        .lines()
        .rfind(|l| l.starts_with("report: "))
        .expect("a line names the report");
    let compare = Path::new(last.strip_prefix("report: ").unwrap());
    assert!(
        compare.ends_with("compare.html") && compare.is_file(),
        "{last}"
    );
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(compare.with_file_name("compare.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(json["runs"].as_array().unwrap().len(), 2, "{json}");
}

#[tokio::test]
async fn a_candidate_much_slower_than_its_baseline_fails() {
    let dir = tempfile::tempdir().unwrap();
    let base = backend(5).await;
    let (_, out) = run(dir.path(), &["--target", &base.uri()]).await;
    let baseline = report_dir(&out);

    let slow = backend(60).await;
    let (code, out) = run(
        dir.path(),
        &[
            "--target",
            &slow.uri(),
            "--baseline",
            baseline.to_str().unwrap(),
            "--max-regression",
            "p95=10%",
        ],
    )
    .await;
    // 4 outranks 1 when the generator was late on this busy machine.
    assert!(code == 1 || code == 4, "exit {code}\n{out}");
    assert!(out.contains("baseline verdict: FAIL"), "{out}");
    let candidate = report_dir(&out);
    assert!(candidate.join("baseline.json").is_file());
    assert!(candidate.join("baseline.md").is_file());
}
