//! The contract: what `/openapi.json` says is accepted is what the server accepts, field by field,
//! and the edge cases fuzzing found (i64::MIN, control characters, `null` booleans, no-op updates).

use serde_json::{json, Value};

use crate::helpers::{assert_envelope, order_body, spawn_app, TestApp, ADMIN_TOKEN};

/// A validator for one component schema of the served document.
fn validator(doc: &Value, component: &str) -> jsonschema::Validator {
    let schema = json!({
        "$ref": format!("#/components/schemas/{component}"),
        "components": doc["components"].clone(),
    });
    jsonschema::draft202012::new(&schema).expect("the component schema compiles")
}

async fn post(app: &TestApp, path: &str, body: &Value) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn put_menu(app: &TestApp, body: &Value) -> reqwest::Response {
    app.client
        .put(app.url("/admin/menu/latte"))
        .bearer_auth(ADMIN_TOKEN)
        .json(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_body_the_schema_accepts_is_accepted_and_one_it_refuses_is_refused() {
    let app = spawn_app().await;
    let (_, doc) = app.get_json("/openapi.json").await;
    let new_order = validator(&doc, "NewOrder");
    let with = |f: &dyn Fn(&mut Value)| {
        let mut body = order_body("store-1", "latte", 1);
        f(&mut body);
        body
    };
    let orders = [
        with(&|_| {}),
        with(&|b| b["items"][0]["quantity"] = json!(1.0)),
        with(&|b| b["items"][0]["quantity"] = json!(2.5)),
        with(&|b| b["items"][0]["quantity"] = json!(9223372036854775808u64)),
        with(&|b| b["items"][0]["sku"] = json!("")),
        with(&|b| b["customer"]["name"] = json!("")),
        with(&|b| b["customer"]["name"] = json!("   ")),
        with(&|b| b["customer"]["name"] = json!(format!(" {} ", "a".repeat(99)))),
        with(&|b| b["customer"]["name"] = json!("Ada\n")),
        with(&|b| b["order_type"] = json!({"kind": "delivery", "address": ""})),
        with(&|b| b["order_type"] = json!({"kind": "delivery", "address": "1 Main St"})),
        with(&|b| b["order_type"] = json!({"kind": "dine_in", "table": 3.0})),
    ];
    for body in &orders {
        let accepted = post(&app, "/orders", body).await.status() == 201;
        assert_eq!(accepted, new_order.is_valid(body), "{body}");
    }
    let adjustments = validator(&doc, "Adjustments");
    for delta in [
        json!(5),
        json!(2e9),
        json!(1000000000),
        json!(i64::MIN),
        json!(1.5),
    ] {
        let body = json!({"adjustments": [{"sku": "tea", "delta": delta}]});
        let accepted = post(&app, "/stores/store-1/inventory/adjustments", &body)
            .await
            .status()
            == 200;
        assert_eq!(accepted, adjustments.is_valid(&body), "{body}");
    }
    let payment = validator(&doc, "PaymentRequest");
    let token = json!({"method": "card", "card_token": "tök"});
    assert!(
        !payment.is_valid(&token),
        "a non-ASCII card token is outside the schema"
    );
    let update = validator(&doc, "MenuItemUpdate");
    for body in [
        json!({}),
        json!({"available": null}),
        json!({"price": 1}),
        json!({"price_cents": 500}),
    ] {
        let accepted = put_menu(&app, &body).await.status() == 200;
        assert_eq!(accepted, update.is_valid(&body), "{body}");
    }
}

#[tokio::test]
async fn an_empty_idempotency_key_is_outside_the_schema_and_refused() {
    let app = spawn_app().await;
    let (_, doc) = app.get_json("/openapi.json").await;
    let key = &doc["paths"]["/orders"]["post"]["parameters"][0]["schema"];
    let schema = jsonschema::draft202012::new(key).unwrap();
    assert!(!schema.is_valid(&json!("")));
    assert!(schema.is_valid(&json!("k-1")));
    let response = app
        .post_order(&order_body("store-1", "latte", 1), Some(""))
        .await;
    assert_eq!(response.status(), 422);
}

#[tokio::test]
async fn a_delta_of_i64_min_is_refused_as_out_of_range() {
    let app = spawn_app().await;
    for delta in [i64::MIN, i64::MIN + 1, i64::MAX] {
        let body = json!({"adjustments": [{"sku": "tea", "delta": delta}]});
        let response = post(&app, "/stores/store-1/inventory/adjustments", &body).await;
        assert_eq!(response.status(), 422, "delta {delta}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["error"]["fields"][0]["field"], "adjustments[0].delta");
    }
    assert_eq!(app.stock_item("store-1", "tea").await["on_hand"], 1_000_000);
}

#[tokio::test]
async fn a_json_body_sent_without_application_json_is_a_415() {
    let app = spawn_app().await;
    let body = order_body("store-1", "latte", 1).to_string();
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("text/xml"),
        None,
    ] {
        let mut request = app.client.post(app.url("/orders")).body(body.clone());
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 415, "{content_type:?}");
        assert_envelope(&response.json().await.unwrap(), "unsupported_media_type");
    }
    let response = app
        .client
        .post(app.url("/orders"))
        .header("content-type", "application/json; charset=utf-8")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
}

#[tokio::test]
async fn null_is_not_a_boolean_in_a_menu_update() {
    let app = spawn_app().await;
    let response = put_menu(&app, &json!({"price_cents": 460, "available": null})).await;
    assert_eq!(response.status(), 422);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"]["fields"][0]["field"], "available");
    let (_, menu) = app.get_json("/menu").await;
    assert_eq!(menu["version"], 1, "nothing changed");
}

#[tokio::test]
async fn control_characters_in_a_delivery_address_are_refused() {
    let app = spawn_app().await;
    let mut body = order_body("store-1", "latte", 1);
    body["order_type"] = json!({"kind": "delivery", "address": "x\u{0}\u{1b}[31mRED"});
    let response = app.post_order(&body, None).await;
    assert_eq!(response.status(), 422);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"]["fields"][0]["field"], "order_type.address");
}

#[tokio::test]
async fn a_quantity_of_two_to_the_63_is_out_of_range_not_missing() {
    let app = spawn_app().await;
    let mut body = order_body("store-1", "latte", 1);
    body["items"][0]["quantity"] = json!(9223372036854775808u64);
    let response = app.post_order(&body, None).await;
    let error: Value = response.json().await.unwrap();
    let problem = error["error"]["fields"][0]["problem"].as_str().unwrap();
    assert!(problem.contains("between 1 and 99"), "{problem}");
}

#[tokio::test]
async fn a_menu_update_that_changes_nothing_keeps_the_version_and_etag() {
    let app = spawn_app().await;
    let etag = |r: &reqwest::Response| r.headers()["etag"].to_str().unwrap().to_owned();
    let before = etag(&app.client.get(app.url("/menu")).send().await.unwrap());
    let response = put_menu(&app, &json!({"price_cents": 450, "available": true})).await;
    assert_eq!(response.status(), 200);
    let after = etag(&app.client.get(app.url("/menu")).send().await.unwrap());
    assert_eq!(before, after);
    assert_eq!(
        put_menu(&app, &json!({"price_cents": 451})).await.status(),
        200
    );
    let changed = etag(&app.client.get(app.url("/menu")).send().await.unwrap());
    assert_ne!(before, changed);
}
