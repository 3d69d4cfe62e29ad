//! The toxics of the built-in server's proxies: add, show, update, remove,
//! with Toxiproxy's checks in its order, then the rules scenario files follow
//! too (`toxic::rules`: values in range), and the HTTP toxics' request counts.

use super::error::ApiError;
use super::registry::{Registry, ToxicPatch};
use crate::plane::ActiveToxic;
use crate::toxic::{check_toxicity, WireToxic};
use crate::{HttpRequests, Protocol, Stream, Toxic, ToxicKind};
use std::sync::atomic::Ordering;
use std::sync::Arc;

impl Registry {
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
        if kind.is_http() && entry.protocol != Protocol::Http {
            return Err(ApiError::needs_http(kind.type_name()));
        }
        let toxicity = check_toxicity(wire.toxicity.unwrap_or(1.0)).map_err(ApiError::bad_body)?;
        let toxic = Toxic {
            name,
            kind,
            stream,
            toxicity,
        };
        let counters = if toxic.kind.is_http() {
            self.metrics
                .http_toxic(proxy, &toxic.name, toxic.type_name())
        } else {
            Default::default()
        };
        let active = ActiveToxic {
            id: self.next_id(),
            toxic: toxic.clone(),
            counters,
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
        let ActiveToxic {
            toxic: current,
            counters,
            ..
        } = entry
            .find_active(name)
            .ok_or_else(ApiError::toxic_not_found)?;
        let patch: ToxicPatch = serde_json::from_slice(body).map_err(ApiError::bad_body)?;
        let kind = current
            .kind
            .patched(&patch.attributes)
            .map_err(ApiError::bad_body)?;
        let toxicity = check_toxicity(patch.toxicity.unwrap_or(current.toxicity))
            .map_err(ApiError::bad_body)?;
        let toxic = Toxic {
            kind,
            toxicity,
            ..current
        };
        let id = self.next_id();
        entry.toxics.send_modify(|set| {
            let list = Arc::make_mut(set).direction_mut(toxic.stream);
            if let Some(slot) = list.iter_mut().find(|t| t.toxic.name == toxic.name) {
                *slot = ActiveToxic {
                    id,
                    toxic: toxic.clone(),
                    counters: counters.clone(),
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
        entry
            .toxics
            .send_modify(|set| Arc::make_mut(set).remove(toxic.stream, name));
        Ok(())
    }

    /// `GET /proxies/{proxy}/toxics/{toxic}/requests`: an HTTP toxic's counts
    /// since it was added (an update keeps them).
    pub async fn http_requests(&self, proxy: &str, name: &str) -> Result<HttpRequests, ApiError> {
        let proxies = self.proxies.lock().await;
        let entry = proxies.get(proxy).ok_or_else(ApiError::proxy_not_found)?;
        let active = entry
            .find_active(name)
            .ok_or_else(ApiError::toxic_not_found)?;
        if !active.toxic.kind.is_http() {
            return Err(ApiError::not_http(name));
        }
        Ok(HttpRequests {
            requests: active.counters.requests.load(Ordering::Relaxed),
            affected: active.counters.affected.load(Ordering::Relaxed),
        })
    }
}
