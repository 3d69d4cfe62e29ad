//! The behaviours where the built-in server used to differ from Toxiproxy
//! 2.12, each checked against what Toxiproxy does: composed toxics, the
//! timeout toxic's removal, resolved listen addresses, `noop`, request ids,
//! bind errors and `/metrics`. Driven by the `toxiproxy_rust` crate (a
//! blocking third-party client, on a blocking thread) and by the async client.

use crate::helpers::*;
use fault_proxy::{NewProxy, ProxyUpdate, Stream};
use serde_json::json;
use std::io::{Read, Write};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use toxiproxy_rust::client::Client as ThirdParty;
use toxiproxy_rust::proxy::ProxyPack;

/// Runs `f` with a `toxiproxy_rust` client on a blocking thread.
async fn third_party<T: Send + 'static>(
    server: &TestServer,
    f: impl FnOnce(ThirdParty) -> T + Send + 'static,
) -> T {
    let addr = server.addr;
    tokio::task::spawn_blocking(move || f(ThirdParty::new(addr)))
        .await
        .expect("the blocking client did not panic")
}

async fn latency_chain(server: &TestServer, name: &str, delays: &[u64]) -> Duration {
    let proxy = proxy_to(server, name, echo_upstream().await).await;
    for (i, delay) in delays.iter().enumerate() {
        let t = toxic(
            &format!("lag{i}"),
            "latency",
            Stream::Upstream,
            json!({"latency": delay}),
        );
        server.client.add_toxic(name, &t).await.unwrap();
    }
    let mut socket = TcpStream::connect(proxy).await.unwrap();
    round_trip(&mut socket, b"ping").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_toxics_on_one_stream_add_up_as_in_toxiproxy() {
    let server = spawn_server().await;
    // The sum is a floor (the larger delay alone would be 200-400 ms short of
    // it); the ceiling, half the sum above it, rules out a doubled delay and
    // leaves a loaded machine hundreds of milliseconds of slack.
    for (name, delays, total) in [
        ("twice", &[500u64, 500][..], 1000u64),
        ("uneven", &[200, 600][..], 800),
    ] {
        let took = latency_chain(&server, name, delays).await;
        let low = Duration::from_millis(total);
        assert!(
            took >= low && took < low + low / 2,
            "{name}: {delays:?} took {took:?}, expected about {total} ms"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_a_timeout_toxic_closes_the_connection_through_toxiproxy_rust() {
    let server = spawn_server().await;
    let (upstream, mut received) = recording_upstream().await;
    let at = format!("127.0.0.1:{}", free_port());
    let client = third_party(&server, move |tp| {
        let proxies = tp
            .populate(vec![ProxyPack::new(
                "t".into(),
                at.clone(),
                upstream.to_string(),
            )])
            .unwrap();
        proxies[0].with_timeout("upstream".into(), 0, 1.0);
        let mut socket = std::net::TcpStream::connect(&at).unwrap();
        socket.write_all(b"held").unwrap();
        socket
    })
    .await;
    // The bytes are in the timeout toxic (dropped there) before it goes.
    wait_until_read(&server, "t", "upstream", 4).await;
    third_party(&server, |tp| {
        tp.find_proxy("t").unwrap().delete_all_toxics().unwrap();
    })
    .await;
    let got = tokio::time::timeout(PATIENCE, received.recv())
        .await
        .expect("the upstream gets EOF")
        .unwrap();
    assert!(got.is_empty(), "the upstream got {got:?}");
    let ended = tokio::task::spawn_blocking(move || {
        let mut client = client;
        client.set_read_timeout(Some(PATIENCE)).unwrap();
        let mut rest = Vec::new();
        client.read_to_end(&mut rest).map(|_| rest)
    })
    .await
    .unwrap();
    assert!(
        matches!(&ended, Ok(rest) if rest.is_empty()),
        "the client is closed with no data: {ended:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repopulating_with_localhost_keeps_a_proxy_stored_as_127_0_0_1() {
    let server = spawn_server().await;
    let upstream = echo_upstream().await.to_string();
    let port = free_port();
    let numeric = format!("127.0.0.1:{port}");
    let (up, at) = (upstream.clone(), numeric.clone());
    third_party(&server, move |tp| {
        let first = tp
            .populate(vec![ProxyPack::new("p".into(), at.clone(), up.clone())])
            .unwrap();
        first[0].with_latency("downstream".into(), 10, 0, 1.0);
    })
    .await;
    let mut open = TcpStream::connect(&numeric).await.unwrap();
    round_trip(&mut open, b"before").await;
    let up = upstream.clone();
    let toxics = third_party(&server, move |tp| {
        let again = tp
            .populate(vec![ProxyPack::new(
                "p".into(),
                format!("localhost:{port}"),
                up,
            )])
            .unwrap();
        assert_eq!(again[0].proxy_pack.listen, format!("127.0.0.1:{port}"));
        tp.find_proxy("p").unwrap().toxics().unwrap().len()
    })
    .await;
    assert_eq!(toxics, 1, "the proxy and its toxic are kept");
    round_trip(&mut open, b"after").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_with_the_same_address_spelt_differently_keeps_connections() {
    let server = spawn_server().await;
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let upstream = echo_upstream().await.to_string();
    server
        .client
        .create_proxy(&NewProxy::new("u", &listen, &upstream))
        .await
        .unwrap();
    let mut open = TcpStream::connect(&listen).await.unwrap();
    round_trip(&mut open, b"before").await;
    let update = ProxyUpdate {
        listen: Some(format!("localhost:{port}")),
        ..ProxyUpdate::default()
    };
    let proxy = server.client.update_proxy("u", &update).await.unwrap();
    assert_eq!(proxy.listen, listen);
    round_trip(&mut open, b"after").await;
    let mut fresh = TcpStream::connect(&listen).await.unwrap();
    round_trip(&mut fresh, b"new").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_noop_toxic_is_accepted_and_passes_data_unchanged() {
    let server = spawn_server().await;
    let proxy = proxy_to(&server, "n", echo_upstream().await).await;
    let added = server
        .client
        .add_toxic(
            "n",
            &toxic("nothing", "noop", Stream::Downstream, json!({})),
        )
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(&added).unwrap(),
        json!({"attributes": {}, "name": "nothing", "type": "noop", "stream": "downstream", "toxicity": 1.0})
    );
    let listed = third_party(&server, |tp| {
        let toxics = tp.find_proxy("n").unwrap().toxics().unwrap();
        toxics.iter().map(|t| t.r#type.clone()).collect::<Vec<_>>()
    })
    .await;
    assert_eq!(listed, ["noop"]);
    let mut socket = TcpStream::connect(proxy).await.unwrap();
    let took = round_trip(&mut socket, b"untouched").await;
    assert!(took < Duration::from_secs(1), "{took:?}");
}

#[tokio::test]
async fn every_api_answer_carries_a_fresh_x_toxiproxy_request_id() {
    let server = spawn_server().await;
    let http = reqwest::Client::new();
    let mut ids = Vec::new();
    for (method, path) in [
        (reqwest::Method::GET, "/version"),
        (reqwest::Method::GET, "/proxies"),
        (reqwest::Method::GET, "/proxies/missing"),
        (reqwest::Method::POST, "/reset"),
    ] {
        let answer = http
            .request(method, format!("{}{path}", server.url))
            .send()
            .await
            .unwrap();
        let id = answer
            .headers()
            .get("x-toxiproxy-request-id")
            .unwrap_or_else(|| panic!("{path} has no request id"))
            .to_str()
            .unwrap()
            .to_string();
        assert_eq!(id.len(), 20, "{path}: {id}");
        assert!(
            id.bytes()
                .all(|c| c.is_ascii_digit() || (b'a'..=b'v').contains(&c)),
            "{path}: {id}"
        );
        ids.push(id);
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 4, "ids are fresh per answer");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taken_port_is_refused_with_toxiproxys_words() {
    let server = spawn_server().await;
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let expected = format!("listen tcp 127.0.0.1:{port}: bind: address already in use");
    let err = server
        .client
        .create_proxy(&NewProxy::new(
            "busy",
            &format!("localhost:{port}"),
            "127.0.0.1:9",
        ))
        .await
        .unwrap_err();
    assert_eq!(
        err.status(),
        Some(reqwest::StatusCode::INTERNAL_SERVER_ERROR)
    );
    assert!(err.to_string().ends_with(&expected), "{err}");
    let populated = third_party(&server, move |tp| {
        tp.populate(vec![ProxyPack::new(
            "busy".into(),
            format!("localhost:{port}"),
            "127.0.0.1:9".into(),
        )])
        .map(|p| p.len())
    })
    .await;
    // toxiproxy_rust reports a refused populate as an error, whatever its text.
    assert!(populated.is_err(), "{populated:?}");
    drop(taken);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_bytes_with_toxiproxys_names_types_and_labels() {
    let server = spawn_server().await;
    let upstream = echo_upstream().await;
    let proxy = proxy_to(&server, "metered", upstream).await;
    let mut socket = TcpStream::connect(proxy).await.unwrap();
    round_trip(&mut socket, b"hello").await;
    let labels = |direction: &str| {
        format!("{{direction=\"{direction}\",listener=\"{proxy}\",proxy=\"metered\",upstream=\"{upstream}\"}}")
    };
    let wanted = [
        "# TYPE toxiproxy_proxy_received_bytes_total counter".to_string(),
        "# TYPE toxiproxy_proxy_sent_bytes_total counter".to_string(),
        format!(
            "toxiproxy_proxy_received_bytes_total{} 5",
            labels("downstream")
        ),
        format!(
            "toxiproxy_proxy_received_bytes_total{} 5",
            labels("upstream")
        ),
        format!("toxiproxy_proxy_sent_bytes_total{} 5", labels("downstream")),
        format!("toxiproxy_proxy_sent_bytes_total{} 5", labels("upstream")),
    ];
    // The last counter moves just after the client has its bytes.
    let deadline = Instant::now() + PATIENCE;
    loop {
        let text = server.client.metrics().await.unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let missing: Vec<_> = wanted
            .iter()
            .filter(|w| !lines.contains(&w.as_str()))
            .collect();
        if missing.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "missing {missing:?} in:\n{text}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let answer = reqwest::get(format!("{}/metrics", server.url))
        .await
        .unwrap();
    let kind = answer.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(kind.starts_with("text/plain; version=0.0.4"), "{kind}");
}
