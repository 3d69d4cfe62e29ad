//! `reference-server gateway`: a payment gateway simulator, run as its own process so that a fault
//! proxy can sit between the server and it. `POST /charges` answers after a log-normal latency
//! (given by its median and p99), declines a configurable share of charges (and always the card token
//! `tok_chargeDeclined`), fails a configurable share with 503, and deduplicates by
//! `Idempotency-Key`: a repeated payment id gets the first answer and is never charged twice.

use std::{
    collections::HashMap,
    future::Future,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use anyhow::Context;
use axum::{
    extract::State,
    http::{HeaderMap, StatusCode},
    routing::{get, post},
    Json, Router,
};
use rand::{rngs::StdRng, Rng, SeedableRng};
use serde_json::{json, Value};

use crate::config::GatewayConfig;

/// Remembered payment ids (about 300 bytes each); the memory is cleared when full, which bounds
/// the simulator's RSS to a few tens of MB.
const MAX_REMEMBERED: usize = 100_000;

struct Simulator {
    config: GatewayConfig,
    rng: Mutex<StdRng>,
    charges: Mutex<HashMap<String, (StatusCode, Value)>>,
}

/// The simulator's bound listener and router, ready to serve.
pub struct GatewaySimulator {
    listener: tokio::net::TcpListener,
    router: Router,
}

impl GatewaySimulator {
    /// Binds `config.listen` and prepares the routes (`POST /charges`, `GET /health`).
    pub async fn build(config: GatewayConfig) -> anyhow::Result<GatewaySimulator> {
        config.validate().map_err(anyhow::Error::msg)?;
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("binding the gateway to {}", config.listen))?;
        let rng = match config.seed {
            Some(seed) => StdRng::seed_from_u64(seed),
            None => StdRng::from_os_rng(),
        };
        let simulator = Arc::new(Simulator {
            config,
            rng: Mutex::new(rng),
            charges: Mutex::default(),
        });
        let router = Router::new()
            .route("/charges", post(charge))
            .route("/health", get(|| async { Json(json!({"status": "ok"})) }))
            .with_state(simulator);
        Ok(GatewaySimulator { listener, router })
    }

    /// The address it listens on (port 0 resolved).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Serves until `shutdown` completes.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown)
            .await
            .context("serving")
    }
}

async fn charge(
    State(sim): State<Arc<Simulator>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| {
            body.get("payment_id")
                .and_then(Value::as_str)
                .map(str::to_owned)
        });
    let (latency, fail, decline) = {
        let mut rng = sim.rng.lock().expect("rng lock");
        let c = &sim.config;
        let sigma =
            (c.latency_p99_ms.max(1) as f64 / c.latency_median_ms.max(1) as f64).ln() / 2.326;
        // Box-Muller: one standard normal draw.
        let (u1, u2): (f64, f64) = (rng.random::<f64>().max(f64::MIN_POSITIVE), rng.random());
        let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
        let ms = c.latency_median_ms as f64 * (sigma * z).exp();
        (
            Duration::from_secs_f64(ms.min(120_000.0) / 1000.0),
            rng.random::<f64>() < c.failure_rate,
            rng.random::<f64>() < c.decline_rate,
        )
    };
    tokio::time::sleep(latency).await;
    if let Some(previous) = key
        .as_ref()
        .and_then(|k| sim.charges.lock().expect("charges lock").get(k).cloned())
    {
        return (previous.0, Json(previous.1));
    }
    if fail {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "error", "reason": "simulated failure"})),
        );
    }
    let declined =
        decline || body.get("card_token").and_then(Value::as_str) == Some("tok_chargeDeclined");
    let answer = if declined {
        (
            StatusCode::PAYMENT_REQUIRED,
            json!({"status": "declined", "reason": "card declined"}),
        )
    } else {
        (
            StatusCode::OK,
            json!({"status": "approved", "charge_id": format!("ch_{}", uuid::Uuid::new_v4().simple())}),
        )
    };
    if let Some(key) = key {
        let mut charges = sim.charges.lock().expect("charges lock");
        if charges.len() >= MAX_REMEMBERED {
            charges.clear();
        }
        // A concurrent duplicate may have won the race: its answer is the one that stands.
        let stored = charges.entry(key).or_insert(answer);
        return (stored.0, Json(stored.1.clone()));
    }
    (answer.0, Json(answer.1))
}
