//! Stations: orders go to the station that prepares their kind; a full station sheds while the
//! others keep accepting; every order carries its estimated ready time and who made it.

use serde_json::{json, Value};

use crate::{
    helpers::{spawn_app_with, uuid_key, TestApp},
    kitchen::wait_for_status,
};
use reference_server::CookOn;

/// Three one-worker stations with a backlog of two each.
pub const SMALL_KITCHEN: &str = "grill:dine_in:1:2,counter:takeout:1:2,packing:delivery:1:2";

pub fn order_of_kind(kind: &str) -> Value {
    let order_type = match kind {
        "dine_in" => json!({"kind": "dine_in", "table": 7}),
        "delivery" => json!({"kind": "delivery", "address": "1 Main St"}),
        _ => json!({"kind": "takeout"}),
    };
    json!({"store_id": "store-1", "customer": {"name": "Ada"}, "order_type": order_type,
           "items": [{"sku": "latte", "quantity": 1}]})
}

pub async fn create_of_kind(app: &TestApp, kind: &str) -> reqwest::Response {
    app.post_order(&order_of_kind(kind), Some(&uuid_key()))
        .await
}

#[tokio::test]
async fn each_order_is_prepared_by_a_worker_of_the_station_for_its_kind() {
    let app = spawn_app_with(|c| {
        c.stations = Some(SMALL_KITCHEN.into());
        c.cook_on = CookOn::Received;
    })
    .await;
    for (kind, station) in [
        ("dine_in", "grill"),
        ("takeout", "counter"),
        ("delivery", "packing"),
    ] {
        let response = create_of_kind(&app, kind).await;
        assert_eq!(response.status(), 201);
        let order: Value = response.json().await.unwrap();
        assert!(order["estimated_ready_at"].as_str().unwrap().ends_with('Z'));
        let ready = wait_for_status(&app, order["id"].as_str().unwrap(), "ready").await;
        assert_eq!(ready["processed_by"], format!("{station}-1"), "{kind}");
    }
    let (_, workers) = app.get_json("/workers").await;
    let processed: Vec<(String, u64)> = workers["workers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w["name"].as_str().unwrap().to_owned(),
                w["orders_processed"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        processed,
        [
            ("grill-1".to_owned(), 1),
            ("counter-1".to_owned(), 1),
            ("packing-1".to_owned(), 1)
        ]
    );
}

#[tokio::test]
async fn a_full_station_sheds_naming_itself_while_the_others_keep_accepting() {
    let app = spawn_app_with(|c| c.stations = Some(SMALL_KITCHEN.into())).await;
    for _ in 0..2 {
        assert_eq!(create_of_kind(&app, "dine_in").await.status(), 201);
    }
    let shed = create_of_kind(&app, "dine_in").await;
    assert_eq!(shed.status(), 503);
    assert_eq!(shed.headers()["x-kitchen-station"], "grill");
    assert!(shed.headers().contains_key("retry-after"));
    let error: Value = shed.json().await.unwrap();
    assert_eq!(error["error"]["code"], "kitchen_full");
    assert!(error["error"]["message"]
        .as_str()
        .unwrap()
        .contains("grill"));
    for kind in ["takeout", "delivery"] {
        assert_eq!(
            create_of_kind(&app, kind).await.status(),
            201,
            "{kind} still accepted"
        );
    }
    assert_eq!(
        app.metric("kitchen_station_shed_total{station=\"grill\"}")
            .await,
        1.0
    );
    assert_eq!(
        app.metric("kitchen_station_shed_total{station=\"counter\"}")
            .await,
        0.0
    );
    assert_eq!(
        app.metric("kitchen_station_backlog{station=\"grill\"}")
            .await,
        2.0
    );
}

#[tokio::test]
async fn the_estimated_ready_time_grows_with_the_station_backlog() {
    let app = spawn_app_with(|c| {
        c.stations = Some("grill:dine_in:1:9,counter:takeout:1:9,packing:delivery:1:9".into());
        c.prep_time_ms = 60_000;
    })
    .await;
    let mut estimates = Vec::new();
    for _ in 0..3 {
        let order: Value = create_of_kind(&app, "takeout").await.json().await.unwrap();
        let at = order["estimated_ready_at"].as_str().unwrap().to_owned();
        estimates.push(
            time::OffsetDateTime::parse(&at, &time::format_description::well_known::Rfc3339)
                .unwrap(),
        );
    }
    let gap = estimates[2] - estimates[1];
    assert!(
        gap > time::Duration::seconds(55) && gap < time::Duration::seconds(65),
        "one order more ahead is one prep time later: {gap}"
    );
}
