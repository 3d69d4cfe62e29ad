//! Toxics that shape timing (latency, bandwidth, slicer, toxicity) on real
//! loopback connections, and toxics changed while a connection is open.

use crate::helpers::*;
use fault_proxy::{Stream, Toxic};
use serde_json::json;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_is_counted_from_each_chunks_arrival_so_it_does_not_accumulate() {
    let server = spawn_server().await;
    let proxy = proxy_to(&server, "lat", echo_upstream().await).await;
    server
        .client
        .add_toxic(
            "lat",
            &toxic(
                "slow",
                "latency",
                Stream::Downstream,
                json!({"latency": 300}),
            ),
        )
        .await
        .unwrap();
    let socket = TcpStream::connect(proxy).await.unwrap();
    socket.set_nodelay(true).unwrap();
    // Ten messages 50 ms apart, read back on a second task: each one comes
    // back ~300 ms after it was sent, so the whole exchange takes ~0.75 s.
    // Were the latency to accumulate (each chunk waiting for the one before
    // it), the ten would take at least 10 x 300 ms = 3 s however the machine
    // schedules the sender, and the last would come back ~2.5 s after it was
    // sent; the bounds below sit between the two with seconds to spare, so
    // a loaded machine's late wake-ups cannot cross them.
    let (mut reader, mut writer) = socket.into_split();
    let started = Instant::now();
    let sender = tokio::spawn(async move {
        let mut sent = Vec::new();
        for i in 0..10u8 {
            sent.push(Instant::now());
            writer.write_all(&[i; 8]).await.unwrap();
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        sent
    });
    let mut arrived = Vec::new();
    let mut buf = [0u8; 8];
    for _ in 0..10 {
        tokio::time::timeout(PATIENCE, reader.read_exact(&mut buf))
            .await
            .expect("every message comes back")
            .unwrap();
        arrived.push(Instant::now());
    }
    let sent = sender.await.unwrap();
    let total = started.elapsed();
    for (i, (s, a)) in sent.iter().zip(&arrived).enumerate() {
        let delay = a.duration_since(*s);
        assert!(
            delay >= Duration::from_millis(295),
            "message {i} came back after {delay:?}"
        );
        assert!(
            delay < Duration::from_millis(1500),
            "message {i} came back after {delay:?}"
        );
    }
    assert!(
        total < Duration::from_millis(2400),
        "10 messages took {total:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bandwidth_holds_a_large_transfer_to_its_rate() {
    let server = spawn_server().await;
    let payload = vec![7u8; 400_000];
    let proxy = proxy_to(&server, "bw", sending_upstream(payload.clone()).await).await;
    // 1000 KB/s: 400 KB take 0.4 s.
    server
        .client
        .add_toxic(
            "bw",
            &toxic(
                "thin",
                "bandwidth",
                Stream::Downstream,
                json!({"rate": 1000}),
            ),
        )
        .await
        .unwrap();
    let started = Instant::now();
    let mut socket = TcpStream::connect(proxy).await.unwrap();
    let (data, ended) = read_to_end(&mut socket, PATIENCE).await;
    let took = started.elapsed();
    ended.unwrap();
    assert_eq!(data, payload);
    // The rate is a floor on the time; the ceiling only rules out a unit
    // mistake (bytes for KB would take minutes), so it leaves a loaded
    // machine ten times the expected 0.4 s.
    assert!(
        took >= Duration::from_millis(380),
        "400 KB at 1000 KB/s took {took:?}"
    );
    assert!(
        took < Duration::from_secs(4),
        "400 KB at 1000 KB/s took {took:?}"
    );
}

#[tokio::test]
async fn a_huge_bandwidth_rate_passes_data_without_panicking() {
    let server = spawn_server().await;
    let proxy = proxy_to(&server, "wide", echo_upstream().await).await;
    let huge = toxic(
        "huge",
        "bandwidth",
        Stream::Downstream,
        json!({"rate": u64::MAX}),
    );
    server.client.add_toxic("wide", &huge).await.unwrap();
    let mut socket = TcpStream::connect(proxy).await.unwrap();
    round_trip(&mut socket, &[1u8; 70_000]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_slicer_cuts_data_into_small_delayed_pieces_without_losing_any() {
    let server = spawn_server().await;
    let payload: Vec<u8> = (0..600u32).map(|i| (i % 251) as u8).collect();
    let proxy = proxy_to(&server, "sl", sending_upstream(payload.clone()).await).await;
    // 20 ms between slices (the delay is in microseconds): a reader woken
    // late on a loaded machine finds several slices queued and reads them as
    // one, so the pieces are made far enough apart that even a slow reader
    // sees a handful of reads, and the time they span is the robust sign.
    let slicer = toxic(
        "bits",
        "slicer",
        Stream::Downstream,
        json!({"average_size": 20, "size_variation": 5, "delay": 20000}),
    );
    server.client.add_toxic("sl", &slicer).await.unwrap();
    let started = Instant::now();
    let mut socket = TcpStream::connect(proxy).await.unwrap();
    let mut data = Vec::new();
    let mut reads = 0;
    let mut buf = [0u8; 4096];
    loop {
        let n = tokio::time::timeout(PATIENCE, socket.read(&mut buf))
            .await
            .expect("the slices keep coming")
            .unwrap();
        if n == 0 {
            break;
        }
        reads += 1;
        data.extend_from_slice(&buf[..n]);
    }
    assert_eq!(data, payload);
    // At least 24 slices (600 bytes, at most 25 each) 20 ms apart: >= 460 ms.
    assert!(reads >= 5, "arrived in {reads} reads");
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn toxics_added_and_removed_on_an_open_connection_take_effect_on_it() {
    let server = spawn_server().await;
    let proxy = proxy_to(&server, "live", echo_upstream().await).await;
    let mut socket = TcpStream::connect(proxy).await.unwrap();
    socket.set_nodelay(true).unwrap();
    let before = round_trip(&mut socket, b"a").await;
    server
        .client
        .add_toxic(
            "live",
            &toxic(
                "late",
                "latency",
                Stream::Upstream,
                json!({"latency": 1000}),
            ),
        )
        .await
        .unwrap();
    let during = round_trip(&mut socket, b"b").await;
    server.client.remove_toxic("live", "late").await.unwrap();
    let after = round_trip(&mut socket, b"c").await;
    // A loopback round trip without the toxic takes milliseconds; half the
    // latency is the bound, so a loaded machine's stalls cannot reach it.
    assert!(before < Duration::from_millis(500), "before: {before:?}");
    assert!(during >= Duration::from_millis(995), "during: {during:?}");
    assert!(after < Duration::from_millis(500), "after: {after:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_a_latency_toxic_releases_the_data_it_holds() {
    let server = spawn_server().await;
    let proxy = proxy_to(&server, "rel", echo_upstream().await).await;
    server
        .client
        .add_toxic(
            "rel",
            &toxic(
                "long",
                "latency",
                Stream::Downstream,
                json!({"latency": 60_000}),
            ),
        )
        .await
        .unwrap();
    let mut socket = TcpStream::connect(proxy).await.unwrap();
    socket.write_all(b"held").await.unwrap();
    // The echo is back in the proxy and inside the toxic (not merely on its way).
    wait_until_read(&server, "rel", "downstream", 4).await;
    let started = Instant::now();
    server.client.remove_toxic("rel", "long").await.unwrap();
    let mut buf = [0u8; 4];
    tokio::time::timeout(PATIENCE, socket.read_exact(&mut buf))
        .await
        .expect("released")
        .unwrap();
    assert_eq!(&buf, b"held");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "released by the removal, not by the 60 s latency: {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_toxicity_of_zero_never_applies() {
    let server = spawn_server().await;
    let proxy = proxy_to(&server, "zero", echo_upstream().await).await;
    let never = Toxic::from_parts(
        "never",
        "latency",
        Stream::Downstream,
        0.0,
        &json!({"latency": 60_000}),
    )
    .unwrap();
    server.client.add_toxic("zero", &never).await.unwrap();
    let mut socket = TcpStream::connect(proxy).await.unwrap();
    assert!(round_trip(&mut socket, b"fast").await < Duration::from_secs(10));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updating_a_toxic_changes_it_on_open_connections() {
    let server = spawn_server().await;
    let proxy = proxy_to(&server, "upd", echo_upstream().await).await;
    let slow = toxic(
        "slow",
        "latency",
        Stream::Downstream,
        json!({"latency": 1000}),
    );
    server.client.add_toxic("upd", &slow).await.unwrap();
    let mut socket = TcpStream::connect(proxy).await.unwrap();
    socket.set_nodelay(true).unwrap();
    let during = round_trip(&mut socket, b"a").await;
    let quick = Toxic {
        kind: fault_proxy::ToxicKind::Latency {
            latency: 0,
            jitter: 0,
        },
        ..slow
    };
    server.client.update_toxic("upd", &quick).await.unwrap();
    let after = round_trip(&mut socket, b"b").await;
    assert!(
        during >= Duration::from_millis(995),
        "before the update: {during:?}"
    );
    assert!(
        after < Duration::from_millis(500),
        "after the update: {after:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_two_way_transfer_passes_intact_with_and_without_toxics() {
    let server = spawn_server().await;
    let proxy = proxy_to(&server, "bulk", echo_upstream().await).await;
    let payload: Vec<u8> = (0..6_000_000u32).map(|i| (i % 253) as u8).collect();
    for with_toxic in [false, true] {
        if with_toxic {
            let jitter = toxic(
                "j",
                "latency",
                Stream::Downstream,
                json!({"latency": 5, "jitter": 5}),
            );
            server.client.add_toxic("bulk", &jitter).await.unwrap();
        }
        let socket = TcpStream::connect(proxy).await.unwrap();
        let (mut reader, mut writer) = socket.into_split();
        let sent = payload.clone();
        // Writing and reading at once: a proxy that stopped reading one way
        // while blocked writing the other would deadlock here.
        let writing = tokio::spawn(async move {
            writer.write_all(&sent).await.unwrap();
            writer.shutdown().await.unwrap();
        });
        let mut back = Vec::with_capacity(payload.len());
        tokio::time::timeout(Duration::from_secs(120), reader.read_to_end(&mut back))
            .await
            .expect("the echo completes")
            .unwrap();
        writing.await.unwrap();
        assert!(
            back == payload,
            "{} bytes came back (toxic: {with_toxic})",
            back.len()
        );
    }
}
