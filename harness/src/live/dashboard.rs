//! `harness run --dashboard [ADDR]`: one self-contained page (the
//! `dashboard.html` template: inline CSS, JS and SVG, nothing fetched from
//! elsewhere) and a Server-Sent Events stream at `/events` carrying one JSON
//! snapshot a second. Read-only: the page can watch a run, never steer it.
//!
//! Loopback by default; any other address needs a token, checked on every
//! request (`?token=` or `Authorization: Bearer`). At most [`MAX_CLIENTS`]
//! event streams at once, so a forgotten tab or a crowd cannot load the
//! generator. Snapshots are serialised once and shared by every client.

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Semaphore};

/// Event streams served at once: a few people watching; more are refused (503).
pub const MAX_CLIENTS: usize = 4;

/// How long the end of a command waits for open pages to receive the final
/// snapshot before the process exits (and the server with it).
const FINAL_DELIVERY: Duration = Duration::from_secs(3);

/// Why the dashboard could not start.
#[derive(Debug, thiserror::Error)]
pub enum DashboardError {
    #[error(
        "--dashboard {0}: a dashboard on an address other than loopback needs --dashboard-token \
         (every request must carry it), or listen on 127.0.0.1"
    )]
    NeedsToken(SocketAddr),
    #[error("--dashboard {addr}: cannot listen there: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("the dashboard page template: {0}")]
    Template(#[from] minijinja::Error),
}

/// A snapshot as sent: its JSON, and whether it is a run's final one.
#[derive(Clone, Debug, Default)]
struct Sent {
    json: Arc<str>,
    last: bool,
    /// Counts snapshots, so a page can tell it missed none.
    seq: u64,
}

struct Shared {
    token: Option<String>,
    page: String,
    snapshots: watch::Receiver<Sent>,
    slots: Arc<Semaphore>,
    /// Streams open, and those that have sent the newest final snapshot.
    open: AtomicUsize,
    delivered_final: AtomicUsize,
}

/// The running dashboard: publish snapshots to it; cheap to clone.
#[derive(Clone)]
pub struct Hub {
    url: String,
    tx: watch::Sender<Sent>,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub").field("url", &self.url).finish()
    }
}

/// Checks the address before anything runs: any address but loopback needs a token.
pub(crate) fn check(addr: SocketAddr, token: Option<&str>) -> Result<(), DashboardError> {
    if !addr.ip().is_loopback() && token.is_none_or(str::is_empty) {
        return Err(DashboardError::NeedsToken(addr));
    }
    Ok(())
}

impl Hub {
    /// Listens on `addr` and serves the page and the events until the process ends.
    pub async fn start(addr: SocketAddr, token: Option<String>) -> Result<Hub, DashboardError> {
        check(addr, token.as_deref())?;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| DashboardError::Bind { addr, source })?;
        let bound = listener
            .local_addr()
            .map_err(|source| DashboardError::Bind { addr, source })?;
        let html = render_page()?;
        let (tx, rx) = watch::channel(Sent::default());
        let shared = Arc::new(Shared {
            token: token.clone().filter(|t| !t.is_empty()),
            page: html,
            snapshots: rx,
            slots: Arc::new(Semaphore::new(MAX_CLIENTS)),
            open: AtomicUsize::new(0),
            delivered_final: AtomicUsize::new(0),
        });
        let app = Router::new()
            .route("/", get(page))
            .route("/events", get(events))
            .with_state(Arc::clone(&shared));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let host = match bound {
            SocketAddr::V6(a) => format!("[{}]:{}", a.ip(), a.port()),
            SocketAddr::V4(a) => a.to_string(),
        };
        let url = match &shared.token {
            Some(t) => format!("http://{host}/?token={t}"),
            None => format!("http://{host}/"),
        };
        Ok(Hub { url, tx, shared })
    }

    /// The page's address (with its token when there is one).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Hands a snapshot to every open page.
    pub(crate) fn publish(&self, snapshot: &super::snapshot::Snapshot) {
        self.send(snapshot, false);
    }

    /// Hands a run's final snapshot to every open page.
    pub(crate) fn publish_final(&self, snapshot: &super::snapshot::Snapshot) {
        self.shared.delivered_final.store(0, Ordering::SeqCst);
        self.send(snapshot, true);
    }

    fn send(&self, snapshot: &super::snapshot::Snapshot, last: bool) {
        let Ok(json) = serde_json::to_string(snapshot) else {
            return;
        };
        self.tx.send_modify(|s| {
            s.json = json.into();
            s.last = last;
            s.seq += 1;
        });
    }

    /// Waits (a few seconds at most) until every open page got the final snapshot.
    pub(crate) async fn finish(&self) {
        let deadline = tokio::time::Instant::now() + FINAL_DELIVERY;
        while tokio::time::Instant::now() < deadline {
            let open = self.shared.open.load(Ordering::SeqCst);
            if self.shared.delivered_final.load(Ordering::SeqCst) >= open {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// The page, from its template (embedded in the binary).
fn render_page() -> Result<String, minijinja::Error> {
    let mut env = minijinja::Environment::new();
    env.add_template(
        "dashboard.html",
        include_str!("../../templates/dashboard.html"),
    )?;
    env.get_template("dashboard.html")?
        .render(minijinja::context! { max_clients => MAX_CLIENTS })
}

type Params = Query<HashMap<String, String>>;

/// Whether the request carries the token (always, without one).
fn allowed(shared: &Shared, query: &HashMap<String, String>, headers: &HeaderMap) -> bool {
    let Some(token) = &shared.token else {
        return true;
    };
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    query.get("token") == Some(token) || bearer == Some(token.as_str())
}

fn refused() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        "this dashboard needs its token: open the URL the harness printed (…?token=…)",
    )
        .into_response()
}

async fn page(State(shared): State<Arc<Shared>>, Query(q): Params, headers: HeaderMap) -> Response {
    if !allowed(&shared, &q, &headers) {
        return refused();
    }
    (
        [(header::CACHE_CONTROL, "no-store")],
        Html(shared.page.clone()),
    )
        .into_response()
}

/// Releases a stream's slot and count when the page goes away.
struct Open {
    shared: Arc<Shared>,
    _slot: tokio::sync::OwnedSemaphorePermit,
}

impl Drop for Open {
    fn drop(&mut self) {
        self.shared.open.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn events(
    State(shared): State<Arc<Shared>>,
    Query(q): Params,
    headers: HeaderMap,
) -> Response {
    if !allowed(&shared, &q, &headers) {
        return refused();
    }
    let Ok(slot) = Arc::clone(&shared.slots).try_acquire_owned() else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "5")],
            format!("at most {MAX_CLIENTS} dashboard pages at once"),
        )
            .into_response();
    };
    shared.open.fetch_add(1, Ordering::SeqCst);
    let mut rx = shared.snapshots.clone();
    rx.mark_changed();
    let open = Open {
        shared: Arc::clone(&shared),
        _slot: slot,
    };
    let stream = futures::stream::unfold((rx, open), |(mut rx, open)| async move {
        rx.changed().await.ok()?;
        let sent = rx.borrow_and_update().clone();
        if sent.json.is_empty() {
            // Nothing published yet: say so, so the page knows it is connected.
            let ev = Event::default().event("waiting").data("{}");
            return Some((Ok::<_, std::convert::Infallible>(ev), (rx, open)));
        }
        if sent.last {
            open.shared.delivered_final.fetch_add(1, Ordering::SeqCst);
        }
        let ev = Event::default()
            .event(if sent.last { "final" } else { "snapshot" })
            .id(sent.seq.to_string())
            .data(sent.json.as_ref());
        Some((Ok(ev), (rx, open)))
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_is_self_contained() {
        let page = render_page().unwrap();
        assert!(page.contains("EventSource"));
        for external in ["http://", "https://", "//cdn", "<link", "src="] {
            assert!(
                !page.contains(external),
                "the page must fetch nothing: {external}"
            );
        }
    }

    #[test]
    fn an_address_other_than_loopback_needs_a_token() {
        let lan: SocketAddr = "0.0.0.0:8090".parse().unwrap();
        let e = check(lan, None).unwrap_err().to_string();
        assert!(e.contains("--dashboard-token"), "{e}");
        assert!(check(lan, Some("")).is_err());
        assert!(check(lan, Some("s3cret")).is_ok());
        assert!(check("127.0.0.1:0".parse().unwrap(), None).is_ok());
        assert!(check("[::1]:0".parse().unwrap(), None).is_ok());
    }
}
