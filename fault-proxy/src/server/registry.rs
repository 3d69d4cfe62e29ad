//! The built-in server's proxies and their toxics: Toxiproxy's proxy
//! collection semantics (create, populate = add or replace, update, delete,
//! reset) on top of the data plane's listeners.

use super::error::ApiError;
use crate::plane::{ActiveToxic, Listener, Plane, ToxicSet};
use crate::toxic::WireToxic;
use crate::{Proxy, Stream, Toxic, ToxicKind};
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
}

/// `POST /proxies/{name}`: the fields to change.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ProxyPatch {
    pub listen: Option<String>,
    pub upstream: Option<String>,
    pub enabled: Option<bool>,
}

/// `POST /proxies/{name}/toxics/{toxic}`: new attributes (merged) and toxicity.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ToxicPatch {
    #[serde(default)]
    pub attributes: Value,
    pub toxicity: Option<f32>,
}

struct Entry {
    name: String,
    listen: String,
    upstream: String,
    toxics: watch::Sender<Arc<ToxicSet>>,
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
            toxics: set
                .upstream
                .iter()
                .chain(&set.downstream)
                .map(|t| t.toxic.clone())
                .collect(),
        }
    }

    fn find_toxic(&self, name: &str) -> Option<Toxic> {
        let set = self.toxics.borrow();
        set.upstream
            .iter()
            .chain(&set.downstream)
            .find(|t| t.toxic.name == name)
            .map(|t| t.toxic.clone())
    }
}

pub(crate) struct Registry {
    proxies: Mutex<BTreeMap<String, Entry>>,
    next_id: AtomicU64,
    plane: Plane,
}

impl Registry {
    pub fn new() -> std::io::Result<Registry> {
        Ok(Registry {
            proxies: Mutex::new(BTreeMap::new()),
            next_id: AtomicU64::new(1),
            plane: Plane::start()?,
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

    fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    async fn start(&self, entry: &mut Entry) -> Result<(), ApiError> {
        if entry.listener.is_some() {
            return Ok(());
        }
        let listener = Listener::start(
            &self.plane,
            &entry.listen,
            &entry.upstream,
            entry.toxics.subscribe(),
        )
        .await
        .map_err(|e| ApiError::internal(format!("listen tcp {}: {e}", entry.listen)))?;
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
            toxics: watch::Sender::new(Arc::new(ToxicSet::default())),
            listener: None,
        }
    }

    pub async fn create(&self, input: ProxyInput) -> Result<Proxy, ApiError> {
        check_required(&input, "")?;
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
                let same_listen = existing.listen == input.listen || input.listen.ends_with(":0");
                if same_listen && existing.upstream == input.upstream {
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
    /// its connections); `enabled` starts or stops it.
    pub async fn update(&self, name: &str, patch: ProxyPatch) -> Result<Proxy, ApiError> {
        let mut proxies = self.proxies.lock().await;
        let entry = proxies
            .get_mut(name)
            .ok_or_else(ApiError::proxy_not_found)?;
        let enabled = patch.enabled.unwrap_or(entry.listener.is_some());
        let listen = patch.listen.unwrap_or_else(|| entry.listen.clone());
        let upstream = patch.upstream.unwrap_or_else(|| entry.upstream.clone());
        if listen != entry.listen || upstream != entry.upstream {
            if let Some(listener) = entry.listener.take() {
                listener.stop().await;
            }
            entry.listen = listen;
            entry.upstream = upstream;
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
            entry.toxics.send_replace(Arc::new(ToxicSet::default()));
        }
        Ok(())
    }

    pub async fn toxics(&self, proxy: &str) -> Result<Vec<Toxic>, ApiError> {
        self.get(proxy).await.map(|p| p.toxics)
    }

    pub async fn toxic(&self, proxy: &str, name: &str) -> Result<Toxic, ApiError> {
        let proxies = self.proxies.lock().await;
        let entry = proxies.get(proxy).ok_or_else(ApiError::proxy_not_found)?;
        entry.find_toxic(name).ok_or_else(ApiError::toxic_not_found)
    }

    /// Adds a toxic from a request body, with Toxiproxy's checks in its order.
    pub async fn add_toxic(&self, proxy: &str, body: &[u8]) -> Result<Toxic, ApiError> {
        let mut proxies = self.proxies.lock().await;
        let entry = proxies
            .get_mut(proxy)
            .ok_or_else(ApiError::proxy_not_found)?;
        let wire: WireToxic = serde_json::from_slice(body).map_err(ApiError::bad_body)?;
        let stream_text = wire.stream.clone().unwrap_or_else(|| "downstream".into());
        let stream = Stream::parse(&stream_text.to_ascii_lowercase())
            .ok_or_else(ApiError::invalid_stream)?;
        let name = wire
            .name
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| format!("{}_{stream_text}", wire.kind));
        if !crate::toxic_types().any(|t| t == wire.kind) {
            return Err(ApiError::invalid_toxic_type());
        }
        if entry.find_toxic(&name).is_some() {
            return Err(ApiError::toxic_exists());
        }
        let kind = ToxicKind::from_wire(&wire.kind, &wire.attributes)
            .map_err(ApiError::bad_body)?
            .ok_or_else(ApiError::invalid_toxic_type)?;
        let toxic = Toxic {
            name,
            kind,
            stream,
            toxicity: wire.toxicity.unwrap_or(1.0),
        };
        let active = ActiveToxic {
            id: self.next_id(),
            toxic: toxic.clone(),
        };
        entry
            .toxics
            .send_modify(|set| Arc::make_mut(set).direction_mut(stream).push(active));
        Ok(toxic)
    }

    /// Merges new attributes and toxicity into a toxic; open connections redraw
    /// their toxicity and keep their state (as a Toxiproxy update re-runs the toxic).
    pub async fn update_toxic(
        &self,
        proxy: &str,
        name: &str,
        body: &[u8],
    ) -> Result<Toxic, ApiError> {
        let mut proxies = self.proxies.lock().await;
        let entry = proxies
            .get_mut(proxy)
            .ok_or_else(ApiError::proxy_not_found)?;
        let current = entry
            .find_toxic(name)
            .ok_or_else(ApiError::toxic_not_found)?;
        let patch: ToxicPatch = serde_json::from_slice(body).map_err(ApiError::bad_body)?;
        let kind = current
            .kind
            .patched(&patch.attributes)
            .map_err(ApiError::bad_body)?;
        let toxic = Toxic {
            kind,
            toxicity: patch.toxicity.unwrap_or(current.toxicity),
            ..current
        };
        let id = self.next_id();
        entry.toxics.send_modify(|set| {
            let list = Arc::make_mut(set).direction_mut(toxic.stream);
            if let Some(slot) = list.iter_mut().find(|t| t.toxic.name == toxic.name) {
                *slot = ActiveToxic {
                    id,
                    toxic: toxic.clone(),
                };
            }
        });
        Ok(toxic)
    }

    pub async fn remove_toxic(&self, proxy: &str, name: &str) -> Result<(), ApiError> {
        let mut proxies = self.proxies.lock().await;
        let entry = proxies
            .get_mut(proxy)
            .ok_or_else(ApiError::proxy_not_found)?;
        let toxic = entry
            .find_toxic(name)
            .ok_or_else(ApiError::toxic_not_found)?;
        entry.toxics.send_modify(|set| {
            Arc::make_mut(set)
                .direction_mut(toxic.stream)
                .retain(|t| t.toxic.name != name);
        });
        Ok(())
    }
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
