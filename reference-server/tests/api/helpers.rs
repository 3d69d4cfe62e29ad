//! `spawn_app()` and typed request helpers shared by every test module.

use std::net::SocketAddr;

use reference_server::{Application, ServerConfig};
use serde_json::{json, Value};
use tokio::sync::oneshot;
use wiremock::MockServer;

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub gateway: MockServer,
    pub data_dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    pub server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

/// The admin token the test servers are configured with.
pub const ADMIN_TOKEN: &str = "test-admin-token";

/// Test defaults: a fast kitchen so that every test takes seconds. The payment and request
/// timeouts are long (10 s, 20 s): a test that wants one to fire sets it itself, and every other
/// test's calls must not time out because a loaded machine was slow to run them.
pub fn test_config(data_dir: &std::path::Path, gateway: &str) -> ServerConfig {
    let cli = <reference_server::Cli as clap::Parser>::parse_from([
        "reference-server",
        "--listen",
        "127.0.0.1:0",
        "--payment-gateway-url",
        gateway,
        "--prep-time-ms",
        "20",
        "--kitchen-workers",
        "4",
        "--payment-timeout-ms",
        "10000",
        "--request-timeout-ms",
        "20000",
        "--synchronous",
        "normal",
    ]);
    let mut config = cli.server;
    config.data_dir = data_dir.to_path_buf();
    config.admin_token = Some(ADMIN_TOKEN.into());
    config
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(customize: impl FnOnce(&mut ServerConfig)) -> TestApp {
    let gateway = MockServer::start().await;
    let data_dir = tempfile::tempdir().expect("temp dir");
    let mut config = test_config(data_dir.path(), &gateway.uri());
    customize(&mut config);
    let (address, stop, server) = start(config).await;
    TestApp {
        address,
        client: client(),
        gateway,
        data_dir,
        stop: Some(stop),
        server: Some(server),
    }
}

type Started = (
    String,
    oneshot::Sender<()>,
    tokio::task::JoinHandle<anyhow::Result<()>>,
);

pub async fn start(config: ServerConfig) -> Started {
    let app = Application::build(config)
        .await
        .expect("the application builds");
    let addr: SocketAddr = app.local_addr();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async move {
        let _ = stopped.await;
    }));
    (format!("http://{addr}"), stop, server)
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(512)
        .build()
        .expect("client")
}

pub fn order_body(store: &str, sku: &str, quantity: i64) -> Value {
    json!({"store_id": store, "customer": {"name": "Ada"}, "order_type": {"kind": "takeout"},
           "items": [{"sku": sku, "quantity": quantity}]})
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn post_order(&self, body: &Value, key: Option<&str>) -> reqwest::Response {
        let mut request = self.client.post(self.url("/orders")).json(body);
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        request.send().await.expect("POST /orders")
    }

    /// Creates a valid order and returns its JSON.
    pub async fn create_order(&self) -> Value {
        let response = self
            .post_order(&order_body("store-1", "latte", 2), Some(&uuid_key()))
            .await;
        assert_eq!(response.status(), 201);
        response.json().await.unwrap()
    }

    pub async fn pay(&self, order_id: &str, token: &str) -> reqwest::Response {
        self.client
            .post(self.url(&format!("/orders/{order_id}/payments")))
            .json(&json!({"method": "card", "card_token": token}))
            .send()
            .await
            .expect("POST payment")
    }

    pub async fn get_json(&self, path: &str) -> (u16, Value) {
        let response = self.client.get(self.url(path)).send().await.expect("GET");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// One SKU's stock line from `GET /stores/{store}/inventory`.
    pub async fn stock_item(&self, store: &str, sku: &str) -> Value {
        let (_, inventory) = self.get_json(&format!("/stores/{store}/inventory")).await;
        inventory["items"]
            .as_array()
            .expect("inventory has items")
            .iter()
            .find(|i| i["sku"] == sku)
            .unwrap_or_else(|| panic!("{sku} is in {store}'s inventory"))
            .clone()
    }

    /// One sample from `/metrics`, e.g. `metric("db_commits_total")`; 0 when absent.
    pub async fn metric(&self, series: &str) -> f64 {
        let text = self
            .client
            .get(self.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        text.lines()
            .find_map(|line| {
                line.strip_prefix(series)
                    .and_then(|rest| rest.strip_prefix(' '))
            })
            .map_or(0.0, |v| v.parse().unwrap())
    }

    pub fn trigger_stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

pub fn uuid_key() -> String {
    format!("key-{}", uuid::Uuid::new_v4())
}

impl TestApp {
    /// The server's socket address, for tests that speak raw HTTP/1.1.
    pub fn socket_addr(&self) -> SocketAddr {
        self.address
            .strip_prefix("http://")
            .unwrap()
            .parse()
            .unwrap()
    }

    /// Sends `request` as raw bytes and returns everything the server wrote until it closed the
    /// connection or `wait` passed.
    pub async fn raw(&self, request: &[u8], wait: std::time::Duration) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(self.socket_addr())
            .await
            .unwrap();
        stream.write_all(request).await.unwrap();
        let mut answer = Vec::new();
        let _ = tokio::time::timeout(wait, stream.read_to_end(&mut answer)).await;
        String::from_utf8_lossy(&answer).into_owned()
    }
}

/// Asserts that `body` is the error envelope with `code`.
pub fn assert_envelope(body: &Value, code: &str) {
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
}

/// The status, headers and JSON body of a raw HTTP/1.1 answer.
pub fn parse_raw(answer: &str) -> (u16, String, Value) {
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((answer, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (
        status,
        head.to_ascii_lowercase(),
        serde_json::from_str(body).unwrap_or(Value::Null),
    )
}
