//! Workers: heartbeats, an operator stopping a worker mid-order (its order is re-queued and made
//! once, by another worker), `GET /workers` and worker state in `/metrics`; the naive profile,
//! without heartbeats, leaves a stopped worker's order stuck.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::{
    helpers::{spawn_app_with, TestApp},
    kitchen::{wait_for_metric, wait_for_status, PATIENCE},
    stations::create_of_kind,
};
use reference_server::{CookOn, Profile, ServerConfig};

/// Two counter workers, a slow preparation, and frequent heartbeats. A silent worker is lost after
/// the default 2 s (forty beats): a shorter timeout would let a loaded machine's slow commit, during
/// which a worker cannot beat, pass for a death and re-queue an order of a healthy worker.
fn two_counter_workers(c: &mut ServerConfig) {
    c.stations = Some("grill:dine_in:1:10,counter:takeout:2:10,packing:delivery:1:10".into());
    c.cook_on = CookOn::Received;
    c.prep_time_ms = 1_500;
    c.heartbeat_ms = 50;
    c.heartbeat_timeout_ms = 2_000;
}

/// Waits until `name`'s state is `state`.
async fn wait_for_state(app: &TestApp, name: &str, state: &str) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let listed = worker(app, name).await;
        if listed["state"] == state {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{name} never became {state}: {listed}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub async fn admin(app: &TestApp, path: &str) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .bearer_auth(crate::helpers::ADMIN_TOKEN)
        .send()
        .await
        .expect("admin POST")
}

async fn worker(app: &TestApp, name: &str) -> Value {
    let (_, workers) = app.get_json("/workers").await;
    workers["workers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["name"] == name)
        .unwrap_or_else(|| panic!("{name} is listed"))
        .clone()
}

async fn preparing(app: &TestApp, id: &str) -> String {
    let order = wait_for_status(app, id, "preparing").await;
    order["processed_by"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_worker_stopped_mid_order_loses_it_to_another_worker_and_it_is_made_once() {
    let app = spawn_app_with(two_counter_workers).await;
    let order: Value = create_of_kind(&app, "takeout").await.json().await.unwrap();
    let id = order["id"].as_str().unwrap();
    let first = preparing(&app, id).await;
    assert_eq!(worker(&app, &first).await["holding"][0], id);
    assert_eq!(
        admin(&app, &format!("/admin/workers/{first}/stop"))
            .await
            .status(),
        200
    );
    wait_for_state(&app, &first, "offline").await;
    let ready = wait_for_status(&app, id, "ready").await;
    let second = ready["processed_by"].as_str().unwrap().to_owned();
    assert_ne!(second, first, "another worker made it");
    assert_eq!(
        admin(&app, &format!("/admin/workers/{first}/start"))
            .await
            .status(),
        200
    );
    wait_for_state(&app, &first, "online").await;
    let (_, history) = app.get_json(&format!("/orders/{id}/history")).await;
    let steps: Vec<(String, String)> = history["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["status"].as_str().unwrap().into(),
                e["by"].as_str().unwrap().into(),
            )
        })
        .collect();
    let expected = [
        ("received", "api"),
        ("preparing", first.as_str()),
        ("requeued", "kitchen"),
        ("preparing", second.as_str()),
        ("ready", second.as_str()),
    ];
    assert_eq!(steps, expected.map(|(s, b)| (s.to_owned(), b.to_owned())));
    wait_for_metric(&app, "kitchen_ready_total", 1.0).await; // made once
    assert_eq!(
        app.metric("kitchen_station_requeued_total{station=\"counter\"}")
            .await,
        1.0
    );
    assert_eq!(worker(&app, &first).await["orders_processed"], 0);
    assert_eq!(worker(&app, &second).await["orders_processed"], 1);
    let series = format!("kitchen_worker_online{{worker=\"{first}\",station=\"counter\"}}");
    assert_eq!(app.metric(&series).await, 1.0);
}

#[tokio::test]
async fn workers_report_their_heartbeats_and_the_admin_routes_need_the_token() {
    let app = spawn_app_with(two_counter_workers).await;
    let listed = worker(&app, "counter-2").await;
    assert_eq!(listed["station"], "counter");
    assert_eq!(listed["state"], "online");
    assert!(listed["last_heartbeat"].as_str().unwrap().ends_with('Z'));
    let anonymous = app
        .client
        .post(app.url("/admin/workers/counter-2/stop"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    assert_eq!(
        admin(&app, "/admin/workers/nobody/stop").await.status(),
        404
    );
    assert_eq!(worker(&app, "counter-2").await["state"], "online");
    assert_eq!(
        admin(&app, "/admin/workers/counter-2/stop").await.status(),
        200
    );
    let series = "kitchen_worker_online{worker=\"counter-2\",station=\"counter\"}";
    assert_eq!(app.metric(series).await, 0.0);
}

#[tokio::test]
async fn in_the_naive_profile_a_stopped_workers_order_is_stuck() {
    let app = spawn_app_with(|c| {
        two_counter_workers(c);
        c.profile = Profile::Naive;
    })
    .await;
    let order: Value = create_of_kind(&app, "takeout").await.json().await.unwrap();
    let id = order["id"].as_str().unwrap();
    let first = preparing(&app, id).await;
    admin(&app, &format!("/admin/workers/{first}/stop")).await;
    // The wait is the behaviour: by now a server with heartbeats would have found the worker
    // silent (2 s) and given its order to the other worker.
    tokio::time::sleep(Duration::from_millis(3_000)).await;
    let (_, order) = app.get_json(&format!("/orders/{id}")).await;
    assert_eq!(order["status"], "preparing", "nobody takes it back");
    assert_eq!(order["processed_by"], first.as_str());
    assert_eq!(worker(&app, &first).await["last_heartbeat"], Value::Null);
}
