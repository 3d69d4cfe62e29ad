//! `AppState`: the services every handler can reach. Built by `startup`, read by `routes`; neither
//! imports the other.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::{
    config::ServerConfig, inventory::Inventory, kitchen::Kitchen, menu::MenuService,
    metrics::Metrics, payments::Payments, store::Store,
};

/// What every handler can reach: one `Arc`, so extracting it costs one reference count.
#[derive(Clone)]
pub(crate) struct AppState(pub(crate) Arc<Services>);

/// The services behind `AppState`; each is shared, none is behind a global lock.
pub(crate) struct Services {
    pub(crate) config: Arc<ServerConfig>,
    /// The bearer token of `PUT /admin/...`: the configured one, or one drawn at start.
    pub(crate) admin_token: String,
    pub(crate) store: Store,
    pub(crate) menu: Arc<MenuService>,
    pub(crate) kitchen: Arc<Kitchen>,
    pub(crate) payments: Arc<Payments>,
    pub(crate) inventory: Arc<Inventory>,
    pub(crate) metrics: Arc<Metrics>,
    /// The served `/openapi.json`, with this server's limits filled in.
    pub(crate) openapi: bytes::Bytes,
    /// Cancelled when shutdown starts (`/ready` answers 503 from then on).
    pub(crate) stopping: CancellationToken,
}

impl std::ops::Deref for AppState {
    type Target = Services;
    fn deref(&self) -> &Services {
        &self.0
    }
}
