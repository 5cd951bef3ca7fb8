//! What every handler may reach: the settings, the services and the ports, shared by
//! all requests. Handlers take it with `State<AppState>`; extractors that need a part
//! of it take that part through `FromRef`.

use std::sync::Arc;

use axum::extract::FromRef;
use catalog_domain::services::Ports;
use catalog_domain::services::accounts::AccountsService;
use catalog_domain::services::products::ProductsService;
use catalog_storage::Store;

use crate::rate_limit::RateLimiter;
use crate::settings::Settings;

/// Everything a handler may need. Every extractor and middleware clones the state, so
/// it is one reference-counted pointer rather than the dozens of `Arc`s inside it.
#[derive(Clone, Debug)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

#[derive(Debug)]
pub struct Shared {
    pub settings: Arc<Settings>,
    pub store: Store,
    pub ports: Ports,
    pub accounts: AccountsService,
    pub products: ProductsService,
    pub limits: Arc<RateLimiter>,
}

impl FromRef<AppState> for Arc<Settings> {
    fn from_ref(state: &AppState) -> Self {
        state.settings.clone()
    }
}
