//! Suites of runs driven through the library (`harness::suite`): a backend
//! made 30 % slower fails its baseline, an unchanged one does not, an A/A
//! run is never a FAIL, several targets give one comparison, and `compare`
//! of finished runs matches their summaries. Backends are wiremock servers
//! with a known fixed delay; every run lasts about two seconds.

use crate::helpers::{harness_exe, one_attack_at_a_time, summary, write_scenario};
use harness::run::{RunArgs, RunError};
use harness::suite::{compare_runs, run_suite, SuiteArgs};
use std::path::{Path, PathBuf};
use std::time::Duration;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Four users in a closed loop for 2 s: about 150 requests at a 40 ms delay,
/// enough for a steady p95.
const STEADY: &str = r#"name = "suite"
seed = 9
[load]
model = "closed"
timeout = "2s"
[[load.stages]]
duration = "1s"
users = 4
[[load.stages]]
duration = "1s"
users = 4
[[flows]]
name = "read"
[[flows.steps]]
method = "GET"
path = "/menu"
"#;

/// The backend's service time; a regression adds 30 % to it.
const DELAY_MS: u64 = 40;

async fn backend(delay_ms: u64) -> MockServer {
    let server = MockServer::start().await;
    set_delay(&server, delay_ms).await;
    server
}

/// Replaces the backend's behaviour: every request answered 200 after `delay_ms`.
async fn set_delay(server: &MockServer, delay_ms: u64) {
    server.reset().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_millis(delay_ms)))
        .mount(server)
        .await;
}

/// A suite of the steady scenario (written into `dir`) against `target`.
fn suite(dir: &Path, target: Option<&MockServer>) -> SuiteArgs {
    let scenario = write_scenario(dir, "suite.toml", STEADY);
    SuiteArgs {
        run: RunArgs {
            scenario,
            target: target.map(MockServer::uri),
            duration: None,
            scale: None,
            gates: Vec::new(),
            seed: None,
            quiet: true,
            reports_dir: dir.join("reports"),
            toxiproxy: None,
            profile: None,
            server_exe: harness_exe(),
        },
        targets: Vec::new(),
        repeat: 1,
        baseline: Vec::new(),
        baseline_target: None,
        max_regression: None,
    }
}

/// Runs the suite (one at a time); the exit code and what it printed.
async fn run(args: &SuiteArgs) -> (u8, String) {
    let _one = one_attack_at_a_time().await;
    let mut out = Vec::new();
    let code = run_suite(args, &mut out)
        .await
        .unwrap_or_else(|e| panic!("the suite could not run: {e}"));
    (code, String::from_utf8_lossy(&out).into_owned())
}

/// The folder named by the last `report:` line.
fn reported(out: &str) -> PathBuf {
    let line = out
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("report: "))
        .unwrap_or_else(|| panic!("no report line in\n{out}"));
    Path::new(line).parent().unwrap().to_path_buf()
}

/// One plain run against `server`; its run folder.
async fn baseline_run(dir: &Path, server: &MockServer) -> PathBuf {
    let (code, out) = run(&suite(dir, Some(server))).await;
    assert_eq!(code, 0, "{out}");
    reported(&out)
}

#[tokio::test]
async fn a_backend_made_thirty_percent_slower_fails_its_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let server = backend(DELAY_MS).await;
    let base = baseline_run(dir.path(), &server).await;

    set_delay(&server, DELAY_MS * 13 / 10).await;
    let mut args = suite(dir.path(), Some(&server));
    args.baseline = vec![base];
    args.repeat = 2;
    args.max_regression = Some("p95=10%".into());
    let (code, out) = run(&args).await;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("baseline verdict: FAIL"), "{out}");
    // Which figure, by how much, with what confidence.
    let line = out
        .lines()
        .find(|l| l.trim_start().starts_with("FAIL") && l.contains("p95:"))
        .unwrap_or_else(|| panic!("no failing p95 line in\n{out}"));
    assert!(
        line.contains("worse by") && line.contains("95% CI"),
        "{line}"
    );
    let candidate = reported(&out);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(candidate.join("baseline.json")).unwrap())
            .unwrap();
    assert_eq!(json["verdict"], "fail");
    assert_eq!(json["candidate_runs"], 2);
    let worsening = json["checks"][0]["worsening"].as_f64().unwrap();
    assert!(
        (0.15..0.45).contains(&worsening),
        "a 30 % slower backend measured {:.0} % worse",
        worsening * 100.0
    );
    assert!(candidate.join("baseline-junit.xml").is_file());
}

#[tokio::test]
async fn an_unchanged_backend_does_not_fail_its_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let server = backend(DELAY_MS).await;
    let base = baseline_run(dir.path(), &server).await;

    let mut args = suite(dir.path(), Some(&server));
    args.baseline = vec![base.join("summary.json")];
    args.repeat = 2;
    args.max_regression = Some("p95=10%,throughput=-5%".into());
    let (code, out) = run(&args).await;
    assert!(code == 0 || code == 5, "exit {code}\n{out}");
    assert!(!out.contains("baseline verdict: FAIL"), "{out}");
    if code == 5 {
        assert!(out.contains("advice: "), "{out}");
    }
}

#[tokio::test]
async fn an_a_a_run_interleaved_in_one_job_is_never_a_failure() {
    let dir = tempfile::tempdir().unwrap();
    let server = backend(DELAY_MS).await;
    let mut args = suite(dir.path(), Some(&server));
    args.baseline_target = Some(server.uri());
    args.repeat = 2;
    let (code, out) = run(&args).await;
    assert!(code == 0 || code == 5, "exit {code}\n{out}");
    // Base and candidate alternate: A B A B.
    let order: Vec<&str> = out
        .lines()
        .filter_map(|l| l.strip_prefix("run "))
        .map(|l| l.split(": ").nth(1).unwrap().split(' ').next().unwrap())
        .collect();
    assert_eq!(
        order,
        ["baseline", "candidate", "baseline", "candidate"],
        "{out}"
    );
    assert!(
        out.contains("(2 baseline run(s), 2 candidate run(s))"),
        "{out}"
    );
    let received = server.received_requests().await.unwrap().len();
    assert!(received > 100, "four runs sent only {received} requests");
    // Base and candidate runs are also set side by side.
    let compare = out
        .lines()
        .find_map(|l| l.strip_prefix("comparison: "))
        .unwrap_or_else(|| panic!("no comparison in\n{out}"));
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(Path::new(compare).with_file_name("compare.json")).unwrap(),
    )
    .unwrap();
    let labels: Vec<&str> = json["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["label"].as_str().unwrap())
        .collect();
    let url = server.uri();
    assert_eq!(
        labels,
        [
            format!("baseline {url} #1"),
            format!("candidate {url} #1"),
            format!("baseline {url} #2"),
            format!("candidate {url} #2"),
        ]
    );
}

#[tokio::test]
async fn repeats_alone_report_the_spread_of_p95_and_throughput() {
    let dir = tempfile::tempdir().unwrap();
    let server = backend(DELAY_MS).await;
    let mut args = suite(dir.path(), Some(&server));
    args.repeat = 2;
    let (code, out) = run(&args).await;
    assert_eq!(code, 0, "{out}");
    let p95 = out
        .lines()
        .find(|l| l.trim_start().starts_with("p95 median"))
        .unwrap_or_else(|| panic!("no p95 spread in\n{out}"));
    let median: f64 = p95.split_whitespace().nth(2).unwrap().parse().unwrap();
    assert!(
        (DELAY_MS as f64..DELAY_MS as f64 * 3.0).contains(&median),
        "{p95}"
    );
    assert!(
        p95.contains("over 2 runs") && p95.contains("spread"),
        "{p95}"
    );
    assert!(out.contains("throughput median"), "{out}");
}

#[tokio::test]
async fn the_bundled_server_in_two_profiles_is_compared_under_the_same_load() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = suite(dir.path(), None);
    args.targets = vec!["bundled:default".into(), "bundled:naive".into()];
    let (code, out) = run(&args).await;
    assert_eq!(code, 0, "{out}");
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(reported(&out).join("compare.json")).unwrap(),
    )
    .unwrap();
    let runs = json["runs"].as_array().unwrap();
    let labels: Vec<&str> = runs.iter().map(|r| r["label"].as_str().unwrap()).collect();
    assert_eq!(labels, ["bundled:default", "bundled:naive"]);
    let targets: Vec<&str> = runs.iter().map(|r| r["target"].as_str().unwrap()).collect();
    assert_eq!(
        targets,
        [
            "bundled reference-server (default profile)",
            "bundled reference-server (naive profile)"
        ]
    );
    let counts = compared(&json, "count");
    assert!(counts.iter().all(|&n| n > 20.0), "{counts:?}");
}

#[tokio::test]
async fn two_targets_get_the_same_scenario_and_one_comparison_naming_them() {
    let dir = tempfile::tempdir().unwrap();
    let (fast, slow) = (backend(5).await, backend(DELAY_MS).await);
    let mut args = suite(dir.path(), None);
    args.targets = vec![fast.uri(), slow.uri()];
    let (code, out) = run(&args).await;
    assert_eq!(code, 0, "{out}");
    let compare = reported(&out);
    assert!(compare.join("compare.html").is_file(), "{out}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(compare.join("compare.json")).unwrap())
            .unwrap();
    let labels: Vec<&str> = json["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, [fast.uri(), slow.uri()]);
    assert_eq!(json["runs"][0]["seed"], json["runs"][1]["seed"]);
    for server in [&fast, &slow] {
        let n = server.received_requests().await.unwrap().len();
        assert!(n > 20, "{} got only {n} requests", server.uri());
    }
    // The fast backend has the better p95, and the printed table marks it.
    let p95 = out.lines().find(|l| l.starts_with("p95 ")).unwrap();
    let best = p95.find('*').expect("a best value is marked");
    assert!(best < p95.rfind("ms").unwrap(), "{p95}");
}

/// The value of one metric's row in compare.json's "all requests" table.
fn compared(json: &serde_json::Value, metric: &str) -> Vec<f64> {
    json["requests"][0]["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["metric"] == metric)
        .unwrap_or_else(|| panic!("no {metric} row"))["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect()
}

#[tokio::test]
async fn compare_of_two_runs_renders_a_table_that_matches_their_summaries() {
    let dir = tempfile::tempdir().unwrap();
    let (fast, slow) = (backend(5).await, backend(DELAY_MS).await);
    let a = baseline_run(dir.path(), &fast).await;
    let b = baseline_run(dir.path(), &slow).await;

    let mut out = Vec::new();
    let reports = dir.path().join("compared");
    let code = compare_runs(&[a.clone(), b.join("summary.json")], &reports, &mut out)
        .await
        .unwrap();
    let out = String::from_utf8_lossy(&out);
    assert_eq!(code, 0, "{out}");
    let folder = reported(&out);
    assert!(folder.starts_with(reports.join("compare")), "{out}");
    let html = std::fs::read_to_string(folder.join("compare.html")).unwrap();
    assert!(html.contains("<svg"), "compare.html inlines its charts");
    assert!(folder.join("compare.md").is_file());
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(folder.join("compare.json")).unwrap())
            .unwrap();
    let (sa, sb) = (summary(&a), summary(&b));
    let figure = |s: &serde_json::Value, path: &[&str]| {
        path.iter()
            .fold(&s["overall"], |v, k| &v[*k])
            .as_f64()
            .unwrap()
    };
    assert_eq!(
        compared(&json, "p95"),
        [
            figure(&sa, &["latency_ms", "p95"]),
            figure(&sb, &["latency_ms", "p95"])
        ]
    );
    assert_eq!(
        compared(&json, "throughput"),
        [
            figure(&sa, &["throughput_rps"]),
            figure(&sb, &["throughput_rps"])
        ]
    );
    assert_eq!(
        compared(&json, "count"),
        [figure(&sa, &["count"]), figure(&sb, &["count"])]
    );
    let p95 = compared(&json, "p95");
    assert!(p95[0] < p95[1], "5 ms against 40 ms: {p95:?}");
}

#[tokio::test]
async fn compare_names_a_path_that_is_not_a_run() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-run");
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let mut out = Vec::new();
    let err = compare_runs(&[empty.clone(), missing.clone()], dir.path(), &mut out)
        .await
        .unwrap_err();
    assert!(matches!(err, RunError::Usage(_)), "{err}");
    let text = err.to_string();
    assert!(
        text.contains(&empty.display().to_string()) && text.contains("no summary.json"),
        "{text}"
    );
    let err = compare_runs(&[missing.clone(), missing.clone()], dir.path(), &mut out)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("does not exist"), "{err}");
}

#[tokio::test]
async fn bad_suite_flags_are_refused_before_any_run_naming_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let refused = |args: SuiteArgs| async move {
        let mut out = Vec::new();
        match run_suite(&args, &mut out).await {
            Err(e @ RunError::Usage(_)) => e.to_string(),
            other => panic!("expected a usage error, got {other:?}"),
        }
    };
    let mut args = suite(dir.path(), None);
    args.baseline = vec![dir.path().join("missing")];
    let e = refused(args).await;
    assert!(
        e.starts_with("--baseline ") && e.contains("does not exist"),
        "{e}"
    );

    let mut args = suite(dir.path(), None);
    args.baseline_target = Some("bundled:turbo".into());
    let e = refused(args).await;
    assert!(
        e.contains("--baseline-target") && e.contains("no profile `turbo`"),
        "{e}"
    );

    let mut args = suite(dir.path(), None);
    args.targets = vec!["http://192.0.2.1:80".into(), "bundled:naive".into()];
    let e = refused(args).await;
    assert!(e.contains("--target") && e.contains("loopback"), "{e}");

    let mut args = suite(dir.path(), None);
    args.max_regression = Some("p95=10%".into());
    args.repeat = 3;
    assert!(refused(args)
        .await
        .contains("--max-regression needs a baseline"));

    let mut args = suite(dir.path(), None);
    args.baseline_target = Some("bundled:default".into());
    args.max_regression = Some("p97=10%".into());
    assert!(refused(args).await.contains("unknown metric `p97`"));
}
