//! Payments: `POST /orders/{id}/payments` end to end. The order is claimed in the database first
//! (so it is never charged twice: a second attempt gets 409), the circuit breaker is asked before any
//! call (open -> 503 + `Retry-After` without calling), the gateway is called with a timeout, and the
//! outcome is settled: approved -> paid and handed to the kitchen; declined -> 402; timeout -> 504;
//! error -> 502. The naive profile has neither timeout nor breaker.

mod breaker;
mod client;
pub(crate) mod simulator;

use std::{sync::Arc, time::Duration};

use serde::Serialize;
use tracing::Instrument;

pub(crate) use client::{GatewayClient, Outcome};

use crate::{
    config::ServerConfig,
    domain::OrderId,
    error::ApiError,
    kitchen::Kitchen,
    metrics::Metrics,
    store::{
        payments::{self, Settlement},
        Store,
    },
};
use breaker::Breaker;

pub(crate) struct Payments {
    client: GatewayClient,
    breaker: Option<Breaker>,
    store: Store,
    kitchen: Arc<Kitchen>,
    metrics: Arc<Metrics>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Paid {
    pub(crate) order_id: String,
    pub(crate) status: &'static str,
    pub(crate) payment_id: String,
    pub(crate) amount_cents: i64,
}

impl Payments {
    pub(crate) fn new(
        config: &ServerConfig,
        store: Store,
        kitchen: Arc<Kitchen>,
        metrics: Arc<Metrics>,
    ) -> anyhow::Result<Self> {
        let naive = config.naive();
        let timeout = (!naive).then(|| Duration::from_millis(config.payment_timeout_ms));
        let breaker = (!naive).then(|| {
            Breaker::new(
                config.breaker_threshold,
                Duration::from_millis(config.breaker_cooldown_ms),
                metrics.clone(),
            )
        });
        Ok(Self {
            client: GatewayClient::new(config.gateway_base(), timeout)?,
            breaker,
            store,
            kitchen,
            metrics,
        })
    }

    /// Runs the payment in its own task: if the client goes away or the request times out, the
    /// charge still completes and is settled, so an order is never left claimed (`pending`).
    pub(crate) async fn pay(
        self: &Arc<Self>,
        order_id: OrderId,
        card_token: String,
    ) -> Result<Paid, ApiError> {
        let this = self.clone();
        let in_request_span = tracing::Span::current();
        tokio::spawn(
            async move { this.pay_now(order_id, card_token).await }.instrument(in_request_span),
        )
        .await
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("payment task failed: {e}")))?
    }

    async fn pay_now(&self, order_id: OrderId, card_token: String) -> Result<Paid, ApiError> {
        if let Some(breaker) = &self.breaker {
            breaker.permit().map_err(|wait| {
                self.metrics.gateway_circuit_open_total.increment(1);
                ApiError::Unavailable {
                    code: "payments_unavailable",
                    message: "the payment provider is failing; payments are paused".into(),
                    retry_after: wait,
                }
            })?;
        }
        let id = order_id.clone();
        let start = match self.store.write(move |c| payments::begin(c, &id)).await {
            Ok(s) => s,
            Err(e) => {
                // No call was made: a half-open trial slot must not stay taken.
                if let Some(breaker) = &self.breaker {
                    breaker.cancel_trial();
                }
                return Err(e.into());
            }
        };
        let called = std::time::Instant::now();
        let outcome = self
            .client
            .charge(
                &start.payment_id,
                order_id.as_str(),
                start.amount_cents,
                &card_token,
            )
            .await;
        self.metrics
            .gateway_seconds
            .record(called.elapsed().as_secs_f64());
        let (settlement, healthy, result) = match &outcome {
            Outcome::Approved { .. } => {
                self.metrics.gateway_approved_total.increment(1);
                (Settlement::Approved, true, Ok(()))
            }
            Outcome::Declined => {
                self.metrics.gateway_declined_total.increment(1);
                (Settlement::Declined, true, Err(ApiError::PaymentDeclined))
            }
            Outcome::Timeout => {
                self.metrics.gateway_timeout_total.increment(1);
                (Settlement::Unknown, false, Err(ApiError::GatewayTimeout))
            }
            Outcome::Failed(why) => {
                self.metrics.gateway_error_total.increment(1);
                tracing::warn!(order_id = order_id.as_str(), error = %why, "payment gateway failed");
                (Settlement::Unknown, false, Err(ApiError::BadGateway))
            }
        };
        if let Some(breaker) = &self.breaker {
            breaker.record(healthy);
        }
        let id = order_id.clone();
        self.store
            .write(move |c| payments::settle(c, &id, settlement))
            .await?;
        result?;
        self.kitchen.paid(order_id.as_str());
        Ok(Paid {
            order_id: order_id.as_str().to_owned(),
            status: "paid",
            payment_id: start.payment_id,
            amount_cents: start.amount_cents,
        })
    }
}
