//! The accept loop: HTTP/1.1 connections served by hyper with a header-read timeout, an idle
//! timeout (see `conn`) and a cap on open connections. A connection over the cap gets a 503 in the
//! error envelope and is closed at once, so a flood of slow clients costs a bounded number of file
//! descriptors. On shutdown the listener closes and every connection finishes its request in hand.

use std::{sync::Arc, time::Duration};

use axum::{body::Body, extract::Request, Router};
use hyper::body::Incoming;
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    server::graceful::GracefulShutdown,
    service::TowerToHyperService,
};
use tokio::{net::TcpListener, sync::Semaphore};
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use super::{conn::ConnIo, raw_answer};
use crate::{config::ConnectionLimits, metrics::Metrics};

/// Serves `router` on `listener` until `stopping` is cancelled, then waits for open connections to
/// finish their request in hand (the caller bounds that wait with its grace period).
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    metrics: Arc<Metrics>,
    stopping: CancellationToken,
) {
    let graceful = GracefulShutdown::new();
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read)
        .keep_alive(true);
    loop {
        let stream = tokio::select! {
            _ = stopping.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            metrics.connection_refused();
            refuse(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = router
            .clone()
            .map_request(|request: Request<Incoming>| request.map(Body::new));
        let connection = graceful.watch(http.serve_connection(
            TokioIo::new(ConnIo::new(stream, limits.idle)),
            TowerToHyperService::new(service),
        ));
        let open = metrics.connection_opened();
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            drop(open);
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// Answers a connection over the cap without reading from it: one non-blocking write (a fresh
/// socket's send buffer always has room for these few hundred bytes), then close.
fn refuse(stream: tokio::net::TcpStream) {
    let answer = raw_answer(
        503,
        "Service Unavailable",
        "too_many_connections",
        "the server holds as many connections as it is configured to; try again shortly",
        "retry-after: 1\r\n",
    );
    let _ = stream.try_write(&answer);
}

/// Per-connection errors (the peer reset before accept) are skipped; running out of file
/// descriptors waits a moment instead of spinning.
async fn accept_failed(e: std::io::Error) {
    use std::io::ErrorKind::*;
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionReset | ConnectionRefused | Interrupted
    ) {
        return;
    }
    tracing::warn!(error = %e, "accept failed; retrying in 100 ms");
    tokio::time::sleep(Duration::from_millis(100)).await;
}
