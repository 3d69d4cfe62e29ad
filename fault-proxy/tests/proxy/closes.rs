//! Toxics that hold, cut, reset or close connections, and a disabled proxy,
//! on real loopback connections through the built-in proxy.

use crate::helpers::*;
use fault_proxy::{ProxyUpdate, Stream};
use serde_json::json;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeout_of_zero_drops_data_and_its_removal_closes_both_ends() {
    let server = spawn_server().await;
    let (upstream, mut received) = recording_upstream().await;
    let proxy = proxy_to(&server, "hold", upstream).await;
    server
        .client
        .add_toxic(
            "hold",
            &toxic("stall", "timeout", Stream::Upstream, json!({"timeout": 0})),
        )
        .await
        .unwrap();
    let mut socket = TcpStream::connect(proxy).await.unwrap();
    socket.write_all(b"ping").await.unwrap();
    let mut buf = [0u8; 4];
    let early = tokio::time::timeout(Duration::from_millis(300), socket.read(&mut buf)).await;
    assert!(
        early.is_err(),
        "nothing passes and nothing closes while the toxic is there"
    );
    // The proxy has read (and dropped) the bytes before the toxic goes.
    wait_until_read(&server, "hold", "upstream", 4).await;
    server.client.remove_toxic("hold", "stall").await.unwrap();
    // As in Toxiproxy: the upstream gets EOF and none of the dropped bytes,
    // and the client's side is closed too.
    let got = tokio::time::timeout(PATIENCE, received.recv())
        .await
        .expect("the upstream side is closed")
        .expect("the upstream saw the connection");
    assert!(got.is_empty(), "the upstream got {got:?}");
    let (data, _) = read_to_end(&mut socket, PATIENCE).await;
    assert!(data.is_empty(), "{data:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeout_closes_the_connection_after_its_delay() {
    let server = spawn_server().await;
    let proxy = proxy_to(&server, "cut", echo_upstream().await).await;
    server
        .client
        .add_toxic(
            "cut",
            &toxic("t", "timeout", Stream::Downstream, json!({"timeout": 200})),
        )
        .await
        .unwrap();
    let started = Instant::now();
    let mut socket = TcpStream::connect(proxy).await.unwrap();
    socket.write_all(b"lost").await.unwrap();
    let (data, _) = read_to_end(&mut socket, PATIENCE).await;
    assert!(data.is_empty(), "no data passes a timeout toxic");
    assert!(
        started.elapsed() >= Duration::from_millis(190),
        "closed after {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn reset_peer_resets_the_connection() {
    let server = spawn_server().await;
    let proxy = proxy_to(&server, "rst", echo_upstream().await).await;
    server
        .client
        .add_toxic(
            "rst",
            &toxic(
                "boom",
                "reset_peer",
                Stream::Downstream,
                json!({"timeout": 0}),
            ),
        )
        .await
        .unwrap();
    let mut socket = TcpStream::connect(proxy).await.unwrap();
    socket.write_all(b"hello").await.unwrap();
    let (data, ended) = read_to_end(&mut socket, PATIENCE).await;
    assert!(data.is_empty());
    let err = ended.expect_err("a reset, not a clean close");
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionReset, "{err}");
}

#[tokio::test]
async fn limit_data_closes_the_connection_after_its_bytes() {
    let server = spawn_server().await;
    let proxy = proxy_to(&server, "lim", echo_upstream().await).await;
    server
        .client
        .add_toxic(
            "lim",
            &toxic(
                "cap",
                "limit_data",
                Stream::Downstream,
                json!({"bytes": 10}),
            ),
        )
        .await
        .unwrap();
    let mut socket = TcpStream::connect(proxy).await.unwrap();
    socket.write_all(&[5u8; 100]).await.unwrap();
    let (data, _) = read_to_end(&mut socket, PATIENCE).await;
    assert_eq!(data, vec![5u8; 10]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_held_in_a_toxic_is_delivered_before_the_close() {
    let server = spawn_server().await;
    let proxy = proxy_to(
        &server,
        "drain",
        sending_upstream(b"hello, then bye".to_vec()).await,
    )
    .await;
    server
        .client
        .add_toxic(
            "drain",
            &toxic(
                "slow",
                "latency",
                Stream::Downstream,
                json!({"latency": 300}),
            ),
        )
        .await
        .unwrap();
    let started = Instant::now();
    let mut socket = TcpStream::connect(proxy).await.unwrap();
    let (data, ended) = read_to_end(&mut socket, PATIENCE).await;
    ended.unwrap();
    assert_eq!(data, b"hello, then bye");
    assert!(
        started.elapsed() >= Duration::from_millis(290),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_close_delays_the_close_but_not_the_data() {
    let server = spawn_server().await;
    let proxy = proxy_to(&server, "sc", sending_upstream(b"data".to_vec()).await).await;
    server
        .client
        .add_toxic(
            "sc",
            &toxic(
                "linger",
                "slow_close",
                Stream::Downstream,
                json!({"delay": 1000}),
            ),
        )
        .await
        .unwrap();
    let started = Instant::now();
    let mut socket = TcpStream::connect(proxy).await.unwrap();
    let mut first = [0u8; 4];
    socket.read_exact(&mut first).await.unwrap();
    let data_after = started.elapsed();
    let (rest, ended) = read_to_end(&mut socket, PATIENCE).await;
    ended.unwrap();
    assert!(rest.is_empty());
    // The data comes at once (milliseconds; half the delay is the bound, so
    // a loaded machine's stalls do not cross it), the close a second later.
    assert!(
        data_after < Duration::from_millis(500),
        "data took {data_after:?}"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(990),
        "closed after {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_disabled_proxy_refuses_connections_until_enabled_again() {
    let server = spawn_server().await;
    let proxy = proxy_to(&server, "gate", echo_upstream().await).await;
    let mut open = TcpStream::connect(proxy).await.unwrap();
    round_trip(&mut open, b"x").await;
    let off = ProxyUpdate {
        enabled: Some(false),
        ..Default::default()
    };
    assert!(
        !server
            .client
            .update_proxy("gate", &off)
            .await
            .unwrap()
            .enabled
    );
    assert!(
        TcpStream::connect(proxy).await.is_err(),
        "a disabled proxy refuses connections"
    );
    let (data, _) = read_to_end(&mut open, PATIENCE).await;
    assert!(data.is_empty(), "its open connections are closed");
    let on = ProxyUpdate {
        enabled: Some(true),
        ..Default::default()
    };
    let listen = server
        .client
        .update_proxy("gate", &on)
        .await
        .unwrap()
        .listen;
    let mut again = TcpStream::connect(listen.parse::<std::net::SocketAddr>().unwrap())
        .await
        .unwrap();
    round_trip(&mut again, b"y").await;
}

#[tokio::test]
async fn a_new_listen_address_moves_the_proxy() {
    let server = spawn_server().await;
    let old = proxy_to(&server, "move", echo_upstream().await).await;
    let free = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let new_addr = free.local_addr().unwrap();
    drop(free);
    let moved = ProxyUpdate {
        listen: Some(new_addr.to_string()),
        ..Default::default()
    };
    let proxy = server.client.update_proxy("move", &moved).await.unwrap();
    assert_eq!(proxy.listen, new_addr.to_string());
    assert!(
        TcpStream::connect(old).await.is_err(),
        "the old address is closed"
    );
    let mut socket = TcpStream::connect(new_addr).await.unwrap();
    round_trip(&mut socket, b"moved").await;
}

#[tokio::test]
async fn a_client_of_an_unreachable_upstream_is_closed() {
    let server = spawn_server().await;
    let dead = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let proxy = proxy_to(&server, "dead", dead).await;
    let mut socket = TcpStream::connect(proxy).await.unwrap();
    let (data, _) = read_to_end(&mut socket, PATIENCE).await;
    assert!(data.is_empty());
}
