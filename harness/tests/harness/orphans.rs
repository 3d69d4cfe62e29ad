//! Nothing outlives the harness: the bundled server and its gateway
//! simulator end when the harness ends, SIGKILL included; their data folders
//! are removed by the next start; toxics left on a shared Toxiproxy by a
//! killed run are removed before the next run's load.

use crate::helpers::{repo_file, report_dir, run_cli, summary, write_scenario, Background};
use std::path::Path;
use std::time::{Duration, Instant};

/// The pids whose parent is `pid` (from /proc).
fn children_of(pid: u32) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(child) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{child}/stat")) else {
            continue;
        };
        // "pid (comm) state ppid ...": the fields after the last ')'.
        let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        let ppid = after.split_whitespace().nth(1).and_then(|p| p.parse().ok());
        if ppid == Some(pid) {
            found.push(child);
        }
    }
    found
}

/// Whether `pid` still runs (a zombie waiting for its reaper does not).
fn running(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
            after.split_whitespace().next() != Some("Z")
        }
        Err(_) => false,
    }
}

fn data_folders(temp: &Path) -> Vec<String> {
    std::fs::read_dir(temp)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("harness-target-"))
        .collect()
}

#[test]
fn a_killed_harness_leaves_no_server_running_and_the_next_run_removes_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let temp = dir.path().join("tmp");
    std::fs::create_dir(&temp).unwrap();
    let temp_env = temp.display().to_string();
    let smoke = repo_file("scenarios/smoke.toml").display().to_string();
    let env = [("TMPDIR", temp_env.as_str())];
    let args = [
        "run",
        &smoke,
        "--duration",
        "60s",
        "--reports-dir",
        "reports",
    ];
    let mut run = Background::spawn(&args, dir.path(), &env);
    run.wait_for_line("load started", Duration::from_secs(120));
    let children = children_of(run.pid());
    assert_eq!(
        children.len(),
        2,
        "the server and the gateway simulator run as children: {children:?}"
    );
    assert_eq!(data_folders(&temp).len(), 1);
    run.signal("KILL");
    let (code, _) = run.finish(Duration::from_secs(30));
    assert_eq!(code, None, "killed by a signal");
    let deadline = Instant::now() + Duration::from_secs(30);
    while children.iter().any(|&c| running(c)) {
        assert!(
            Instant::now() < deadline,
            "children still running 30 s after the harness was killed: {:?}",
            children.iter().filter(|&&c| running(c)).collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let left = data_folders(&temp);
    assert_eq!(left.len(), 1, "the killed run could not remove its folder");

    // The next bundled run removes it, and says so.
    let again = [
        "run",
        &smoke,
        "--duration",
        "1s",
        "--quiet",
        "--reports-dir",
        "reports",
    ];
    let next = Background::spawn(&again, dir.path(), &env);
    let (code, out) = next.finish(Duration::from_secs(120));
    assert_eq!(code, Some(0), "{out}");
    assert!(data_folders(&temp).is_empty(), "{:?}", data_folders(&temp));
    let s = summary(&dir.path().join(report_dir(&out)));
    let notes = s["run"]["notes"].to_string();
    assert!(notes.contains(&left[0]), "{notes}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn toxics_a_killed_run_left_on_a_shared_toxiproxy_are_removed_before_the_load() {
    // A shared Toxiproxy (the built-in server, on its own port) on which a
    // killed run left its proxy with a toxic still on.
    let server = fault_proxy::Server::bind("127.0.0.1:0").await.unwrap();
    let api = server.url();
    tokio::spawn(server.run_until(std::future::pending()));
    let client = fault_proxy::Client::new(&api).unwrap();
    let backend = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("GET"))
        .respond_with(wiremock::ResponseTemplate::new(200))
        .mount(&backend)
        .await;
    let upstream = backend.address().to_string();
    client
        .create_proxy(&fault_proxy::NewProxy::new(
            "harness_payments",
            "127.0.0.1:0",
            &upstream,
        ))
        .await
        .unwrap();
    let toxic = fault_proxy::Toxic::from_parts(
        "latency_downstream",
        "latency",
        fault_proxy::Stream::Downstream,
        1.0,
        &serde_json::json!({"latency": 500}),
    )
    .unwrap();
    client.add_toxic("harness_payments", &toxic).await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    let scenario = write_scenario(
        dir.path(),
        "edge.toml",
        r#"name = "edge"
[load]
model = "closed"
[[load.stages]]
duration = "2s"
users = 1
[[flows]]
name = "read"
[[flows.steps]]
method = "GET"
path = "/menu"
[[faults]]
name = "slow-edge"
at = "1s"
duration = "500ms"
link = "edge"
type = "latency"
attributes = { latency = 5 }
"#,
    );
    let (code, out) = run_cli(&[
        "run",
        scenario.to_str().unwrap(),
        "--target",
        &backend.uri(),
        "--toxiproxy",
        &api,
        "--reports-dir",
        dir.path().join("reports").to_str().unwrap(),
    ])
    .await;
    assert!(code == 0 || code == 4, "{out}");
    assert!(
        client.toxics("harness_payments").await.unwrap().is_empty(),
        "the left toxic is gone"
    );
    let s = summary(&report_dir(&out));
    let notes = s["run"]["notes"].to_string();
    assert!(
        notes.contains("removed toxic(s) latency_downstream from proxy `harness_payments`"),
        "{notes}"
    );
}
