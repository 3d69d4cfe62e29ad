//! Failed preparations: retried with backoff up to the limit, then a dead letter with its reason;
//! an operator's retry from the dead-letter table makes the order. The naive profile never stops.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::{
    helpers::{spawn_app_with, TestApp},
    kitchen::wait_for_status,
    stations::create_of_kind,
    workers::admin,
};
use reference_server::{CookOn, Profile, ServerConfig};

fn always_failing(c: &mut ServerConfig) {
    c.cook_on = CookOn::Received;
    c.prep_failure_rate = 1.0;
    c.prep_max_attempts = 3;
    c.retry_backoff_ms = 40;
}

async fn admin_get(app: &TestApp, path: &str) -> Value {
    let response = app
        .client
        .get(app.url(path))
        .bearer_auth(crate::helpers::ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn set_failure_rate(app: &TestApp, rate: f64) {
    let response = app
        .client
        .put(app.url("/admin/kitchen"))
        .bearer_auth(crate::helpers::ADMIN_TOKEN)
        .json(&json!({"failure_rate": rate}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

fn statuses(history: &Value) -> Vec<(String, Option<u64>)> {
    history["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["status"].as_str().unwrap().to_owned(),
                e["attempt"].as_u64(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_failing_order_is_retried_then_dead_lettered_and_a_retry_from_there_makes_it() {
    let app = spawn_app_with(always_failing).await;
    let order: Value = create_of_kind(&app, "takeout").await.json().await.unwrap();
    let id = order["id"].as_str().unwrap();
    let started = Instant::now();
    wait_for_status(&app, id, "dead_letter").await;
    assert!(
        started.elapsed() >= Duration::from_millis(120),
        "backoff 40 ms then 80 ms"
    );
    let (_, history) = app.get_json(&format!("/orders/{id}/history")).await;
    let attempts: Vec<(&str, Option<u64>)> = [
        ("received", None),
        ("preparing", Some(1)),
        ("retrying", Some(1)),
        ("preparing", Some(2)),
        ("retrying", Some(2)),
        ("preparing", Some(3)),
        ("dead_letter", Some(3)),
    ]
    .into();
    let expected: Vec<(String, Option<u64>)> = attempts
        .into_iter()
        .map(|(s, a)| (s.to_owned(), a))
        .collect();
    assert_eq!(statuses(&history), expected);
    assert!(history["events"][2]["detail"]
        .as_str()
        .unwrap()
        .contains("next attempt in 40 ms"));

    let letters = admin_get(&app, "/admin/dead-letters").await;
    assert_eq!(letters["total"], 1);
    let letter = &letters["dead_letters"][0];
    assert_eq!(
        (letter["order_id"].as_str(), letter["station"].as_str()),
        (Some(id), Some("counter"))
    );
    assert_eq!(letter["attempts"], 3);
    assert_eq!(letter["reason"], "preparation failed");
    crate::kitchen::wait_for_metric(&app, "kitchen_dead_letters_total", 1.0).await;
    assert_eq!(
        app.metric("kitchen_station_retries_total{station=\"counter\"}")
            .await,
        2.0
    );
    // A dead letter gives back its slot.
    crate::kitchen::wait_for_metric(&app, "kitchen_backlog", 0.0).await;

    set_failure_rate(&app, 0.0).await;
    let retry = admin(&app, &format!("/admin/dead-letters/{}/retry", letter["id"])).await;
    assert_eq!(retry.status(), 202);
    let ready = wait_for_status(&app, id, "ready").await;
    assert!(ready["processed_by"]
        .as_str()
        .unwrap()
        .starts_with("counter-"));
    let again = admin(&app, &format!("/admin/dead-letters/{}/retry", letter["id"])).await;
    assert_eq!(again.status(), 409, "a dead letter is retried once");
    assert_eq!(admin_get(&app, "/admin/dead-letters").await["total"], 0);
    let (_, history) = app.get_json(&format!("/orders/{id}/history")).await;
    let tail: Vec<String> = statuses(&history)[7..]
        .iter()
        .map(|(s, _)| s.clone())
        .collect();
    assert_eq!(tail, ["requeued", "preparing", "ready"]);
}

#[tokio::test]
async fn the_naive_profile_retries_a_failing_order_without_limit() {
    let app = spawn_app_with(|c| {
        always_failing(c);
        c.profile = Profile::Naive;
    })
    .await;
    let order: Value = create_of_kind(&app, "takeout").await.json().await.unwrap();
    let id = order["id"].as_str().unwrap();
    let deadline = Instant::now() + crate::kitchen::PATIENCE;
    loop {
        let (_, history) = app.get_json(&format!("/orders/{id}/history")).await;
        let tries = statuses(&history)
            .iter()
            .filter(|(s, _)| s == "retrying")
            .count();
        if tries > 5 {
            break;
        }
        assert!(Instant::now() < deadline, "only {tries} retries");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(app.metric("kitchen_dead_letters_total").await, 0.0);
}

#[tokio::test]
async fn a_limit_outside_the_listed_range_and_a_settings_body_that_is_not_an_object_are_refused() {
    let app = spawn_app_with(|_| {}).await;
    for limit in ["0", "501"] {
        let response = app
            .client
            .get(app.url(&format!("/admin/dead-letters?limit={limit}")))
            .bearer_auth(crate::helpers::ADMIN_TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 422, "limit={limit}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["fields"][0]["field"], "limit", "{body}");
    }
    assert_eq!(
        admin_get(&app, "/admin/dead-letters?limit=500").await["total"],
        0
    );
    let response = app
        .client
        .put(app.url("/admin/kitchen"))
        .bearer_auth(crate::helpers::ADMIN_TOKEN)
        .json(&json!([null, null]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["fields"][0]["field"], "body", "{body}");
}
