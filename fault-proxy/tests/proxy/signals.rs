//! The `fault-proxy` binary stops on SIGTERM and on SIGINT, exit 0, with its
//! listeners and connections closed (as `toxiproxy-server`), without waiting
//! for its open connections to end. It takes milliseconds; the tests allow
//! `STOP` (a loaded machine may be slow to run the exiting process), and a
//! proxy that waited on the open connection would still never stop.

use crate::helpers::*;
use fault_proxy::{Client, NewProxy};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

/// How long a stop may take before the test calls it stuck.
const STOP: Duration = Duration::from_secs(10);

struct Running {
    child: Child,
    client: Client,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start_binary() -> Running {
    let api = format!("127.0.0.1:{}", free_port());
    let child = Command::new(env!("CARGO_BIN_EXE_fault-proxy"))
        .args(["--listen", &api])
        .stdout(Stdio::null())
        .spawn()
        .expect("start the fault-proxy binary");
    let client = Client::new(&api).unwrap();
    let deadline = Instant::now() + PATIENCE;
    while client.version().await.is_err() {
        assert!(Instant::now() < deadline, "the API did not come up");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Running { child, client }
}

async fn stops_on(signal: &str) {
    let mut running = start_binary().await;
    let proxy = running
        .client
        .create_proxy(&NewProxy::new(
            "s",
            "127.0.0.1:0",
            &echo_upstream().await.to_string(),
        ))
        .await
        .unwrap();
    let mut open = TcpStream::connect(&proxy.listen).await.unwrap();
    round_trip(&mut open, b"alive").await;
    let sent = Instant::now();
    let status = Command::new("kill")
        .args([&format!("-{signal}"), &running.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = loop {
        if let Some(exit) = running.child.try_wait().unwrap() {
            break exit;
        }
        assert!(
            sent.elapsed() < STOP,
            "still running {STOP:?} after SIG{signal}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert!(exit.success(), "SIG{signal}: {exit:?}");
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(STOP, open.read_to_end(&mut rest)).await;
    assert!(closed.is_ok(), "the proxied connection is closed");
    assert!(
        TcpStream::connect(&proxy.listen).await.is_err(),
        "the listener is closed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_the_proxy_with_exit_0_and_closes_its_connections() {
    stops_on("TERM").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_stops_the_proxy_with_exit_0_and_closes_its_connections() {
    stops_on("INT").await;
}
