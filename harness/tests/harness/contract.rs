//! The contract: `scenarios/contract.toml` walks every route of the
//! reference server with each answer checked against the target's own
//! `/openapi.json`; a backend that answers a wrong shape is reported request
//! by request, and its `/metrics` is kept beside the report.

use crate::helpers::{repo_file, report_dir, request, run_cli, summary, write_scenario};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

#[tokio::test]
async fn the_contract_scenario_passes_against_the_bundled_server_on_every_route() {
    let dir = tempfile::tempdir().unwrap();
    let reports = dir.path().join("reports");
    let scenario = repo_file("scenarios/contract.toml");
    let (code, out) = run_cli(&[
        "run",
        scenario.to_str().unwrap(),
        "--duration",
        "2s",
        "--reports-dir",
        reports.to_str().unwrap(),
    ])
    .await;
    assert_eq!(code, 0, "{out}");
    let s = summary(&report_dir(&out));
    for r in s["requests"].as_array().unwrap() {
        assert!(
            r["schema_checked"].as_u64().unwrap() > 0,
            "{} was not checked",
            r["name"]
        );
        assert_eq!(
            r["schema_mismatches"], 0,
            "{}: {}",
            r["name"], r["schema_examples"]
        );
    }
    let routes: std::collections::BTreeSet<String> = s["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["name"]
                .as_str()
                .unwrap()
                .split(" (")
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(routes.len(), 12, "all twelve routes: {routes:?}");
    let conditional = request(&s, "GET /menu (If-None-Match)");
    assert_eq!(
        conditional["statuses"]["304"], conditional["count"],
        "{conditional}"
    );
}

/// A stand-in for someone else's backend: it serves the reference server's
/// contract, answers the menu as promised and an order in the wrong shape.
async fn wrong_shape_backend() -> String {
    let doc: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo_file("reference-server/src/openapi.json")).unwrap(),
    )
    .unwrap();
    let app = Router::new()
        .route("/openapi.json", get(move || async move { Json(doc) }))
        .route(
            "/menu",
            get(|| async {
                Json(json!({"version": 1, "items": [
                    {"sku": "latte", "name": "Latte", "price_cents": 450, "available": true}
                ]}))
            }),
        )
        .route(
            "/orders/{id}",
            get(|| async { Json(json!({"id": 17, "state": "done"})) }),
        )
        .route("/metrics", get(|| async { "orders_total 17\n" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

#[tokio::test]
async fn a_backend_answering_a_wrong_shape_is_reported_as_a_schema_mismatch_on_that_request() {
    let url = wrong_shape_backend().await;
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        r#"name = "shape"
gates = ["error-rate <= 0%"]
[target]
url = "{url}"
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
check = "openapi"
[[flows.steps]]
method = "GET"
path = "/orders/ord-1"
check = "openapi"
think = "100ms"
"#
    );
    let file = write_scenario(dir.path(), "shape.toml", &text);
    let reports = dir.path().join("reports");
    let (code, out) = run_cli(&[
        "run",
        file.to_str().unwrap(),
        "--reports-dir",
        reports.to_str().unwrap(),
    ])
    .await;
    assert_eq!(
        code, 1,
        "the error-rate gate fails on the mismatches\n{out}"
    );
    let s = summary(&report_dir(&out));
    let menu = request(&s, "GET /menu");
    assert_eq!(menu["schema_mismatches"], 0, "{menu}");
    let order = request(&s, "GET /orders/ord-1");
    assert!(order["schema_mismatches"].as_u64().unwrap() > 0, "{order}");
    assert_eq!(order["schema_mismatches"], order["schema_checked"]);
    assert_eq!(order["errors"], order["count"], "a wrong shape is an error");
    let why = order["schema_examples"][0].as_str().unwrap();
    assert!(why.starts_with("getOrder 200"), "{why}");
    assert!(why.contains("17"), "the wrong value is named: {why}");
    let html = std::fs::read_to_string(report_dir(&out).join("index.html")).unwrap();
    assert!(
        html.contains("id=\"answers\""),
        "the report has the answers table"
    );
    let prom = std::fs::read_to_string(report_dir(&out).join("server-metrics.prom"))
        .expect("the /metrics of a backend given by URL is kept too");
    assert_eq!(prom, "orders_total 17\n");
    let md = std::fs::read_to_string(report_dir(&out).join("summary.md")).unwrap();
    assert!(
        md.contains("getOrder 200"),
        "summary.md names the mismatch:\n{md}"
    );
}
