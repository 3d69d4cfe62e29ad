//! Orders: creation, validation (422), stock (409), idempotency keys, reads.

use std::collections::HashSet;

use serde_json::{json, Value};

use crate::helpers::{order_body, spawn_app, spawn_app_with, uuid_key};

#[tokio::test]
async fn a_valid_order_is_created_with_server_computed_totals_and_a_location() {
    let app = spawn_app().await;
    let body = json!({"store_id":"store-1","customer":{"name":"Ada"},"order_type":{"kind":"dine_in","table":12},
                      "items":[{"sku":"latte","quantity":2},{"sku":"croissant","quantity":1}]});
    let response = app.post_order(&body, Some(&uuid_key())).await;
    assert_eq!(response.status(), 201);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let order: Value = response.json().await.unwrap();
    assert_eq!(
        location,
        format!("/orders/{}", order["id"].as_str().unwrap())
    );
    assert_eq!(order["status"], "received");
    assert_eq!(order["total_cents"], 2 * 450 + 325);
    assert_eq!(order["items"][0]["line_total_cents"], 900);
    let number = order["number"].as_str().unwrap();
    assert!(
        number.starts_with("ORD-") && number.len() == "ORD-20261121-000001".len(),
        "{number}"
    );
    let (status, fetched) = app.get_json(&location).await;
    assert_eq!(status, 200);
    assert_eq!(fetched["number"], order["number"]);
}

#[tokio::test]
async fn bad_fields_are_each_named_in_a_422() {
    let app = spawn_app().await;
    let body = json!({"store_id":"store-1","customer":{"name":" "},"order_type":{"kind":"delivery"},
                      "items":[{"sku":"latte","quantity":0}]});
    let response = app.post_order(&body, Some(&uuid_key())).await;
    assert_eq!(response.status(), 422);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"]["code"], "validation_failed");
    let fields: HashSet<&str> = error["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        HashSet::from(["customer.name", "order_type.address", "items[0].quantity"])
    );
}

#[tokio::test]
async fn an_unknown_sku_or_store_is_a_422_naming_the_field() {
    let app = spawn_app().await;
    let response = app
        .post_order(&order_body("store-1", "unicorn-latte", 1), None)
        .await;
    assert_eq!(response.status(), 422);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"]["fields"][0]["field"], "items[0].sku");
    let response = app
        .post_order(&order_body("store-999", "latte", 1), None)
        .await;
    assert_eq!(response.status(), 422);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"]["fields"][0]["field"], "store_id");
    let response = app
        .client
        .post(app.url("/orders"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
}

#[tokio::test]
async fn ordering_more_than_the_stock_is_a_409_and_reserves_nothing() {
    let app = spawn_app_with(|c| c.initial_stock = 3).await;
    let body = json!({"store_id":"store-2","customer":{"name":"Bo"},"order_type":{"kind":"takeout"},
                      "items":[{"sku":"tea","quantity":2},{"sku":"mocha","quantity":4}]});
    let response = app.post_order(&body, Some(&uuid_key())).await;
    assert_eq!(response.status(), 409);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"]["code"], "out_of_stock");
    let tea = app.stock_item("store-2", "tea").await;
    assert_eq!(
        (tea["on_hand"].as_i64(), tea["reserved"].as_i64()),
        (Some(3), Some(0)),
        "the tea was given back"
    );
}

#[tokio::test]
async fn a_replayed_key_returns_the_first_answer_and_creates_nothing() {
    let app = spawn_app().await;
    let key = uuid_key();
    let body = order_body("store-1", "mocha", 1);
    let first: Value = app
        .post_order(&body, Some(&key))
        .await
        .json()
        .await
        .unwrap();
    let replay = app.post_order(&body, Some(&key)).await;
    assert_eq!(replay.status(), 201);
    let replay: Value = replay.json().await.unwrap();
    assert_eq!(replay, first);
    let mocha = app.stock_item("store-1", "mocha").await;
    assert_eq!(mocha["reserved"], 1);
}

#[tokio::test]
async fn the_same_key_with_a_different_body_is_a_422() {
    let app = spawn_app().await;
    let key = uuid_key();
    assert_eq!(
        app.post_order(&order_body("store-1", "mocha", 1), Some(&key))
            .await
            .status(),
        201
    );
    let response = app
        .post_order(&order_body("store-1", "mocha", 2), Some(&key))
        .await;
    assert_eq!(response.status(), 422);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"]["fields"][0]["field"], "Idempotency-Key");
}

#[tokio::test]
async fn concurrent_duplicates_with_one_key_create_one_order() {
    let app = spawn_app().await;
    let key = uuid_key();
    let body = order_body("store-3", "bagel", 3);
    let attempts = (0..40).map(|_| app.post_order(&body, Some(&key)));
    let responses = futures::future::join_all(attempts).await;
    let mut ids = HashSet::new();
    for response in responses {
        assert_eq!(response.status(), 201);
        let order: Value = response.json().await.unwrap();
        ids.insert(order["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(ids.len(), 1, "every duplicate got the same order");
    let bagel = app.stock_item("store-3", "bagel").await;
    assert_eq!(bagel["reserved"], 3, "stock was reserved once");
}

#[tokio::test]
async fn an_unknown_order_is_a_404() {
    let app = spawn_app().await;
    assert_eq!(app.get_json("/orders/no-such-order").await.0, 404);
    assert_eq!(app.get_json("/orders/no-such-order/history").await.0, 404);
}
