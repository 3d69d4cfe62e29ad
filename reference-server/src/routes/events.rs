//! Server-Sent Events: `GET /orders/{id}/events` sends the order's history, then every status
//! change as it is committed, and ends after a final status (`ready`, `expired`, `dead_letter`);
//! `GET /events` sends every order's status changes from now on. Each event's `id` is its history
//! sequence number and its data is the history entry as JSON. Both streams end when the server
//! shuts down; a comment every `KEEP_ALIVE` keeps idle connections open through proxies.

use std::{convert::Infallible, time::Duration};

use axum::{
    extract::{Path, State},
    response::sse::{Event, KeepAlive, Sse},
    routing::get,
    Router,
};
use futures::{stream, Stream, StreamExt};
use tokio::sync::broadcast::error::RecvError;

use crate::{
    domain::OrderId,
    error::ApiError,
    kitchen::events::{is_final, OrderSubscription},
    state::AppState,
    store::{self, events::StatusEvent},
};

const KEEP_ALIVE: Duration = Duration::from_secs(10);

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/orders/{id}/events", get(order_events))
        .route("/events", get(all_events))
}

type Events = Sse<
    axum::response::sse::KeepAliveStream<
        std::pin::Pin<Box<dyn Stream<Item = Result<Event, Infallible>> + Send>>,
    >,
>;

fn message(event: &StatusEvent) -> Result<Event, Infallible> {
    Ok(Event::default()
        .id(event.seq.to_string())
        .json_data(event)
        .unwrap_or_else(|_| Event::default().comment("unserializable event")))
}

fn sse(
    app: &AppState,
    events: impl Stream<Item = Result<Event, Infallible>> + Send + 'static,
) -> Events {
    let stopping = app.stopping.clone().cancelled_owned();
    Sse::new(events.take_until(stopping).boxed()).keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
}

/// Subscribes first, then reads the history, so no change falls between the two; a live event
/// already in the history (same `seq` or older) is skipped.
async fn order_events(
    State(app): State<AppState>,
    Path(raw): Path<String>,
) -> Result<Events, ApiError> {
    let id = OrderId::parse(&raw).map_err(|_| ApiError::NotFound("order"))?;
    let subscription = app.kitchen.events().subscribe_order(id.as_str());
    let history = app
        .store
        .read(move |c| store::orders::history_events(c, id.as_str()))
        .await?;
    if history.is_empty() {
        return Err(ApiError::NotFound("order"));
    }
    let ended_at = history.iter().position(|e| is_final(&e.status));
    let last = history.last().map_or(0, |e| e.seq);
    let replayed: Vec<_> = history
        .iter()
        .take(ended_at.map_or(history.len(), |i| i + 1))
        .map(message)
        .collect();
    let live = ended_at
        .is_none()
        .then_some((subscription, last))
        .map(|state| stream::unfold(Some(state), next_live).boxed())
        .unwrap_or_else(|| stream::empty().boxed());
    Ok(sse(&app, stream::iter(replayed).chain(live)))
}

async fn next_live(
    state: Option<(OrderSubscription, i64)>,
) -> Option<(Result<Event, Infallible>, Option<(OrderSubscription, i64)>)> {
    let (mut subscription, last) = state?;
    loop {
        match subscription.events.recv().await {
            Some(event) if event.seq <= last => continue,
            Some(event) => {
                let next = (!is_final(&event.status)).then_some((subscription, event.seq));
                return Some((message(&event), next));
            }
            // Dropped for not reading: say so, and end (the client reconnects for the history).
            None => {
                let lagged = Event::default()
                    .event("lagged")
                    .data("{\"reason\":\"slow reader\"}");
                return Some((Ok(lagged), None));
            }
        }
    }
}

async fn all_events(State(app): State<AppState>) -> Events {
    let receiver = app.kitchen.events().subscribe_all();
    let events = stream::unfold(receiver, |mut receiver| async move {
        let item = match receiver.recv().await {
            Ok(event) => message(&event),
            Err(RecvError::Lagged(missed)) => Ok(Event::default()
                .event("lagged")
                .data(format!("{{\"missed\":{missed}}}"))),
            Err(RecvError::Closed) => return None,
        };
        Some((item, receiver))
    });
    sse(&app, events)
}
