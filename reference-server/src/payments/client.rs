//! HTTP client of the payment gateway: `POST {base}/charges` with the payment id as
//! `Idempotency-Key` (a retry after an unknown outcome cannot charge twice), and a timeout.
//!
//! Wire contract (served by `reference-server gateway`): request
//! `{"payment_id","order_id","amount_cents","card_token"}`; answer 200 `{"status":"approved","charge_id"}`,
//! 402 (or 200) `{"status":"declined","reason"}`; any 5xx is a failure.

use std::time::Duration;

use serde::Deserialize;
use serde_json::json;

pub(crate) struct GatewayClient {
    http: reqwest::Client,
    charges_url: String,
    timeout: Option<Duration>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    Approved { charge_id: String },
    Declined,
    Timeout,
    Failed(String),
}

#[derive(Deserialize)]
struct Answer {
    status: String,
    #[serde(default)]
    charge_id: Option<String>,
}

impl GatewayClient {
    /// `timeout: None` is the naive profile: a hung gateway holds the request until the request timeout.
    pub(crate) fn new(base_url: &str, timeout: Option<Duration>) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(2))
            .pool_max_idle_per_host(256)
            .build()?;
        Ok(Self {
            http,
            charges_url: format!("{base_url}/charges"),
            timeout,
        })
    }

    pub(crate) async fn charge(
        &self,
        payment_id: &str,
        order_id: &str,
        amount_cents: i64,
        card_token: &str,
    ) -> Outcome {
        let body = json!({"payment_id": payment_id, "order_id": order_id, "amount_cents": amount_cents,
                          "card_token": card_token});
        let mut request = self
            .http
            .post(&self.charges_url)
            .header("Idempotency-Key", payment_id)
            .json(&body);
        if let Some(t) = self.timeout {
            request = request.timeout(t);
        }
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) if e.is_timeout() => return Outcome::Timeout,
            Err(e) => return Outcome::Failed(format!("{e}")),
        };
        let status = response.status();
        if status.is_server_error() {
            return Outcome::Failed(format!("gateway answered {status}"));
        }
        let answer: Answer = match response.json().await {
            Ok(a) => a,
            Err(e) if e.is_timeout() => return Outcome::Timeout,
            Err(e) => return Outcome::Failed(format!("unreadable gateway answer ({status}): {e}")),
        };
        match (status.as_u16(), answer.status.as_str()) {
            (200..=299, "approved") => Outcome::Approved {
                charge_id: answer.charge_id.unwrap_or_default(),
            },
            (402, _) | (200..=299, "declined") => Outcome::Declined,
            _ => Outcome::Failed(format!(
                "unexpected gateway answer {status} {}",
                answer.status
            )),
        }
    }
}
