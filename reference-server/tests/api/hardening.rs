//! Hostile input from outside: bounded metric labels, the error envelope and `X-Request-Id` on
//! the framework's own answers, no well-known admin token, slow clients and the connection cap.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{assert_envelope, parse_raw, spawn_app, spawn_app_with};
use crate::kitchen::PATIENCE;

/// Below the server's default header and body read timeouts (10 s): a connection cut before this
/// was cut by the test's short timeout, with seconds of room for a loaded machine.
const BEFORE_DEFAULT: Duration = Duration::from_secs(5);

#[tokio::test]
async fn made_up_methods_are_counted_under_one_label_so_metrics_stay_small() {
    let app = spawn_app().await;
    let metrics_size = || async {
        let text = app.client.get(app.url("/metrics")).send().await.unwrap();
        text.text().await.unwrap()
    };
    let before = metrics_size().await;
    for i in 0..300 {
        let method = reqwest::Method::from_bytes(format!("M{i}X").as_bytes()).unwrap();
        for path in ["/health", "/no/such/route"] {
            let response = app
                .client
                .request(method.clone(), app.url(path))
                .send()
                .await;
            assert!(response.unwrap().status().is_client_error());
        }
    }
    let after = metrics_size().await;
    assert!(!after.contains("M1X"), "a made-up method became a label");
    assert!(
        after.contains(r#"http_requests_total{method="other",route="/health",status="405"} 300"#),
        "{after}"
    );
    assert!(
        after.contains(r#"http_requests_total{method="other",route="unmatched",status="404"} 300"#)
    );
    // Two new series (and their histograms) for 600 requests, not 600.
    assert!(
        after.len() < before.len() + 8_000,
        "{} -> {}",
        before.len(),
        after.len()
    );
}

#[tokio::test]
async fn the_frameworks_own_answers_are_in_the_envelope_with_a_request_id() {
    let app = spawn_app_with(|c| c.body_limit_bytes = 1024).await;
    let checks: [(reqwest::RequestBuilder, u16, &str); 4] = [
        (
            app.client
                .post(app.url("/orders"))
                .header("content-type", "application/json")
                .body(vec![b' '; 4096]),
            413,
            "payload_too_large",
        ),
        (
            app.client.delete(app.url("/orders")),
            405,
            "method_not_allowed",
        ),
        (app.client.get(app.url("/menu/")), 404, "not_found"),
        // A percent-encoded id that is not UTF-8 names no order.
        (app.client.get(app.url("/orders/%FF%FE")), 404, "not_found"),
    ];
    for (request, status, code) in checks {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), status);
        assert!(response.headers().contains_key("x-request-id"), "{status}");
        assert_eq!(response.headers()["content-type"], "application/json");
        if status == 405 {
            assert_eq!(response.headers()["allow"], "POST");
        }
        assert_envelope(&response.json().await.unwrap(), code);
    }
}

#[tokio::test]
async fn a_request_target_over_64_kib_gets_414_in_the_envelope_with_a_request_id() {
    let app = spawn_app().await;
    let request = format!(
        "GET /orders/{} HTTP/1.1\r\nhost: localhost\r\n\r\n",
        "a".repeat(100_000)
    );
    let answer = app.raw(request.as_bytes(), Duration::from_secs(5)).await;
    let (status, head, body) = parse_raw(&answer);
    assert_eq!(status, 414, "{answer}");
    assert!(head.contains("x-request-id: "), "{head}");
    assert!(head.contains("content-type: application/json"), "{head}");
    assert_envelope(&body, "uri_too_long");
}

#[tokio::test]
async fn a_request_hyper_cannot_parse_gets_400_in_the_envelope_with_a_request_id() {
    let app = spawn_app().await;
    let answer = app
        .raw(
            b"GET /health HTTP/1.1\r\nhost: localhost\r\nno colon here\r\n\r\n",
            Duration::from_secs(5),
        )
        .await;
    let (status, head, body) = parse_raw(&answer);
    assert_eq!(status, 400, "{answer}");
    assert!(head.contains("x-request-id: "), "{head}");
    assert_envelope(&body, "bad_request");
}

#[tokio::test]
async fn a_body_that_stalls_gets_408_in_the_envelope_and_the_connection_closes() {
    let app = spawn_app_with(|c| c.body_read_timeout_ms = 300).await;
    let request = "POST /orders HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\n\
                   content-length: 100\r\n\r\n{\"store_id\":";
    let started = Instant::now();
    let answer = app.raw(request.as_bytes(), PATIENCE).await;
    let (status, head, body) = parse_raw(&answer);
    assert_eq!(status, 408, "{answer}");
    // Cut by the configured 300 ms, not the 10 s default (nor the client giving up).
    assert!(
        started.elapsed() < BEFORE_DEFAULT,
        "{:?}",
        started.elapsed()
    );
    assert!(head.contains("x-request-id: ") && head.contains("connection: close"));
    assert_envelope(&body, "request_timeout");
}

#[tokio::test]
async fn a_request_past_its_deadline_gets_503_timeout_in_the_envelope() {
    use wiremock::{matchers::method, Mock, ResponseTemplate};
    // The naive profile has no payment timeout, so only the request deadline ends the wait.
    let app = spawn_app_with(|c| {
        c.profile = reference_server::Profile::Naive;
        // Long enough for any other request of the test, however slow the machine.
        c.request_timeout_ms = 2_000;
    })
    .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(10)))
        .mount(&app.gateway)
        .await;
    let order = app.create_order().await;
    let response = app.pay(order["id"].as_str().unwrap(), "tok_visa").await;
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "1");
    assert!(response.headers().contains_key("x-request-id"));
    assert_envelope(&response.json().await.unwrap(), "timeout");
}

#[tokio::test]
async fn a_client_request_id_is_kept_only_when_short_and_printable() {
    let app = spawn_app().await;
    for (sent, kept) in [("abc-123", true), (&*"x".repeat(5000), false), ("", false)] {
        let response = app
            .client
            .get(app.url("/health"))
            .header("x-request-id", sent)
            .send()
            .await
            .unwrap();
        let id = response.headers()["x-request-id"].to_str().unwrap();
        assert_eq!(id == sent, kept, "sent {} characters", sent.len());
        assert!(!id.is_empty() && id.len() <= 128);
    }
}

#[tokio::test]
async fn without_a_configured_token_the_old_default_token_is_refused() {
    let app = spawn_app_with(|c| c.admin_token = None).await;
    let response = app
        .client
        .put(app.url("/admin/menu/latte"))
        .bearer_auth(crate::helpers::ADMIN_TOKEN)
        .json(&json!({"price_cents": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_envelope(&response.json().await.unwrap(), "unauthorized");
}

#[tokio::test]
async fn a_half_sent_request_and_an_idle_keep_alive_are_closed_after_the_header_timeout() {
    let app = spawn_app_with(|c| c.header_read_timeout_ms = 300).await;
    let started = Instant::now();
    let answer = app
        .raw(b"GET /health HTTP/1.1\r\nhost: localhost\r\n", PATIENCE)
        .await;
    assert!(answer.is_empty(), "{answer}");
    assert!(started.elapsed() < BEFORE_DEFAULT, "held open");
    let mut stream = tokio::net::TcpStream::connect(app.socket_addr())
        .await
        .unwrap();
    stream
        .write_all(b"GET /health HTTP/1.1\r\nhost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let started = Instant::now();
    let read = tokio::time::timeout(PATIENCE, stream.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "the idle keep-alive connection stayed open");
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200"));
    assert!(
        started.elapsed() < BEFORE_DEFAULT,
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn connections_over_the_cap_get_503_in_the_envelope_and_are_closed() {
    let app = spawn_app_with(|c| c.max_connections = 3).await;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(
            tokio::net::TcpStream::connect(app.socket_addr())
                .await
                .unwrap(),
        );
    }
    // The server takes its connections in the order they came, so the fourth is over the cap
    // whenever it is accepted: no pause is needed.
    let answer = app.raw(b"", PATIENCE).await;
    let (status, head, body) = parse_raw(&answer);
    assert_eq!(status, 503, "{answer:?}");
    assert!(head.contains("x-request-id: ") && head.contains("retry-after: 1"));
    assert_envelope(&body, "too_many_connections");
    drop(held);
    // The slots come back once the server has seen the closes: poll for that, counting the
    // connections it refuses meanwhile (each one is counted by the server, too).
    let mut refused_again = 0;
    let deadline = Instant::now() + PATIENCE;
    loop {
        let answer = app
            .raw(
                b"GET /health HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n",
                PATIENCE,
            )
            .await;
        if answer.starts_with("HTTP/1.1 200") {
            break;
        }
        refused_again += 1;
        assert!(
            Instant::now() < deadline,
            "no slot came free once the connections closed: {answer:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let refused: Value = json!(app.metric("http_refused_connections_total").await);
    assert_eq!(refused, json!(1.0 + f64::from(refused_again)));
}
