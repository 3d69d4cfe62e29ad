//! The data plane: a listener per enabled proxy, and per accepted connection
//! two pumps (client → upstream, upstream → client) that apply the proxy's
//! toxics for their direction. All of a server's connections run on one
//! thread of their own (see [`Plane`]).

mod clock;
mod pump;
mod stage;

use crate::{Stream, Toxic};
use pump::{End, Pump};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Handle;
use tokio::sync::{oneshot, watch};
use tokio::task::{JoinHandle, JoinSet};
use tokio_util::sync::CancellationToken;

/// A toxic as the data plane sees it: `id` changes on every add or update so
/// each connection redraws its toxicity then.
#[derive(Debug, Clone)]
pub(crate) struct ActiveToxic {
    pub id: u64,
    pub toxic: Toxic,
}

/// A proxy's toxics, per direction, in the order they were added.
#[derive(Debug, Clone, Default)]
pub(crate) struct ToxicSet {
    pub upstream: Vec<ActiveToxic>,
    pub downstream: Vec<ActiveToxic>,
}

impl ToxicSet {
    pub fn direction_mut(&mut self, stream: Stream) -> &mut Vec<ActiveToxic> {
        match stream {
            Stream::Upstream => &mut self.upstream,
            Stream::Downstream => &mut self.downstream,
        }
    }
}

/// The thread that carries all of a server's proxied connections: a
/// single-threaded runtime, so forwarding a chunk never hands work between
/// threads (on two cores a shared multi-thread runtime costs the proxy about
/// 15 % more CPU at the same throughput), and forwarding takes at most one
/// core from the load generator and the server it sits between. Dropping the
/// plane tells the thread to end; its connections close as its runtime goes
/// (the server stops its listeners first, and waits for them).
pub(crate) struct Plane {
    handle: Handle,
    _stop: oneshot::Sender<()>,
}

impl Plane {
    pub fn start() -> std::io::Result<Plane> {
        let (stop, stopped) = oneshot::channel::<()>();
        let (started, handle) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("fault-proxy-plane".into())
            .spawn(move || {
                // Built and dropped on this thread, never inside the caller's runtime.
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(e) => {
                        let _ = started.send(Err(e));
                        return;
                    }
                };
                let _ = started.send(Ok(runtime.handle().clone()));
                // Ends when the sender is dropped; open connections go with the runtime.
                let _ = runtime.block_on(stopped);
            })?;
        let handle = handle
            .recv()
            .map_err(|_| std::io::Error::other("the data plane thread did not start"))??;
        Ok(Plane {
            handle,
            _stop: stop,
        })
    }
}

/// A running listener; dropping it does not stop it, [`Listener::stop`] does.
pub(crate) struct Listener {
    pub addr: SocketAddr,
    stop: CancellationToken,
    accept: JoinHandle<()>,
}

impl Listener {
    /// Binds `listen` on the plane's thread and starts accepting connections
    /// to proxy to `upstream`.
    pub async fn start(
        plane: &Plane,
        listen: &str,
        upstream: &str,
        toxics: watch::Receiver<Arc<ToxicSet>>,
    ) -> std::io::Result<Listener> {
        let stop = CancellationToken::new();
        // If this call is dropped before it returns the listener (an API
        // client that went away), the accept loop must not outlive it.
        let guard = stop.clone().drop_guard();
        let (bound, addr) = oneshot::channel();
        let (listen, upstream) = (listen.to_string(), Arc::from(upstream));
        let token = stop.clone();
        let accept = plane.handle.spawn(async move {
            let listener = match TcpListener::bind(&listen).await {
                Ok(listener) => listener,
                Err(e) => {
                    let _ = bound.send(Err(e));
                    return;
                }
            };
            if bound.send(listener.local_addr()).is_ok() {
                accept_loop(listener, upstream, toxics, token).await;
            }
        });
        let addr = addr
            .await
            .map_err(|_| std::io::Error::other("the data plane has stopped"))??;
        guard.disarm();
        Ok(Listener { addr, stop, accept })
    }

    /// Closes the listener (new connections are refused) and every open
    /// connection, and waits until both are gone.
    pub async fn stop(self) {
        self.stop.cancel();
        let _ = self.accept.await;
    }
}

async fn accept_loop(
    listener: TcpListener,
    upstream: Arc<str>,
    toxics: watch::Receiver<Arc<ToxicSet>>,
    stop: CancellationToken,
) {
    // Connections live in this set so stopping the proxy aborts them all;
    // finished ones are reaped as they end.
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = stop.cancelled() => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((client, _)) => {
                    connections.spawn(serve_connection(client, upstream.clone(), toxics.clone()));
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
    )
    .run();
    let down = Pump::new(server.clone(), client.clone(), Stream::Downstream, toxics).run();
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
