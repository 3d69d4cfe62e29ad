//! The HTTP front of a proxy declared `"protocol": "http"`: serves HTTP/1.1
//! to the client, and for each request draws the proxy's `http_*` toxics
//! (toxicity per request), then answers it itself (`http_status`) or
//! forwards it on the connection's own upstream connection, holds the answer
//! (`http_latency`) or cuts it (`http_reset`). Header case and framing pass
//! through as the upstream sent them; an upgrade (101) becomes a plain tunnel.

mod cut;

use super::{clock, stage::draw_delay, ToxicSet};
use crate::ToxicKind;
use bytes::Bytes;
use cut::{CutBody, ResettableIo};
use http_body_util::{combinators::BoxBody, BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE, RETRY_AFTER};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use rand::Rng;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex as SyncMutex};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio::sync::{watch, Mutex};

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type AnswerBody = BoxBody<Bytes, BoxError>;

/// What the toxics decided for one request.
#[derive(Debug, Default)]
struct Plan {
    /// `http_status`: answer with this status and `Retry-After` (s, 0 = none).
    answer: Option<(u16, u64)>,
    /// `http_latency`: hold the answer this long after its head arrived.
    delay: Duration,
    /// `http_reset`: body bytes to pass before the reset.
    reset_after: Option<u64>,
}

/// Draws every HTTP toxic for one request, in the order they were added,
/// and counts the requests each saw and acted on. Once an `http_status`
/// answers, later `http_status` toxics do not see the request.
fn plan(set: &ToxicSet) -> Plan {
    let mut plan = Plan::default();
    let http = set.upstream.iter().chain(&set.downstream);
    for toxic in http.filter(|t| t.toxic.kind.is_http()) {
        let kind = &toxic.toxic.kind;
        if matches!(kind, ToxicKind::HttpStatus { .. }) && plan.answer.is_some() {
            continue;
        }
        toxic.counters.requests.fetch_add(1, Ordering::Relaxed);
        let p = toxic.toxic.toxicity;
        if !(p >= 1.0 || rand::rng().random::<f32>() < p) {
            continue;
        }
        toxic.counters.affected.fetch_add(1, Ordering::Relaxed);
        match *kind {
            ToxicKind::HttpStatus {
                status,
                retry_after,
            } => plan.answer = Some((status as u16, retry_after)),
            ToxicKind::HttpLatency { latency, jitter } => {
                plan.delay += draw_delay(latency, jitter);
            }
            ToxicKind::HttpReset { bytes } => {
                plan.reset_after = Some(plan.reset_after.map_or(bytes, |b| b.min(bytes)));
            }
            _ => {}
        }
    }
    plan
}

/// One client connection's state, shared with its request handler.
struct Connection {
    upstream: Mutex<hyper::client::conn::http1::SendRequest<Incoming>>,
    toxics: watch::Receiver<Arc<ToxicSet>>,
    /// Set by an `http_reset` cut: the client socket is then reset, not closed.
    reset: Arc<AtomicBool>,
    /// Both halves of an upgraded connection (101), tunnelled once HTTP ends.
    upgrade: SyncMutex<Option<(hyper::upgrade::OnUpgrade, hyper::upgrade::OnUpgrade)>>,
}

/// Serves one client connection, forwarding to `inner` (the proxy's TCP
/// listener, which applies the TCP toxics and reaches the upstream).
pub(super) async fn serve_connection(
    client: TcpStream,
    inner: SocketAddr,
    toxics: watch::Receiver<Arc<ToxicSet>>,
) {
    let Ok(upstream) = TcpStream::connect(inner).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);
    let handshake = hyper::client::conn::http1::Builder::new()
        .preserve_header_case(true)
        .handshake::<_, Incoming>(TokioIo::new(upstream))
        .await;
    let Ok((sender, upstream_conn)) = handshake else {
        return;
    };
    let reset = Arc::new(AtomicBool::new(false));
    let conn = Arc::new(Connection {
        upstream: Mutex::new(sender),
        toxics,
        reset: reset.clone(),
        upgrade: SyncMutex::new(None),
    });
    let handler = conn.clone();
    let service = hyper::service::service_fn(move |req| answer(req, handler.clone()));
    let front = hyper::server::conn::http1::Builder::new()
        .preserve_header_case(true)
        // A client that shuts its sending side after a request still gets the answer.
        .half_close(true)
        .auto_date_header(false)
        .serve_connection(TokioIo::new(ResettableIo::new(client, reset)), service)
        .with_upgrades();
    // The upstream side ends when the front drops its sender (client gone)
    // or the upstream closes; the front, when the client or upstream is done.
    let _ = tokio::join!(front, upstream_conn.with_upgrades());
    let upgrade = conn.upgrade.lock().ok().and_then(|mut u| u.take());
    if let Some((client, upstream)) = upgrade {
        if let (Ok(client), Ok(upstream)) = tokio::join!(client, upstream) {
            let (mut client, mut upstream) = (TokioIo::new(client), TokioIo::new(upstream));
            let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
        }
    }
}

/// Answers one request: the toxics' plan, then the answer (made here or
/// forwarded), held and cut as planned.
async fn answer(
    mut request: Request<Incoming>,
    conn: Arc<Connection>,
) -> Result<Response<AnswerBody>, BoxError> {
    let plan = plan(&conn.toxics.borrow());
    let response = match plan.answer {
        Some((status, retry_after)) => status_answer(status, retry_after),
        None => {
            let client_upgrade = hyper::upgrade::on(&mut request);
            let mut upstream = conn.upstream.lock().await;
            upstream.ready().await?;
            let mut response = upstream.send_request(request).await?;
            drop(upstream);
            if response.status() == StatusCode::SWITCHING_PROTOCOLS {
                let upstream_upgrade = hyper::upgrade::on(&mut response);
                if let Ok(mut slot) = conn.upgrade.lock() {
                    *slot = Some((client_upgrade, upstream_upgrade));
                }
            }
            response.map(|body| body.map_err(BoxError::from).boxed())
        }
    };
    if !plan.delay.is_zero() {
        clock::sleep_until(Instant::now() + plan.delay, &mut None).await;
    }
    Ok(match plan.reset_after {
        Some(bytes) => response.map(|body| CutBody::new(body, bytes, conn.reset.clone()).boxed()),
        None => response,
    })
}

/// The answer of an `http_status` toxic: the status, its reason as a
/// text body, and `Retry-After` when asked for.
fn status_answer(status: u16, retry_after: u64) -> Response<AnswerBody> {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let text = format!(
        "{} {}\n",
        code.as_u16(),
        code.canonical_reason().unwrap_or("")
    );
    let mut response = Response::new(
        Full::new(Bytes::from(text))
            .map_err(|never| match never {})
            .boxed(),
    );
    *response.status_mut() = code;
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    if retry_after > 0 {
        headers.insert(RETRY_AFTER, HeaderValue::from(retry_after));
    }
    response
}
