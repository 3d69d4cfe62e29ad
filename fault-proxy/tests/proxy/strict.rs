//! The API refuses what a scenario file may not hold either (the same
//! rules): a listen address beyond loopback, attributes and toxicity out of
//! their ranges; each a 400 in Toxiproxy's error shape, and nothing stored.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// Sends `body` to `path` and returns the status and the parsed error body.
async fn post(server: &TestServer, path: &str, body: Value) -> (StatusCode, Value) {
    let answer = reqwest::Client::new()
        .post(format!("{}{path}", server.url))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = answer.status();
    let text = answer.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Asserts a 400 in Toxiproxy's shape whose message holds `words`.
fn assert_refused((status, body): (StatusCode, Value), words: &str) {
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["status"], 400, "{body}");
    let error = body["error"].as_str().unwrap_or_default();
    assert!(error.starts_with("bad request body: "), "{error}");
    assert!(error.contains(words), "{error:?} lacks {words:?}");
}

#[tokio::test]
async fn a_listen_address_beyond_loopback_is_refused_on_create_populate_and_update() {
    let server = spawn_server().await;
    for listen in [
        "0.0.0.0:0",
        "[::]:0",
        "10.1.2.3:8080",
        "proxy.example.invalid:80",
    ] {
        let body = json!({"name": "open", "listen": listen, "upstream": "127.0.0.1:9"});
        assert_refused(
            post(&server, "/proxies", body).await,
            "is not on this machine's loopback",
        );
    }
    let (status, body) = post(
        &server,
        "/populate",
        json!([{"name": "open", "listen": "0.0.0.0:0", "upstream": "127.0.0.1:9"}]),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"].as_str().unwrap().contains("loopback"),
        "{body}"
    );
    assert!(server.client.proxies().await.unwrap().is_empty());

    // Loopback in every spelling is a listen address.
    for (name, listen) in [("a", "127.0.0.1:0"), ("b", "localhost:0"), ("c", "")] {
        let body = json!({"name": name, "listen": listen, "upstream": "127.0.0.1:9"});
        let (status, proxy) = post(&server, "/proxies", body).await;
        assert_eq!(status, StatusCode::CREATED, "{proxy}");
        assert!(
            proxy["listen"].as_str().unwrap().starts_with("127.0.0.1:"),
            "{proxy}"
        );
    }
    let kept = server.client.proxy("a").await.unwrap().listen;
    assert_refused(
        post(&server, "/proxies/a", json!({"listen": "0.0.0.0:0"})).await,
        "0.0.0.0:0",
    );
    assert_eq!(server.client.proxy("a").await.unwrap().listen, kept);
    server.stop().await;
}

#[tokio::test]
async fn attributes_and_toxicity_out_of_range_are_refused_and_not_stored() {
    let server = spawn_server().await;
    proxy_to(&server, "p", echo_upstream().await).await;
    let cases = [
        (
            json!({"type": "latency", "attributes": {"latency": -100}}),
            "attribute `latency` of toxic `latency` must be a whole number from 0 to 86400000 ms",
        ),
        (
            json!({"type": "latency", "attributes": {"latency": 10, "jitter": -1}}),
            "`jitter`",
        ),
        (
            json!({"type": "latency", "attributes": {"latency": 1.5}}),
            "got 1.5",
        ),
        (
            json!({"type": "bandwidth", "attributes": {"rate": -5}}),
            "`rate`",
        ),
        (
            json!({"type": "timeout", "attributes": {"timeout": 86_400_001}}),
            "`timeout`",
        ),
        (
            json!({"type": "slicer", "attributes": {"average_size": 10, "size_variation": 10}}),
            "smaller than average_size",
        ),
        (
            json!({"type": "latency", "toxicity": 1.5, "attributes": {"latency": 10}}),
            "toxicity must be a number from 0 to 1",
        ),
        (
            json!({"type": "latency", "toxicity": -0.5, "attributes": {"latency": 10}}),
            "got -0.5",
        ),
    ];
    for (body, words) in cases {
        assert_refused(post(&server, "/proxies/p/toxics", body).await, words);
    }
    assert!(server.client.toxics("p").await.unwrap().is_empty());

    // An update is held to the same rules, and a refused one changes nothing.
    let body = json!({"name": "slow", "type": "latency", "attributes": {"latency": 10}});
    let (status, _) = post(&server, "/proxies/p/toxics", body).await;
    assert_eq!(status, StatusCode::OK);
    let path = "/proxies/p/toxics/slow";
    assert_refused(
        post(&server, path, json!({"attributes": {"latency": -100}})).await,
        "`latency`",
    );
    assert_refused(
        post(&server, path, json!({"toxicity": 1.5})).await,
        "toxicity",
    );
    let toxic = server.client.toxics("p").await.unwrap().remove(0);
    assert_eq!(toxic.describe(), "latency 10 ms downstream");
    server.stop().await;
}

#[test]
fn a_scenario_fault_and_the_api_give_the_same_reason() {
    let attributes = json!({"latency": -100});
    let by_hand = fault_proxy::Toxic::from_parts(
        "slow",
        "latency",
        fault_proxy::Stream::Downstream,
        1.0,
        &attributes,
    )
    .unwrap_err();
    let by_wire = fault_proxy::ToxicKind::from_wire("latency", &attributes).unwrap_err();
    assert_eq!(by_hand, by_wire);
    assert_eq!(
        fault_proxy::check_listen("0.0.0.0:0").unwrap_err().to_string(),
        "listen \"0.0.0.0:0\" is not on this machine's loopback: a proxy listens on 127.0.0.1, [::1] or localhost only, so nothing beyond this machine can reach it"
    );
}
