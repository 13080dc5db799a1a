//! What every handler can reach: the database, the token verifier, the
//! list-page cache and the search index.

use std::sync::Arc;

use axum::extract::FromRef;
use common::auth::TokenVerifier;
use sea_orm::DatabaseConnection;

use crate::catalogue::index::SearchIndex;
use crate::metrics::ProductsMetrics;
use crate::page_cache::PageCache;

/// Shared application state.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The products database.
    pub db: DatabaseConnection,
    /// Verifies access tokens against the users service's JWKS.
    pub verifier: Arc<TokenVerifier>,
    /// Recent list pages, by catalogue version.
    pub page_cache: Arc<PageCache>,
    /// The in-memory search index of the catalogue.
    pub search_index: Arc<SearchIndex>,
    /// Catalogue writes and stock changes.
    pub metrics: ProductsMetrics,
}

impl FromRef<AppState> for ProductsMetrics {
    fn from_ref(state: &AppState) -> Self {
        state.metrics.clone()
    }
}

impl FromRef<AppState> for Arc<PageCache> {
    fn from_ref(state: &AppState) -> Self {
        state.page_cache.clone()
    }
}

impl FromRef<AppState> for Arc<SearchIndex> {
    fn from_ref(state: &AppState) -> Self {
        state.search_index.clone()
    }
}

impl FromRef<AppState> for Arc<TokenVerifier> {
    fn from_ref(state: &AppState) -> Self {
        state.verifier.clone()
    }
}

impl FromRef<AppState> for DatabaseConnection {
    fn from_ref(state: &AppState) -> Self {
        state.db.clone()
    }
}
