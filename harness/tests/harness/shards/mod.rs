//! Sharded runs as a Kubernetes Indexed Job starts them: N harness processes
//! told their shard by the environment (`JOB_COMPLETION_INDEX`,
//! `HARNESS_SHARDS`, `HARNESS_START_AT`), loading one backend on loopback;
//! then `harness merge` of their folders.

mod merge;
mod run;

use axum::extract::{Path as UrlPath, State};
use axum::routing::get;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use time::OffsetDateTime;

/// 250 arrivals over 3 s: a 0 → 100/s ramp over 1 s (50), then 100/s for
/// 2 s (200). Each arrival is one GET naming its number in the whole run.
pub const SCENARIO: &str = r#"name = "sharded"
seed = 11
[load]
model = "open"
timeout = "5s"
[[load.stages]]
duration = "1s"
rate = 100
[[load.stages]]
duration = "2s"
rate = 100
[[flows]]
name = "read"
[[flows.steps]]
method = "GET"
path = "/wait/{{user}}"
"#;

/// Arrivals in [`SCENARIO`].
pub const ARRIVALS: u64 = 250;

/// A backend that answers `/wait/{k}` after `delay(k)` and notes when each
/// request arrived, by its wall clock.
pub struct Backend {
    pub url: String,
    pub seen: Arc<Mutex<Vec<(u64, SystemTime)>>>,
    _task: tokio::task::JoinHandle<()>,
}

type Delay = fn(u64) -> Duration;

#[derive(Clone)]
struct BackendState {
    delay: Delay,
    seen: Arc<Mutex<Vec<(u64, SystemTime)>>>,
}

async fn wait(State(state): State<BackendState>, UrlPath(k): UrlPath<u64>) -> &'static str {
    state
        .seen
        .lock()
        .expect("not poisoned")
        .push((k, SystemTime::now()));
    tokio::time::sleep((state.delay)(k)).await;
    "ok"
}

impl Backend {
    pub async fn start(delay: Delay) -> Backend {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let app = axum::Router::new()
            .route("/wait/{k}", get(wait))
            .with_state(BackendState {
                delay,
                seen: Arc::clone(&seen),
            });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Backend {
            url,
            seen,
            _task: task,
        }
    }
}

/// A start `lead` from now, to the millisecond, as RFC 3339.
pub fn start_at(lead: Duration) -> (OffsetDateTime, String) {
    let at = OffsetDateTime::now_utc() + lead;
    let at = at.replace_millisecond(at.millisecond()).unwrap();
    let text = at
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    (at, text)
}

/// Starts `count` shard processes as an Indexed Job would (by environment),
/// each writing into `<dir>/shard-<i>`; returns each one's exit code and run folder.
pub async fn run_shards(
    dir: &Path,
    scenario: &Path,
    target: &str,
    count: u32,
    start_at: &str,
    extra: &[&str],
) -> Vec<(i32, PathBuf)> {
    let children: Vec<_> = (0..count)
        .map(|i| {
            let reports = dir.join(format!("shard-{i}"));
            let child = tokio::process::Command::new(crate::helpers::harness_exe())
                .arg("run")
                .arg(scenario)
                .args(["--target", target, "--quiet", "--reports-dir"])
                .arg(&reports)
                .args(extra)
                .env("JOB_COMPLETION_INDEX", i.to_string())
                .env("HARNESS_SHARDS", count.to_string())
                .env("HARNESS_START_AT", start_at)
                .kill_on_drop(true)
                .output();
            (reports, child)
        })
        .collect();
    let mut out = Vec::new();
    for (reports, child) in children {
        let done = tokio::time::timeout(Duration::from_secs(60), child)
            .await
            .expect("a shard ends within 60 s")
            .expect("a shard runs");
        let stdout = String::from_utf8_lossy(&done.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&done.stderr);
        let code = done.status.code().unwrap_or(-1);
        let folder = match stdout.lines().last() {
            Some(l) if l.starts_with("report: ") => crate::helpers::report_dir(&stdout),
            _ => reports.join(format!("no report (exit {code}): {stderr}")),
        };
        out.push((code, folder));
    }
    out
}

/// `harness proxy` on a free loopback port, the Toxiproxy the shards share;
/// returns once its API answers, so no shard starts before it.
pub async fn spawn_proxy() -> (String, tokio::process::Child) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let api = format!("http://127.0.0.1:{port}");
    let child = tokio::process::Command::new(crate::helpers::harness_exe())
        .args(["proxy", "--listen", &format!("127.0.0.1:{port}")])
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if client.get(format!("{api}/version")).send().await.is_ok() {
            return (api, child);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("harness proxy did not answer on {api} within 10 s");
}
