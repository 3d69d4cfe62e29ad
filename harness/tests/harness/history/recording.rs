//! Real runs on a loopback backend are recorded in the history with their
//! identity and histograms; `--no-history` and `--history PATH` are obeyed.

use super::gate::{delayed_backend, scenario};
use crate::helpers::run_cli;
use harness::history::{Filter, Store};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_run_is_recorded_with_its_identity_and_histograms_unless_told_not_to() {
    let (url, _delay) = delayed_backend(5).await;
    let dir = tempfile::tempdir().unwrap();
    let sc = scenario(dir.path(), &url);
    let reports = dir.path().join("reports");
    let base = [
        "run",
        sc.to_str().unwrap(),
        "--reports-dir",
        reports.to_str().unwrap(),
    ];

    let mut args = base.to_vec();
    args.extend(["--meta", "commit=abc123", "--meta", "pr=42"]);
    let (code, out) = run_cli(&args).await;
    assert_eq!(code, 0, "{out}");
    assert!(
        !out.contains("history:"),
        "--quiet: no line for a recorded run\n{out}"
    );
    assert!(
        out.lines().last().unwrap().starts_with("report: "),
        "the report stays the last line"
    );

    let file = reports.join("history.db");
    let store = Store::open(&file).unwrap();
    let runs = store.runs(&Filter::default()).unwrap();
    assert_eq!(runs.len(), 1);
    let id = &runs[0].identity;
    assert_eq!(id.scenario, "recorded");
    assert_eq!(id.commit.as_deref(), Some("abc123"));
    assert_eq!(id.meta.get("pr").map(String::as_str), Some("42"));
    assert_eq!(id.target, url);
    assert_eq!(id.scenario_hash.len(), 64);
    assert_eq!(id.harness_version, env!("CARGO_PKG_VERSION"));
    let report_dir = runs[0].report_dir.as_deref().expect("the run folder");
    assert!(std::path::Path::new(report_dir)
        .join("summary.json")
        .is_file());
    let summary: serde_json::Value = serde_json::from_str(&runs[0].summary_json).unwrap();
    let on_disk: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(std::path::Path::new(report_dir).join("summary.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(summary, on_disk, "the summary is recorded as written");
    let hists = store.histograms(runs[0].row).unwrap();
    let all = hists
        .iter()
        .find(|(r, _)| r.is_none())
        .expect("all requests");
    assert_eq!(all.1.len(), summary["overall"]["count"].as_u64().unwrap());
    assert!(
        all.1.value_at_quantile(0.5) >= 5_000,
        "µs, at least the backend's delay"
    );
    assert!(hists.iter().any(|(r, _)| r.as_deref() == Some("GET /menu")));

    let mut args = base.to_vec();
    args.push("--no-history");
    let (code, out) = run_cli(&args).await;
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("history:"), "{out}");
    assert_eq!(store.runs(&Filter::default()).unwrap().len(), 1);

    let other = dir.path().join("elsewhere/other.db");
    let mut args = base.to_vec();
    args.extend(["--history", other.to_str().unwrap()]);
    let (code, out) = run_cli(&args).await;
    assert_eq!(code, 0, "{out}");
    assert_eq!(store.runs(&Filter::default()).unwrap().len(), 1);
    let other = Store::open(&other).unwrap();
    assert_eq!(other.runs(&Filter::default()).unwrap().len(), 1);
}

#[tokio::test]
async fn a_history_that_cannot_be_written_is_a_note_not_a_failed_run() {
    let (url, _delay) = delayed_backend(1).await;
    let dir = tempfile::tempdir().unwrap();
    let sc = scenario(dir.path(), &url);
    // A folder where the history file should be: SQLite cannot open it.
    let blocked = dir.path().join("blocked.db");
    std::fs::create_dir_all(&blocked).unwrap();
    let (code, out) = run_cli(&[
        "run",
        sc.to_str().unwrap(),
        "--reports-dir",
        dir.path().join("reports").to_str().unwrap(),
        "--history",
        blocked.to_str().unwrap(),
    ])
    .await;
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("note: the run was not recorded in the history"),
        "{out}"
    );
}

#[tokio::test]
async fn a_merged_sharded_run_is_recorded_once_with_every_shards_requests() {
    use crate::report::{sample, synthetic_run, write_report};
    use harness::record::{Outcome, ShardInfo};
    use harness::shard::{recording, Shard};
    let dir = tempfile::tempdir().unwrap();
    let shards: Vec<std::path::PathBuf> = (0..2u32)
        .map(|index| {
            let samples = (0..100).map(|k| sample(0, Outcome::Ok, k * 10, 5 + u64::from(index)));
            let mut run = synthetic_run(&["GET /menu"], 2, samples);
            run.meta.shard = Some(ShardInfo {
                index,
                count: 2,
                start_at: Some(run.meta.started_at),
                clock_at_wait: run.meta.started_at,
                started_at: run.meta.started_at,
                start_skew_ms: Some(0.0),
            });
            let written =
                write_report(&run, &[], &dir.path().join(format!("shard-{index}"))).unwrap();
            recording::write(&run, Shard { index, count: 2 }, &written.dir).unwrap();
            written.dir
        })
        .collect();
    let reports = dir.path().join("reports");
    let (code, out) = run_cli(&[
        "merge",
        shards[0].to_str().unwrap(),
        shards[1].to_str().unwrap(),
        "--reports-dir",
        reports.to_str().unwrap(),
        "--meta",
        "ci_job=7",
    ])
    .await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("history: recorded in"), "{out}");
    let store = Store::open(&reports.join("history.db")).unwrap();
    let runs = store.runs(&Filter::default()).unwrap();
    assert_eq!(runs.len(), 1, "the merged run, not each shard");
    assert_eq!(runs[0].identity.ci_job.as_deref(), Some("7"));
    let hists = store.histograms(runs[0].row).unwrap();
    let all = hists.iter().find(|(r, _)| r.is_none()).unwrap();
    assert_eq!(all.1.len(), 200, "both shards' requests");
}
