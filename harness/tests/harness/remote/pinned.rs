//! A self-signed server certificate given with `--ca-cert` is trusted as
//! itself (certificate pinning, as curl and Go do), whether it carries
//! openssl's CA:TRUE or no CA flag; any other self-signed certificate stops
//! the run before any load, saying so and what to do.

use super::{https, run_tls, text};

#[tokio::test(flavor = "multi_thread")]
async fn a_self_signed_certificate_given_with_ca_cert_is_trusted_as_itself() {
    for openssl_like in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let pki = https::self_signed(dir.path(), "server", openssl_like);
        let backend = https::start(&pki, false).await;
        let out = tokio::task::block_in_place(|| {
            run_tls(
                dir.path(),
                &backend.url,
                &["--ca-cert", pki.ca.to_str().unwrap()],
            )
        });
        assert_eq!(
            out.status.code(),
            Some(0),
            "openssl-like {openssl_like}: {}",
            text(&out.stderr)
        );
        assert!(backend.hits() > 0, "the load went through");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn another_self_signed_certificate_is_refused_in_words_before_any_load() {
    let dir = tempfile::tempdir().unwrap();
    let served = https::self_signed(dir.path(), "server", true);
    let other = https::self_signed(dir.path(), "other", true);
    let backend = https::start(&served, false).await;
    let given = tokio::task::block_in_place(|| {
        run_tls(
            dir.path(),
            &backend.url,
            &["--ca-cert", other.ca.to_str().unwrap()],
        )
    });
    assert_eq!(given.status.code(), Some(3), "{}", text(&given.stderr));
    let err = text(&given.stderr);
    assert!(
        err.contains("localhost:")
            && err.contains("the certificate is self-signed and not the one given with --ca-cert")
            && err.contains("--insecure"),
        "{err}"
    );
    assert!(!err.contains("CaUsedAsEndEntity"), "{err}");

    let none = tokio::task::block_in_place(|| run_tls(dir.path(), &backend.url, &[]));
    assert_eq!(none.status.code(), Some(3), "{}", text(&none.stderr));
    let err = text(&none.stderr);
    assert!(
        err.contains("the certificate is self-signed: trust it by giving it")
            && err.contains("--ca-cert FILE"),
        "{err}"
    );
    assert_eq!(backend.hits(), 0, "no load before the check passed");
}
