//! An HTTPS backend on 127.0.0.1 whose certificates are made in the test:
//! a private CA, a server certificate for `localhost` signed by it (valid,
//! or expired), and a client certificate for mutual TLS; or a self-signed
//! server certificate. The server is axum
//! behind a rustls acceptor, offering HTTP/2 and HTTP/1.1; it counts the requests it answers, so a test
//! can tell that a refused run sent no load.

use axum::{routing::get, Router};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;

/// Certificates written to PEM files in a folder.
pub struct Pki {
    /// The private CA that signed the server and client certificates.
    pub ca: PathBuf,
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
    server_chain: Vec<CertificateDer<'static>>,
    server_key: PathBuf,
}

/// Makes the CA, a server certificate for `localhost` (expired when asked)
/// and a client certificate, as PEM files in `dir`.
pub fn pki(dir: &Path, server_expired: bool) -> Pki {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "harness test CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let mut server = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    if server_expired {
        server.not_before = time::macros::datetime!(2020-01-01 0:00 UTC);
        server.not_after = time::macros::datetime!(2021-01-01 0:00 UTC);
    }
    let server_key = KeyPair::generate().unwrap();
    let server_cert = server.signed_by(&server_key, &ca).unwrap();
    let client = CertificateParams::new(vec!["harness-client".to_string()]).unwrap();
    let client_key = KeyPair::generate().unwrap();
    let client_cert = client.signed_by(&client_key, &ca).unwrap();
    let write = |name: &str, text: String| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    Pki {
        ca: write("ca.pem", ca.pem()),
        client_cert: write("client.pem", client_cert.pem()),
        client_key: write("client-key.pem", client_key.serialize_pem()),
        server_chain: vec![server_cert.der().clone()],
        server_key: write("server-key.pem", server_key.serialize_pem()),
    }
}

/// A self-signed server certificate for `localhost` and its key, as PEM files
/// in `dir` named after `tag`. With `openssl_like`, it is what `openssl req
/// -x509 -subj /CN=localhost` makes: CA:TRUE basic constraints (openssl's
/// default) and the common name alone; else a certificate with no CA flag
/// that names `localhost` in its subjectAltName. `ca` is the certificate
/// itself (the file a user gives with `--ca-cert`); there is no client
/// identity, so the client fields name the server's own files.
pub fn self_signed(dir: &Path, tag: &str, openssl_like: bool) -> Pki {
    let mut params = match openssl_like {
        true => CertificateParams::new(Vec::<String>::new()).unwrap(),
        false => CertificateParams::new(vec!["localhost".to_string()]).unwrap(),
    };
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "localhost");
    if openssl_like {
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    }
    let key = KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    let cert_path = dir.join(format!("{tag}.pem"));
    std::fs::write(&cert_path, cert.pem()).unwrap();
    let key_path = dir.join(format!("{tag}-key.pem"));
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    Pki {
        ca: cert_path.clone(),
        client_cert: cert_path,
        client_key: key_path.clone(),
        server_chain: vec![cert.der().clone()],
        server_key: key_path,
    }
}

/// A running HTTPS backend.
pub struct HttpsBackend {
    /// `https://localhost:PORT`.
    pub url: String,
    hits: Arc<AtomicU64>,
    _server: tokio::task::JoinHandle<()>,
}

impl HttpsBackend {
    /// Requests answered so far.
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }
}

/// Starts the backend on 127.0.0.1:0 with the PKI's server certificate; with
/// `require_client_cert`, only clients with a certificate signed by the CA get in.
pub async fn start(pki: &Pki, require_client_cert: bool) -> HttpsBackend {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .unwrap();
    let builder = if require_client_cert {
        let mut roots = rustls::RootCertStore::empty();
        for c in CertificateDer::pem_file_iter(&pki.ca).unwrap() {
            roots.add(c.unwrap()).unwrap();
        }
        let verifier =
            rustls::server::WebPkiClientVerifier::builder_with_provider(roots.into(), provider)
                .build()
                .unwrap();
        builder.with_client_cert_verifier(verifier)
    } else {
        builder.with_no_client_auth()
    };
    let key = PrivateKeyDer::from_pem_file(&pki.server_key).unwrap();
    let mut config = builder
        .with_single_cert(pki.server_chain.clone(), key)
        .unwrap();
    // Both offered: the client's ALPN list decides (HTTP/2 only with --http2).
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = tcp.local_addr().unwrap().port();
    let hits = Arc::new(AtomicU64::new(0));
    let counted = Arc::clone(&hits);
    let app = Router::new().route(
        "/menu",
        get(move || {
            let counted = Arc::clone(&counted);
            async move {
                counted.fetch_add(1, Ordering::Relaxed);
                "[]"
            }
        }),
    );
    let listener = TlsListener::start(tcp, Arc::new(config));
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    HttpsBackend {
        url: format!("https://localhost:{port}"),
        hits,
        _server: server,
    }
}

/// Accepts TCP connections and shakes hands in their own tasks (a slow or
/// refused handshake holds up no other), handing finished ones to axum.
struct TlsListener {
    ready: tokio::sync::mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    addr: SocketAddr,
}

impl TlsListener {
    fn start(tcp: tokio::net::TcpListener, config: Arc<rustls::ServerConfig>) -> Self {
        let addr = tcp.local_addr().unwrap();
        let (tx, ready) = tokio::sync::mpsc::channel(64);
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
        TlsListener { ready, addr }
    }
}

impl axum::serve::Listener for TlsListener {
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
