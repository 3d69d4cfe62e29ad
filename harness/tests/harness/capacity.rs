//! `harness capacity` against a backend whose capacity is known.

use crate::helpers::{one_attack_at_a_time, write_scenario};
use axum::{http::StatusCode, routing::get, Router};
use harness::batch::{capacity, CapacityArgs};
use harness::run::RunArgs;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// Serves `slots` requests at once, each taking `service`; any request beyond
/// that is shed with 503 at once. Its capacity is slots / service.
async fn bounded_backend(slots: usize, service: Duration) -> String {
    let sem = Arc::new(Semaphore::new(slots));
    let app = Router::new().route(
        "/job",
        get(move || {
            let sem = Arc::clone(&sem);
            async move {
                match sem.try_acquire() {
                    Ok(_permit) => {
                        tokio::time::sleep(service).await;
                        StatusCode::OK
                    }
                    Err(_) => StatusCode::SERVICE_UNAVAILABLE,
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

const SCENARIO: &str = r#"
name = "bounded"
seed = 7
[load]
model = "open"
timeout = "5s"
[[load.stages]]
duration = "5s"
rate = 100
[[flows]]
name = "work"
weight = 1
[[flows.steps]]
method = "GET"
path = "/job"
expect = [200]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capacity_search_finds_a_backends_known_capacity_within_ten_percent() {
    // 8 slots of 100 ms: 80 requests a second, no more (long enough a
    // service time that timer and scheduling overhead stay a few percent).
    let url = bounded_backend(8, Duration::from_millis(100)).await;
    let dir = tempfile::tempdir().unwrap();
    let scenario = write_scenario(dir.path(), "bounded.toml", SCENARIO);
    let args = CapacityArgs {
        run: RunArgs {
            scenario,
            target: Some(url),
            duration: None,
            scale: None,
            gates: vec![],
            seed: None,
            quiet: true,
            reports_dir: dir.path().join("reports"),
            toxiproxy: None,
            profile: None,
            server_exe: crate::helpers::harness_exe(),
            connect: Default::default(),
            sharding: Default::default(),
            live: Default::default(),
            history: Default::default(),
        },
        slo: "shed-rate<1%".into(),
        start_rate: Some(20.0),
        max_rate: 1000.0,
        step: Duration::from_secs(2),
        precision: 0.04,
        max_steps: 10,
        repeat: 1,
    };
    let _one = one_attack_at_a_time().await;
    let mut out = Vec::new();
    let code = capacity(&args, &mut out).await.expect("the search runs");
    let out = String::from_utf8_lossy(&out);
    assert_eq!(code, 0, "{out}");
    let report_dir = dir.path().join("reports/bounded-capacity/latest");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report_dir.join("capacity.json")).unwrap())
            .unwrap();
    let found = json["capacity"].as_f64().expect("a capacity was found");
    assert!(
        (72.0..=88.0).contains(&found),
        "found {found}/s, expected 80/s ± 10 %\n{out}"
    );
    let html = std::fs::read_to_string(report_dir.join("index.html")).unwrap();
    assert_eq!(html.matches("<svg").count(), 2, "two charts");
    assert!(out.lines().last().unwrap().starts_with("report: "), "{out}");
}
