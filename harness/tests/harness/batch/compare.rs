//! Comparisons: several targets (bundled profiles or URLs) under the same
//! scenario give one comparison naming them, and `compare` of finished runs
//! renders a table that matches their summaries or names a path that is not
//! a run.

use super::{backend, baseline_run, batch, reported, run, DELAY_MS};
use crate::helpers::summary;
use harness::batch::compare_runs;
use harness::run::RunError;

#[tokio::test]
async fn the_bundled_server_in_two_profiles_is_compared_under_the_same_load() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = batch(dir.path(), None);
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
    let mut args = batch(dir.path(), None);
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
    // One run each: however far apart, nothing is marked, and the output says why.
    let p95 = out.lines().find(|l| l.starts_with("p95 ")).unwrap();
    assert!(!p95.contains('*'), "{p95}");
    assert!(out.contains("note: no difference is marked"), "{out}");
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

/// Every row of compare.json with a star, as "request / metric".
fn starred(json: &serde_json::Value) -> Vec<String> {
    json["requests"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| {
            r["metrics"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|m| !m["best"].is_null())
                .map(move |m| format!("{} / {} = {}", r["name"], m["metric"], m["values"]))
        })
        .collect()
}

#[tokio::test]
async fn an_a_a_comparison_with_repeats_combines_each_backends_runs_and_marks_no_star() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (backend(DELAY_MS).await, backend(DELAY_MS).await);
    let mut args = batch(dir.path(), None);
    args.targets = vec![a.uri(), b.uri()];
    args.repeat = 5;
    let (code, out) = run(&args).await;
    assert_eq!(code, 0, "{out}");
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(reported(&out).join("compare.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(json["runs"].as_array().unwrap().len(), 10);
    let columns = json["columns"].as_array().unwrap();
    assert_eq!(columns.len(), 2, "one column per backend: {columns:?}");
    assert_eq!(columns[0]["runs"].as_array().unwrap().len(), 5);
    assert!(
        json["no_stars"].is_null(),
        "enough runs to mark differences"
    );
    assert_eq!(starred(&json), Vec::<String>::new(), "identical backends");
    assert!(json["not_comparable"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn with_repeats_a_real_difference_is_starred_on_the_faster_backend() {
    let dir = tempfile::tempdir().unwrap();
    let (fast, slow) = (backend(5).await, backend(DELAY_MS).await);
    let mut args = batch(dir.path(), None);
    args.targets = vec![slow.uri(), fast.uri()];
    args.repeat = 3;
    let (code, out) = run(&args).await;
    assert_eq!(code, 0, "{out}");
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(reported(&out).join("compare.json")).unwrap(),
    )
    .unwrap();
    let all = &json["requests"][0]["metrics"];
    let row = |metric: &str| {
        all.as_array()
            .unwrap()
            .iter()
            .find(|m| m["metric"] == metric)
            .unwrap_or_else(|| panic!("no {metric} row"))
            .clone()
    };
    assert_eq!(row("p95")["best"], 1, "{}", row("p95"));
    assert_eq!(
        row("goodput")["best"],
        1,
        "closed model: {}",
        row("goodput")
    );
    // The printed table marks the same figure.
    let p95 = out.lines().rfind(|l| l.starts_with("p95 ")).unwrap();
    assert!(p95.trim_end().ends_with('*'), "{p95}");
}

#[tokio::test]
async fn compare_of_runs_that_are_not_comparable_exits_7_even_when_a_side_failed_its_gates() {
    let dir = tempfile::tempdir().unwrap();
    let (one, two) = (backend(5).await, backend(5).await);
    let reports = dir.path().join("reports");
    let mut runs = Vec::new();
    // Two scenarios (so not comparable); the first fails a gate no backend meets.
    for (name, server, gate, want) in [
        ("first", &one, "throughput >= 100000/s", 1),
        ("second", &two, "error-rate < 50%", 0),
    ] {
        let file = crate::helpers::write_scenario(
            dir.path(),
            &format!("{name}.toml"),
            &format!(
                "name = \"{name}\"\nseed = 1\n[load]\nmodel = \"closed\"\n[[load.stages]]\n\
                 duration = \"1s\"\nusers = 1\n[[flows]]\nname = \"read\"\n[[flows.steps]]\n\
                 method = \"GET\"\npath = \"/menu\"\n"
            ),
        );
        let (code, out) = crate::helpers::run_cli(&[
            "run",
            file.to_str().unwrap(),
            "--target",
            &server.uri(),
            "--gate",
            gate,
            "--reports-dir",
            reports.to_str().unwrap(),
        ])
        .await;
        assert_eq!(code, want, "{out}");
        runs.push(crate::helpers::report_dir(&out));
    }
    let mut out = Vec::new();
    let code = compare_runs(&runs, &reports, &mut out).await.unwrap();
    let out = String::from_utf8_lossy(&out);
    assert!(
        out.contains("not comparable on: different scenarios"),
        "{out}"
    );
    assert_eq!(code, harness::exit::NOT_COMPARABLE, "7 over 1:\n{out}");
    assert!(
        out.contains("1 of 1 gates failed"),
        "the failing side is named: {out}"
    );
}
