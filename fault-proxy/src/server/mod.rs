//! The built-in Toxiproxy stand-in: the HTTP API on one port, and a data-plane
//! listener per enabled proxy.

mod api;
mod error;
mod registry;

pub use api::VERSION;

use registry::Registry;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::{TcpListener, ToSocketAddrs};

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

    /// Serves until `shutdown` completes, then stops every proxy and closes
    /// every proxied connection.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> io::Result<()> {
        let app = api::router(self.registry.clone());
        let served = axum::serve(self.listener, app)
            .with_graceful_shutdown(shutdown)
            .await;
        self.registry.shutdown().await;
        served
    }
}
