//! The HTTP API through the crate's own client, and Toxiproxy's exact wire
//! format (status codes, error bodies) with raw requests.

use crate::helpers::*;
use fault_proxy::{ClientError, NewProxy, ProxyUpdate, Stream, Toxic, ToxicKind};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn proxies_are_created_listed_shown_updated_and_deleted() {
    let server = spawn_server().await;
    let client = &server.client;
    let upstream = echo_upstream().await;
    let created = client
        .create_proxy(&NewProxy::new("shop", "127.0.0.1:0", &upstream.to_string()))
        .await
        .unwrap();
    assert!(created.enabled);
    assert!(
        !created.listen.ends_with(":0"),
        "the real port is shown: {}",
        created.listen
    );
    assert!(created.toxics.is_empty());

    let all = client.proxies().await.unwrap();
    assert_eq!(all.keys().collect::<Vec<_>>(), vec!["shop"]);
    assert_eq!(client.proxy("shop").await.unwrap(), created);

    let other = echo_upstream().await.to_string();
    let moved = client
        .update_proxy(
            "shop",
            &ProxyUpdate {
                upstream: Some(other.clone()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(moved.upstream, other);
    assert!(moved.enabled);

    client.delete_proxy("shop").await.unwrap();
    assert!(client.proxies().await.unwrap().is_empty());
    let gone = client.proxy("shop").await.unwrap_err();
    assert!(gone.is_not_found(), "{gone}");
}

#[tokio::test]
async fn a_duplicate_proxy_is_a_409_and_an_unknown_one_a_404() {
    let server = spawn_server().await;
    let client = &server.client;
    let new = NewProxy::new("dup", "127.0.0.1:0", "127.0.0.1:9");
    client.create_proxy(&new).await.unwrap();
    match client.create_proxy(&new).await.unwrap_err() {
        ClientError::Api {
            status, message, ..
        } => {
            assert_eq!(status, StatusCode::CONFLICT);
            assert_eq!(message, "proxy already exists");
        }
        other => panic!("expected a 409, got {other}"),
    }
    let missing = client.delete_proxy("nope").await.unwrap_err();
    assert_eq!(missing.status(), Some(StatusCode::NOT_FOUND));
    let missing = client.toxics("nope").await.unwrap_err();
    assert!(missing.to_string().contains("proxy not found"), "{missing}");
}

#[tokio::test]
async fn error_bodies_and_status_codes_are_toxiproxys() {
    let server = spawn_server().await;
    let http = reqwest::Client::new();
    let post = |path: &str, body: &'static str| {
        http.post(format!("{}{path}", server.url)).body(body).send()
    };

    let answer = post("/proxies", r#"{"name": "x"}"#).await.unwrap();
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.text().await.unwrap(),
        "{\"error\":\"missing required field: upstream\",\"status\":400}\n"
    );

    let answer = post("/proxies", "not json").await.unwrap();
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    assert!(answer
        .text()
        .await
        .unwrap()
        .starts_with("{\"error\":\"bad request body: "));

    let answer = http
        .get(format!("{}/proxies/none", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        answer.text().await.unwrap(),
        "{\"error\":\"proxy not found\",\"status\":404}\n"
    );

    post(
        "/proxies",
        r#"{"name": "p", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:9"}"#,
    )
    .await
    .unwrap();
    let answer = post(
        "/proxies/p/toxics",
        r#"{"type": "latency", "stream": "sideways"}"#,
    )
    .await
    .unwrap();
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.text().await.unwrap(),
        "{\"error\":\"stream was invalid, can be either upstream or downstream\",\"status\":400}\n"
    );
    let answer = post("/proxies/p/toxics", r#"{"type": "lag"}"#)
        .await
        .unwrap();
    assert_eq!(
        answer.text().await.unwrap(),
        "{\"error\":\"invalid toxic type\",\"status\":400}\n"
    );

    // A toxic without name gets `{type}_{stream}`; the same again is a 409.
    let answer = post(
        "/proxies/p/toxics",
        r#"{"type": "latency", "attributes": {"latency": 5}}"#,
    )
    .await
    .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let body: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(
        body,
        json!({"attributes": {"latency": 5, "jitter": 0}, "name": "latency_downstream", "type": "latency", "stream": "downstream", "toxicity": 1.0})
    );
    let answer = post("/proxies/p/toxics", r#"{"type": "latency"}"#)
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::CONFLICT);
    assert_eq!(
        answer.text().await.unwrap(),
        "{\"error\":\"toxic already exists\",\"status\":409}\n"
    );

    let answer = http
        .delete(format!("{}/proxies/p/toxics/none", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(
        answer.text().await.unwrap(),
        "{\"error\":\"toxic not found\",\"status\":404}\n"
    );

    let version: serde_json::Value = http
        .get(format!("{}/version", server.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(version["version"].as_str().unwrap().starts_with("2.12.0"));

    let browser = http
        .get(format!("{}/proxies", server.url))
        .header("User-Agent", "Mozilla/5.0")
        .send()
        .await
        .unwrap();
    assert_eq!(browser.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn toxics_are_added_listed_shown_updated_and_removed() {
    let server = spawn_server().await;
    let client = &server.client;
    client
        .create_proxy(&NewProxy::new("t", "127.0.0.1:0", "127.0.0.1:9"))
        .await
        .unwrap();
    let slow = toxic(
        "slow",
        "latency",
        Stream::Downstream,
        json!({"latency": 100, "jitter": 10}),
    );
    let cap = toxic(
        "cap",
        "limit_data",
        Stream::Upstream,
        json!({"bytes": 1000}),
    );
    assert_eq!(client.add_toxic("t", &slow).await.unwrap(), slow);
    assert_eq!(client.add_toxic("t", &cap).await.unwrap(), cap);
    // Toxiproxy lists upstream toxics before downstream ones.
    assert_eq!(
        client.toxics("t").await.unwrap(),
        vec![cap.clone(), slow.clone()]
    );
    assert_eq!(client.toxic("t", "slow").await.unwrap(), slow);
    assert_eq!(client.proxy("t").await.unwrap().toxics.len(), 2);

    let slower = Toxic {
        kind: ToxicKind::Latency {
            latency: 300,
            jitter: 10,
        },
        toxicity: 0.5,
        ..slow.clone()
    };
    let updated = client.update_toxic("t", &slower).await.unwrap();
    assert_eq!(updated, slower);

    // An update with only some attributes keeps the others.
    let http = reqwest::Client::new();
    let patched: Toxic = http
        .post(format!("{}/proxies/t/toxics/slow", server.url))
        .body(r#"{"attributes": {"jitter": 0}}"#)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        patched.kind,
        ToxicKind::Latency {
            latency: 300,
            jitter: 0
        }
    );
    assert_eq!(patched.toxicity, 0.5);

    client.remove_toxic("t", "slow").await.unwrap();
    assert_eq!(client.toxics("t").await.unwrap(), vec![cap]);
    assert!(client
        .remove_toxic("t", "slow")
        .await
        .unwrap_err()
        .is_not_found());
}

#[tokio::test]
async fn populate_creates_keeps_identical_proxies_and_replaces_changed_ones() {
    let server = spawn_server().await;
    let client = &server.client;
    let up = echo_upstream().await.to_string();
    let first = client
        .populate(&[
            NewProxy::new("a", "127.0.0.1:0", &up),
            NewProxy::new("b", "127.0.0.1:0", &up),
        ])
        .await
        .unwrap();
    assert_eq!(first.len(), 2);
    let a_listen = first[0].listen.clone();
    client
        .add_toxic(
            "a",
            &toxic("keep", "latency", Stream::Downstream, json!({"latency": 1})),
        )
        .await
        .unwrap();

    // Same listen and upstream: untouched (its toxic stays). New upstream: replaced.
    let other = echo_upstream().await.to_string();
    let second = client
        .populate(&[
            NewProxy::new("a", &a_listen, &up),
            NewProxy::new("b", "127.0.0.1:0", &other),
        ])
        .await
        .unwrap();
    assert_eq!(second[0].toxics.len(), 1);
    assert_eq!(second[1].upstream, other);

    let http = reqwest::Client::new();
    let bad = http
        .post(format!("{}/populate", server.url))
        .body(r#"[{"name": "c"}]"#)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = bad.json().await.unwrap();
    assert_eq!(
        body,
        json!({"error": "missing required field: upstream at proxy 1", "status": 400, "proxies": null})
    );
}

#[tokio::test]
async fn reset_removes_every_toxic_and_enables_every_proxy() {
    let server = spawn_server().await;
    let client = &server.client;
    client
        .create_proxy(&NewProxy::new("r", "127.0.0.1:0", "127.0.0.1:9"))
        .await
        .unwrap();
    client
        .add_toxic(
            "r",
            &toxic("x", "timeout", Stream::Upstream, json!({"timeout": 0})),
        )
        .await
        .unwrap();
    client
        .update_proxy(
            "r",
            &ProxyUpdate {
                enabled: Some(false),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    client.reset().await.unwrap();
    let proxy = client.proxy("r").await.unwrap();
    assert!(proxy.enabled);
    assert!(proxy.toxics.is_empty());
}

#[tokio::test]
async fn a_proxy_on_a_taken_port_is_refused_with_the_bind_error() {
    let server = spawn_server().await;
    let taken = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let listen = taken.local_addr().unwrap().to_string();
    let err = server
        .client
        .create_proxy(&NewProxy::new("busy", &listen, "127.0.0.1:9"))
        .await
        .unwrap_err();
    assert_eq!(
        err.status(),
        Some(StatusCode::INTERNAL_SERVER_ERROR),
        "{err}"
    );
    assert!(err.to_string().contains(&listen), "{err}");
    assert!(server.client.proxies().await.unwrap().is_empty());
}

#[tokio::test]
async fn the_client_times_out_on_an_api_that_never_answers() {
    // A listener that accepts and never answers stands for a stuck API.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = silent.local_addr().unwrap();
    let _held = tokio::spawn(async move {
        let mut kept = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            kept.push(socket);
        }
    });
    let client =
        fault_proxy::Client::with_timeout(&addr.to_string(), std::time::Duration::from_millis(300))
            .unwrap();
    let started = std::time::Instant::now();
    let err = client.version().await.unwrap_err();
    assert!(matches!(err, ClientError::Timeout { .. }), "{err}");
    // Cut at 300 ms; the bound only has to tell that from never answering.
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}

#[tokio::test]
async fn stopping_the_server_closes_its_proxies() {
    let server = spawn_server().await;
    let proxy = proxy_to(&server, "bye", echo_upstream().await).await;
    server.stop().await;
    assert!(tokio::net::TcpStream::connect(proxy).await.is_err());
}
