//! How the target's certificate is checked, and why it is refused in words
//! a user can act on. A certificate the server presents that is one given
//! with `--ca-cert` is trusted as itself (certificate pinning, as curl and Go
//! trust a self-signed certificate named as a CA): its dates and name are
//! still checked. Any other goes to the platform's verifier (the system
//! trust store plus the `--ca-cert` CAs). `--insecure` checks nothing.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, OtherError, SignatureScheme};
use std::sync::Arc;
use std::time::Duration;

/// Why a TLS handshake failed, in the words a user can act on, with the fix.
#[derive(Debug, thiserror::Error)]
pub enum HandshakeError {
    #[error("the certificate has expired{}: renew it on the server (or check this machine's clock)", since(" on", *.0))]
    Expired(Option<UnixTime>),
    #[error("the certificate is not valid yet{}: check this machine's clock, or the certificate's dates", since(" until", *.0))]
    NotValidYet(Option<UnixTime>),
    #[error("the certificate is issued by an unknown authority (unknown issuer): trust a private CA with --ca-cert FILE, or skip the check with --insecure")]
    UnknownIssuer,
    #[error("the certificate is self-signed and not the one given with --ca-cert: give the server's own certificate (its PEM file) with --ca-cert, or skip the check with --insecure")]
    SelfSignedNotGiven,
    #[error("the certificate is self-signed: trust it by giving it (the server's PEM file) with --ca-cert FILE, or skip the check with --insecure")]
    SelfSigned,
    #[error("the certificate does not name this host (name mismatch){}: use a URL with a name the certificate holds, or give the server a certificate for this one", named(.0))]
    NameMismatch(Vec<String>),
    #[error("the certificate has been revoked: the server needs a new one")]
    Revoked,
    #[error("the server presents a CA certificate as its own: it must present one issued for its host (signed by that CA)")]
    CaAsServer,
    #[error("the certificate is not meant for a TLS server (its extended key usage): the server needs a server certificate")]
    NotForServers,
    #[error("the server refused the client certificate, or asked for one that was not given (--client-cert/--client-key): {0}")]
    ClientCertRefused(String),
    #[error("nothing accepts a connection there ({0})")]
    Connect(String),
    #[error("no TLS handshake within {} s", .0.as_secs())]
    Timeout(Duration),
    #[error("{0}")]
    Other(String),
}

fn since(word: &str, at: Option<UnixTime>) -> String {
    let date = at.and_then(|t| {
        let t = time::OffsetDateTime::from_unix_timestamp(t.as_secs() as i64).ok()?;
        t.format(&time::format_description::well_known::Rfc3339)
            .ok()
    });
    date.map_or_else(String::new, |d| format!("{word} {d}"))
}

fn named(names: &[String]) -> String {
    match names.is_empty() {
        true => " (it names no host)".into(),
        false => format!(" (it names {})", names.join(", ")),
    }
}

/// A self-signed certificate that is not one given with `--ca-cert`: a
/// refusal of our own, carried through rustls to [`classify`].
#[derive(Debug, thiserror::Error)]
#[error("the certificate is self-signed, and not one given with --ca-cert")]
struct SelfSignedRefusal {
    ca_given: bool,
}

/// Turns a failed handshake into what a user reads.
pub(super) fn classify(e: std::io::Error) -> HandshakeError {
    let Some(tls) = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) else {
        return HandshakeError::Other(format!("the TLS handshake failed: {e}"));
    };
    use CertificateError as C;
    match tls {
        rustls::Error::InvalidCertificate(c) => match c {
            C::Expired => HandshakeError::Expired(None),
            C::ExpiredContext { not_after, .. } => HandshakeError::Expired(Some(*not_after)),
            C::NotValidYet => HandshakeError::NotValidYet(None),
            C::NotValidYetContext { not_before, .. } => {
                HandshakeError::NotValidYet(Some(*not_before))
            }
            C::UnknownIssuer => HandshakeError::UnknownIssuer,
            C::NotValidForName => HandshakeError::NameMismatch(Vec::new()),
            C::NotValidForNameContext { presented, .. } => {
                HandshakeError::NameMismatch(presented.clone())
            }
            C::Revoked => HandshakeError::Revoked,
            C::InvalidPurpose | C::InvalidPurposeContext { .. } => HandshakeError::NotForServers,
            C::Other(OtherError(inner)) => other_refusal(inner.as_ref()),
            other => HandshakeError::Other(format!("the certificate is refused: {other:?}")),
        },
        rustls::Error::AlertReceived(alert) => alert_error(*alert),
        other => HandshakeError::Other(format!("the TLS handshake failed: {other}")),
    }
}

fn other_refusal(inner: &(dyn std::error::Error + 'static)) -> HandshakeError {
    if let Some(refusal) = inner.downcast_ref::<SelfSignedRefusal>() {
        return match refusal.ca_given {
            true => HandshakeError::SelfSignedNotGiven,
            false => HandshakeError::SelfSigned,
        };
    }
    // webpki's own errors, which the platform's verifier passes on as they
    // are (webpki is no direct dependency: its error is known by its name).
    let name = format!("{inner:?}");
    match name.as_str() {
        "CaUsedAsEndEntity" => HandshakeError::CaAsServer,
        "UnknownIssuer" => HandshakeError::UnknownIssuer,
        _ => HandshakeError::Other(format!("the certificate is refused: {name}")),
    }
}

fn alert_error(alert: rustls::AlertDescription) -> HandshakeError {
    use rustls::AlertDescription as A;
    match alert {
        A::CertificateRequired
        | A::BadCertificate
        | A::UnknownCA
        | A::CertificateUnknown
        | A::HandshakeFailure
        | A::AccessDenied => HandshakeError::ClientCertRefused(format!("{alert:?}")),
        other => HandshakeError::Other(format!("the server ended the handshake: {other:?}")),
    }
}

/// The check: a pinned certificate, else the platform's verifier.
#[derive(Debug)]
pub(super) struct Pinning {
    pub(crate) platform: Arc<dyn ServerCertVerifier>,
    /// Every certificate given with `--ca-cert`.
    pub(crate) pinned: Vec<CertificateDer<'static>>,
}

impl ServerCertVerifier for Pinning {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if self
            .pinned
            .iter()
            .any(|p| p.as_ref() == end_entity.as_ref())
        {
            return check_pinned(end_entity, server_name, now);
        }
        self.platform
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
            .map_err(|e| match self_signed(end_entity) {
                true => {
                    let refusal = SelfSignedRefusal {
                        ca_given: !self.pinned.is_empty(),
                    };
                    let other = OtherError(Arc::new(refusal));
                    rustls::Error::InvalidCertificate(CertificateError::Other(other))
                }
                false => e,
            })
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.platform.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.platform.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.platform.supported_verify_schemes()
    }
}

/// Issued by itself: its issuer is its subject.
fn self_signed(cert: &CertificateDer<'_>) -> bool {
    x509_parser::parse_x509_certificate(cert.as_ref())
        .is_ok_and(|(_, c)| c.issuer().as_raw() == c.subject().as_raw())
}

/// A certificate given with `--ca-cert` and presented by the server: trusted
/// as itself (the handshake's signature proves the server holds its key), if
/// it is within its dates and names the host: by a subjectAltName, or, when
/// it has none, by its common name (`openssl req -x509 -subj /CN=host`, which
/// curl accepts so too).
fn check_pinned(
    cert: &CertificateDer<'_>,
    server_name: &ServerName<'_>,
    now: UnixTime,
) -> Result<ServerCertVerified, rustls::Error> {
    let bad = || rustls::Error::InvalidCertificate(CertificateError::BadEncoding);
    let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref()).map_err(|_| bad())?;
    let at = |t: i64| UnixTime::since_unix_epoch(Duration::from_secs(t.max(0) as u64));
    let validity = parsed.validity();
    let secs = now.as_secs() as i64;
    if secs > validity.not_after.timestamp() {
        return Err(rustls::Error::InvalidCertificate(
            CertificateError::ExpiredContext {
                time: now,
                not_after: at(validity.not_after.timestamp()),
            },
        ));
    }
    if secs < validity.not_before.timestamp() {
        return Err(rustls::Error::InvalidCertificate(
            CertificateError::NotValidYetContext {
                time: now,
                not_before: at(validity.not_before.timestamp()),
            },
        ));
    }
    let end_entity = rustls::server::ParsedCertificate::try_from(cert)?;
    let by_san = rustls::client::verify_server_name(&end_entity, server_name);
    let has_san = parsed.subject_alternative_name().ok().flatten().is_some();
    let common_names: Vec<String> = parsed
        .subject()
        .iter_common_name()
        .filter_map(|cn| cn.as_str().ok().map(str::to_string))
        .collect();
    match (by_san, has_san, server_name) {
        (Ok(()), _, _) => Ok(ServerCertVerified::assertion()),
        (Err(_), false, ServerName::DnsName(dns))
            if common_names
                .iter()
                .any(|cn| cn.eq_ignore_ascii_case(dns.as_ref())) =>
        {
            Ok(ServerCertVerified::assertion())
        }
        (Err(_), false, _) => Err(rustls::Error::InvalidCertificate(
            CertificateError::NotValidForNameContext {
                expected: server_name.to_owned(),
                presented: common_names,
            },
        )),
        (Err(e), true, _) => Err(e),
    }
}

/// `--insecure`: any certificate is accepted; signatures are still checked,
/// so the handshake itself stays sound.
#[derive(Debug)]
pub(super) struct NoVerification(pub(crate) Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
