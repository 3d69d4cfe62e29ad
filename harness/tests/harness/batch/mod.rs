//! Batches of runs driven through the library (`harness::batch`): a backend
//! made 30 % slower fails its baseline, an unchanged one does not, an A/A
//! run is never a FAIL (`baseline`); several targets give one comparison, and
//! `compare` of finished runs matches their summaries (`compare`); bad flags
//! are refused (`flags`). Backends are wiremock servers with a known fixed
//! delay; every run lasts about two seconds. This module holds the scenario,
//! backend and runner the three share.

mod baseline;
mod compare;
mod fairness;
mod flags;

use crate::helpers::{harness_exe, one_attack_at_a_time, write_scenario};
use harness::batch::{run_batch, BatchArgs};
use harness::run::RunArgs;
use std::path::{Path, PathBuf};
use std::time::Duration;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Four users in a closed loop for 2 s: about 150 requests at a 40 ms delay,
/// enough for a steady p95.
const STEADY: &str = r#"name = "suite"
seed = 9
[load]
model = "closed"
timeout = "2s"
[[load.stages]]
duration = "1s"
users = 4
[[load.stages]]
duration = "1s"
users = 4
[[flows]]
name = "read"
[[flows.steps]]
method = "GET"
path = "/menu"
"#;

/// The backend's service time; a regression adds 30 % to it.
const DELAY_MS: u64 = 40;

async fn backend(delay_ms: u64) -> MockServer {
    let server = MockServer::start().await;
    set_delay(&server, delay_ms).await;
    server
}

/// Replaces the backend's behaviour: every request answered 200 after `delay_ms`.
async fn set_delay(server: &MockServer, delay_ms: u64) {
    server.reset().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_millis(delay_ms)))
        .mount(server)
        .await;
}

/// A batch of the steady scenario (written into `dir`) against `target`.
fn batch(dir: &Path, target: Option<&MockServer>) -> BatchArgs {
    let scenario = write_scenario(dir, "suite.toml", STEADY);
    BatchArgs {
        run: RunArgs {
            scenario,
            target: target.map(MockServer::uri),
            duration: None,
            scale: None,
            gates: Vec::new(),
            seed: None,
            quiet: true,
            reports_dir: dir.join("reports"),
            toxiproxy: None,
            profile: None,
            server_exe: harness_exe(),
            connect: Default::default(),
            sharding: Default::default(),
            live: Default::default(),
            history: Default::default(),
        },
        targets: Vec::new(),
        repeat: 1,
        baseline: Vec::new(),
        baseline_target: None,
        max_regression: None,
    }
}

/// Runs the batch (one at a time); the exit code and what it printed.
async fn run(args: &BatchArgs) -> (u8, String) {
    let _one = one_attack_at_a_time().await;
    let mut out = Vec::new();
    let code = run_batch(args, &mut out)
        .await
        .unwrap_or_else(|e| panic!("the batch could not run: {e}"));
    (code, String::from_utf8_lossy(&out).into_owned())
}

/// The folder named by the last `report:` line.
fn reported(out: &str) -> PathBuf {
    let line = out
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("report: "))
        .unwrap_or_else(|| panic!("no report line in\n{out}"));
    Path::new(line).parent().unwrap().to_path_buf()
}

/// One plain run against `server`; its run folder.
async fn baseline_run(dir: &Path, server: &MockServer) -> PathBuf {
    let (code, out) = run(&batch(dir, Some(server))).await;
    assert_eq!(code, 0, "{out}");
    reported(&out)
}
