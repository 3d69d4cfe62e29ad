//! Inventory: reads, atomic adjustments, 404/409/422, and group commits under concurrent writes.

use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};

async fn adjust(app: &TestApp, store: &str, body: Value) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/stores/{store}/inventory/adjustments")))
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_store_inventory_lists_every_item_and_an_unknown_store_is_a_404() {
    let app = spawn_app().await;
    let (status, inventory) = app.get_json("/stores/store-20/inventory").await;
    assert_eq!(status, 200);
    assert_eq!(inventory["store_id"], "store-20");
    assert_eq!(inventory["items"].as_array().unwrap().len(), 12);
    assert_eq!(
        inventory["items"][0],
        json!({"sku":"espresso","on_hand":1_000_000,"reserved":0})
    );
    assert_eq!(app.get_json("/stores/store-21/inventory").await.0, 404);
}

#[tokio::test]
async fn adjustments_apply_together_and_a_read_after_them_sees_them() {
    let app = spawn_app().await;
    let response = adjust(
        &app,
        "store-1",
        json!({"adjustments":[{"sku":"latte","delta":-5},{"sku":"bagel","delta":40}]}),
    )
    .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["applied"], 2);
    assert_eq!(
        body["items"][0],
        json!({"sku":"latte","on_hand":999_995,"reserved":0})
    );
    let bagel = app.stock_item("store-1", "bagel").await;
    assert_eq!(bagel["on_hand"], 1_000_040);
}

#[tokio::test]
async fn an_adjustment_below_zero_is_a_409_and_changes_nothing() {
    let app = spawn_app().await;
    let body = json!({"adjustments":[{"sku":"tea","delta":7},{"sku":"latte","delta":-2_000_000}]});
    let response = adjust(&app, "store-4", body).await;
    assert_eq!(response.status(), 409);
    let tea = app.stock_item("store-4", "tea").await;
    assert_eq!(
        tea["on_hand"], 1_000_000,
        "the first adjustment was rolled back too"
    );
}

#[tokio::test]
async fn bad_adjustment_bodies_are_422_and_unknown_stores_404() {
    let app = spawn_app().await;
    let response = adjust(&app, "store-1", json!({"adjustments":[{"sku":"latte"}]})).await;
    assert_eq!(response.status(), 422);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"]["fields"][0]["field"], "adjustments[0].delta");
    let response = adjust(
        &app,
        "store-1",
        json!({"adjustments":[{"sku":"unicorn","delta":1}]}),
    )
    .await;
    assert_eq!(response.status(), 422);
    assert_eq!(
        adjust(
            &app,
            "store-99",
            json!({"adjustments":[{"sku":"tea","delta":1}]})
        )
        .await
        .status(),
        404
    );
}

/// Under concurrent load, many writes share each commit.
#[tokio::test]
async fn concurrent_adjustments_are_batched_into_fewer_commits_than_writes() {
    let app = spawn_app().await;
    let commits_before = app.metric("db_commits_total").await;
    let writes_before = app.metric("db_writes_total").await;
    let requests = (0..400).map(|i| {
        let store = format!("store-{}", i % 20 + 1);
        let app = &app;
        async move {
            adjust(
                app,
                &store,
                json!({"adjustments":[{"sku":"muffin","delta":1}]}),
            )
            .await
        }
    });
    for response in futures::future::join_all(requests).await {
        assert_eq!(response.status(), 200);
    }
    let commits = app.metric("db_commits_total").await - commits_before;
    let writes = app.metric("db_writes_total").await - writes_before;
    assert_eq!(writes, 400.0);
    assert!(commits < writes, "{commits} commits for {writes} writes");
    let muffin = app.stock_item("store-7", "muffin").await;
    assert_eq!(
        muffin["on_hand"], 1_000_020,
        "every adjustment counted once"
    );
}
