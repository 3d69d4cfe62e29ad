//! A backend whose answer time is known: every request is answered after
//! `--delay-ms`, and optionally the whole server stalls once (`--stall-at-ms`
//! for `--stall-ms`), the way a GC pause or a lock convoy would. Requests that
//! arrive during the stall are answered when it ends. Used by the benchmarks to
//! check that the harness reports what really happened.
//!
//! With `--tls-cert`/`--tls-key` it serves HTTPS (rustls, HTTP/1.1) and
//! prints `listening on https://localhost:PORT`, so a client checks the
//! certificate's name as it would for a deployed service.
//!
//! Prints `listening on http://ADDR` once bound and exits by itself after
//! `--max-seconds`, so a benchmark can never leave it behind.

use axum::{extract::State, routing::get, Router};
use clap::Parser;
use std::time::Duration;
use tokio::time::Instant;

#[derive(Parser, Clone)]
#[command(about = "Fixed-delay HTTP backend for benchmarks (loopback only)")]
struct Args {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: std::net::SocketAddr,
    /// Every answer waits this long.
    #[arg(long, default_value_t = 0)]
    delay_ms: u64,
    /// The server stalls once, this long after it starts...
    #[arg(long)]
    stall_at_ms: Option<u64>,
    /// ...for this long.
    #[arg(long, default_value_t = 1000)]
    stall_ms: u64,
    /// Exit after this many seconds whatever happens.
    #[arg(long, default_value_t = 600)]
    max_seconds: u64,
    /// Serve HTTPS with this certificate chain (PEM)...
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<std::path::PathBuf>,
    /// ...and its private key (PEM).
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<std::path::PathBuf>,
}

#[derive(Clone)]
struct Plan {
    delay: Duration,
    stall: Option<(Instant, Instant)>,
}

async fn answer(State(plan): State<Plan>) -> &'static str {
    if !plan.delay.is_zero() {
        tokio::time::sleep(plan.delay).await;
    }
    if let Some((from, to)) = plan.stall {
        let now = Instant::now();
        if now >= from && now < to {
            tokio::time::sleep_until(to).await;
        }
    }
    "ok"
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    anyhow::ensure!(
        args.listen.ip().is_loopback(),
        "bench-backend listens on loopback only"
    );
    let started = Instant::now();
    let plan = Plan {
        delay: Duration::from_millis(args.delay_ms),
        stall: args.stall_at_ms.map(|at| {
            let from = started + Duration::from_millis(at);
            (from, from + Duration::from_millis(args.stall_ms))
        }),
    };
    let app = Router::new().fallback(get(answer)).with_state(plan);
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    let deadline = tokio::time::sleep(Duration::from_secs(args.max_seconds));
    let stop = async move {
        tokio::select! {
            _ = deadline => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    };
    match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => {
            let port = listener.local_addr()?.port();
            let tls = tls::Listener::start(listener, tls::config(cert, key)?);
            println!("listening on https://localhost:{port}");
            axum::serve(tls, app).with_graceful_shutdown(stop).await?;
        }
        _ => {
            println!("listening on http://{}", listener.local_addr()?);
            axum::serve(listener, app)
                .with_graceful_shutdown(stop)
                .await?;
        }
    }
    Ok(())
}

/// HTTPS: handshakes in their own tasks (so 64 clients connecting at once
/// wait for no one), finished connections handed to axum.
mod tls {
    use anyhow::Context;
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    use std::net::SocketAddr;
    use std::path::Path;
    use std::sync::Arc;
    use tokio::net::TcpStream;
    use tokio_rustls::server::TlsStream;

    pub fn config(cert: &Path, key: &Path) -> anyhow::Result<Arc<rustls::ServerConfig>> {
        let chain = CertificateDer::pem_file_iter(cert)
            .context("reading --tls-cert")?
            .collect::<Result<Vec<_>, _>>()?;
        let key = PrivateKeyDer::from_pem_file(key).context("reading --tls-key")?;
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(chain, key)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }

    pub struct Listener {
        ready: tokio::sync::mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
        addr: SocketAddr,
    }

    impl Listener {
        pub fn start(tcp: tokio::net::TcpListener, config: Arc<rustls::ServerConfig>) -> Self {
            let addr = tcp.local_addr().expect("a bound listener has an address");
            let (tx, ready) = tokio::sync::mpsc::channel(256);
            let acceptor = tokio_rustls::TlsAcceptor::from(config);
            tokio::spawn(async move {
                while let Ok((stream, peer)) = tcp.accept().await {
                    let (acceptor, tx) = (acceptor.clone(), tx.clone());
                    tokio::spawn(async move {
                        if let Ok(tls) = acceptor.accept(stream).await {
                            let _ = tx.send((tls, peer)).await;
                        }
                    });
                }
            });
            Listener { ready, addr }
        }
    }

    impl axum::serve::Listener for Listener {
        type Io = TlsStream<TcpStream>;
        type Addr = SocketAddr;

        async fn accept(&mut self) -> (Self::Io, Self::Addr) {
            match self.ready.recv().await {
                Some(next) => next,
                None => std::future::pending().await,
            }
        }

        fn local_addr(&self) -> std::io::Result<Self::Addr> {
            Ok(self.addr)
        }
    }
}
