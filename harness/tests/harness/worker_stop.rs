//! `type = "worker_stop"` faults against the bundled server: the window is
//! recorded like a proxy fault, the worker is started again at its end, and
//! the orders the station re-queued in it are reported; bad ones are refused
//! with file, line and field.

use crate::helpers::{report_dir, run_cli, summary, write_scenario};
use std::path::Path;

/// Paid takeout orders keep both counter workers busy; counter-1 holds a
/// 1.5 s order when it is stopped at 2 s, and it is found silent after 1 s
/// (twenty beats: one slow commit on a loaded machine, during which a worker
/// cannot beat, does not pass for a death) well within the 3 s window.
const SCENARIO: &str = r#"name = "worker-stop"
seed = 7

[target]
profile = "default"
server_args = [
  "--stations", "grill:dine_in:1:20,counter:takeout:2:40,packing:delivery:1:20",
  "--prep-time-ms", "1500",
  "--heartbeat-ms", "50",
  "--heartbeat-timeout-ms", "1000",
]

[load]
model = "closed"
timeout = "5s"
[[load.stages]]
duration = "7s"
users = 4

[[flows]]
name = "takeout"
[[flows.steps]]
name = "POST /orders takeout"
method = "POST"
path = "/orders"
headers = { "Idempotency-Key" = "{{idempotency_key}}" }
body = { store_id = "store-1", customer = { name = "Ada" }, order_type = { kind = "takeout" }, items = [{ sku = "latte", quantity = 1 }] }
expect = [201, 503]
capture = { order_id = "/id" }
[[flows.steps]]
name = "POST /orders/{id}/payments"
method = "POST"
path = "/orders/{{order_id}}/payments"
body = { method = "card", card_token = "tok_visa" }
expect = [200, 402]
think = "200ms"

[[faults]]
name = "counter-1-down"
at = "2s"
duration = "3s"
link = "kitchen"
type = "worker_stop"
attributes = { worker = "counter-1" }
"#;

#[tokio::test]
async fn a_worker_stop_window_is_recorded_undone_and_its_requeued_orders_reported() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_scenario(dir.path(), "worker-stop.toml", SCENARIO);
    let reports = dir.path().join("reports");
    let (code, out) = run_cli(&[
        "run",
        file.to_str().unwrap(),
        "--reports-dir",
        reports.to_str().unwrap(),
    ])
    .await;
    let report = report_dir(&out);
    let s = summary(&report);
    let faults = s["faults"].as_array().expect("faults in summary.json");
    assert_eq!(faults.len(), 1, "{faults:#?} (exit {code})");
    let w = &faults[0];
    assert_eq!(w["name"], "counter-1-down");
    assert_eq!(w["link"], "kitchen");
    let (start, end) = (w["start_s"].as_f64().unwrap(), w["end_s"].as_f64().unwrap());
    // Never early; late by what a loaded machine takes to send the admin call.
    assert!((1.9..3.5).contains(&start), "window opens at 2 s: {start}");
    assert!((4.9..6.5).contains(&end), "window closes at 5 s: {end}");
    assert!(w["before"].is_object() && w["during"].is_object() && w["after"].is_object());
    let toxic = w["toxic"].as_str().unwrap();
    let requeued: u64 = toxic
        .split(": ")
        .nth(1)
        .and_then(|t| t.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a re-queued count in {toxic:?}"));
    assert!(
        toxic.starts_with("worker_stop counter-1 (station counter)"),
        "{toxic}"
    );
    assert!(
        requeued >= 1,
        "counter-1's held order is re-queued: {toxic}"
    );
    let notes = s["run"]["notes"].to_string();
    assert!(
        notes.contains(&format!("station counter re-queued {requeued} orders")),
        "{notes}"
    );
    // The server's /metrics, read after the window closed: counter-1 is back.
    let metrics = std::fs::read_to_string(report.join("server-metrics.prom")).unwrap();
    assert!(
        metrics.contains("kitchen_worker_online{worker=\"counter-1\",station=\"counter\"} 1"),
        "counter-1 is started again at the window's end"
    );
    // The admin token the harness made is in no report file.
    for entry in std::fs::read_dir(&report).unwrap() {
        let path = entry.unwrap().path();
        if let Ok(text) = std::fs::read_to_string(&path) {
            let token_like = text.match_indices("harness-").any(|(i, _)| {
                let rest = &text[i + 8..];
                rest.len() >= 32 && rest[..32].chars().all(|c| c.is_ascii_hexdigit())
            });
            assert!(!token_like, "no admin token in {path:?}");
            assert!(!text.contains("--admin-token"), "{path:?}");
        }
    }
}

fn refused(text: &str) -> harness::scenario::ScenarioError {
    harness::scenario::parse(text, Path::new("scenarios/bad.toml"))
        .expect_err("the scenario is refused")
}

fn line_of(text: &str, needle: &str) -> usize {
    text[..text.find(needle).expect("in the text")]
        .matches('\n')
        .count()
        + 1
}

#[test]
fn a_worker_stop_without_a_worker_is_refused_with_file_line_and_field() {
    let text = SCENARIO.replace(
        "attributes = { worker = \"counter-1\" }",
        "attributes = { name = \"counter-1\" }",
    );
    let e = refused(&text);
    let line = line_of(&text, "attributes = { name");
    assert_eq!(e.line, line, "{e}");
    assert_eq!(e.field, "faults[0].attributes.name", "{e}");
    assert!(
        e.to_string()
            .starts_with(&format!("scenarios/bad.toml:{line}:")),
        "{e}"
    );
    let text = SCENARIO.replace("attributes = { worker = \"counter-1\" }\n", "");
    let e = refused(&text);
    assert_eq!(e.field, "faults[0].attributes", "{e}");
    assert!(
        e.to_string().contains("needs `attributes = { worker"),
        "{e}"
    );
}

#[test]
fn a_worker_stop_on_an_unknown_worker_or_a_network_link_is_refused() {
    let text = SCENARIO.replace("worker = \"counter-1\"", "worker = \"counter-3\"");
    let e = refused(&text);
    assert_eq!(e.field, "faults[0].attributes.worker", "{e}");
    assert!(e.to_string().contains("counter-1, counter-2"), "{e}");
    let text = SCENARIO.replace("link = \"kitchen\"", "link = \"edge\"");
    let e = refused(&text);
    assert_eq!(e.line, line_of(&text, "link = \"edge\""), "{e}");
    assert_eq!(e.field, "faults[0].link", "{e}");
}

#[test]
fn a_worker_stop_against_a_url_target_needs_the_admin_token_of_its_routes() {
    let bundled =
        SCENARIO[SCENARIO.find("[target]").unwrap()..SCENARIO.find("[load]").unwrap()].to_string();
    let text = SCENARIO.replace(&bundled, "[target]\nurl = \"http://127.0.0.1:9\"\n\n");
    let e = refused(&text);
    assert_eq!(e.field, "faults[0].attributes.admin_token", "{e}");
    assert_eq!(e.line, line_of(&text, "attributes = {"), "{e}");
    assert!(
        e.to_string().contains("POST /admin/workers/{name}/stop"),
        "{e}"
    );
    let ok = text.replace(
        "worker = \"counter-1\"",
        "worker = \"counter-1\", admin_token = \"a-chosen-token\"",
    );
    let sc = harness::scenario::parse(&ok, Path::new("ok.toml")).expect("accepted");
    assert_eq!(sc.worker_stops.len(), 1);
    assert!(sc.faults.is_empty(), "a worker stop is no proxy fault");
}

mod undone {
    //! The timeline alone against a real bundled server: a window cut short
    //! (Ctrl-C, an error) or dropped (a panic) still starts its worker again.

    use crate::helpers::harness_exe;
    use harness::backend::ChildServer;
    use harness::chaos::kitchen::{KitchenAdmin, KitchenTimeline, WorkerStop};
    use harness::redact::Secret;
    use std::time::Duration;
    use tokio::time::Instant;

    const TOKEN: &str = "a-test-admin-token";

    async fn server(dir: &std::path::Path) -> ChildServer {
        let args: Vec<String> = [
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            dir.to_str().unwrap(),
            "--payment-gateway-url",
            "http://127.0.0.1:9",
            "--admin-token",
            TOKEN,
        ]
        .map(String::from)
        .to_vec();
        let s = ChildServer::spawn("reference server", &harness_exe(), &args, &dir.join("log"))
            .await
            .unwrap();
        harness::backend::wait_ready(&reqwest::Client::new(), &s.url(), Duration::from_secs(10))
            .await
            .unwrap();
        s
    }

    async fn state(url: &str, worker: &str) -> String {
        let w: serde_json::Value = reqwest::get(format!("{url}/workers"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        w["workers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["name"] == worker)
            .map(|x| x["state"].as_str().unwrap().to_string())
            .unwrap()
    }

    /// A timeline whose one window (`counter-1`, 60 s) is open.
    async fn open_window(url: &str) -> KitchenTimeline {
        let admin = KitchenAdmin {
            client: reqwest::Client::new(),
            server_url: url.to_string(),
            token: Secret::new(TOKEN.into()),
        };
        let stop = WorkerStop {
            name: "long".into(),
            at: Duration::ZERO,
            duration: Duration::from_secs(60),
            worker: "counter-1".into(),
            admin_token: None,
        };
        let timeline = KitchenTimeline::start(admin, vec![stop], Instant::now());
        let deadline = Instant::now() + Duration::from_secs(30);
        while state(url, "counter-1").await == "online" {
            assert!(Instant::now() < deadline, "counter-1 is stopped");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        timeline
    }

    #[tokio::test]
    async fn a_window_cut_short_starts_its_worker_again_and_is_recorded_to_its_real_end() {
        let dir = tempfile::tempdir().unwrap();
        let s = server(dir.path()).await;
        let timeline = open_window(&s.url()).await;
        let (windows, notes) = timeline.finish().await;
        assert_eq!(state(&s.url(), "counter-1").await, "online", "{notes:?}");
        assert_eq!(windows.len(), 1, "{notes:?}");
        // Cut short: well before its planned 60 s, however long the machine took to get here.
        assert!(windows[0].end_s < 30.0, "closed early: {:?}", windows[0]);
        assert!(
            windows[0].toxic.contains("orders re-queued"),
            "{:?}",
            windows[0]
        );
        s.stop().await;
    }

    #[tokio::test]
    async fn a_timeline_dropped_mid_window_starts_its_worker_again() {
        let dir = tempfile::tempdir().unwrap();
        let s = server(dir.path()).await;
        let timeline = open_window(&s.url()).await;
        drop(timeline);
        assert_eq!(state(&s.url(), "counter-1").await, "online");
        s.stop().await;
    }
}

#[tokio::test]
async fn a_worker_stop_against_a_backend_without_the_kitchen_routes_runs_nothing() {
    // A backend outside the system under test that has no `/workers`.
    let backend = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::any())
        .respond_with(wiremock::ResponseTemplate::new(404))
        .mount(&backend)
        .await;
    let bundled = &SCENARIO[SCENARIO.find("[target]").unwrap()..SCENARIO.find("[load]").unwrap()];
    let text = SCENARIO
        .replace(
            bundled,
            &format!("[target]\nurl = \"{}\"\n\n", backend.uri()),
        )
        .replace(
            "worker = \"counter-1\"",
            "worker = \"counter-1\", admin_token = \"a-chosen-token\"",
        );
    let dir = tempfile::tempdir().unwrap();
    let file = write_scenario(dir.path(), "no-kitchen.toml", &text);
    let reports = dir.path().join("reports");
    let (code, out) = run_cli(&[
        "run",
        file.to_str().unwrap(),
        "--reports-dir",
        reports.to_str().unwrap(),
    ])
    .await;
    assert_eq!(code, 3, "{out}");
    let requests = backend.received_requests().await.unwrap();
    assert!(
        requests.iter().all(|r| r.url.path() == "/workers"),
        "only the pre-flight GET /workers was sent: {:?}",
        requests
            .iter()
            .map(|r| r.url.path().to_string())
            .collect::<Vec<_>>()
    );
    assert!(!requests.is_empty(), "the pre-flight asked for /workers");
}
