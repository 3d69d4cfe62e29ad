//! The menu cache. `GET /menu` is served from one pre-serialized snapshot (body + ETag). When the
//! cache is empty (first read, or invalidated by an admin change), exactly one request loads it from
//! the store while every other reader waits for that load (single flight), so a storm of readers
//! costs one database read. A generation counter keeps a load that raced with an invalidation from
//! installing stale data. The naive profile reads the store on every request.

use std::sync::{
    atomic::{AtomicU64, Ordering::Relaxed},
    Arc, RwLock,
};

use bytes::Bytes;

use crate::{
    domain::{Money, Sku},
    metrics::Metrics,
    store::{self, menu::MenuItem, Store, StoreError},
};

/// One version of the menu, ready to send.
pub(crate) struct Snapshot {
    pub(crate) etag: String,
    pub(crate) body: Bytes,
}

struct Cache {
    current: RwLock<Option<Arc<Snapshot>>>,
    generation: AtomicU64,
    loading: tokio::sync::Mutex<()>,
}

pub(crate) struct MenuService {
    store: Store,
    cache: Option<Cache>,
    metrics: Arc<Metrics>,
}

impl MenuService {
    pub(crate) fn new(store: Store, cached: bool, metrics: Arc<Metrics>) -> Self {
        let cache = cached.then(|| Cache {
            current: RwLock::new(None),
            generation: AtomicU64::new(0),
            loading: tokio::sync::Mutex::new(()),
        });
        Self {
            store,
            cache,
            metrics,
        }
    }

    pub(crate) async fn get(&self) -> Result<Arc<Snapshot>, StoreError> {
        let Some(cache) = &self.cache else {
            return Ok(Arc::new(self.load().await?));
        };
        if let Some(hit) = self.cached(cache) {
            return Ok(hit);
        }
        let _only_loader = cache.loading.lock().await;
        if let Some(hit) = self.cached(cache) {
            return Ok(hit); // loaded by the request we waited for
        }
        let generation = cache.generation.load(Relaxed);
        let snapshot = Arc::new(self.load().await?);
        if cache.generation.load(Relaxed) == generation {
            *cache.current.write().expect("menu cache lock") = Some(snapshot.clone());
        }
        Ok(snapshot)
    }

    fn cached(&self, cache: &Cache) -> Option<Arc<Snapshot>> {
        let hit = cache.current.read().expect("menu cache lock").clone();
        if hit.is_some() {
            self.metrics.menu_cache_hits_total.increment(1);
        }
        hit
    }

    async fn load(&self) -> Result<Snapshot, StoreError> {
        self.metrics.menu_store_reads_total.increment(1);
        let menu = self.store.read(store::menu::read).await?;
        let body = serde_json::to_vec(&menu).map_err(|e| StoreError::Internal(e.into()))?;
        Ok(Snapshot {
            etag: format!("\"menu-v{}\"", menu.version),
            body: Bytes::from(body),
        })
    }

    /// Admin change: committed first, then the cache is dropped so the next read sees it.
    pub(crate) async fn update(
        &self,
        sku: Sku,
        price: Option<Money>,
        available: Option<bool>,
    ) -> Result<MenuItem, StoreError> {
        let item = self
            .store
            .write(move |c| store::menu::update(c, &sku, price, available))
            .await?;
        self.invalidate();
        Ok(item)
    }

    pub(crate) fn invalidate(&self) {
        if let Some(cache) = &self.cache {
            cache.generation.fetch_add(1, Relaxed);
            *cache.current.write().expect("menu cache lock") = None;
        }
    }
}
