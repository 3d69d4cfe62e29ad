//! TLS towards the target, by rustls alone (no OpenSSL): certificates are
//! checked against the platform's trust store, plus any private CA given
//! with `--ca-cert`, and a self-signed certificate given so is trusted as
//! itself (`verify`: the check, and each refusal in words with its fix);
//! `--insecure` turns the check off (and the report says so); `--client-cert`/`--client-key` answer a server that asks for mutual
//! TLS. One rustls configuration serves both the pre-flight handshake, which
//! turns a certificate problem into a clear error before any load, and the
//! load's HTTP client, so what the check accepted is what the load uses.

mod verify;

pub(crate) use verify::HandshakeError;

use rustls::client::danger::ServerCertVerifier;
use rustls::client::ResolvesClientCert;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::SignatureScheme;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use verify::{classify, NoVerification, Pinning};

/// How the harness connects to a target: the command line's TLS and HTTP/2 choices.
#[derive(Clone, Debug, Default)]
pub struct ConnectOptions {
    /// `--ca-cert`, repeatable: PEM files of private CAs to trust besides the system's.
    pub ca_certs: Vec<PathBuf>,
    /// `--insecure`: no certificate check at all.
    pub insecure: bool,
    /// `--client-cert` and `--client-key`: a PEM chain and its key, for mutual TLS.
    pub client_cert: Option<PathBuf>,
    pub client_key: Option<PathBuf>,
    /// `--http2` (or the scenario's `[target] http2`): offer HTTP/2 by ALPN.
    pub http2: bool,
}

/// A TLS setting that cannot be used; found before anything starts.
#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    #[error("{flag} {}: cannot read it: {source}", path.display())]
    Unreadable {
        flag: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{flag} {}: {what}", path.display())]
    BadPem {
        flag: &'static str,
        path: PathBuf,
        what: String,
    },
    #[error("--client-cert and --client-key go together: give both, or neither")]
    HalfIdentity,
    #[error("the TLS settings do not fit together: {0}")]
    Rustls(String),
}

/// How the target's certificate is checked, as the report records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Verification {
    /// The platform's trust store.
    System,
    /// The platform's trust store and these private CA files.
    WithCa(Vec<String>),
    /// Not checked (`--insecure`).
    Off,
}

impl std::fmt::Display for Verification {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Verification::System => f.write_str("verified (system trust store)"),
            Verification::WithCa(files) => write!(
                f,
                "verified (system trust store + private CA {})",
                files.join(", ")
            ),
            Verification::Off => f.write_str("NOT verified (--insecure)"),
        }
    }
}

/// The TLS side of a run: one client configuration, built once.
#[derive(Clone)]
pub struct Tls {
    config: Arc<rustls::ClientConfig>,
    pub(crate) verification: Verification,
    /// Whether HTTP/2 is offered (ALPN `h2` before `http/1.1`).
    pub(crate) http2: bool,
    /// Whether a client certificate is configured.
    pub(crate) client_identity: bool,
}

impl Tls {
    /// Reads the certificate files and builds the configuration.
    pub fn new(opts: &ConnectOptions) -> Result<Tls, TlsSetupError> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsSetupError::Rustls(e.to_string()))?;
        let mut extra = Vec::new();
        for path in &opts.ca_certs {
            extra.extend(read_certs("--ca-cert", path)?);
        }
        let (verifier, verification): (Arc<dyn ServerCertVerifier>, _) = if opts.insecure {
            (
                Arc::new(NoVerification(Arc::clone(&provider))),
                Verification::Off,
            )
        } else {
            let platform = rustls_platform_verifier::Verifier::new_with_extra_roots(
                extra.clone(),
                Arc::clone(&provider),
            )
            .map_err(|e| TlsSetupError::Rustls(e.to_string()))?;
            let v = Pinning {
                platform: Arc::new(platform),
                pinned: extra,
            };
            let mode = match opts.ca_certs.is_empty() {
                true => Verification::System,
                false => Verification::WithCa(
                    opts.ca_certs
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect(),
                ),
            };
            (Arc::new(v), mode)
        };
        let builder = builder
            .dangerous()
            .with_custom_certificate_verifier(verifier);
        let mut config = match (&opts.client_cert, &opts.client_key) {
            (Some(cert), Some(key)) => {
                let chain = read_certs("--client-cert", cert)?;
                let key = read_key(key)?;
                builder
                    .with_client_auth_cert(chain, key)
                    .map_err(|e| TlsSetupError::Rustls(format!("client certificate: {e}")))?
            }
            (None, None) => builder.with_no_client_auth(),
            _ => return Err(TlsSetupError::HalfIdentity),
        };
        config.alpn_protocols = match opts.http2 {
            true => vec![b"h2".to_vec(), b"http/1.1".to_vec()],
            false => vec![b"http/1.1".to_vec()],
        };
        Ok(Tls {
            config: Arc::new(config),
            verification,
            http2: opts.http2,
            client_identity: opts.client_cert.is_some(),
        })
    }

    /// A reqwest client builder using this configuration (HTTP/1.1 only
    /// unless HTTP/2 was asked for; then ALPN decides).
    pub(crate) fn client_builder(&self) -> reqwest::ClientBuilder {
        let builder = reqwest::Client::builder()
            .tls_backend_preconfigured(rustls::ClientConfig::clone(&self.config));
        match self.http2 {
            true => builder,
            false => builder.http1_only(),
        }
    }

    /// A TLS handshake with `host` at `addr`, bounded by `timeout`: the
    /// protocol the server chose, or why the connection is refused.
    pub async fn handshake(
        &self,
        host: &str,
        addr: std::net::SocketAddr,
        timeout: Duration,
    ) -> Result<&'static str, HandshakeError> {
        let mut config = rustls::ClientConfig::clone(&self.config);
        let asked = Arc::new(Asked {
            inner: Arc::clone(&config.client_auth_cert_resolver),
            asked: AtomicBool::new(false),
        });
        config.client_auth_cert_resolver = asked.clone();
        let name = ServerName::try_from(host.to_string())
            .map_err(|_| HandshakeError::Other(format!("{host:?} is not a TLS server name")))?;
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let attempt = async {
            let tcp = tokio::net::TcpStream::connect(addr)
                .await
                .map_err(|e| HandshakeError::Connect(e.to_string()))?;
            let mut tls = connector.connect(name, tcp).await.map_err(classify)?;
            let protocol = match tls.get_ref().1.alpn_protocol() {
                Some(b"h2") => "HTTP/2",
                _ => "HTTP/1.1",
            };
            if asked.asked.load(Ordering::Relaxed) {
                // TLS 1.3: a server that refuses the client's certificate (or
                // its absence) says so only after the client's handshake is
                // done, with an alert on the first read.
                refused_after_handshake(&mut tls).await?;
            }
            Ok(protocol)
        };
        tokio::time::timeout(timeout, attempt)
            .await
            .unwrap_or(Err(HandshakeError::Timeout(timeout)))
    }
}

/// Waits briefly for a refusal alert after a handshake in which the server
/// asked for a client certificate. Silence (the server waits for a request)
/// means accepted.
async fn refused_after_handshake(
    tls: &mut tokio_rustls::client::TlsStream<tokio::net::TcpStream>,
) -> Result<(), HandshakeError> {
    use tokio::io::AsyncReadExt;
    let mut byte = [0u8; 1];
    match tokio::time::timeout(Duration::from_millis(300), tls.read(&mut byte)).await {
        Ok(Err(e)) => match classify(e) {
            HandshakeError::Other(_) => Ok(()),
            refusal => Err(refusal),
        },
        _ => Ok(()),
    }
}

/// Records whether the server asked for a client certificate.
#[derive(Debug)]
struct Asked {
    inner: Arc<dyn ResolvesClientCert>,
    asked: AtomicBool,
}

impl ResolvesClientCert for Asked {
    fn resolve(
        &self,
        hints: &[&[u8]],
        schemes: &[SignatureScheme],
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        self.asked.store(true, Ordering::Relaxed);
        self.inner.resolve(hints, schemes)
    }

    fn has_certs(&self) -> bool {
        self.inner.has_certs()
    }
}

fn read_certs(
    flag: &'static str,
    path: &Path,
) -> Result<Vec<CertificateDer<'static>>, TlsSetupError> {
    let bytes = std::fs::read(path).map_err(|source| TlsSetupError::Unreadable {
        flag,
        path: path.to_path_buf(),
        source,
    })?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsSetupError::BadPem {
            flag,
            path: path.to_path_buf(),
            what: format!("not a PEM certificate file: {e}"),
        })?;
    if certs.is_empty() {
        return Err(TlsSetupError::BadPem {
            flag,
            path: path.to_path_buf(),
            what: "holds no `-----BEGIN CERTIFICATE-----` block".into(),
        });
    }
    Ok(certs)
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsSetupError> {
    let bytes = std::fs::read(path).map_err(|source| TlsSetupError::Unreadable {
        flag: "--client-key",
        path: path.to_path_buf(),
        source,
    })?;
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| TlsSetupError::BadPem {
        flag: "--client-key",
        path: path.to_path_buf(),
        what: format!("no PEM private key in it (PKCS#8, PKCS#1 or SEC1): {e}"),
    })
}
