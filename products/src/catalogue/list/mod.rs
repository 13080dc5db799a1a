//! `GET /`: search, filters, sort, pagination, facets and HTTP caching.
//!
//! A listing with any filter (`q` included) is answered from the search
//! index each replica keeps in memory ([`indexed`]): exact total, page ids
//! and facets from one view of the index, then the page's rows by id.
//! When `q`'s words match nothing, `q` is matched as a substring in the
//! database ([`search`]): total bounded ([`counts`]), page, facets
//! counted by the database ([`facets`]); unless the index shows that no
//! product has the words such a substring needs
//! ([`indexed::substring_possible`]): then the page is empty at once. The
//! whole catalogue's pages come from the index's sorted lists
//! (`index/sorted.rs`) once they are of the index's current view, and the
//! index reflects the catalogue version the request read; otherwise from
//! the database: the kept total and facet counts, and the page, a deep
//! one found as ids first (an index-only scan of the sort's index), then
//! read by id ([`Listing::page_rows`]). With facets the database's
//! statements run in one read-only transaction (`REPEATABLE READ` on
//! PostgreSQL, one snapshot on SQLite), so total, page and facets agree.

pub mod counts;
pub mod facets;
pub mod http_cache;
mod indexed;
pub mod params;
pub mod search;

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use common::Problem;
use common::extract::Query;
use http::HeaderMap;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, Order, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait, Select,
};
use serde::Serialize;
use serde_json::value::RawValue;
use utoipa::ToSchema;

use self::counts::Total;
use self::facets::Facets;
use self::params::Sort;
pub use self::params::{ListParams, Listing, PER_PAGE_MAX};
use super::entity::{self, Column, Entity};
use super::index::SearchIndex;
use super::product::Product;
use super::store;
use crate::page_cache::{Catalogue, PageCache};

/// Pages starting this deep are read as ids first, then rows by id.
const DEFERRED_FROM: u64 = 100;

/// One page of products.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProductPage {
    /// The products of this page (rendered: from the search index as it
    /// stores them, or from the database's rows).
    #[schema(value_type = Vec<Product>)]
    pub items: Vec<Box<RawValue>>,
    /// How many products match in all: exact when `total_is_exact` is
    /// true; otherwise a lower bound (more than `total` match). Exact
    /// without a filter, with only `category` or only `brand`, with `q`
    /// matched as words, with facets, and whenever at most 10,000 products
    /// (200 with `q` matched as a substring), or the end of the requested
    /// page if further, match.
    pub total: u64,
    /// Whether `total` is the exact number of matching products.
    pub total_is_exact: bool,
    /// This page's number (from 1).
    pub page: u64,
    /// The page size used (after clamping).
    pub per_page: u64,
    /// Counts per category, brand and price band of the matching products;
    /// present only when `facets` was asked for, with only the asked ones.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub facets: Option<Facets>,
}

impl Listing {
    /// The matching products, without order or paging (`q` as a substring).
    fn filtered(&self, backend: DbBackend) -> Select<Entity> {
        let mut select = Entity::find();
        if let Some(q) = &self.q {
            select = select.filter(search::condition(q, backend));
        }
        if let Some(category) = &self.category {
            select = select.filter(Column::Category.eq(category.as_str()));
        }
        if let Some(brand) = &self.brand {
            select = select.filter(Column::Brand.eq(brand.as_str()));
        }
        if let Some(min) = self.min_price {
            select = select.filter(Column::PriceMinor.gte(min.minor_units()));
        }
        if let Some(max) = self.max_price {
            select = select.filter(Column::PriceMinor.lte(max.minor_units()));
        }
        match self.in_stock {
            Some(true) => select = select.filter(Column::StockQty.gt(0)),
            Some(false) => select = select.filter(Column::StockQty.eq(0)),
            None => {}
        }
        select
    }

    /// The page's rows in the asked order.
    fn ordered(&self, backend: DbBackend) -> Select<Entity> {
        if let (Some(q), Sort::Relevance) = (&self.q, self.sort) {
            return search::by_substring_relevance(self.filtered(backend), q);
        }
        let (column, order) = self.sort_column();
        self.filtered(backend)
            .order_by(column, order.clone())
            .order_by(Column::Id, order)
    }

    /// The total of a listing the database answers: the whole catalogue's
    /// (kept; `known` when the request read it with the catalogue version),
    /// or a substring search's (bounded).
    async fn total(
        &self,
        db: &impl ConnectionTrait,
        known: Option<u64>,
    ) -> Result<Total, sea_orm::DbErr> {
        if !self.is_filtered() {
            if let Some(count) = known {
                return Ok(Total { count, exact: true });
            }
            return counts::maintained(db, "total", "").await;
        }
        let bound = match self.q {
            Some(_) => counts::search_bound_for(self.offset(), self.per_page),
            None => counts::bound_for(self.offset(), self.per_page),
        };
        counts::bounded(db, self.filtered(db.get_database_backend()), bound).await
    }

    /// The page's rows: a deep page as ids first, found in the sort's
    /// index alone, then the rows by id (one statement: the ids are a
    /// subquery).
    async fn page_rows(
        &self,
        db: &impl ConnectionTrait,
    ) -> Result<Vec<entity::Model>, sea_orm::DbErr> {
        let backend = db.get_database_backend();
        let select = self
            .ordered(backend)
            .offset(self.offset())
            .limit(self.per_page);
        if self.offset() < DEFERRED_FROM {
            return select.all(db).await;
        }
        let ids = select.select_only().column(Column::Id).into_query();
        let (column, order) = self.sort_column();
        let rows = Entity::find().filter(Column::Id.in_subquery(ids));
        let rows = match (&self.q, self.sort) {
            (Some(q), Sort::Relevance) => search::by_substring_relevance(rows, q),
            _ => rows
                .order_by(column, order.clone())
                .order_by(Column::Id, order),
        };
        rows.all(db).await
    }

    /// The column a sort other than relevance orders by, and its direction
    /// (relevance without `q`: newest first).
    fn sort_column(&self) -> (Column, Order) {
        match self.sort {
            Sort::Relevance | Sort::CreatedDesc => (Column::CreatedAt, Order::Desc),
            Sort::PriceAsc => (Column::PriceMinor, Order::Asc),
            Sort::PriceDesc => (Column::PriceMinor, Order::Desc),
            Sort::CreatedAsc => (Column::CreatedAt, Order::Asc),
            Sort::TitleAsc => (Column::Title, Order::Asc),
            Sort::TitleDesc => (Column::Title, Order::Desc),
        }
    }

    /// Whether the search index answers this listing: any filter (`q`
    /// included); the whole catalogue's pages are the database's.
    pub fn uses_index(&self) -> bool {
        self.is_filtered()
    }

    /// Run the listing (see the module comment).
    ///
    /// With facets the database's statements run in a transaction on a
    /// task of its own, which a client that goes away cannot cancel: on
    /// PostgreSQL sea-orm sends `BEGIN` and `SET TRANSACTION` as two
    /// statements, and a request dropped between them left its pooled
    /// connection inside a transaction (the next facets request then
    /// failed with "SET TRANSACTION ISOLATION LEVEL must be called before
    /// any query").
    pub async fn run(
        &self,
        db: &DatabaseConnection,
        index: &SearchIndex,
        known_total: Option<u64>,
        index_fresh: bool,
    ) -> Result<ProductPage, Problem> {
        if index_fresh
            && !self.is_filtered()
            && !self.facets.any()
            && let Some(found) = indexed::whole_catalogue(self, index).map_err(index_failed)?
        {
            return Ok(self.found_page(found));
        }
        if self.uses_index() {
            if let Some(found) = indexed::search(self, index).map_err(index_failed)? {
                return Ok(self.found_page(found));
            }
            if !indexed::substring_possible(self, index).map_err(index_failed)? {
                let none = indexed::Found {
                    items: Vec::new(),
                    total: 0,
                    facets: self
                        .facets
                        .any()
                        .then(|| facets::assemble(self.facets, Vec::new())),
                };
                return Ok(self.found_page(none));
            }
        }
        if !self.facets.any() {
            return Ok(self.run_on(db, known_total).await?);
        }
        let (listing, db) = (self.clone(), db.clone());
        let page = tokio::spawn(async move { listing.run_in_transaction(&db).await })
            .await
            .map_err(|failed| sea_orm::DbErr::Custom(format!("listing task: {failed}")))??;
        Ok(page)
    }

    async fn run_in_transaction(
        &self,
        db: &DatabaseConnection,
    ) -> Result<ProductPage, sea_orm::DbErr> {
        let txn = store::read_snapshot(db).await?;
        let page = self.run_on(&txn, None).await?;
        txn.commit().await?;
        Ok(page)
    }

    async fn run_on(
        &self,
        db: &impl ConnectionTrait,
        known_total: Option<u64>,
    ) -> Result<ProductPage, sea_orm::DbErr> {
        let backend = db.get_database_backend();
        let total = self.total(db, known_total).await?;
        let rows = if self.offset() >= total.count {
            Vec::new()
        } else {
            self.page_rows(db).await?
        };
        let facets = match self.facets.any() {
            false => None,
            true if self.is_filtered() => {
                let select = || self.filtered(backend);
                Some(facets::filtered(db, self.facets, select).await?)
            }
            true => Some(facets::unfiltered(db, self.facets).await?),
        };
        let items = rows
            .into_iter()
            .map(|row| serde_json::value::to_raw_value(&Product::from(row)))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|failed| sea_orm::DbErr::Custom(format!("rendering a product: {failed}")))?;
        Ok(self.page(items, total, facets))
    }

    /// The page of what the index found (its total is exact).
    fn found_page(&self, found: indexed::Found) -> ProductPage {
        let total = Total {
            count: found.total,
            exact: true,
        };
        self.page(found.items, total, found.facets)
    }

    fn page(&self, items: Vec<Box<RawValue>>, total: Total, facets: Option<Facets>) -> ProductPage {
        ProductPage {
            items,
            total: total.count,
            total_is_exact: total.exact,
            page: self.page,
            per_page: self.per_page,
            facets,
        }
    }
}

/// A search index query that failed: logged, answered as a 500.
fn index_failed(failed: tantivy::TantivyError) -> Problem {
    tracing::error!(error = %failed, "search index query failed");
    Problem::internal()
}

/// List products: search, filter, sort, paginate, count facets.
#[utoipa::path(get, path = "/", tag = "products",
    params(ListParams),
    responses(
        (status = 200, description = "One page of matching products", body = ProductPage,
            headers(
                ("ETag" = String, description = "Weak entity tag of this page, for If-None-Match"),
                ("Cache-Control" = String, description = "`public, max-age=5` without Authorization, else `private, no-cache`"),
                ("Vary" = String, description = "`Authorization`"),
            )),
        (status = 304, description = "Unchanged since the If-None-Match tag"),
        (status = 422, description = "An invalid parameter (each one listed)"),
    ))]
pub async fn list_products(
    State(db): State<DatabaseConnection>,
    State(cache): State<Arc<PageCache>>,
    State(index): State<Arc<SearchIndex>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    Query(params): Query<ListParams>,
) -> Result<Response, Problem> {
    let listing = params.parse()?;
    let key = raw.unwrap_or_default();
    if !cache.enabled() && !listing.uses_index() {
        let body = compute(&db, &index, &listing, None, false).await?;
        return Ok(http_cache::respond(body, &headers));
    }
    let Catalogue {
        version: catalogue,
        total,
    } = cache.version(&db).await?;
    let fresh = index.reach(catalogue).await;
    if !fresh && listing.uses_index() {
        tracing::warn!(
            catalogue,
            index = index.applied(),
            "search index behind the catalogue"
        );
    }
    if !cache.enabled() {
        let body = compute(&db, &index, &listing, Some(total), fresh).await?;
        return Ok(http_cache::respond(body, &headers));
    }
    // Filed under both versions: the page is served again only while
    // neither the catalogue nor the index changed.
    let version = (catalogue, index.applied());
    if let Some(body) = cache.get(&key, version) {
        return Ok(http_cache::respond(body, &headers));
    }
    let gate = cache.gate(&key);
    let _turn = gate.lock().await;
    if let Some(body) = cache.get(&key, version) {
        return Ok(http_cache::respond(body, &headers));
    }
    let _retire = cache.retire_on_drop(&key);
    let body = compute(&db, &index, &listing, Some(total), fresh).await?;
    cache.put(&key, version, body.clone());
    Ok(http_cache::respond(body, &headers))
}

/// Run the listing and render the page (`known_total`: the whole
/// catalogue's, read with the catalogue version; `index_fresh`: the index
/// reflects that version, so it may answer whole-catalogue pages too).
async fn compute(
    db: &DatabaseConnection,
    index: &SearchIndex,
    listing: &Listing,
    known_total: Option<u64>,
    index_fresh: bool,
) -> Result<Bytes, Problem> {
    let page = listing.run(db, index, known_total, index_fresh).await?;
    serde_json::to_vec(&page)
        .map(Bytes::from)
        .map_err(|_| Problem::internal())
}
