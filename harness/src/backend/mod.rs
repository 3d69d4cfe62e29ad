//! What the load is aimed at: the bundled reference server and its payment
//! gateway simulator, started as child processes of the harness binary (a
//! fresh data directory each run, always on loopback), or a backend already
//! running at any http(s) URL, on this machine or another (`remote.rs`: the
//! URL check and the pre-flight; `tls.rs`: certificates). Fault proxies are
//! put on the `edge` and `payments` links (or a scenario's own `[[links]]`)
//! only when a fault needs them; they always listen on loopback.

mod child;
mod kitchen;
pub(crate) mod leftovers;
pub(crate) mod remote;
pub(crate) mod tls;

pub use child::{wait_ready, ChildServer};
pub(crate) use kitchen::kitchen_notes;
pub(crate) use remote::{check_url, Connection};
pub use tls::{ConnectOptions, Tls};

use crate::chaos::{Chaos, Link};
use crate::scenario::TargetSpec;
use anyhow::Context;
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// How to start a target.
pub(crate) struct TargetOptions<'a> {
    pub(crate) spec: &'a TargetSpec,
    /// The harness executable that serves `reference-server` (the running binary, or the one tests built).
    pub(crate) exe: PathBuf,
    /// Links some fault needs a proxy on.
    pub(crate) faulted_links: BTreeSet<String>,
    /// Declared links, for an external target.
    pub(crate) links: &'a [Link],
    /// The scenario's seed, passed to the gateway simulator so its latency
    /// and decline draws repeat from run to run.
    pub(crate) seed: u64,
    /// The run's TLS configuration (used by the pre-flight check of a URL).
    pub(crate) tls: &'a Tls,
}

/// A started target.
pub(crate) struct Target {
    /// Where the load goes (through the `edge` proxy when it has faults).
    pub(crate) base_url: String,
    /// The server itself, bypassing any proxy: its `/metrics` is read once
    /// after the load (bundled or not: every backend of the contract serves
    /// it), so the report folder keeps the server's own view of the run.
    pub(crate) server_url: Option<String>,
    /// What was load-tested, as the report names it.
    pub(crate) description: String,
    /// How the target was reached, for summary.json and the report.
    pub(crate) connection: Connection,
    /// When the load goes through a fault proxy in front of a named host:
    /// that host is pointed at the proxy's loopback address, so TLS still
    /// sees (and checks the certificate for) the real name.
    route: Option<(String, SocketAddr)>,
    /// The bundled server's admin token: the scenario's `--admin-token`, or
    /// one made for this run (never written to a report).
    pub(crate) admin_token: Option<crate::redact::Secret>,
    /// What the start found and tidied (data folders of killed runs).
    pub(crate) notes: Vec<String>,
    children: Vec<ChildServer>,
    _data_dir: Option<tempfile::TempDir>,
}

impl Target {
    pub(crate) async fn start(
        opts: TargetOptions<'_>,
        chaos: Option<&mut Chaos>,
    ) -> anyhow::Result<Target> {
        match opts.spec {
            TargetSpec::Url(url) => start_external(url, &opts, chaos).await,
            TargetSpec::Bundled {
                profile,
                server_args,
                gateway_args,
            } => start_bundled(&opts, *profile, server_args, gateway_args, chaos).await,
        }
    }

    /// The HTTP client for the load: the run's TLS configuration, and the
    /// route through the `edge` proxy when there is one.
    pub(crate) fn http_client(
        &self,
        tls: &Tls,
        timeout: Duration,
    ) -> anyhow::Result<reqwest::Client> {
        let mut builder = tls.client_builder().timeout(timeout);
        if let Some((host, addr)) = &self.route {
            builder = builder.resolve(host, *addr);
            if !tls.http2 {
                // The URL carries the proxy's port; the server sees its own.
                let original = self.connection.url.parse::<reqwest::Url>().ok();
                if let Some(value) = original.as_ref().and_then(host_header) {
                    let mut headers = reqwest::header::HeaderMap::new();
                    headers.insert(reqwest::header::HOST, value);
                    builder = builder.default_headers(headers);
                }
            }
        }
        builder.build().context("building the HTTP client")
    }

    /// Sends the load through a fault proxy made elsewhere (shard 0's, on a
    /// shared Toxiproxy) listening at `proxy` (`host:port`), routed as a link
    /// of this run's own would be ([`through_proxy`]).
    pub(crate) async fn send_through(&mut self, proxy: &str) -> anyhow::Result<()> {
        let url = reqwest::Url::parse(&self.base_url).context("the target URL")?;
        let addr = tokio::net::lookup_host(proxy)
            .await
            .with_context(|| format!("resolving the proxy address {proxy}"))?
            .next()
            .with_context(|| format!("the proxy address {proxy} resolves to nothing"))?;
        let (base_url, route) = through_proxy(&url, addr);
        self.base_url = base_url;
        self.route = route;
        Ok(())
    }

    /// Why the target is gone, if a bundled child exited during the run.
    pub(crate) fn died(&mut self) -> Option<String> {
        self.children.iter_mut().find_map(ChildServer::exited)
    }

    /// Stops the bundled children (server first, so it sees no gateway vanish under in-flight payments).
    pub(crate) async fn stop(mut self) {
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
    let parsed = check_url(url)?;
    let host = parsed.host_str().unwrap_or("").to_string();
    let port = parsed.port_or_known_default().unwrap_or(80);
    let authority = format!("{host}:{port}");
    // A backend that is not there, or whose certificate is refused, is an
    // error before the run, not a run of errors.
    let connection = remote::preflight(&parsed, opts.tls).await?;
    let base = url.trim_end_matches('/').to_string();
    let mut base_url = base.clone();
    let mut route = None;
    if let Some(chaos) = chaos {
        // A fault on `edge` with no declared link: the proxy goes in front of the URL.
        let edge = (opts.faulted_links.contains("edge")
            && !opts.links.iter().any(|l| l.name == "edge"))
        .then(|| Link {
            name: "edge".into(),
            listen: "127.0.0.1:0".into(),
            upstream: authority.clone(),
            // Whatever the target speaks (TLS, HTTP/2) passes as bytes.
            http: false,
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
                let (url, r) = through_proxy(&parsed, addr);
                base_url = url;
                route = r;
            }
        }
    }
    Ok(Target {
        base_url,
        server_url: Some(base.clone()),
        description: crate::redact::url(&base),
        connection,
        route,
        admin_token: None,
        notes: Vec::new(),
        children: Vec::new(),
        _data_dir: None,
    })
}

/// The load's base URL when it goes through a proxy listening at `proxy`:
/// an IP target is simply replaced by the proxy's address; a named host
/// keeps its name (for TLS's server name and certificate check) and is
/// routed to the proxy.
fn through_proxy(url: &reqwest::Url, proxy: SocketAddr) -> (String, Option<(String, SocketAddr)>) {
    let mut u = url.clone();
    let named = u.domain().is_some();
    if named {
        let _ = u.set_port(Some(proxy.port()));
    } else {
        let _ = u.set_ip_host(proxy.ip());
        let _ = u.set_port(Some(proxy.port()));
    }
    let route = named.then(|| (url.host_str().unwrap_or("").to_string(), proxy));
    (u.as_str().trim_end_matches('/').to_string(), route)
}

/// The `Host` header the target expects (its own name and port).
fn host_header(url: &reqwest::Url) -> Option<reqwest::header::HeaderValue> {
    let host = url.host_str()?;
    let value = match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    };
    reqwest::header::HeaderValue::from_str(&value).ok()
}

fn same_authority(a: &str, b: &str) -> bool {
    let norm = |s: &str| s.replace("localhost", "127.0.0.1");
    norm(a) == norm(b)
}

async fn start_bundled(
    opts: &TargetOptions<'_>,
    profile: crate::scenario::profile::Profile,
    server_args: &[String],
    gateway_args: &[String],
    mut chaos: Option<&mut Chaos>,
) -> anyhow::Result<Target> {
    let leftovers = leftovers::sweep(&std::env::temp_dir());
    let dir = tempfile::Builder::new()
        .prefix(leftovers::PREFIX)
        .tempdir()
        .context("creating a data directory for the bundled server")?;
    leftovers::claim(dir.path()).context("marking the bundled server's data directory")?;
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
        // The gateway speaks plain HTTP/1.1, so its link takes HTTP toxics too.
        gateway_url = proxy_link(chaos.as_deref_mut(), "payments", gateway.addr, true).await?;
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
        crate::scenario::profile::name(profile).into(),
    ];
    args.extend(server_args.iter().cloned());
    let admin_token = bundled_admin_token(&mut args);
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
        // A plain TCP link: the load's own connections pass as bytes.
        base_url = proxy_link(chaos, "edge", server.addr, false).await?;
    }
    Ok(Target {
        base_url,
        connection: Connection::bundled(&server_url),
        route: None,
        admin_token: Some(admin_token),
        notes: leftovers.into_iter().collect(),
        server_url: Some(server_url),
        description: format!(
            "bundled reference-server ({} profile)",
            crate::scenario::profile::name(profile)
        ),
        children: vec![gateway, server],
        _data_dir: Some(dir),
    })
}

/// The admin token the scenario's `server_args` give (`--admin-token X` or
/// `--admin-token=X`), or a random one for this run added to `args`, so the
/// bundled server never runs with a token someone could guess. Registered as
/// a secret: it is masked wherever it could be written.
fn bundled_admin_token(args: &mut Vec<String>) -> crate::redact::Secret {
    let given = args
        .iter()
        .position(|a| a == "--admin-token")
        .and_then(|i| args.get(i + 1).cloned())
        .or_else(|| {
            args.iter()
                .find_map(|a| a.strip_prefix("--admin-token=").map(str::to_string))
        });
    let token = given.unwrap_or_else(|| {
        let made = format!("harness-{}", uuid::Uuid::new_v4().simple());
        args.extend(["--admin-token".to_string(), made.clone()]);
        made
    });
    crate::redact::Secret::new(token)
}

/// Puts a fault proxy (an HTTP one when `http`) on the bundled link `name`
/// in front of `upstream`; returns the URL that goes through it.
async fn proxy_link(
    chaos: Option<&mut Chaos>,
    name: &str,
    upstream: SocketAddr,
    http: bool,
) -> anyhow::Result<String> {
    let chaos = chaos.with_context(|| format!("a fault on `{name}` needs the fault proxy"))?;
    let addr = chaos
        .add_link(&Link {
            name: name.into(),
            listen: "127.0.0.1:0".into(),
            upstream: upstream.to_string(),
            http,
        })
        .await
        .with_context(|| format!("putting a fault proxy on link {name:?}"))?;
    Ok(format!("http://{addr}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proxy_in_front_of_a_named_host_keeps_the_name_for_tls() {
        let proxy: SocketAddr = "127.0.0.1:40001".parse().unwrap();
        let url = check_url("https://staging.example.invalid/api/").unwrap();
        let (base, route) = through_proxy(&url, proxy);
        assert_eq!(base, "https://staging.example.invalid:40001/api");
        assert_eq!(route, Some(("staging.example.invalid".into(), proxy)));
        let url = check_url("http://127.0.0.1:8080").unwrap();
        assert_eq!(
            through_proxy(&url, proxy),
            ("http://127.0.0.1:40001".into(), None)
        );
        let url = check_url("https://staging.example.invalid:8443").unwrap();
        assert_eq!(host_header(&url).unwrap(), "staging.example.invalid:8443");
    }
}
