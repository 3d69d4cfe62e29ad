//! Menu: ETag/304, admin changes behind a bearer token, and the single-flight cache.

use serde_json::{json, Value};

use crate::helpers::{spawn_app, spawn_app_with, TestApp, ADMIN_TOKEN};

async fn put_item(app: &TestApp, sku: &str, token: Option<&str>, body: Value) -> reqwest::Response {
    let mut request = app
        .client
        .put(app.url(&format!("/admin/menu/{sku}")))
        .json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn the_menu_lists_every_seeded_item_with_an_etag_and_answers_304_to_it() {
    let app = spawn_app().await;
    let response = app.client.get(app.url("/menu")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    let menu: Value = response.json().await.unwrap();
    let skus: Vec<&str> = menu["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["sku"].as_str().unwrap())
        .collect();
    assert_eq!(
        skus,
        [
            "espresso",
            "americano",
            "latte",
            "cappuccino",
            "flat-white",
            "mocha",
            "chai",
            "tea",
            "croissant",
            "muffin",
            "bagel",
            "sandwich"
        ]
    );
    assert_eq!(
        menu["items"][2],
        json!({"sku":"latte","name":"Latte","price_cents":450,"available":true})
    );
    let cached = app
        .client
        .get(app.url("/menu"))
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(cached.status(), 304);
    assert_eq!(cached.headers()["etag"].to_str().unwrap(), etag);
    let other = app
        .client
        .get(app.url("/menu"))
        .header("If-None-Match", "\"menu-v0\"")
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 200);
}

#[tokio::test]
async fn an_admin_change_needs_the_token_and_shows_at_once_with_a_new_etag() {
    let app = spawn_app().await;
    let before = app.client.get(app.url("/menu")).send().await.unwrap();
    let old_etag = before.headers()["etag"].to_str().unwrap().to_owned();
    let old_version = before.json::<Value>().await.unwrap()["version"]
        .as_i64()
        .unwrap();
    assert_eq!(
        put_item(&app, "latte", None, json!({"price_cents": 475}))
            .await
            .status(),
        401
    );
    assert_eq!(
        put_item(&app, "latte", Some("wrong"), json!({"price_cents": 475}))
            .await
            .status(),
        401
    );
    let response = put_item(
        &app,
        "latte",
        Some(ADMIN_TOKEN),
        json!({"price_cents": 475}),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"sku":"latte","name":"Latte","price_cents":475,"available":true})
    );
    let after = app
        .client
        .get(app.url("/menu"))
        .header("If-None-Match", &old_etag)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 200, "the old ETag no longer matches");
    let menu: Value = after.json().await.unwrap();
    assert_eq!(menu["version"].as_i64().unwrap(), old_version + 1);
    assert_eq!(menu["items"][2]["price_cents"], 475);
    let order = app.create_order().await;
    assert_eq!(order["total_cents"], 950, "orders use the new price");
}

#[tokio::test]
async fn admin_changes_to_unknown_items_or_with_bad_bodies_are_refused() {
    let app = spawn_app().await;
    assert_eq!(
        put_item(
            &app,
            "unicorn",
            Some(ADMIN_TOKEN),
            json!({"available": false})
        )
        .await
        .status(),
        404
    );
    let response = put_item(
        &app,
        "latte",
        Some(ADMIN_TOKEN),
        json!({"price_cents": -5, "available": "yes"}),
    )
    .await;
    assert_eq!(response.status(), 422);
    let error: Value = response.json().await.unwrap();
    let fields: Vec<&str> = error["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["price_cents", "available"]);
}

#[tokio::test]
async fn an_unavailable_item_cannot_be_ordered() {
    let app = spawn_app().await;
    assert_eq!(
        put_item(
            &app,
            "latte",
            Some(ADMIN_TOKEN),
            json!({"available": false})
        )
        .await
        .status(),
        200
    );
    let response = app
        .post_order(&crate::helpers::order_body("store-1", "latte", 1), None)
        .await;
    assert_eq!(response.status(), 409);
}

/// Readers arriving while the cache is empty wait for one load instead of each reading the store.
#[tokio::test]
async fn concurrent_readers_after_an_invalidation_cause_one_store_read() {
    let app = spawn_app_with(|_| {}).await;
    app.client.get(app.url("/menu")).send().await.unwrap();
    assert_eq!(app.metric("menu_store_reads_total").await, 1.0);
    for round in 0..3 {
        let response = put_item(
            &app,
            "mocha",
            Some(ADMIN_TOKEN),
            json!({"price_cents": 510 + round}),
        )
        .await;
        assert_eq!(response.status(), 200);
        let readers = (0..1000).map(|_| app.client.get(app.url("/menu")).send());
        for response in futures::future::join_all(readers).await {
            let menu: Value = response.unwrap().json().await.unwrap();
            assert_eq!(
                menu["items"][5]["price_cents"],
                510 + round,
                "no reader saw the old price"
            );
        }
        assert_eq!(
            app.metric("menu_store_reads_total").await,
            2.0 + round as f64
        );
    }
    assert!(app.metric("menu_cache_hits_total").await >= 2990.0);
}
