//! Building and running the server: open the store, recover unfinished work, start the kitchen,
//! bind, serve with the middleware stack, and shut down in order (stop accepting and finish in-flight
//! requests; then let kitchen workers finish the order in hand; then the writer's last commit), all
//! within the grace period.

use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context;
use axum::{extract::DefaultBodyLimit, http::Request, middleware, Router};
use rand::Rng;
use tokio_util::{sync::CancellationToken, task::TaskTracker};
use tower::ServiceBuilder;
use tower_http::{
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer},
};
use tracing::Level;

use crate::{
    config::ServerConfig,
    http::{self, layers},
    inventory::Inventory,
    kitchen::Kitchen,
    menu::MenuService,
    metrics::{track_requests, Metrics},
    openapi,
    payments::Payments,
    routes,
    state::{AppState, Services},
    store::{self, Store},
};

/// How often recorded latencies are folded into their histogram buckets.
const METRICS_UPKEEP: Duration = Duration::from_secs(5);

/// A server bound to its address, with its store open and its kitchen running; `run_until_stopped`
/// serves it.
pub struct Application {
    listener: tokio::net::TcpListener,
    router: Router,
    state: AppState,
    workers: TaskTracker,
    stop_workers: CancellationToken,
}

impl Application {
    /// Validates `config`, opens (or creates) the store, recovers unfinished orders, starts the
    /// kitchen and binds `config.listen`.
    pub async fn build(config: ServerConfig) -> anyhow::Result<Application> {
        config.validate().map_err(anyhow::Error::msg)?;
        let metrics = Arc::new(Metrics::new());
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
        spawn_metrics_upkeep(&metrics, &workers, &stop_workers);
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
            admin_token: admin_token(&config),
            openapi: openapi::document(&config)?,
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

    /// The address the server listens on (port 0 resolved).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// The port the server listens on.
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
        let serve = http::serve(
            listener,
            router,
            state.config.connection_limits(),
            state.metrics.clone(),
            stopping.clone(),
        );
        let deadline = async {
            stopping.cancelled().await;
            tokio::time::sleep(grace).await;
        };
        tokio::select! {
            () = serve => {}
            () = deadline => tracing::warn!("grace period over: dropping requests still in flight"),
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

/// The configured admin token, or a random one printed once on stderr (never on stdout, whose
/// one line says where the server listens).
fn admin_token(config: &ServerConfig) -> String {
    if let Some(token) = &config.admin_token {
        return token.clone();
    }
    let token = hex::encode(rand::rng().random::<[u8; 24]>());
    eprintln!(
        "admin token for PUT /admin/... (drawn at start; set --admin-token or ADMIN_TOKEN to \
         choose one): {token}"
    );
    token
}

fn spawn_metrics_upkeep(metrics: &Arc<Metrics>, tracker: &TaskTracker, stop: &CancellationToken) {
    let (metrics, stop) = (metrics.clone(), stop.clone());
    tracker.spawn(async move {
        let mut tick = tokio::time::interval(METRICS_UPKEEP);
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tick.tick() => metrics.upkeep(),
            }
        }
    });
}

/// The routes behind the middleware stack, outermost first: request id (bounded, then drawn or
/// kept, then copied onto the answer), trace span, error envelope, metrics, body read (413/408),
/// handling deadline (503).
fn router(state: AppState) -> Router {
    let config = &state.config;
    let body = layers::BodyLimits {
        max_bytes: config.body_limit_bytes,
        read_timeout: Duration::from_millis(config.body_read_timeout_ms),
    };
    let handling = Duration::from_millis(config.request_timeout_ms);
    let middleware = ServiceBuilder::new()
        .map_request(layers::bound_request_id)
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
        .layer(middleware::from_fn(layers::envelope))
        .layer(middleware::from_fn_with_state(state.metrics.clone(), track_requests))
        .layer(middleware::from_fn_with_state(body, layers::read_body))
        .layer(middleware::from_fn_with_state(handling, layers::deadline))
        .layer(DefaultBodyLimit::max(config.body_limit_bytes));
    Router::new()
        .merge(routes::menu::router())
        .merge(routes::orders::router())
        .merge(routes::payments::router())
        .merge(routes::inventory::router())
        .merge(routes::ops::router())
        .merge(routes::kitchen::router())
        .merge(routes::events::router())
        .fallback(layers::no_such_route)
        .layer(middleware)
        .with_state(state)
}
