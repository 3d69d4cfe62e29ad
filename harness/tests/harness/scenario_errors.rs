//! Bad scenario files: each is refused before anything runs, with a message
//! naming the file, the line and the field, and exit code 2.

use crate::helpers::{run_binary, write_scenario};
use harness::run::RunArgs;
use std::path::{Path, PathBuf};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

const GOOD: &str = r#"name = "bad-input"
seed = 1
gates = ["p95 < 250ms"]

[load]
model = "closed"
[[load.stages]]
duration = "1s"
users = 1

[[flows]]
name = "order"
[[flows.steps]]
method = "POST"
path = "/orders"
capture = { order_id = "/id" }
[[flows.steps]]
method = "GET"
path = "/orders/{{order_id}}"
"#;

/// Replaces `from` by `to` in the good scenario, and returns the text and the
/// 1-based line where `to` starts.
fn mutate(from: &str, to: &str) -> (String, usize) {
    assert!(GOOD.contains(from), "{from:?} is in the good scenario");
    let text = GOOD.replacen(from, to, 1);
    let at = text.find(to).expect("replaced");
    (text.clone(), text[..at].matches('\n').count() + 1)
}

fn error_for(text: &str) -> harness::scenario::ScenarioError {
    harness::scenario::parse(text, Path::new("scenarios/bad.toml"))
        .expect_err("the scenario is refused")
}

fn assert_error(from: &str, to: &str, field: &str, says: &str) {
    let (text, line) = mutate(from, to);
    let e = error_for(&text);
    let shown = e.to_string();
    assert_eq!(e.line, line, "line of {shown}");
    assert_eq!(e.field, field, "field of {shown}");
    assert!(
        shown.starts_with(&format!("scenarios/bad.toml:{line}:")),
        "{shown}"
    );
    assert!(shown.contains(says), "{shown:?} should say {says:?}");
}

#[test]
fn the_good_scenario_used_below_is_accepted() {
    let sc = harness::scenario::parse(GOOD, Path::new("good.toml")).expect("valid");
    assert_eq!(
        sc.request_names,
        ["POST /orders", "GET /orders/{{order_id}}"]
    );
}

#[test]
fn an_unknown_key_is_named_with_its_line() {
    assert_error("seed = 1", "sede = 1", "sede", "unknown field `sede`");
    assert_error(
        "method = \"GET\"",
        "methd = \"GET\"",
        "flows[0].steps[1].methd",
        "unknown field `methd`",
    );
}

#[test]
fn a_value_of_the_wrong_type_names_its_field() {
    assert_error(
        "seed = 1",
        "seed = \"one\"",
        "seed",
        "expected a whole number, 0 or more, got string \"one\"",
    );
    assert_error(
        "users = 1",
        "users = \"many\"",
        "load.stages[0].users",
        "expected a whole number, 0 or more, got string \"many\"",
    );
}

#[test]
fn an_unparsable_duration_says_what_a_duration_looks_like() {
    assert_error(
        "duration = \"1s\"",
        "duration = \"5 parsecs\"",
        "load.stages[0].duration",
        "unknown unit \"parsecs\"",
    );
}

#[test]
fn a_capture_used_before_any_step_makes_it_is_refused() {
    assert_error(
        "path = \"/orders\"\n",
        "path = \"/orders/{{order_id}}/payments\"\n",
        "flows[0].steps[0].path",
        "`{{order_id}}` is used before the step of flow \"order\" that captures it",
    );
    assert_error(
        "path = \"/orders/{{order_id}}\"",
        "path = \"/orders/{{order}}\"",
        "flows[0].steps[1].path",
        "not captured by any earlier step",
    );
}

#[test]
fn a_status_that_ends_the_flow_must_be_one_the_step_expects() {
    assert_error(
        "capture = { order_id = \"/id\" }",
        "end_flow_on = [402]\nexpect = [201]\ncapture = { order_id = \"/id\" }",
        "flows[0].steps[0].end_flow_on",
        "402 is not an expected status of this step",
    );
    assert_error(
        "capture = { order_id = \"/id\" }",
        "end_flow_on = [503]\nexpect = [201, 503]\ncapture = { order_id = \"/id\" }",
        "flows[0].steps[0].end_flow_on",
        "503 is always counted as shed load",
    );
    // Without `expect`, any 2xx is expected, and may end the flow.
    let (text, _) = mutate(
        "capture = { order_id = \"/id\" }",
        "capture = { order_id = \"/id\" }\nend_flow_on = [202]",
    );
    harness::scenario::parse(&text, Path::new("bad.toml")).expect("202 is a 2xx");
}

#[test]
fn a_bad_gate_is_refused_with_what_gates_look_like() {
    assert_error(
        "gates = [\"p95 < 250ms\"]",
        "gates = [\"p95 < fast\"]",
        "gates[0]",
        "bad gate \"p95 < fast\"",
    );
}

#[test]
fn a_bad_fault_is_refused_before_anything_runs() {
    let fault = |kind: &str, link: &str, attrs: &str| {
        format!("{GOOD}\n[[faults]]\nname = \"slow\"\nat = \"0s\"\nduration = \"1s\"\nlink = \"{link}\"\ntype = \"{kind}\"\nattributes = {attrs}\n")
    };
    let e = error_for(&fault("latencee", "payments", "{ latency = 800 }"));
    assert_eq!(e.field, "faults[0]");
    assert!(e.to_string().contains("latencee"), "{e}");
    let e = error_for(&fault("latency", "payments", "{ latency = \"slow\" }"));
    assert!(e.to_string().contains("latency"), "{e}");
    let e = error_for(&fault("latency", "kitchen", "{ latency = 800 }"));
    assert_eq!(e.field, "faults[0].link");
    assert!(e.to_string().contains("`edge`"), "{e}");
}

#[test]
fn a_target_that_is_not_an_http_url_is_refused_and_a_remote_one_accepted() {
    let text = format!("{GOOD}\n[target]\nurl = \"ftp://files.example.invalid\"\n");
    let e = error_for(&text);
    assert_eq!(e.field, "target.url");
    assert!(e.to_string().contains("only http:// and https://"), "{e}");
    // Parsed only: a scenario is read without resolving its target's name.
    let text =
        format!("{GOOD}\n[target]\nurl = \"https://staging.example.invalid\"\nhttp2 = true\n");
    let sc = harness::scenario::parse(&text, Path::new("remote.toml")).expect("valid");
    assert!(sc.http2);
}

fn args(scenario: PathBuf, reports: &Path) -> RunArgs {
    RunArgs {
        scenario,
        target: None,
        duration: None,
        scale: None,
        gates: vec![],
        seed: None,
        quiet: true,
        reports_dir: reports.to_path_buf(),
        toxiproxy: None,
        profile: None,
        server_exe: crate::helpers::harness_exe(),
        connect: Default::default(),
        sharding: Default::default(),
        live: Default::default(),
        history: Default::default(),
    }
}

#[tokio::test]
async fn a_bad_gate_on_the_command_line_is_bad_usage() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_scenario(dir.path(), "good.toml", GOOD);
    let mut a = args(path, dir.path());
    a.gates = vec!["p95 <".into()];
    let e = harness::run::prepare(&a).expect_err("refused");
    assert_eq!(e.exit_code(), 2);
    assert!(e.to_string().contains("--gate \"p95 <\""), "{e}");
}

#[tokio::test]
async fn a_bad_scenario_runs_nothing_and_exits_2() {
    let backend = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&backend)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let (text, line) = mutate("duration = \"1s\"", "duration = \"5 parsecs\"");
    let path = write_scenario(dir.path(), "bad.toml", &text);
    let out = run_binary(
        &[
            "run",
            path.to_str().unwrap(),
            "--target",
            &backend.uri(),
            "--reports-dir",
            dir.path().to_str().unwrap(),
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("bad.toml:{line}:")) && stderr.contains("load.stages[0].duration"),
        "{stderr}"
    );
    assert!(
        !dir.path().join("bad-input").exists(),
        "no report for a run that never ran"
    );
    backend.verify().await;
}

#[test]
fn every_shipped_scenario_is_valid() {
    let dir = crate::helpers::repo_file("scenarios");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let sc = harness::scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(
                path.file_stem().unwrap().to_str().unwrap(),
                sc.name,
                "the file is named after its scenario"
            );
            seen += 1;
        }
    }
    assert!(
        seen >= 5,
        "smoke, rush-hour, payment-spike, menu-storm, inventory-sync: found {seen}"
    );
}

#[tokio::test]
async fn a_target_that_does_not_answer_exits_3_before_any_load() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_scenario(dir.path(), "good.toml", GOOD);
    // A port that was just free: bind, read it, release it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut a = args(path, dir.path());
    a.target = Some(format!("http://127.0.0.1:{port}"));
    let e = harness::run::run(&a, &mut Vec::new())
        .await
        .expect_err("refused");
    assert_eq!(e.exit_code(), 3, "{e}");
    assert!(e.to_string().contains("nothing answers"), "{e}");
}
