//! `--baseline history`: a run like the recent ones passes, one 60 % slower
//! fails (judged on p50 of a backend answering in 100 ms: the tail of a 2 s
//! run, or a shorter delay, is too noisy on a busy 2-core machine), and the
//! baseline starts at the last change point. The tolerance, 30 %, sits
//! halfway between the two, 30 ms from each: a busy machine moves a p50 of
//! 100 ms by a few.

use super::synthetic;
use crate::helpers::{run_cli, write_scenario};
use axum::extract::State;
use axum::routing::get;
use axum::Router;
use harness::history::baseline::{from_history, Spec};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// A loopback backend answering every GET after the delay (ms) held in the returned cell.
pub async fn delayed_backend(delay_ms: u64) -> (String, Arc<AtomicU64>) {
    let delay = Arc::new(AtomicU64::new(delay_ms));
    let app = Router::new()
        .fallback(get(|State(d): State<Arc<AtomicU64>>| async move {
            tokio::time::sleep(Duration::from_millis(d.load(Ordering::Relaxed))).await;
            "ok"
        }))
        .with_state(Arc::clone(&delay));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, delay)
}

/// Four users in a closed loop for 2 s against `url`.
pub fn scenario(dir: &Path, url: &str) -> PathBuf {
    let text = format!(
        r#"name = "recorded"
seed = 3
[target]
url = "{url}"
[load]
model = "closed"
timeout = "2s"
[[load.stages]]
duration = "2s"
users = 4
[[flows]]
name = "read"
[[flows.steps]]
method = "GET"
path = "/menu"
"#
    );
    write_scenario(dir, "recorded.toml", &text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_history_baseline_passes_a_run_like_the_recent_ones_and_fails_one_sixty_percent_slower()
{
    let (url, delay) = delayed_backend(100).await;
    let dir = tempfile::tempdir().unwrap();
    let sc = scenario(dir.path(), &url);
    let reports = dir.path().join("reports");
    let run = [
        "run",
        sc.to_str().unwrap(),
        "--reports-dir",
        reports.to_str().unwrap(),
    ];
    for _ in 0..4 {
        let (code, out) = run_cli(&run).await;
        assert_eq!(code, 0, "{out}");
    }
    let mut judged = run.to_vec();
    judged.extend(["--baseline", "history", "--max-regression", "p50=30%"]);
    let (code, out) = run_cli(&judged).await;
    assert_eq!(code, 0, "a run like the recent ones passes:\n{out}");
    assert!(
        out.contains("baseline: 4 run(s) from"),
        "says what it compared with:\n{out}"
    );
    assert!(out.contains("no change point in the history"), "{out}");

    delay.store(160, Ordering::Relaxed);
    let (code, out) = run_cli(&judged).await;
    assert_eq!(code, 1, "a run 60 % slower fails:\n{out}");
    assert!(out.contains("baseline: 5 run(s) from"), "{out}");
    assert!(out.contains("baseline verdict: FAIL"), "{out}");

    let mut last = run.to_vec();
    last.extend([
        "--baseline",
        "history:last=2",
        "--max-regression",
        "p50=30%",
    ]);
    let (_, out) = run_cli(&last).await;
    assert!(out.contains("baseline: 2 run(s) from"), "{out}");
}

#[test]
fn the_history_baseline_is_the_runs_since_the_last_change_point() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("reports");
    let file = dir.path().join("history.db");
    let levels = [20, 21, 20, 20, 21, 20, 20, 21, 10, 11, 10, 10, 11, 10];
    for (i, ms) in levels.iter().enumerate() {
        synthetic(&root, Some(&file), i as i64, *ms);
    }
    let base = from_history(
        &file,
        "synthetic",
        "http://127.0.0.1:9",
        Spec { last: None },
    )
    .unwrap();
    assert_eq!(base.recorded, 14);
    assert_eq!(base.since, 8);
    assert_eq!(base.summaries.len(), 6);
    assert!(base.describe()[0].contains("since the change point at run index 8"));
    let last = from_history(
        &file,
        "synthetic",
        "http://127.0.0.1:9",
        Spec { last: Some(2) },
    )
    .unwrap();
    assert_eq!(last.summaries.len(), 2);
    let err = from_history(&file, "other", "http://127.0.0.1:9", Spec { last: None }).unwrap_err();
    assert!(err.contains("no valid run of scenario \"other\""), "{err}");
    let err = from_history(
        &dir.path().join("none.db"),
        "synthetic",
        "x",
        Spec { last: None },
    )
    .unwrap_err();
    assert!(err.contains("there is no history at"), "{err}");
}
