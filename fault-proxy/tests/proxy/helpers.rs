//! Test fixtures: the built-in server on port 0, loopback upstreams (echo,
//! a sender that closes), small timed socket helpers, and a wait for the
//! proxy to have read a connection's bytes (instead of a fixed sleep).

use fault_proxy::{Client, NewProxy, Server, Stream, Toxic};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// How long a wait that only ends early on success may last: generous, so a
/// loaded machine (CI runs every suite at once) never turns a slow pass into
/// a failure; a broken behaviour still fails, only later.
pub const PATIENCE: Duration = Duration::from_secs(30);

pub struct TestServer {
    pub addr: SocketAddr,
    pub url: String,
    pub client: Client,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl TestServer {
    /// Stops the server and checks it shut down cleanly.
    pub async fn stop(mut self) {
        let _ = self.stop.take().expect("running").send(());
        let task = self.task.take().expect("running");
        tokio::time::timeout(PATIENCE, task)
            .await
            .expect("stops in time")
            .unwrap()
            .unwrap();
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

pub async fn spawn_server() -> TestServer {
    let server = Server::bind("127.0.0.1:0").await.expect("bind the API");
    let addr = server.local_addr();
    let url = server.url();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(server.run_until(async move {
        let _ = stopped.await;
    }));
    let client = Client::new(&url).expect("client");
    TestServer {
        addr,
        url,
        client,
        stop: Some(stop),
        task: Some(task),
    }
}

/// An upstream that echoes every byte back, and half-closes when the client does.
pub async fn echo_upstream() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (mut r, mut w) = socket.split();
                let _ = tokio::io::copy(&mut r, &mut w).await;
                let _ = w.shutdown().await;
            });
        }
    });
    addr
}

/// An upstream that reads each connection to its end and reports what it got.
pub async fn recording_upstream() -> (SocketAddr, mpsc::UnboundedReceiver<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut got = Vec::new();
                let _ = socket.read_to_end(&mut got).await;
                let _ = tx.send(got);
            });
        }
    });
    (addr, rx)
}

/// A loopback port that was free a moment ago (for proxies on a fixed port).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// An upstream that sends `payload` to each client and then closes at once.
pub async fn sending_upstream(payload: Vec<u8>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let payload = payload.clone();
            tokio::spawn(async move {
                let _ = socket.write_all(&payload).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    addr
}

/// A proxy named `name` in front of `upstream`, on a free port; returns its address.
pub async fn proxy_to(server: &TestServer, name: &str, upstream: SocketAddr) -> SocketAddr {
    let proxy = server
        .client
        .create_proxy(&NewProxy::new(name, "127.0.0.1:0", &upstream.to_string()))
        .await
        .expect("create proxy");
    proxy.listen.parse().expect("listen is an address")
}

pub fn toxic(name: &str, kind: &str, stream: Stream, attributes: serde_json::Value) -> Toxic {
    Toxic::from_parts(name, kind, stream, 1.0, &attributes).expect("valid toxic")
}

/// Sends `message` and reads the same number of bytes back; returns the round trip.
pub async fn round_trip(socket: &mut TcpStream, message: &[u8]) -> Duration {
    let started = Instant::now();
    socket.write_all(message).await.unwrap();
    let mut back = vec![0u8; message.len()];
    tokio::time::timeout(PATIENCE, socket.read_exact(&mut back))
        .await
        .expect("the echo arrives in time")
        .expect("echo arrives");
    assert_eq!(back, message);
    started.elapsed()
}

/// Reads until EOF (or an error), with a deadline; returns the bytes and how it ended.
pub async fn read_to_end(
    socket: &mut TcpStream,
    within: Duration,
) -> (Vec<u8>, std::io::Result<()>) {
    let mut out = Vec::new();
    let result = tokio::time::timeout(within, socket.read_to_end(&mut out))
        .await
        .expect("the stream ends in time");
    (out, result.map(drop))
}

/// Waits until proxy `name` has read `bytes` bytes in `direction` (`upstream`:
/// from its clients; `downstream`: from its upstream), as its `/metrics` count
/// them. A chunk is counted as it is read and handed to the toxics in the same
/// step, so once this returns the bytes sit in the toxic chain: the phase a
/// test of "what a toxic does to data it holds" needs, reached without a
/// fixed sleep that a loaded machine could outlast.
pub async fn wait_until_read(server: &TestServer, name: &str, direction: &str, bytes: u64) {
    let prefix = format!("toxiproxy_proxy_received_bytes_total{{direction=\"{direction}\",");
    let proxy = format!("proxy=\"{name}\"");
    let deadline = Instant::now() + PATIENCE;
    loop {
        let text = server.client.metrics().await.expect("/metrics answers");
        let read: u64 = text
            .lines()
            .filter(|l| l.starts_with(&prefix) && l.contains(&proxy))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
            .sum();
        if read >= bytes {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{name} read only {read} of {bytes} bytes {direction} in {PATIENCE:?}:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
