//! The built-in server's proxies: Toxiproxy's proxy collection semantics
//! (create, populate = add or replace, update, delete, reset) on top of the
//! data plane's listeners. Their toxics are in `toxics`.

use super::error::ApiError;
use super::metrics::Metrics;
use crate::plane::{listen, ActiveToxic, Listener, Plane, ToxicSet};
use crate::{Protocol, Proxy, Toxic};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::{watch, Mutex};

/// A proxy's fields as a create or populate body gives them (all optional on
/// the wire; missing ones are checked by the caller, as Toxiproxy does).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ProxyInput {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub listen: String,
    #[serde(default)]
    pub upstream: String,
    pub enabled: Option<bool>,
    /// Not Toxiproxy's: `"http"` declares an HTTP proxy.
    #[serde(default)]
    pub protocol: Protocol,
}

/// `POST /proxies/{name}`: the fields to change.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ProxyPatch {
    pub listen: Option<String>,
    pub upstream: Option<String>,
    pub enabled: Option<bool>,
    pub protocol: Option<Protocol>,
}

/// `POST /proxies/{name}/toxics/{toxic}`: new attributes (merged) and toxicity.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ToxicPatch {
    #[serde(default)]
    pub attributes: Value,
    pub toxicity: Option<f32>,
}

pub(super) struct Entry {
    name: String,
    /// As given until the proxy first starts, then the address really bound.
    listen: String,
    upstream: String,
    pub protocol: Protocol,
    pub toxics: watch::Sender<Arc<ToxicSet>>,
    /// Present while the proxy is enabled.
    listener: Option<Listener>,
}

impl Entry {
    fn view(&self) -> Proxy {
        let set = self.toxics.borrow();
        Proxy {
            name: self.name.clone(),
            listen: self.listen.clone(),
            upstream: self.upstream.clone(),
            enabled: self.listener.is_some(),
            protocol: self.protocol,
            toxics: set
                .upstream
                .iter()
                .chain(&set.downstream)
                .map(|t| t.toxic.clone())
                .collect(),
        }
    }

    pub fn find_toxic(&self, name: &str) -> Option<Toxic> {
        self.find_active(name).map(|t| t.toxic)
    }

    pub fn find_active(&self, name: &str) -> Option<ActiveToxic> {
        let set = self.toxics.borrow();
        set.upstream
            .iter()
            .chain(&set.downstream)
            .find(|t| t.toxic.name == name)
            .cloned()
    }

    /// Toxiproxy's `Differs`: the new listen address is resolved before it is
    /// compared, so `localhost:3310` is the same as a stored `127.0.0.1:3310`.
    fn differs(&self, listen: &str, upstream: &str) -> Result<bool, ApiError> {
        let resolved = checked_listen(listen)?;
        Ok(resolved.to_string() != self.listen || upstream != self.upstream)
    }
}

pub(crate) struct Registry {
    pub(super) proxies: Mutex<BTreeMap<String, Entry>>,
    next_id: AtomicU64,
    plane: Plane,
    pub(super) metrics: Metrics,
}

impl Registry {
    pub fn new() -> std::io::Result<Registry> {
        Ok(Registry {
            proxies: Mutex::new(BTreeMap::new()),
            next_id: AtomicU64::new(1),
            plane: Plane::start()?,
            metrics: Metrics::default(),
        })
    }

    /// Stops every proxy and closes their connections.
    pub async fn shutdown(&self) {
        let mut proxies = self.proxies.lock().await;
        for entry in proxies.values_mut() {
            if let Some(listener) = entry.listener.take() {
                listener.stop().await;
            }
        }
    }

    pub(super) fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    async fn start(&self, entry: &mut Entry) -> Result<(), ApiError> {
        if entry.listener.is_some() {
            return Ok(());
        }
        let addr = checked_listen(&entry.listen)?;
        let bound = listen::bind(addr).map_err(ApiError::internal)?;
        let real = bound
            .local_addr()
            .map_err(|e| ApiError::internal(format!("listen tcp {addr}: {e}")))?;
        let bytes = self
            .metrics
            .link(&entry.name, &real.to_string(), &entry.upstream);
        let listener = Listener::start(
            &self.plane,
            bound,
            &entry.upstream,
            entry.protocol,
            entry.toxics.subscribe(),
            bytes,
        )
        .await
        .map_err(|e| ApiError::internal(format!("listen tcp {addr}: {e}")))?;
        entry.listen = listener.addr.to_string();
        entry.listener = Some(listener);
        Ok(())
    }

    pub async fn list(&self) -> BTreeMap<String, Proxy> {
        self.proxies
            .lock()
            .await
            .iter()
            .map(|(k, e)| (k.clone(), e.view()))
            .collect()
    }

    pub async fn get(&self, name: &str) -> Result<Proxy, ApiError> {
        self.proxies
            .lock()
            .await
            .get(name)
            .map(Entry::view)
            .ok_or_else(ApiError::proxy_not_found)
    }

    fn new_entry(input: &ProxyInput) -> Entry {
        // An empty listen address picks a free loopback port.
        let listen = if input.listen.is_empty() {
            "127.0.0.1:0".to_string()
        } else {
            input.listen.clone()
        };
        Entry {
            name: input.name.clone(),
            listen,
            upstream: input.upstream.clone(),
            protocol: input.protocol,
            toxics: watch::Sender::new(Arc::new(ToxicSet::default())),
            listener: None,
        }
    }

    pub async fn create(&self, input: ProxyInput) -> Result<Proxy, ApiError> {
        check_required(&input, "")?;
        checked_listen(&input.listen)?;
        let mut proxies = self.proxies.lock().await;
        if proxies.contains_key(&input.name) {
            return Err(ApiError::proxy_exists());
        }
        let mut entry = Registry::new_entry(&input);
        if input.enabled.unwrap_or(true) {
            self.start(&mut entry).await?;
        }
        let view = entry.view();
        proxies.insert(input.name, entry);
        Ok(view)
    }

    /// Creates the proxies, replacing any of the same name whose listen or
    /// upstream differ and leaving identical ones (and their connections) alone.
    pub async fn populate(&self, inputs: Vec<ProxyInput>) -> Result<Vec<Proxy>, ApiError> {
        let mut seen = std::collections::HashSet::new();
        for (i, input) in inputs.iter().enumerate() {
            check_required(input, &format!(" at proxy {}", i + 1))?;
            checked_listen(&input.listen)?;
            if !seen.insert(input.name.as_str()) {
                return Err(ApiError::internal(format!(
                    "duplicate proxy name \"{}\"",
                    input.name
                )));
            }
        }
        let mut proxies = self.proxies.lock().await;
        let mut out = Vec::with_capacity(inputs.len());
        for input in inputs {
            let enabled = input.enabled.unwrap_or(true);
            if let Some(existing) = proxies.get_mut(&input.name) {
                // Port 0 asks for any port: the one already bound will do.
                let any_port = input.listen.ends_with(":0") && existing.upstream == input.upstream;
                let same = any_port || !existing.differs(&input.listen, &input.upstream)?;
                if same && existing.protocol == input.protocol {
                    if enabled {
                        self.start(existing).await?;
                    } else if let Some(listener) = existing.listener.take() {
                        listener.stop().await;
                    }
                    out.push(existing.view());
                    continue;
                }
                if let Some(mut old) = proxies.remove(&input.name) {
                    if let Some(listener) = old.listener.take() {
                        listener.stop().await;
                    }
                }
            }
            let mut entry = Registry::new_entry(&input);
            if enabled {
                self.start(&mut entry).await?;
            }
            out.push(entry.view());
            proxies.insert(input.name, entry);
        }
        Ok(out)
    }

    /// Toxiproxy's update: a new listen or upstream restarts the proxy (dropping
    /// its connections; the same address spelt differently is not new);
    /// `enabled` starts or stops it.
    pub async fn update(&self, name: &str, patch: ProxyPatch) -> Result<Proxy, ApiError> {
        let mut proxies = self.proxies.lock().await;
        let entry = proxies
            .get_mut(name)
            .ok_or_else(ApiError::proxy_not_found)?;
        let enabled = patch.enabled.unwrap_or(entry.listener.is_some());
        if let Some(listen) = &patch.listen {
            checked_listen(listen)?;
        }
        let listen = patch.listen.unwrap_or_else(|| entry.listen.clone());
        let upstream = patch.upstream.unwrap_or_else(|| entry.upstream.clone());
        let protocol = patch.protocol.unwrap_or(entry.protocol);
        let set = entry.toxics.borrow().clone();
        if let Some(http) = set
            .upstream
            .iter()
            .chain(&set.downstream)
            .find(|t| t.toxic.kind.is_http())
        {
            if protocol != Protocol::Http {
                return Err(ApiError::needs_http(http.toxic.type_name()));
            }
        }
        if entry.differs(&listen, &upstream)? || protocol != entry.protocol {
            if let Some(listener) = entry.listener.take() {
                listener.stop().await;
            }
            entry.listen = listen;
            entry.upstream = upstream;
            entry.protocol = protocol;
        }
        if enabled {
            self.start(entry).await?;
        } else if let Some(listener) = entry.listener.take() {
            listener.stop().await;
        }
        Ok(entry.view())
    }

    pub async fn delete(&self, name: &str) -> Result<(), ApiError> {
        let mut proxies = self.proxies.lock().await;
        let mut entry = proxies.remove(name).ok_or_else(ApiError::proxy_not_found)?;
        if let Some(listener) = entry.listener.take() {
            listener.stop().await;
        }
        Ok(())
    }

    /// Re-enables every proxy and removes every toxic.
    pub async fn reset(&self) -> Result<(), ApiError> {
        let mut proxies = self.proxies.lock().await;
        for entry in proxies.values_mut() {
            self.start(entry).await?;
            entry.toxics.send_modify(|set| Arc::make_mut(set).clear());
        }
        Ok(())
    }
}

/// A listen address by the rule scenario files follow too (loopback only),
/// refused as a bad body (400).
fn checked_listen(listen: &str) -> Result<std::net::SocketAddr, ApiError> {
    crate::check_listen(listen).map_err(ApiError::bad_body)
}

fn check_required(input: &ProxyInput, at: &str) -> Result<(), ApiError> {
    if input.name.is_empty() {
        return Err(ApiError::missing_field(&format!("name{at}")));
    }
    if input.upstream.is_empty() {
        return Err(ApiError::missing_field(&format!("upstream{at}")));
    }
    Ok(())
}
