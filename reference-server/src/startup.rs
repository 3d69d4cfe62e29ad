//! Building and running the server: open the store, recover unfinished work, start the kitchen,
//! bind, serve with the middleware stack, and shut down in order (stop accepting and finish in-flight
//! requests; then let kitchen workers finish the order in hand; then the writer's last commit), all
//! within the grace period.

use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context;
use axum::{extract::DefaultBodyLimit, http::Request, http::StatusCode, middleware, Router};
use tokio_util::{sync::CancellationToken, task::TaskTracker};
use tower::ServiceBuilder;
use tower_http::{
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    timeout::TimeoutLayer,
    trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer},
};
use tracing::Level;

use crate::{
    config::ServerConfig,
    inventory::Inventory,
    kitchen::Kitchen,
    menu::MenuService,
    metrics::{track_requests, Metrics},
    payments::Payments,
    routes,
    store::{self, Store},
};

/// What every handler can reach: one `Arc`, so extracting it costs one reference count.
#[derive(Clone)]
pub struct AppState(Arc<Services>);

/// The services behind `AppState`; each is shared, none is behind a global lock.
pub struct Services {
    pub config: Arc<ServerConfig>,
    pub store: Store,
    pub menu: Arc<MenuService>,
    pub kitchen: Arc<Kitchen>,
    pub payments: Arc<Payments>,
    pub inventory: Arc<Inventory>,
    pub metrics: Arc<Metrics>,
    /// Cancelled when shutdown starts (`/ready` answers 503 from then on).
    pub stopping: CancellationToken,
}

impl std::ops::Deref for AppState {
    type Target = Services;
    fn deref(&self) -> &Services {
        &self.0
    }
}

pub struct Application {
    listener: tokio::net::TcpListener,
    router: Router,
    state: AppState,
    workers: TaskTracker,
    stop_workers: CancellationToken,
}

impl Application {
    pub async fn build(config: ServerConfig) -> anyhow::Result<Application> {
        config.validate().map_err(anyhow::Error::msg)?;
        let metrics = Arc::new(Metrics::default());
        let store = {
            let (config, metrics) = (config.clone(), metrics.clone());
            tokio::task::spawn_blocking(move || Store::open(&config, metrics)).await??
        };
        let kitchen = Kitchen::new(&config, metrics.clone())?;
        let events = kitchen.events().clone();
        store.publish_events_to(Arc::new(move |written| events.publish(written)));
        let cook_on = config.cook_on;
        let recovered = store
            .write(move |c| store::kitchen::recover(c, cook_on))
            .await
            .map_err(|e| anyhow::anyhow!("recovering unfinished orders: {e}"))?;
        kitchen.recover(recovered);
        let workers = TaskTracker::new();
        let stop_workers = CancellationToken::new();
        kitchen.spawn(&store, &workers, &stop_workers);
        let state = AppState(Arc::new(Services {
            menu: Arc::new(MenuService::new(
                store.clone(),
                !config.naive(),
                metrics.clone(),
            )),
            payments: Arc::new(Payments::new(
                &config,
                store.clone(),
                kitchen.clone(),
                metrics.clone(),
            )?),
            inventory: Arc::new(Inventory::new(store.clone(), metrics.clone())),
            kitchen,
            store,
            metrics,
            stopping: CancellationToken::new(),
            config: Arc::new(config),
        }));
        let listener = tokio::net::TcpListener::bind(state.config.listen)
            .await
            .with_context(|| format!("binding {}", state.config.listen))?;
        Ok(Application {
            listener,
            router: router(state.clone()),
            state,
            workers,
            stop_workers,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    pub fn port(&self) -> u16 {
        self.local_addr().port()
    }

    /// Serves until `shutdown` completes, then drains in order within the grace period.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let Application {
            listener,
            router,
            state,
            workers,
            stop_workers,
        } = self;
        let grace = Duration::from_millis(state.config.shutdown_grace_ms);
        let stopping = state.stopping.clone();
        let trigger = stopping.clone();
        tokio::spawn(async move {
            shutdown.await;
            trigger.cancel();
        });
        let serve = axum::serve(listener, router)
            .with_graceful_shutdown(stopping.clone().cancelled_owned());
        let deadline = async {
            stopping.cancelled().await;
            tokio::time::sleep(grace).await;
        };
        tokio::select! {
            served = serve => served.context("serving HTTP")?,
            _ = deadline => tracing::warn!("grace period over: dropping requests still in flight"),
        }
        stop_workers.cancel();
        workers.close();
        if tokio::time::timeout(grace, workers.wait()).await.is_err() {
            tracing::warn!("grace period over: kitchen workers did not finish");
        }
        state.store.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}

fn router(state: AppState) -> Router {
    let timeout = Duration::from_millis(state.config.request_timeout_ms);
    let limit = state.config.body_limit_bytes;
    let middleware = ServiceBuilder::new()
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request<_>| {
                    let id = request.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("");
                    tracing::info_span!("request", request_id = %id, method = %request.method(), uri = %request.uri())
                })
                .on_response(DefaultOnResponse::new().level(Level::DEBUG))
                .on_failure(DefaultOnFailure::new().level(Level::DEBUG)),
        )
        .layer(middleware::from_fn_with_state(state.metrics.clone(), track_requests))
        .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, timeout))
        .layer(DefaultBodyLimit::max(limit));
    Router::new()
        .merge(routes::menu::router())
        .merge(routes::orders::router())
        .merge(routes::payments::router())
        .merge(routes::inventory::router())
        .merge(routes::ops::router())
        .merge(routes::kitchen::router())
        .merge(routes::events::router())
        .layer(middleware)
        .with_state(state)
}
