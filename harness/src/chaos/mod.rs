//! Fault injection for a run: the fault proxies on the scenario's links (a
//! real Toxiproxy when one is named, else the built-in one), the fault
//! timeline, and the guarantee that a run leaves no proxy and no toxic behind
//! (on finish, on cleanup, and on drop when a panic skips both).

pub mod kitchen;
mod orphans;
mod timeline;
mod traffic;

pub(crate) use timeline::Timeline;

use fault_proxy::{Client, ClientError, NewProxy, Server, Toxic};
use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A named network path a fault proxy can sit on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    pub name: String,
    /// Where the proxy listens; `127.0.0.1:0` picks a free port.
    pub listen: String,
    /// Where it forwards to (`host:port`).
    pub upstream: String,
    /// Declared `protocol = "http"`: the proxy reads HTTP/1.1 requests, so it
    /// also takes the per-request `http_*` toxics (built-in proxy only).
    pub http: bool,
}

/// A toxic applied on a link for a window of the run.
#[derive(Clone, Debug, PartialEq)]
pub struct Fault {
    pub name: String,
    /// When the window opens, from the run's start.
    pub at: Duration,
    pub duration: Duration,
    pub link: String,
    pub toxic: Toxic,
}

#[derive(Debug, thiserror::Error)]
pub enum ChaosError {
    #[error("could not start the built-in fault proxy on 127.0.0.1: {0}")]
    Builtin(#[source] std::io::Error),
    #[error("cannot reach Toxiproxy at {url} ({source}); start it, or leave out --toxiproxy to use the built-in proxy")]
    Unreachable {
        url: String,
        #[source]
        source: ClientError,
    },
    #[error("could not put a proxy on link `{link}` ({listen} → {upstream}): {source}")]
    Link {
        link: String,
        listen: String,
        upstream: String,
        #[source]
        source: ClientError,
    },
    #[error("link `{0}` is declared twice")]
    DuplicateLink(String),
    #[error(
        "the proxy for link `{link}` reports listen address `{listen}`, which does not resolve"
    )]
    BadListen { link: String, listen: String },
    #[error("link `{link}` is declared `protocol = \"http\"`, but the fault proxy at {url} did not make it an HTTP proxy ({source}): a real Toxiproxy has TCP proxies only; HTTP toxics (http_status, http_latency, http_reset) need the built-in proxy, so leave out --toxiproxy")]
    HttpUnsupported {
        link: String,
        url: String,
        #[source]
        source: ClientError,
    },
    #[error("some fault proxies could not be removed: {0}")]
    Cleanup(String),
}

/// The built-in server, running on this process's runtime.
struct Builtin {
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

/// The fault proxies of one run.
pub struct Chaos {
    client: Client,
    builtin: Option<Builtin>,
    /// Link name → proxy name, for every proxy this run created and still owns.
    links: BTreeMap<String, String>,
    /// What the start found and tidied on a shared Toxiproxy, for the report.
    notes: Vec<String>,
}

/// Proxies are named after their link, with a prefix so they cannot be taken
/// for someone else's on a shared Toxiproxy.
pub(crate) fn proxy_name(link: &str) -> String {
    format!("{PROXY_PREFIX}{link}")
}

/// The start of every proxy name the harness gives.
pub(crate) const PROXY_PREFIX: &str = "harness_";

impl Chaos {
    /// Connects to the Toxiproxy at `toxiproxy_url`, or starts the built-in one
    /// on a free loopback port.
    pub async fn start(toxiproxy_url: Option<&str>) -> Result<Chaos, ChaosError> {
        let (client, builtin) = match toxiproxy_url {
            Some(url) => {
                let unreachable = |source| ChaosError::Unreachable {
                    url: url.to_string(),
                    source,
                };
                let client = Client::new(url).map_err(unreachable)?;
                client.version().await.map_err(unreachable)?;
                (client, None)
            }
            None => {
                let server = Server::bind("127.0.0.1:0")
                    .await
                    .map_err(ChaosError::Builtin)?;
                let url = server.url();
                let (stop, stopped) = oneshot::channel::<()>();
                let task = tokio::spawn(server.run_until(async move {
                    let _ = stopped.await;
                }));
                let client =
                    Client::new(&url).map_err(|source| ChaosError::Unreachable { url, source })?;
                (
                    client,
                    Some(Builtin {
                        stop: Some(stop),
                        task,
                    }),
                )
            }
        };
        // A shared Toxiproxy may hold toxics a killed run left; the
        // built-in one was started just now and holds nothing.
        let notes = match builtin {
            None => orphans::remove_leftover_toxics(&client).await,
            Some(_) => Vec::new(),
        };
        Ok(Chaos {
            client,
            builtin,
            links: BTreeMap::new(),
            notes,
        })
    }

    /// What the start found and tidied, for the run's notes (once).
    pub(crate) fn take_notes(&mut self) -> Vec<String> {
        std::mem::take(&mut self.notes)
    }

    /// The Toxiproxy API this run drives.
    pub fn api_url(&self) -> &str {
        self.client.base_url()
    }

    /// Creates the proxy for `link` and returns the address it really listens on.
    /// A proxy of the same name left by an earlier, killed run is replaced.
    pub async fn add_link(&mut self, link: &Link) -> Result<SocketAddr, ChaosError> {
        if self.links.contains_key(&link.name) {
            return Err(ChaosError::DuplicateLink(link.name.clone()));
        }
        let name = proxy_name(&link.name);
        let mut new = NewProxy::new(&name, &link.listen, &link.upstream);
        if link.http {
            new = new.http();
        }
        let url = self.client.base_url().to_string();
        let failed = |source: ClientError| match source {
            // The proxy came back without `protocol: http`: a server that
            // does not know HTTP proxies (a real Toxiproxy ignores the field).
            ClientError::Mismatch { ref what, .. } if link.http && what.ends_with("protocol") => {
                ChaosError::HttpUnsupported {
                    link: link.name.clone(),
                    url: url.clone(),
                    source,
                }
            }
            source => ChaosError::Link {
                link: link.name.clone(),
                listen: link.listen.clone(),
                upstream: link.upstream.clone(),
                source,
            },
        };
        let created = match self.client.create_proxy(&new).await {
            Err(e) if e.status() == Some(reqwest::StatusCode::CONFLICT) => {
                self.client.delete_proxy(&name).await.map_err(failed)?;
                self.client.create_proxy(&new).await
            }
            other => other,
        };
        let proxy = match created.map_err(failed) {
            Ok(proxy) => proxy,
            Err(e) => {
                if matches!(e, ChaosError::HttpUnsupported { .. }) {
                    // It was made, as a plain TCP proxy: it must not stay behind.
                    let _ = self.client.delete_proxy(&name).await;
                }
                return Err(e);
            }
        };
        self.links.insert(link.name.clone(), name);
        let bad = || ChaosError::BadListen {
            link: link.name.clone(),
            listen: proxy.listen.clone(),
        };
        let addr = match proxy.listen.parse::<SocketAddr>() {
            Ok(addr) => addr,
            Err(_) => tokio::net::lookup_host(&proxy.listen)
                .await
                .ok()
                .and_then(|mut a| a.next())
                .ok_or_else(bad)?,
        };
        // A proxy bound to every interface is reached on loopback.
        Ok(if addr.ip().is_unspecified() {
            SocketAddr::from(([127, 0, 0, 1], addr.port()))
        } else {
            addr
        })
    }

    /// Starts the fault timeline: each fault's toxic is added at
    /// `run_start + at` and removed at `run_start + at + duration`.
    pub fn start_timeline(&self, faults: Vec<Fault>, run_start: tokio::time::Instant) -> Timeline {
        // The built-in proxy's byte counters move as data flows; Toxiproxy's
        // only when a connection closes.
        let live_counters = self.builtin.is_some();
        Timeline::start(
            self.client.clone(),
            self.links.clone(),
            faults,
            run_start,
            live_counters,
        )
    }

    /// Removes every proxy this run made (and so their toxics) and stops the
    /// built-in server. Safe to call more than once.
    pub async fn cleanup(&mut self) -> Result<(), ChaosError> {
        let mut problems = Vec::new();
        for (link, proxy) in std::mem::take(&mut self.links) {
            match self.client.delete_proxy(&proxy).await {
                Ok(()) => {}
                Err(e) if e.is_not_found() => {}
                Err(e) => problems.push(format!("link `{link}`: {e}")),
            }
        }
        if let Some(mut builtin) = self.builtin.take() {
            if let Some(stop) = builtin.stop.take() {
                let _ = stop.send(());
            }
            match tokio::time::timeout(Duration::from_secs(10), &mut builtin.task).await {
                Ok(Ok(Ok(()))) => {}
                Ok(Ok(Err(e))) => problems.push(format!("built-in proxy: {e}")),
                Ok(Err(e)) => problems.push(format!("built-in proxy: {e}")),
                Err(_) => {
                    builtin.task.abort();
                    problems.push("built-in proxy did not stop within 10 s".into());
                }
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ChaosError::Cleanup(problems.join("; ")))
        }
    }
}

impl Drop for Chaos {
    /// The panic path: cleanup was never awaited. The built-in server is told
    /// to stop (its proxies go with it); on a real Toxiproxy the proxies are
    /// deleted with plain blocking requests from a helper thread, so this works
    /// even while the async runtime is unwinding.
    fn drop(&mut self) {
        if let Some(builtin) = self.builtin.as_mut() {
            if let Some(stop) = builtin.stop.take() {
                let _ = stop.send(());
            }
            self.links.clear();
            return;
        }
        let proxies: Vec<String> = std::mem::take(&mut self.links).into_values().collect();
        if proxies.is_empty() {
            return;
        }
        if let Err(e) = orphans::delete_proxies(self.client.base_url(), &proxies) {
            eprintln!(
                "warning: fault proxies may be left on {}: {e}",
                self.client.base_url()
            );
        }
    }
}

/// `harness proxy`: serves the Toxiproxy-compatible API on `listen` until
/// `shutdown` completes, then removes every proxy it holds.
pub(crate) async fn serve_proxy(
    listen: SocketAddr,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    use anyhow::Context;
    let server = Server::bind(listen).await.with_context(|| {
        format!("binding the fault proxy API on {listen} (is a Toxiproxy already running there?)")
    })?;
    println!(
        "fault proxy: Toxiproxy API on {} (Ctrl-C stops it)",
        server.url()
    );
    let (stop, stopped) = oneshot::channel::<()>();
    let mut serving = tokio::spawn(server.run_until(async move {
        let _ = stopped.await;
    }));
    let finished = |joined: Result<std::io::Result<()>, tokio::task::JoinError>| {
        joined
            .context("the fault proxy task failed")?
            .context("serving the fault proxy API")
    };
    tokio::select! {
        joined = &mut serving => return finished(joined),
        _ = shutdown => {}
    }
    let _ = stop.send(());
    finished(serving.await)
}
