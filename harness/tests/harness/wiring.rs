//! Fault wiring for an external target: a scenario's `[[links]]` put the
//! built-in fault proxy in front of the backend, the load goes through it,
//! and the fault window is recorded and slows exactly the requests inside it.

use crate::helpers::{report_dir, run_cli, summary, write_scenario};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test]
async fn a_latency_fault_on_a_declared_link_slows_the_requests_inside_its_window() {
    let backend = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&backend)
        .await;
    let upstream = backend.address().to_string();
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        r#"name = "linked"
seed = 1
[target]
url = "{uri}"
[load]
model = "open"
timeout = "2s"
[[load.stages]]
duration = "1s"
rate = 20
[[load.stages]]
duration = "3s"
rate = 20
[[flows]]
name = "read"
[[flows.steps]]
method = "GET"
path = "/menu"
[[links]]
name = "edge"
listen = "127.0.0.1:0"
upstream = "{upstream}"
[[faults]]
name = "slow-edge"
at = "2s"
duration = "1s"
link = "edge"
type = "latency"
attributes = {{ latency = 300 }}
"#,
        uri = backend.uri()
    );
    let file = write_scenario(dir.path(), "linked.toml", &text);
    let reports = dir.path().join("reports");
    let (code, out) = run_cli(&[
        "run",
        file.to_str().unwrap(),
        "--reports-dir",
        reports.to_str().unwrap(),
    ])
    .await;
    assert!(code == 0 || code == 4, "exit {code}\n{out}");
    let s = summary(&report_dir(&out));
    assert_eq!(
        s["overall"]["count"], 70,
        "10 arrivals in the ramp, 60 after"
    );
    let fault = &s["faults"][0];
    assert_eq!(fault["name"], "slow-edge", "{}", s["faults"]);
    assert_eq!(fault["link"], "edge");
    // Requests outside the window are fast (most of them: p50 well under the toxic's 300 ms,
    // with room for a loaded machine); the slowest waited for the toxic.
    assert!(
        s["overall"]["latency_ms"]["p50"].as_f64().unwrap() < 250.0,
        "{}",
        s["overall"]
    );
    assert!(
        s["overall"]["latency_ms"]["max"].as_f64().unwrap() >= 290.0,
        "{}",
        s["overall"]
    );
}

#[tokio::test]
async fn on_another_backend_edge_needs_no_declaration_and_a_gate_during_a_payments_fault_is_refused_before_the_load(
) {
    let backend = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&backend)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let text = r#"name = "bundled-faults"
seed = 1
[load]
model = "open"
timeout = "2s"
[[load.stages]]
duration = "1s"
rate = 20
[[load.stages]]
duration = "3s"
rate = 20
[[flows]]
name = "read"
[[flows.steps]]
method = "GET"
path = "/menu"
[[faults]]
name = "slow-edge"
at = "2s"
duration = "1s"
link = "edge"
type = "latency"
attributes = { latency = 300 }
[[faults]]
name = "slow-payments"
at = "1s"
duration = "1s"
link = "payments"
type = "latency"
attributes = { latency = 800 }
"#;
    let reports = dir.path().join("reports");
    let run = |text: &str| {
        let file = write_scenario(dir.path(), "faults.toml", text);
        let args = [
            "run".to_string(),
            file.display().to_string(),
            "--target".into(),
            backend.uri(),
            "--reports-dir".into(),
            reports.display().to_string(),
        ];
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            run_cli(&args).await
        }
    };
    // `payments` exists only around the bundled server: a gate judged during
    // its fault would judge a window that never happens, so it is refused
    // before anything is sent.
    let gated = text.replacen(
        "seed = 1\n",
        "seed = 1\ngates = [\"p95 < 1s during slow-payments\"]\n",
        1,
    );
    let (code, out) = run(&gated).await;
    assert_eq!(code, 2, "{out}");
    assert!(out.is_empty(), "{out}");
    assert!(!reports.exists(), "nothing ran");
    assert!(backend.received_requests().await.unwrap().is_empty());
    // With no gate on it, the fault is noted as not injected, and `edge`
    // goes in front of the URL with no declaration.
    let (code, out) = run(text).await;
    assert!(code == 0 || code == 4, "exit {code}\n{out}");
    assert!(
        out.contains("fault `slow-payments` was not injected"),
        "{out}"
    );
    let s = summary(&report_dir(&out));
    let faults = s["faults"].as_array().unwrap();
    assert_eq!(faults.len(), 1, "{faults:?}");
    assert_eq!(faults[0]["name"], "slow-edge");
    assert!(
        s["overall"]["latency_ms"]["max"].as_f64().unwrap() >= 290.0,
        "{}",
        s["overall"]
    );
}
