//! Live events: an order's stream sends every status in order and ends when the order is ready;
//! a late subscriber gets the history first; the all-orders stream sees every order.

use serde_json::Value;

use crate::{
    helpers::{spawn_app_with, TestApp},
    kitchen::mount_approving_gateway,
    stations::create_of_kind,
};
use reference_server::CookOn;

/// Reads Server-Sent Events from `response` until it ends or `limit` events came; each event as
/// (event name, data parsed as JSON).
pub async fn read_events(mut response: reqwest::Response, limit: usize) -> Vec<(String, Value)> {
    let mut buffer = String::new();
    let mut events = Vec::new();
    let read = async {
        while events.len() < limit {
            let Some(chunk) = response.chunk().await.expect("reading the stream") else {
                break;
            };
            buffer.push_str(std::str::from_utf8(&chunk).unwrap());
            while let Some(end) = buffer.find("\n\n") {
                let block: String = buffer.drain(..end + 2).collect();
                let (mut name, mut data) = ("message".to_owned(), String::new());
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        name = v.trim().to_owned();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim_start());
                    }
                }
                if !data.is_empty() {
                    events.push((name, serde_json::from_str(&data).unwrap()));
                }
            }
        }
    };
    tokio::time::timeout(crate::kitchen::PATIENCE, read)
        .await
        .expect("the stream ended or sent enough events in time");
    events
}

/// Opens a stream. The server subscribes before it answers, so once the head is here no later
/// event can be missed: no pause is needed before causing events.
async fn subscribe(app: &TestApp, path: &str) -> reqwest::Response {
    let response = app.client.get(app.url(path)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    response
}

#[tokio::test]
async fn an_order_stream_sends_every_status_in_order_and_ends_when_ready() {
    let app = spawn_app_with(|c| c.prep_time_ms = 100).await;
    mount_approving_gateway(&app, 1).await;
    let order = app.create_order().await;
    let id = order["id"].as_str().unwrap();
    let stream = subscribe(&app, &format!("/orders/{id}/events")).await;
    let reader = tokio::spawn(read_events(stream, 100));
    assert_eq!(app.pay(id, "tok_visa").await.status(), 200);
    let events = reader.await.unwrap();
    let statuses: Vec<&str> = events
        .iter()
        .map(|(_, e)| e["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        ["received", "paid", "preparing", "ready"],
        "and then the stream ended"
    );
    let seqs: Vec<i64> = events
        .iter()
        .map(|(_, e)| e["seq"].as_i64().unwrap())
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    let (_, history) = app.get_json(&format!("/orders/{id}/history")).await;
    let streamed: Vec<&Value> = events.iter().map(|(_, e)| e).collect();
    let recorded: Vec<&Value> = history["events"].as_array().unwrap().iter().collect();
    assert_eq!(
        streamed, recorded,
        "the stream and the history agree, timestamps included"
    );
}

#[tokio::test]
async fn a_late_subscriber_gets_the_history_and_the_stream_ends_at_once() {
    let app = spawn_app_with(|c| c.cook_on = CookOn::Received).await;
    let order: Value = create_of_kind(&app, "delivery").await.json().await.unwrap();
    let id = order["id"].as_str().unwrap();
    crate::kitchen::wait_for_status(&app, id, "ready").await;
    let events = read_events(subscribe(&app, &format!("/orders/{id}/events")).await, 100).await;
    let statuses: Vec<&str> = events
        .iter()
        .map(|(_, e)| e["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["received", "preparing", "ready"]);
    assert_eq!(app.get_json("/orders/no-such-order/events").await.0, 404);
}

#[tokio::test]
async fn the_all_orders_stream_sees_every_orders_changes() {
    let app = spawn_app_with(|c| c.cook_on = CookOn::Received).await;
    let stream = subscribe(&app, "/events").await;
    let reader = tokio::spawn(read_events(stream, 9));
    for kind in ["dine_in", "takeout", "delivery"] {
        assert_eq!(create_of_kind(&app, kind).await.status(), 201);
    }
    let events = reader.await.unwrap();
    let ready = events
        .iter()
        .filter(|(_, e)| e["status"] == "ready")
        .count();
    assert_eq!(ready, 3, "{events:?}");
    assert!(app.metric("events_subscribers{stream=\"all\"}").await <= 1.0);
}
