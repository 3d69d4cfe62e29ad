//! A proxy's listener on the plane's thread: accepts connections and serves
//! each with two pumps (TCP) or the HTTP front (HTTP), and closes them all
//! when it is stopped.

use super::pump::{End, Pump};
use super::{http, LinkBytes, Plane, ToxicSet};
use crate::{Protocol, Stream};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};
use tokio::task::{JoinHandle, JoinSet};
use tokio_util::sync::CancellationToken;

/// A running listener; dropping it does not stop it, [`Listener::stop`] does.
pub(crate) struct Listener {
    pub addr: SocketAddr,
    stop: CancellationToken,
    accept: JoinHandle<()>,
    /// An HTTP proxy's inner TCP listener (see [`Listener::start`]).
    inner: Option<Box<Listener>>,
}

impl Listener {
    /// Serves an already bound listener on the plane's thread, proxying to
    /// `upstream`.
    ///
    /// An HTTP proxy is two listeners: the one on the proxy's address applies
    /// the `http_*` toxics per request and forwards each connection to an
    /// inner TCP listener on a loopback port, which applies the TCP toxics
    /// exactly as a plain proxy does and connects to the upstream.
    pub async fn start(
        plane: &Plane,
        bound: std::net::TcpListener,
        upstream: &str,
        protocol: Protocol,
        toxics: watch::Receiver<Arc<ToxicSet>>,
        bytes: LinkBytes,
    ) -> std::io::Result<Listener> {
        let upstream: Arc<str> = Arc::from(upstream);
        let tcp_toxics = toxics.clone();
        let tcp = move |client| {
            serve_connection(client, upstream.clone(), tcp_toxics.clone(), bytes.clone())
        };
        if protocol == Protocol::Tcp {
            return Listener::spawn(plane, bound, tcp, None).await;
        }
        let inner_bound = std::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0))?;
        inner_bound.set_nonblocking(true)?;
        let inner = Listener::spawn(plane, inner_bound, tcp, None).await?;
        let inner_addr = inner.addr;
        let front = move |client| http::serve_connection(client, inner_addr, toxics.clone());
        Listener::spawn(plane, bound, front, Some(Box::new(inner))).await
    }

    async fn spawn<F, Fut>(
        plane: &Plane,
        bound: std::net::TcpListener,
        serve: F,
        inner: Option<Box<Listener>>,
    ) -> std::io::Result<Listener>
    where
        F: Fn(TcpStream) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let addr = bound.local_addr()?;
        let stop = CancellationToken::new();
        // If this call is dropped before it returns the listener (an API
        // client that went away), the accept loop must not outlive it.
        let guard = stop.clone().drop_guard();
        let token = stop.clone();
        let (started, ready) = oneshot::channel();
        let accept = plane.handle.spawn(async move {
            // Registered with the plane's runtime, so made on its thread.
            match TcpListener::from_std(bound) {
                Ok(listener) => {
                    if started.send(Ok(())).is_ok() {
                        accept_loop(listener, serve, token).await;
                    }
                }
                Err(e) => {
                    let _ = started.send(Err(e));
                }
            }
        });
        ready
            .await
            .map_err(|_| std::io::Error::other("the data plane has stopped"))??;
        guard.disarm();
        Ok(Listener {
            addr,
            stop,
            accept,
            inner,
        })
    }

    /// Closes the listener (new connections are refused) and every open
    /// connection, and waits until both are gone.
    pub async fn stop(self) {
        self.stop.cancel();
        let _ = self.accept.await;
        if let Some(inner) = self.inner {
            Box::pin(inner.stop()).await;
        }
    }
}

async fn accept_loop<F, Fut>(listener: TcpListener, serve: F, stop: CancellationToken)
where
    F: Fn(TcpStream) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    // Connections live in this set so stopping the proxy aborts them all;
    // finished ones are reaped as they end.
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = stop.cancelled() => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((client, _)) => {
                    connections.spawn(serve(client));
                }
                // Out of file descriptors or a client that vanished: keep serving.
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            },
        }
    }
    drop(listener);
    connections.shutdown().await;
}

/// How long to wait for the upstream to accept before dropping the client.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

async fn serve_connection(
    client: TcpStream,
    upstream: Arc<str>,
    toxics: watch::Receiver<Arc<ToxicSet>>,
    bytes: LinkBytes,
) {
    let server = match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(&*upstream)).await {
        Ok(Ok(server)) => server,
        Ok(Err(e)) => {
            tracing::debug!(upstream = %upstream, error = %e, "upstream refused");
            return;
        }
        Err(_) => {
            tracing::debug!(upstream = %upstream, "upstream connect timed out");
            return;
        }
    };
    // Requests and answers are small; Nagle would add 40 ms to some of them.
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let client = Arc::new(client);
    let server = Arc::new(server);
    let up = Pump::new(
        client.clone(),
        server.clone(),
        Stream::Upstream,
        toxics.clone(),
        bytes.upstream,
    )
    .run();
    let down = Pump::new(
        server.clone(),
        client.clone(),
        Stream::Downstream,
        toxics,
        bytes.downstream,
    )
    .run();
    tokio::pin!(up, down);
    // A direction that closed cleanly leaves the other running (half-close);
    // one that was killed or reset ends the whole connection at once.
    let end = tokio::select! {
        end = &mut up => if end == End::Closed { down.await } else { end },
        end = &mut down => if end == End::Closed { up.await } else { end },
    };
    if end == End::Reset {
        // SO_LINGER 0: closing sends RST instead of FIN ("connection reset by peer").
        let _ = client.set_zero_linger();
        let _ = server.set_zero_linger();
    }
}
