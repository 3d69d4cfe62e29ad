//! The HTTP toxics on a proxy declared `"protocol": "http"`, through a real
//! HTTP client (reqwest, or raw HTTP/1.1 on a socket) and a real HTTP server
//! (axum) on loopback: toxicity per request, and the counts of requests
//! affected read back from the API and `/metrics`.

use crate::helpers::*;
use fault_proxy::{NewProxy, Protocol, Stream, Toxic};
use serde_json::json;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// An HTTP server: `/` answers "hello" and counts the requests it got,
/// `/big` answers 100,000 bytes.
async fn http_upstream() -> (SocketAddr, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    let app = axum::Router::new()
        .route(
            "/",
            axum::routing::get(move || {
                let counted = counted.clone();
                async move {
                    counted.fetch_add(1, Ordering::Relaxed);
                    "hello"
                }
            }),
        )
        .route("/big", axum::routing::get(|| async { vec![b'x'; 100_000] }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (addr, hits)
}

/// An HTTP proxy in front of `upstream`; returns its base URL.
async fn http_proxy(server: &TestServer, name: &str, upstream: SocketAddr) -> String {
    let new = NewProxy::new(name, "127.0.0.1:0", &upstream.to_string()).http();
    let proxy = server.client.create_proxy(&new).await.unwrap();
    assert_eq!(proxy.protocol, Protocol::Http);
    format!("http://{}", proxy.listen)
}

fn http_toxic(name: &str, kind: &str, toxicity: f32, attributes: serde_json::Value) -> Toxic {
    Toxic::from_parts(name, kind, Stream::Downstream, toxicity, &attributes).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_status_answers_a_share_of_requests_without_forwarding_them() {
    let server = spawn_server().await;
    let (upstream, hits) = http_upstream().await;
    let base = http_proxy(&server, "gateway", upstream).await;
    let t = http_toxic(
        "unavailable",
        "http_status",
        0.3,
        json!({"status": 503, "retry_after": 7}),
    );
    server.client.add_toxic("gateway", &t).await.unwrap();
    let http = reqwest::Client::new();
    let total = 300;
    let mut refused = 0;
    for _ in 0..total {
        let answer = http.get(format!("{base}/")).send().await.unwrap();
        match answer.status().as_u16() {
            503 => {
                assert_eq!(answer.headers()["retry-after"], "7");
                assert_eq!(answer.text().await.unwrap(), "503 Service Unavailable\n");
                refused += 1;
            }
            200 => assert_eq!(answer.text().await.unwrap(), "hello"),
            other => panic!("unexpected status {other}"),
        }
    }
    assert!(
        (45..=135).contains(&refused),
        "{refused} of {total} at 30 %"
    );
    assert_eq!(
        hits.load(Ordering::Relaxed),
        total - refused,
        "refused requests never reach the upstream"
    );
    let counts = server
        .client
        .http_requests("gateway", "unavailable")
        .await
        .unwrap();
    assert_eq!(
        (counts.requests, counts.affected),
        (total as u64, refused as u64)
    );
    let metrics = server.client.metrics().await.unwrap();
    let line = format!(
        "fault_proxy_http_requests_affected_total{{proxy=\"gateway\",toxic=\"unavailable\",type=\"http_status\"}} {refused}"
    );
    assert!(
        metrics.lines().any(|l| l == line),
        "{line} not in:\n{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_latency_delays_each_answer_as_a_whole_with_jitter() {
    let server = spawn_server().await;
    let (upstream, _) = http_upstream().await;
    let base = http_proxy(&server, "slow", upstream).await;
    let http = reqwest::Client::new();
    // Bounds on the fastest of several requests, not on each: a loaded
    // machine may stall any one request, hardly all of them.
    let mut untouched = Vec::new();
    for _ in 0..3 {
        let started = Instant::now();
        http.get(format!("{base}/"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        untouched.push(started.elapsed());
    }
    assert!(
        *untouched.iter().min().unwrap() < Duration::from_millis(300),
        "no toxic: {untouched:?}"
    );
    let t = http_toxic(
        "lag",
        "http_latency",
        1.0,
        json!({"latency": 400, "jitter": 50}),
    );
    server.client.add_toxic("slow", &t).await.unwrap();
    let mut took = Vec::new();
    // One keep-alive connection: every request on it is delayed, not only the first.
    for _ in 0..6 {
        let started = Instant::now();
        let body = http
            .get(format!("{base}/big"))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_eq!(body.len(), 100_000);
        took.push(started.elapsed());
    }
    // Every answer waits 350-450 ms; delayed per chunk of its 100 KB body
    // instead of as a whole, even the fastest would take 700 ms or more.
    for t in &took {
        assert!(*t >= Duration::from_millis(350), "{took:?}");
    }
    assert!(
        *took.iter().min().unwrap() < Duration::from_millis(650),
        "{took:?}"
    );
    let spread = took
        .iter()
        .max()
        .unwrap()
        .saturating_sub(*took.iter().min().unwrap());
    assert!(
        spread >= Duration::from_millis(3),
        "jitter varies the delay: {took:?}"
    );
    let counts = server.client.http_requests("slow", "lag").await.unwrap();
    assert_eq!((counts.requests, counts.affected), (6, 6));
}

/// Sends one raw GET and reads until the connection ends; returns the bytes and how it ended.
async fn raw_get(base: &str, path: &str) -> (Vec<u8>, std::io::Result<usize>) {
    let mut socket = TcpStream::connect(base.trim_start_matches("http://"))
        .await
        .unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: upstream\r\n\r\n");
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut got = Vec::new();
    let ended = tokio::time::timeout(PATIENCE, socket.read_to_end(&mut got))
        .await
        .expect("the answer ends in time");
    (got, ended)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_reset_cuts_the_answer_after_its_bytes_and_resets_the_connection() {
    let server = spawn_server().await;
    let (upstream, _) = http_upstream().await;
    let base = http_proxy(&server, "flaky", upstream).await;
    let t = http_toxic("cut", "http_reset", 1.0, json!({"bytes": 1000}));
    server.client.add_toxic("flaky", &t).await.unwrap();
    let (got, ended) = raw_get(&base, "/big").await;
    let err = ended.expect_err("the connection is reset, not closed");
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionReset, "{err}");
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text:.200}");
    let head_end = text.find("\r\n\r\n").expect("the whole head passed") + 4;
    assert_eq!(
        got.len() - head_end,
        1000,
        "exactly the toxic's bytes of the body"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_reset_drops_a_share_of_requests_and_counts_them() {
    let server = spawn_server().await;
    let (upstream, _) = http_upstream().await;
    let base = http_proxy(&server, "flaky", upstream).await;
    let t = http_toxic("cut", "http_reset", 0.5, json!({"bytes": 10}));
    server.client.add_toxic("flaky", &t).await.unwrap();
    let http = reqwest::Client::new();
    let total = 40;
    let mut failed = 0;
    for _ in 0..total {
        let body = match http.get(format!("{base}/big")).send().await {
            Ok(answer) => answer.bytes().await.map(|b| b.len()),
            Err(e) => Err(e),
        };
        match body {
            Ok(len) => assert_eq!(len, 100_000),
            Err(_) => failed += 1,
        }
    }
    assert!((5..=35).contains(&failed), "{failed} of {total} at 50 %");
    let counts = server.client.http_requests("flaky", "cut").await.unwrap();
    assert_eq!((counts.requests, counts.affected), (total, failed));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_toxics_still_apply_on_an_http_proxy() {
    let server = spawn_server().await;
    let (upstream, _) = http_upstream().await;
    let base = http_proxy(&server, "both", upstream).await;
    let lag = toxic(
        "lag",
        "latency",
        Stream::Downstream,
        json!({"latency": 1000}),
    );
    server.client.add_toxic("both", &lag).await.unwrap();
    let t = http_toxic("teapot", "http_status", 1.0, json!({"status": 418}));
    server.client.add_toxic("both", &t).await.unwrap();
    let started = Instant::now();
    let answer = reqwest::get(format!("{base}/")).await.unwrap();
    assert_eq!(answer.status().as_u16(), 418);
    let took = started.elapsed();
    // Milliseconds, against the 1 s the upstream hop would take: half of
    // it is the bound, out of reach of a loaded machine's stalls.
    assert!(
        took < Duration::from_millis(500),
        "http_status answers before the upstream hop: {took:?}"
    );
    server.client.remove_toxic("both", "teapot").await.unwrap();
    let started = Instant::now();
    let answer = reqwest::get(format!("{base}/")).await.unwrap();
    assert_eq!(answer.text().await.unwrap(), "hello");
    assert!(
        started.elapsed() >= Duration::from_millis(1000),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn an_http_toxic_on_a_plain_tcp_proxy_is_refused() {
    let server = spawn_server().await;
    proxy_to(&server, "plain", echo_upstream().await).await;
    let t = http_toxic("x", "http_status", 1.0, json!({"status": 503}));
    let err = server.client.add_toxic("plain", &t).await.unwrap_err();
    assert_eq!(err.status(), Some(reqwest::StatusCode::BAD_REQUEST));
    assert!(err.to_string().contains("\"protocol\": \"http\""), "{err}");
    let proxy = server.client.proxy("plain").await.unwrap();
    assert_eq!(proxy.protocol, Protocol::Tcp);
    // Nor can an HTTP proxy that has one become a plain one.
    let (upstream, _) = http_upstream().await;
    http_proxy(&server, "web", upstream).await;
    server.client.add_toxic("web", &t).await.unwrap();
    let answer = reqwest::Client::new()
        .post(format!("{}/proxies/web", server.url))
        .body(r#"{"protocol": "tcp"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), reqwest::StatusCode::BAD_REQUEST);
    assert_eq!(
        server.client.proxy("web").await.unwrap().protocol,
        Protocol::Http
    );
    let raw = reqwest::get(format!("{}/proxies/plain", server.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !raw.contains("protocol"),
        "a TCP proxy's JSON is Toxiproxy's: {raw}"
    );
}

/// A raw HTTP/1.1 upstream: reads one request head, reports it, answers 101
/// and then echoes every byte (a protocol upgrade).
async fn upgrading_upstream() -> (SocketAddr, tokio::sync::mpsc::UnboundedReceiver<String>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if socket.read_exact(&mut byte).await.is_err() {
                        return;
                    }
                    head.push(byte[0]);
                }
                let _ = tx.send(String::from_utf8_lossy(&head).into_owned());
                let answer = b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n";
                let _ = socket.write_all(answer).await;
                let (mut r, mut w) = socket.split();
                let _ = tokio::io::copy(&mut r, &mut w).await;
            });
        }
    });
    (addr, rx)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn header_case_passes_through_and_an_upgrade_becomes_a_tunnel() {
    let server = spawn_server().await;
    let (upstream, mut heads) = upgrading_upstream().await;
    let base = http_proxy(&server, "tunnel", upstream).await;
    let mut socket = TcpStream::connect(base.trim_start_matches("http://"))
        .await
        .unwrap();
    let request = "GET /chat HTTP/1.1\r\nHost: upstream\r\nX-Custom-Header: Kept\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n";
    socket.write_all(request.as_bytes()).await.unwrap();
    let head = tokio::time::timeout(PATIENCE, heads.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(head.starts_with("GET /chat HTTP/1.1\r\n"), "{head}");
    assert!(
        head.contains("X-Custom-Header: Kept\r\n"),
        "header case is kept: {head}"
    );
    let mut answer = Vec::new();
    let mut byte = [0u8; 1];
    while !answer.ends_with(b"\r\n\r\n") {
        socket.read_exact(&mut byte).await.unwrap();
        answer.push(byte[0]);
    }
    assert!(
        answer.starts_with(b"HTTP/1.1 101 "),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    round_trip(&mut socket, b"raw bytes after the upgrade").await;
}
