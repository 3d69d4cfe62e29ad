//! Live features: window gates judged on a real run, a run stopped at its
//! first failed window, and the dashboard watched in headless Chromium. The
//! backend is a small axum server on 127.0.0.1 that answers at once until a
//! point it decides (a time after its first request), then slowly or never.

mod abort;
mod dashboard;
mod windows;

use axum::routing::get;
use axum::Router;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// A backend on 127.0.0.1: `GET /menu` answers 200 at once for `fast_for`
/// after its first request, then after `then_delay` each.
pub struct Backend {
    pub url: String,
    hits: Arc<AtomicU64>,
}

impl Backend {
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }
}

pub async fn backend(fast_for: Duration, then_delay: Duration) -> Backend {
    let first: Arc<OnceLock<Instant>> = Arc::new(OnceLock::new());
    let hits = Arc::new(AtomicU64::new(0));
    let counted = Arc::clone(&hits);
    let app = Router::new().route(
        "/menu",
        get(move || {
            let first = Arc::clone(&first);
            let hits = Arc::clone(&counted);
            async move {
                hits.fetch_add(1, Ordering::Relaxed);
                let start = *first.get_or_init(Instant::now);
                if start.elapsed() >= fast_for {
                    tokio::time::sleep(then_delay).await;
                }
                "[]"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    Backend { url, hits }
}

/// A closed-model scenario of `users` reading the menu for `seconds`.
pub fn menu_scenario(seconds: u32, users: u32, timeout: &str, gates: &str) -> String {
    format!(
        r#"name = "live"
seed = 7
gates = [{gates}]

[load]
model = "closed"
timeout = "{timeout}"
[[load.stages]]
name = "steady"
duration = "{seconds}s"
users = {users}

[[flows]]
name = "menu"
[[flows.steps]]
method = "GET"
path = "/menu"
think = "20ms"
"#
    )
}
