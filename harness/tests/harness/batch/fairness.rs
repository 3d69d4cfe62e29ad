//! Fair comparisons with a backend no one here wrote (a wiremock stand-in
//! that serves the menu) beside the bundled server: a fault whose link the
//! stand-in lacks makes the comparison "not comparable" (exit 7), a link
//! declared for it in `[[targets]]` gives both sides the fault, and a side
//! that fails its gates fails the comparison, named.

use super::{backend, reported, run, DELAY_MS};
use crate::helpers::{harness_exe, write_scenario};
use harness::batch::BatchArgs;
use harness::run::RunArgs;
use std::path::Path;

/// A short bundled scenario with a fault on the bundled server's `payments`
/// link; `extra` is appended (e.g. a `[[targets]]` entry).
fn scenario(extra: &str) -> String {
    format!(
        r#"name = "fair"
seed = 3
[load]
model = "closed"
timeout = "2s"
[[load.stages]]
duration = "2s"
users = 2
[[flows]]
name = "read"
[[flows.steps]]
method = "GET"
path = "/menu"
think = "20ms"
[[faults]]
name = "payments-latency"
at = "0.5s"
duration = "1s"
link = "payments"
type = "latency"
attributes = {{ latency = 50 }}
{extra}"#
    )
}

fn batch(dir: &Path, text: &str, targets: Vec<String>, gates: Vec<String>) -> BatchArgs {
    BatchArgs {
        run: RunArgs {
            scenario: write_scenario(dir, "fair.toml", text),
            target: None,
            duration: None,
            scale: None,
            gates,
            seed: None,
            quiet: true,
            reports_dir: dir.join("reports"),
            toxiproxy: None,
            profile: None,
            server_exe: harness_exe(),
            sharding: Default::default(),
            live: Default::default(),
            history: Default::default(),
            connect: Default::default(),
        },
        targets,
        repeat: 1,
        baseline: Vec::new(),
        baseline_target: None,
        max_regression: None,
    }
}

fn compare_json(out: &str) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(reported(out).join("compare.json")).unwrap())
        .unwrap()
}

#[tokio::test]
async fn a_fault_that_cannot_reach_one_side_is_reported_as_not_comparable() {
    let foreign = backend(5).await;
    let dir = tempfile::tempdir().unwrap();
    let args = batch(
        dir.path(),
        &scenario(""),
        vec!["bundled:default".into(), foreign.uri()],
        vec![],
    );
    let (code, out) = run(&args).await;
    assert_eq!(code, 7, "not comparable\n{out}");
    let json = compare_json(&out);
    let why = json["not_comparable"][0].as_str().unwrap();
    assert!(
        why.starts_with("payments-latency applied to bundled:default only"),
        "{why}"
    );
    assert!(out.contains("not comparable on: payments-latency"), "{out}");
    let md = std::fs::read_to_string(reported(&out).join("compare.md")).unwrap();
    assert!(md.contains("**Not comparable on:**"), "{md}");
}

#[tokio::test]
async fn a_link_declared_for_the_other_backend_gives_both_sides_the_fault() {
    let (foreign, gateway) = (backend(5).await, backend(5).await);
    let dir = tempfile::tempdir().unwrap();
    let entry = format!(
        r#"
[[targets]]
profile = "default"

[[targets]]
url = "{}"
settings = ["payment timeout 5 s"]
[[targets.links]]
name = "payments"
listen = "127.0.0.1:0"
upstream = "{}"
"#,
        foreign.uri(),
        gateway.address()
    );
    // No --target: the scenario's [[targets]] are the sides.
    let args = batch(dir.path(), &scenario(&entry), vec![], vec![]);
    let plan = harness::batch::Plan::build(&args).expect("the plan is valid");
    let sides: Vec<&str> = plan.lanes.iter().map(|l| l.label.as_str()).collect();
    assert_eq!(sides, ["bundled:default", foreign.uri().as_str()]);
    let (code, out) = run(&args).await;
    let json = compare_json(&out);
    let runs = json["runs"].as_array().unwrap();
    for r in runs {
        assert_eq!(r["faults"][0]["name"], "payments-latency", "{}", r["label"]);
    }
    let why: Vec<&str> = json["not_comparable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        why.iter().all(|w| !w.contains("payments-latency")),
        "both sides got the fault: {why:?}"
    );
    // The settings are listed side by side (they are words, not flags).
    assert!(
        why.iter()
            .any(|w| w.starts_with("settings differ") && w.contains("payment timeout 5 s")),
        "{why:?}"
    );
    assert_eq!(code, 7, "{out}");
}

#[tokio::test]
async fn a_comparison_exits_1_naming_the_side_that_failed_its_gates() {
    // A gate far from both sides: the slow side's p95 is never under its 160 ms delay, and the
    // fast side's (5 ms) has 95 ms of room for what a loaded machine adds.
    let (fast, slow) = (backend(5).await, backend(DELAY_MS * 4).await);
    let dir = tempfile::tempdir().unwrap();
    let text = scenario("").replace(
        "[[faults]]\nname = \"payments-latency\"\nat = \"0.5s\"\nduration = \"1s\"\nlink = \"payments\"\ntype = \"latency\"\nattributes = { latency = 50 }\n",
        "",
    );
    let args = batch(
        dir.path(),
        &text,
        vec![fast.uri(), slow.uri()],
        vec!["p95 < 100ms".into()],
    );
    let (code, out) = run(&args).await;
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!("{} failed its gates in 1 of 1 run(s)", slow.uri())),
        "{out}"
    );
    assert!(
        !out.contains(&format!("{} failed its gates", fast.uri())),
        "{out}"
    );
}
