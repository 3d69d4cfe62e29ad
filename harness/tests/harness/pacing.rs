//! Open-model pacing: arrivals leave on time to well under a millisecond, so
//! against a backend that answers at once the corrected latency (from the
//! intended start) is the uncorrected one (from the send), give or take the
//! generator's own few microseconds.

use crate::helpers::{report_dir, run_cli, summary, write_scenario};
use axum::routing::get;
use axum::Router;

/// A backend that answers every GET at once, on a loopback port.
async fn instant_backend() -> String {
    let app = Router::new().route("/ping", get(|| async { "ok" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_model_run_on_a_backend_answering_at_once_has_corrected_p50_within_a_tenth_of_a_millisecond_of_uncorrected(
) {
    let url = instant_backend().await;
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        r#"name = "pacing"
seed = 1
[target]
url = "{url}"
[load]
model = "open"
timeout = "2s"
max_users = 50
[[load.stages]]
duration = "1s"
rate = 400
[[load.stages]]
duration = "3s"
rate = 400
[[flows]]
name = "ping"
[[flows.steps]]
method = "GET"
path = "/ping"
"#
    );
    let file = write_scenario(dir.path(), "pacing.toml", &text);
    let reports = dir.path().join("reports");
    let (code, out) = run_cli(&[
        "run",
        file.to_str().unwrap(),
        "--reports-dir",
        reports.to_str().unwrap(),
    ])
    .await;
    assert_eq!(code, 0, "{out}");
    let s = summary(&report_dir(&out));
    let overall = &s["overall"];
    let corrected = overall["latency_ms"]["p50"].as_f64().unwrap();
    let uncorrected = overall["uncorrected_p50_ms"].as_f64().unwrap();
    assert!(
        corrected - uncorrected < 0.1,
        "corrected p50 {corrected} ms vs uncorrected {uncorrected} ms; generator {}",
        s["generator"]
    );
    let lag_p50 = s["generator"]["start_lag_p50_ms"].as_f64().unwrap();
    assert!(
        lag_p50 < 0.1,
        "start lag p50 {lag_p50} ms: {}",
        s["generator"]
    );
}
