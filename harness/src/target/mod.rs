//! What the load is aimed at: the bundled reference server and its payment
//! gateway simulator, started as child processes of the harness binary (a
//! fresh data directory each run), or a backend already running at a
//! loopback URL. Fault proxies are put on the `edge` and `payments` links (or
//! a scenario's own `[[links]]`) only when a fault needs them.

mod child;
mod kitchen;

pub use child::{wait_ready, ChildServer};
pub use kitchen::kitchen_notes;

use crate::chaos::{Chaos, Link};
use crate::scenario::TargetSpec;
use anyhow::Context;
use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

/// A target refused before anything starts.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("{0:?} is not a URL: expected e.g. http://127.0.0.1:8080")]
    BadUrl(String),
    #[error("{url:?} is not on this machine: the harness only sends load to loopback (127.0.0.1, [::1], localhost), so it never loads someone else's service by mistake")]
    NotLoopback { url: String },
    #[error("{0:?} is not a loopback address with a port, e.g. 127.0.0.1:0")]
    BadAddr(String),
}

/// Refuses any URL whose host is not this machine's loopback.
pub fn check_loopback(url: &str) -> Result<reqwest::Url, TargetError> {
    let parsed = reqwest::Url::parse(url).map_err(|_| TargetError::BadUrl(url.into()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(TargetError::BadUrl(url.into()));
    }
    let host = parsed
        .host_str()
        .ok_or_else(|| TargetError::BadUrl(url.into()))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if !loopback {
        return Err(TargetError::NotLoopback { url: url.into() });
    }
    Ok(parsed)
}

/// Refuses a `host:port` that is not on loopback.
pub fn check_loopback_addr(addr: &str) -> Result<SocketAddr, TargetError> {
    let a: SocketAddr = addr
        .replace("localhost", "127.0.0.1")
        .parse()
        .map_err(|_| TargetError::BadAddr(addr.into()))?;
    if !a.ip().is_loopback() {
        return Err(TargetError::NotLoopback { url: addr.into() });
    }
    Ok(a)
}

/// How to start a target.
pub struct TargetOptions<'a> {
    pub spec: &'a TargetSpec,
    /// The harness executable that serves `reference-server` (the running binary, or the one tests built).
    pub exe: PathBuf,
    /// Links some fault needs a proxy on.
    pub faulted_links: BTreeSet<String>,
    /// Declared links, for an external target.
    pub links: &'a [Link],
    /// The scenario's seed, passed to the gateway simulator so its latency
    /// and decline draws repeat from run to run.
    pub seed: u64,
}

/// A started target.
pub struct Target {
    /// Where the load goes (through the `edge` proxy when it has faults).
    pub base_url: String,
    /// The server itself, bypassing any proxy: its `/metrics` is read once
    /// after the load (bundled or not: every backend of the contract serves
    /// it), so the report folder keeps the server's own view of the run.
    pub server_url: Option<String>,
    /// What was load-tested, as the report names it.
    pub description: String,
    children: Vec<ChildServer>,
    _data_dir: Option<tempfile::TempDir>,
}

impl Target {
    pub async fn start(
        opts: TargetOptions<'_>,
        chaos: Option<&mut Chaos>,
    ) -> anyhow::Result<Target> {
        match opts.spec {
            TargetSpec::Url(url) => start_external(url, &opts, chaos).await,
            TargetSpec::Bundled {
                profile,
                server_args,
                gateway_args,
            } => start_bundled(&opts, profile, server_args, gateway_args, chaos).await,
        }
    }

    /// Why the target is gone, if a bundled child exited during the run.
    pub fn died(&mut self) -> Option<String> {
        self.children.iter_mut().find_map(ChildServer::exited)
    }

    /// Stops the bundled children (server first, so it sees no gateway vanish under in-flight payments).
    pub async fn stop(mut self) {
        while let Some(child) = self.children.pop() {
            child.stop().await;
        }
    }
}

async fn start_external(
    url: &str,
    opts: &TargetOptions<'_>,
    chaos: Option<&mut Chaos>,
) -> anyhow::Result<Target> {
    let parsed = check_loopback(url)?;
    let authority = format!(
        "{}:{}",
        parsed.host_str().unwrap_or(""),
        parsed.port_or_known_default().unwrap_or(80)
    );
    // A backend that is not there is an error before the run, not a run of errors.
    let connect = tokio::net::TcpStream::connect(authority.as_str());
    match tokio::time::timeout(Duration::from_secs(3), connect).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => anyhow::bail!("nothing answers at {url} ({e}); is the backend running?"),
        Err(_) => anyhow::bail!("{url} did not accept a connection within 3 s"),
    }
    let base = url.trim_end_matches('/').to_string();
    let mut base_url = base.clone();
    if let Some(chaos) = chaos {
        // A fault on `edge` with no declared link: the proxy goes in front of the URL.
        let edge = (opts.faulted_links.contains("edge")
            && !opts.links.iter().any(|l| l.name == "edge"))
        .then(|| Link {
            name: "edge".into(),
            listen: "127.0.0.1:0".into(),
            upstream: authority.clone(),
        });
        for link in opts
            .links
            .iter()
            .chain(edge.as_ref())
            .filter(|l| opts.faulted_links.contains(&l.name))
        {
            let addr = chaos
                .add_link(link)
                .await
                .with_context(|| format!("putting a fault proxy on link {:?}", link.name))?;
            // Load goes through the link that fronts the target itself.
            if same_authority(&link.upstream, &authority) {
                base_url = format!("{}://{addr}", parsed.scheme());
            }
        }
    }
    Ok(Target {
        base_url,
        server_url: Some(base.clone()),
        description: base,
        children: Vec::new(),
        _data_dir: None,
    })
}

fn same_authority(a: &str, b: &str) -> bool {
    let norm = |s: &str| s.replace("localhost", "127.0.0.1");
    norm(a) == norm(b)
}

async fn start_bundled(
    opts: &TargetOptions<'_>,
    profile: &str,
    server_args: &[String],
    gateway_args: &[String],
    mut chaos: Option<&mut Chaos>,
) -> anyhow::Result<Target> {
    let dir = tempfile::Builder::new()
        .prefix("harness-target-")
        .tempdir()
        .context("creating a data directory for the bundled server")?;
    let client = reqwest::Client::new();
    let mut args = vec![
        "gateway".to_string(),
        "--listen".into(),
        "127.0.0.1:0".into(),
    ];
    if !gateway_args
        .iter()
        .any(|a| a == "--seed" || a.starts_with("--seed="))
    {
        args.extend(["--seed".to_string(), opts.seed.to_string()]);
    }
    args.extend(gateway_args.iter().cloned());
    let gateway = ChildServer::spawn(
        "payment gateway simulator",
        &opts.exe,
        &args,
        &dir.path().join("gateway.log"),
    )
    .await?;
    let mut gateway_url = gateway.url();
    if opts.faulted_links.contains("payments") {
        gateway_url = proxy_link(chaos.as_deref_mut(), "payments", gateway.addr).await?;
    }
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).context("creating the server's data directory")?;
    let mut args = vec![
        "--listen".to_string(),
        "127.0.0.1:0".into(),
        "--data-dir".into(),
        data.display().to_string(),
        "--payment-gateway-url".into(),
        gateway_url,
        "--profile".into(),
        profile.into(),
    ];
    args.extend(server_args.iter().cloned());
    let server = ChildServer::spawn(
        "reference server",
        &opts.exe,
        &args,
        &dir.path().join("server.log"),
    )
    .await?;
    wait_ready(&client, &server.url(), Duration::from_secs(10)).await?;
    let server_url = server.url();
    let mut base_url = server_url.clone();
    if opts.faulted_links.contains("edge") {
        base_url = proxy_link(chaos, "edge", server.addr).await?;
    }
    Ok(Target {
        base_url,
        server_url: Some(server_url),
        description: format!("bundled reference-server ({profile} profile)"),
        children: vec![gateway, server],
        _data_dir: Some(dir),
    })
}

/// Puts a fault proxy on the bundled link `name` in front of `upstream`;
/// returns the URL that goes through it.
async fn proxy_link(
    chaos: Option<&mut Chaos>,
    name: &str,
    upstream: SocketAddr,
) -> anyhow::Result<String> {
    let chaos = chaos.with_context(|| format!("a fault on `{name}` needs the fault proxy"))?;
    let addr = chaos
        .add_link(&Link {
            name: name.into(),
            listen: "127.0.0.1:0".into(),
            upstream: upstream.to_string(),
        })
        .await
        .with_context(|| format!("putting a fault proxy on link {name:?}"))?;
    Ok(format!("http://{addr}"))
}

/// An address that may need brackets in a URL.
pub fn url_for(addr: SocketAddr) -> String {
    match addr.ip() {
        IpAddr::V6(_) => format!("http://[{}]:{}", addr.ip(), addr.port()),
        IpAddr::V4(_) => format!("http://{addr}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_urls_are_accepted() {
        assert!(check_loopback("http://127.0.0.1:8080").is_ok());
        assert!(check_loopback("http://localhost:8080/").is_ok());
        assert!(check_loopback("http://[::1]:8080").is_ok());
        let e = check_loopback("http://example.com")
            .unwrap_err()
            .to_string();
        assert!(e.contains("loopback"), "{e}");
        assert!(check_loopback("http://10.0.0.1:80").is_err());
        assert!(check_loopback("not a url").is_err());
    }

    #[test]
    fn link_addresses_must_be_loopback() {
        assert!(check_loopback_addr("127.0.0.1:0").is_ok());
        assert!(check_loopback_addr("192.168.1.1:80").is_err());
        assert!(check_loopback_addr("nope").is_err());
    }
}
