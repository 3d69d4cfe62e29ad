//! The built-in Toxiproxy stand-in: the HTTP API on one port, and a data-plane
//! listener per enabled proxy; it stops on SIGTERM or SIGINT as Toxiproxy does.

mod api;
mod error;
mod metrics;
mod registry;
mod request_id;
mod toxics;

pub use api::VERSION;

use registry::Registry;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, ToSocketAddrs};
use tokio_util::sync::CancellationToken;

/// How long API requests still running at shutdown may take to finish.
const API_GRACE: Duration = Duration::from_millis(300);

/// A bound, not yet serving, Toxiproxy-compatible server.
pub struct Server {
    listener: TcpListener,
    registry: Arc<Registry>,
}

impl Server {
    /// Binds the API address (`127.0.0.1:8474` is Toxiproxy's; port 0 picks one).
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<Server> {
        let listener = TcpListener::bind(addr).await?;
        Ok(Server {
            listener,
            registry: Arc::new(Registry::new()?),
        })
    }

    /// The API's real address.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// `http://<local_addr>`, for a [`crate::Client`].
    pub fn url(&self) -> String {
        format!("http://{}", self.local_addr())
    }

    /// Serves until `shutdown` completes, then closes the API (requests still
    /// running get a moment to finish; idle keep-alive clients do not hold it
    /// open), stops every proxy and closes every proxied connection.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> io::Result<()> {
        let app = api::router(self.registry.clone());
        let stopping = CancellationToken::new();
        let stop = stopping.clone();
        let served = axum::serve(self.listener, app).with_graceful_shutdown(async move {
            shutdown.await;
            stop.cancel();
        });
        let result = tokio::select! {
            served = served => served,
            () = async { stopping.cancelled().await; tokio::time::sleep(API_GRACE).await } => Ok(()),
        };
        self.registry.shutdown().await;
        result
    }

    /// Serves until SIGTERM or SIGINT (Ctrl-C), then stops as
    /// [`Server::run_until`] does: what `toxiproxy-server` does on both.
    pub async fn run_until_signal(self) -> io::Result<()> {
        self.run_until(stop_signal()?).await
    }
}

/// Completes on the first SIGTERM or SIGINT after this call (both handlers
/// are installed before it returns, so a signal sent right after is not lost).
/// On a platform without SIGTERM, only Ctrl-C.
pub fn stop_signal() -> io::Result<impl Future<Output = ()> + Send + 'static> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        Ok(async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}
