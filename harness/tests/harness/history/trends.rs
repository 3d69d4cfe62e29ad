//! `harness history` on recorded runs with known figures, and `history import`.

use super::synthetic;
use crate::helpers::run_cli;
use harness::history::{Filter, Store};
use serde_json::Value;

fn history_schema() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema/history.schema.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[tokio::test]
async fn a_step_in_the_recorded_runs_is_one_change_point_at_its_run_in_every_output() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("reports");
    let file = dir.path().join("history.db");
    // 8 runs at about 5 ms, then 8 at about 10 ms, with run-to-run noise.
    let levels = [5, 6, 5, 5, 6, 5, 5, 6, 10, 11, 10, 10, 11, 10, 10, 11];
    for (i, ms) in levels.iter().enumerate() {
        synthetic(&root, Some(&file), i as i64, *ms);
    }
    let out_dir = dir.path().join("trends");
    let (code, out) = run_cli(&[
        "history",
        "--history",
        file.to_str().unwrap(),
        "-o",
        out_dir.to_str().unwrap(),
    ])
    .await;
    assert_eq!(code, 0, "{out}");
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("history.json")).unwrap())
            .unwrap();
    let validator = jsonschema::draft202012::new(&history_schema()).expect("the schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&json)
        .map(|e| e.to_string())
        .collect();
    assert!(
        errors.is_empty(),
        "history.json breaks its schema: {errors:?}"
    );
    assert_eq!(json["runs"].as_array().unwrap().len(), 16);
    let p50: Vec<&Value> = json["change_points"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["metric"] == "p50" && c["request"].is_null())
        .collect();
    assert_eq!(p50.len(), 1, "{:#}", json["change_points"]);
    assert_eq!(p50[0]["run_index"], 8);
    assert_eq!(p50[0]["run_id"], json["runs"][8]["run_id"]);
    let (before, after) = (
        p50[0]["before"].as_f64().unwrap(),
        p50[0]["after"].as_f64().unwrap(),
    );
    assert!(
        (5.0..6.5).contains(&before) && (10.0..11.5).contains(&after),
        "{before} → {after}"
    );
    assert!(p50[0]["confidence"].as_f64().unwrap() >= 0.999);
    assert!(
        out.contains("change point at run 8: p50 of all requests"),
        "{out}"
    );

    let md = std::fs::read_to_string(out_dir.join("history.md")).unwrap();
    assert!(md.contains("Latest run (index 15"), "{md}");
    assert!(md.contains("7 run(s), indexes 8 to 14"), "{md}");
    assert!(md.contains("| all requests | p50 |"), "{md}");

    let html = std::fs::read_to_string(out_dir.join("history.html")).unwrap();
    assert!(html.contains("<svg"), "charts are inlined");
    assert!(
        !html.contains("src=\"http") && !html.contains("href=\"http"),
        "self-contained"
    );
    assert!(html.contains("change point"));
    // Each run links to its report folder, relative to the history report.
    let link = html
        .split("href=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or_else(|| panic!("no link to a run's report"));
    assert!(out_dir.join(link).is_file(), "{link}");
}

#[tokio::test]
async fn the_history_command_filters_and_refuses_what_it_cannot_read() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("reports");
    let file = dir.path().join("history.db");
    for i in 0..4 {
        synthetic(&root, Some(&file), i, 5);
    }
    let out_dir = dir.path().join("last2");
    let f = file.to_str().unwrap();
    let (code, out) = run_cli(&[
        "history",
        "--history",
        f,
        "--last",
        "2",
        "-o",
        out_dir.to_str().unwrap(),
    ])
    .await;
    assert_eq!(code, 0, "{out}");
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("history.json")).unwrap())
            .unwrap();
    assert_eq!(json["runs"].as_array().unwrap().len(), 2);
    assert!(json["change_points"].as_array().unwrap().is_empty());
    let (code, _) = run_cli(&[
        "history",
        "--history",
        f,
        "--scenario",
        "other",
        "-o",
        out_dir.to_str().unwrap(),
    ])
    .await;
    assert_eq!(code, 0);
    let missing = dir.path().join("missing.db");
    let (code, _) = run_cli(&["history", "--history", missing.to_str().unwrap()]).await;
    assert_eq!(code, 2, "no history there");
    let (code, _) = run_cli(&["history", "--history", f, "--last", "0"]).await;
    assert_eq!(code, 2, "--last 0");
}

#[tokio::test]
async fn import_records_earlier_run_folders_with_their_histograms_once() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("reports");
    for i in 0..3 {
        synthetic(&root, None, i, 7);
    }
    let file = dir.path().join("history.db");
    let args = [
        "history",
        "import",
        root.to_str().unwrap(),
        "--history",
        file.to_str().unwrap(),
        "--meta",
        "branch=main",
    ];
    let (code, out) = run_cli(&args).await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("imported 3 run(s)"), "{out}");
    let (code, out) = run_cli(&args).await;
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("imported 0 run(s)") && out.contains("3 already there"),
        "{out}"
    );

    let store = Store::open(&file).unwrap();
    let runs = store.runs(&Filter::default()).unwrap();
    assert_eq!(runs.len(), 3);
    assert_eq!(runs[0].identity.branch.as_deref(), Some("main"));
    assert_eq!(runs[0].identity.scenario, "synthetic");
    let summary: Value = serde_json::from_str(&runs[0].summary_json).unwrap();
    let hists = store.histograms(runs[0].row).unwrap();
    let all = hists
        .iter()
        .find(|(r, _)| r.is_none())
        .expect("all requests");
    assert_eq!(all.1.len(), summary["overall"]["count"].as_u64().unwrap());
    let menu = hists
        .iter()
        .find(|(r, _)| r.as_deref() == Some("GET /menu"))
        .expect("GET /menu");
    assert_eq!(menu.1.len(), 200);
}

#[test]
fn the_committed_history_schema_is_valid_and_catches_a_broken_file() {
    let schema = history_schema();
    if let Err(e) = jsonschema::meta::validate(&schema) {
        panic!("history.schema.json is not a valid schema: {e}");
    }
    let validator = jsonschema::draft202012::new(&schema).unwrap();
    let broken = serde_json::json!({
        "schema_version": 1,
        "history": "h.db",
        "runs": [],
        "change_points": [{"metric": "p50", "request": null, "run_index": -1, "run_id": "x",
                           "before": 1.0, "after": 2.0, "confidence": 0.999}],
    });
    assert!(
        !validator.is_valid(&broken),
        "a negative run_index is caught"
    );
}
