//! A host with no CPU left: two busy loops beside a closed-model run. The
//! generator keeps up (its users wait for each answer), but every latency
//! includes the host's queueing, and the report must say so instead of
//! "these figures measure the server". The quiet-host side of the rule is a
//! unit test on recorded samples (`summary::host`), so it cannot flake on a
//! loaded machine.

use crate::helpers::{report_dir, run_cli, summary, write_scenario};
use axum::routing::get;
use axum::Router;
use std::process::{Child, Command, Stdio};

/// Busy loops in their own processes, each ending by itself after 60 s of
/// bash's own clock (no fork per turn), and killed when dropped.
struct BusyLoops(Vec<Child>);

impl BusyLoops {
    fn start(n: usize) -> BusyLoops {
        BusyLoops(
            (0..n)
                .map(|_| {
                    Command::new("bash")
                        .args(["-c", "while [ $SECONDS -lt 60 ]; do :; done"])
                        .stdin(Stdio::null())
                        .spawn()
                        .expect("starting a busy loop")
                })
                .collect(),
        )
    }
}

impl Drop for BusyLoops {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_model_run_on_a_host_busy_with_two_loops_names_the_saturated_host_as_a_warning() {
    let app = Router::new().route("/ping", get(|| async { "ok" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        r#"name = "busy-host"
seed = 1
[target]
url = "{url}"
[load]
model = "closed"
timeout = "5s"
[[load.stages]]
duration = "4s"
users = 4
[[flows]]
name = "ping"
[[flows.steps]]
method = "GET"
path = "/ping"
think = "10ms"
"#
    );
    let file = write_scenario(dir.path(), "busy.toml", &text);
    let reports = dir.path().join("reports");
    let busy = BusyLoops::start(2);
    let (code, out) = run_cli(&[
        "run",
        file.to_str().unwrap(),
        "--reports-dir",
        reports.to_str().unwrap(),
    ])
    .await;
    drop(busy);
    let run = report_dir(&out);
    let s = summary(&run);
    let g = &s["generator"];
    assert_eq!(g["host"]["saturated"], true, "{g}");
    let why = g["saturation"].as_str().unwrap_or_else(|| panic!("{g}"));
    assert!(why.starts_with("host CPU saturated "), "{why}");
    assert!(why.contains("include the host's queueing"), "{why}");
    assert_eq!(g["saturation_effect"], "warning", "{g}");
    // Closed model: a warning, so the verdict stands (no gates: pass).
    assert_eq!(code, 0, "{out}");
    assert_eq!(s["verdict"], "pass");
    assert!(
        s["verdict_reason"]
            .as_str()
            .unwrap()
            .contains("host CPU saturated"),
        "{}",
        s["verdict_reason"]
    );
    let busy_pct = g["host"]["busy_pct"].as_array().unwrap();
    assert!(busy_pct.len() >= 3, "one sample a second: {busy_pct:?}");
    let html = std::fs::read_to_string(run.join("index.html")).unwrap();
    assert!(html.contains("id=\"host-queueing\""), "verdict box");
    assert!(
        html.contains("include the host&#x27;s queueing")
            || html.contains("include the host's queueing")
    );
    assert!(!html.contains("these figures measure the server"));
    assert!(html.contains("Host CPU over time"), "the chart");
    let md = std::fs::read_to_string(run.join("summary.md")).unwrap();
    assert!(md.contains("**Host saturated**"), "{md}");
}
