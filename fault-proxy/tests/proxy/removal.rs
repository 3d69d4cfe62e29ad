//! Removing a timeout toxic closes the connections it held, every time and
//! promptly, even when it is added and removed back to back while the data
//! plane is busy (Toxiproxy's `TestTimeoutToxicClosesConnectionOnRemove`,
//! repeated under load).

use crate::helpers::*;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// How many times the toxic is added and removed.
const ROUNDS: usize = 50;
/// How long a closed connection may take to read as closed: far more than
/// it needs, so only a connection left open fails.
const BOUND: Duration = Duration::from_secs(10);

/// An upstream that echoes, and reports each connection whose input ended.
async fn reporting_upstream() -> (SocketAddr, mpsc::UnboundedReceiver<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let (mut r, mut w) = socket.split();
                let _ = tokio::io::copy(&mut r, &mut w).await;
                let _ = tx.send(());
            });
        }
    });
    (addr, rx)
}

/// An upstream that reads and drops whatever it is sent.
async fn sink_upstream() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let _ = tokio::io::copy(&mut socket, &mut tokio::io::sink()).await;
            });
        }
    });
    addr
}

/// Floods `proxy` with data until `stop`, so the data plane always has a
/// chunk to forward; returns the bytes sent.
async fn flood(proxy: SocketAddr, stop: Arc<AtomicBool>) -> u64 {
    let mut socket = TcpStream::connect(proxy).await.unwrap();
    let chunk = vec![7u8; 64 * 1024];
    let mut sent = 0;
    while !stop.load(Ordering::Relaxed) {
        socket.write_all(&chunk).await.unwrap();
        sent += chunk.len() as u64;
    }
    sent
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_a_timeout_toxic_closes_its_connection_every_time_under_load() {
    let server = spawn_server().await;
    // Another proxy of the same server keeps the data plane's thread busy,
    // so a connection may not look at its toxics between the add and the
    // removal (before the fix, this failed in the first rounds every time).
    let busy = proxy_to(&server, "busy", sink_upstream().await).await;
    let stop = Arc::new(AtomicBool::new(false));
    let flooding = tokio::spawn(flood(busy, stop.clone()));

    let (upstream, mut ended) = reporting_upstream().await;
    let proxy = proxy_to(&server, "held", upstream).await;
    let http = reqwest::Client::new();
    let toxics = format!("{}/proxies/held/toxics", server.url);
    for round in 0..ROUNDS {
        let mut socket = TcpStream::connect(proxy).await.unwrap();
        round_trip(&mut socket, b"foobar").await;
        // Back to back, as Toxiproxy's test does: nothing waits for the
        // connection to see the toxic before it goes again.
        let added = http
            .post(&toxics)
            .body(r#"{"name": "to_delete", "type": "timeout", "stream": "upstream", "attributes": {"timeout": 0}}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(added.status(), reqwest::StatusCode::OK);
        let removed = http
            .delete(format!("{toxics}/to_delete"))
            .send()
            .await
            .unwrap();
        assert_eq!(removed.status(), reqwest::StatusCode::NO_CONTENT);

        let mut byte = [0u8; 1];
        let read = tokio::time::timeout(BOUND, socket.read(&mut byte))
            .await
            .unwrap_or_else(|_| panic!("round {round}: the client's connection is still open {BOUND:?} after the removal"));
        assert_eq!(
            read.unwrap(),
            0,
            "round {round}: expected EOF from the closed connection"
        );
        tokio::time::timeout(BOUND, ended.recv())
            .await
            .unwrap_or_else(|_| panic!("round {round}: the upstream's connection is still open {BOUND:?} after the removal"))
            .expect("the upstream is still serving");
    }

    // `POST /reset` removes the toxic as well, and closes the same way.
    let mut socket = TcpStream::connect(proxy).await.unwrap();
    round_trip(&mut socket, b"foobar").await;
    let body = r#"{"type": "timeout", "stream": "upstream", "attributes": {"timeout": 0}}"#;
    let added = http.post(&toxics).body(body).send().await.unwrap();
    assert_eq!(added.status(), reqwest::StatusCode::OK);
    server.client.reset().await.unwrap();
    let (_, read) = read_to_end(&mut socket, BOUND).await;
    read.expect("closed by the reset, not reset by it");

    stop.store(true, Ordering::Relaxed);
    // The flood's connection, on the other proxy, outlived the removals.
    let sent = flooding.await.unwrap();
    assert!(sent > 0, "the load ran beside the removals");
    server.stop().await;
}
