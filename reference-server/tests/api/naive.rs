use crate::helpers::{order_body, spawn_app_with, uuid_key};
use reference_server::config::Profile;

#[tokio::test]
async fn the_naive_profile_reads_the_store_for_every_menu_request() {
    let app = spawn_app_with(|c| c.profile = Profile::Naive).await;
    let readers = (0..50).map(|_| app.client.get(app.url("/menu")).send());
    for response in futures::future::join_all(readers).await {
        assert_eq!(response.unwrap().status(), 200);
    }
    assert_eq!(app.metric("menu_store_reads_total").await, 50.0);
}

#[tokio::test]
async fn the_naive_profile_never_sheds_and_commits_every_write_alone() {
    let app = spawn_app_with(|c| {
        c.profile = Profile::Naive;
        c.kitchen_backlog = 2;
    })
    .await;
    let commits_before = app.metric("db_commits_total").await;
    let body = order_body("store-1", "tea", 1);
    let orders = (0..30).map(|_| {
        let (app, body) = (&app, &body);
        async move { app.post_order(body, Some(&uuid_key())).await }
    });
    for response in futures::future::join_all(orders).await {
        assert_eq!(response.status(), 201, "naive admits everything");
    }
    let commits = app.metric("db_commits_total").await - commits_before;
    assert_eq!(commits, 30.0, "one commit per order");
    assert_eq!(app.metric("kitchen_backlog_capacity").await, -1.0);
}
