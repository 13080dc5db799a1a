//! `GET /`: search, filters, sort, pagination, facets and HTTP caching.
//!
//! A listing is a few statements: the total ([`counts`]), or, with facets
//! that cover every match, the facets ([`facets`]) with the total as their
//! sum; when `q`'s words match nothing, the total again for the substring
//! fallback ([`search`]); and the page. A word search's page is read tier
//! by tier in relevance order ([`relevance`]); a deep page of any other
//! listing is found as ids first (an index-only scan of the sort's index),
//! then read by id ([`Listing::page_rows`]). With facets they run in one
//! read-only transaction (`REPEATABLE READ` on PostgreSQL, one snapshot on
//! SQLite), so total, page and facets agree.

pub mod counts;
pub mod facets;
pub mod http_cache;
pub mod params;
mod relevance;
pub mod search;

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use common::Problem;
use common::extract::Query;
use http::HeaderMap;
use sea_orm::{
    AccessMode, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait,
    IsolationLevel, Order, QueryFilter, QueryOrder, QuerySelect, Select, TransactionTrait,
};
use serde::Serialize;
use utoipa::ToSchema;

use self::counts::Total;
use self::facets::Facets;
use self::params::Sort;
pub use self::params::{ListParams, Listing, PER_PAGE_MAX};
use self::search::Matching;
use super::entity::{self, Column, Entity};
use super::product::Product;
use crate::page_cache::PageCache;

/// Pages starting this deep are read as ids first, then rows by id.
const DEFERRED_FROM: u64 = 100;

/// One page of products.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProductPage {
    /// The products of this page.
    pub items: Vec<Product>,
    /// How many products match in all: exact when `total_is_exact` is
    /// true; otherwise a lower bound (more than `total` match). Exact
    /// without a filter, with only `category` or only `brand`, with the
    /// `category` or `price` facet, and whenever at most 10,000 products
    /// (200 with `q`), or the end of the requested page if further, match.
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
    /// The matching products, without order or paging; `q` is applied the
    /// `matching` way, or not at all with `None`.
    fn filtered(&self, backend: DbBackend, matching: Option<Matching>) -> Select<Entity> {
        let mut select = Entity::find();
        if let (Some(q), Some(matching)) = (&self.q, matching) {
            select = select.filter(search::condition(q, matching, backend));
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
    fn ordered(&self, backend: DbBackend, matching: Option<Matching>) -> Select<Entity> {
        let (column, order) = match self.sort {
            Sort::Relevance => match (&self.q, matching) {
                (Some(q), Some(Matching::Substring)) => {
                    let select = self.filtered(backend, None);
                    return search::by_substring_relevance(select, q, backend);
                }
                // Words are paged by `relevance::page`; this order serves
                // only as a fallback.
                (Some(_), Some(Matching::Words)) => (Column::Id, Order::Desc),
                _ => (Column::CreatedAt, Order::Desc),
            },
            Sort::PriceAsc => (Column::PriceMinor, Order::Asc),
            Sort::PriceDesc => (Column::PriceMinor, Order::Desc),
            Sort::CreatedAsc => (Column::CreatedAt, Order::Asc),
            Sort::CreatedDesc => (Column::CreatedAt, Order::Desc),
            Sort::TitleAsc => (Column::Title, Order::Asc),
            Sort::TitleDesc => (Column::Title, Order::Desc),
        };
        self.filtered(backend, matching)
            .order_by(column, order.clone())
            .order_by(Column::Id, order)
    }

    /// How `q` matches (words, else substring) and the total.
    async fn total(
        &self,
        db: &impl ConnectionTrait,
    ) -> Result<(Option<Matching>, Total), sea_orm::DbErr> {
        let backend = db.get_database_backend();
        let bound = counts::bound_for(self.offset(), self.per_page);
        if let Some(q) = &self.q {
            let bound = counts::search_bound_for(self.offset(), self.per_page);
            if search::words_possible(q, backend) {
                let words = Some(Matching::Words);
                let total = counts::bounded(db, self.filtered(backend, words), bound).await?;
                if total.count > 0 {
                    return Ok((words, total));
                }
            }
            let substring = Some(Matching::Substring);
            let total = counts::bounded(db, self.filtered(backend, substring), bound).await?;
            return Ok((substring, total));
        }
        let total = match (&self.category, &self.brand, self.is_filtered()) {
            (_, _, false) => counts::maintained(db, "total", "").await?,
            (Some(category), None, _) if self.only_one_filter() => {
                counts::maintained(db, "category", category).await?
            }
            (None, Some(brand), _) if self.only_one_filter() => {
                counts::maintained(db, "brand", brand).await?
            }
            _ => counts::bounded(db, self.filtered(backend, None), bound).await?,
        };
        Ok((None, total))
    }

    /// The page's rows (not for a word search by relevance): a deep page
    /// as ids first, found in the sort's index alone, then the rows by id.
    async fn page_rows(
        &self,
        db: &impl ConnectionTrait,
        matching: Option<Matching>,
    ) -> Result<Vec<entity::Model>, sea_orm::DbErr> {
        let backend = db.get_database_backend();
        let select = self
            .ordered(backend, matching)
            .offset(self.offset())
            .limit(self.per_page);
        if self.offset() < DEFERRED_FROM {
            return select.all(db).await;
        }
        let ids: Vec<i64> = select
            .select_only()
            .column(Column::Id)
            .into_tuple()
            .all(db)
            .await?;
        let mut rows = Entity::find()
            .filter(Column::Id.is_in(ids.iter().copied()))
            .all(db)
            .await?;
        let position: HashMap<i64, usize> =
            ids.iter().enumerate().map(|(at, id)| (*id, at)).collect();
        rows.sort_by_key(|row| position.get(&row.id).copied().unwrap_or(usize::MAX));
        Ok(rows)
    }

    fn only_one_filter(&self) -> bool {
        self.q.is_none()
            && self.min_price.is_none()
            && self.max_price.is_none()
            && self.in_stock.is_none()
            && (self.category.is_some() != self.brand.is_some())
    }

    /// Run the listing (see the module comment).
    ///
    /// With facets the statements run in a transaction on a task of its
    /// own, which a client that goes away cannot cancel: on PostgreSQL
    /// sea-orm sends `BEGIN` and `SET TRANSACTION` as two statements, and a
    /// request dropped between them left its pooled connection inside a
    /// transaction (the next facets request then failed with "SET
    /// TRANSACTION ISOLATION LEVEL must be called before any query").
    pub async fn run(&self, db: &DatabaseConnection) -> Result<ProductPage, sea_orm::DbErr> {
        if !self.facets.any() {
            return self.run_on(db).await;
        }
        let (listing, db) = (self.clone(), db.clone());
        tokio::spawn(async move { listing.run_in_transaction(&db).await })
            .await
            .map_err(|failed| sea_orm::DbErr::Custom(format!("listing task: {failed}")))?
    }

    async fn run_in_transaction(
        &self,
        db: &DatabaseConnection,
    ) -> Result<ProductPage, sea_orm::DbErr> {
        let txn = match db.get_database_backend() {
            DbBackend::Postgres => {
                db.begin_with_config(
                    Some(IsolationLevel::RepeatableRead),
                    Some(AccessMode::ReadOnly),
                )
                .await?
            }
            _ => db.begin().await?,
        };
        let page = self.run_on(&txn).await?;
        txn.commit().await?;
        Ok(page)
    }

    async fn run_on(&self, db: &impl ConnectionTrait) -> Result<ProductPage, sea_orm::DbErr> {
        let backend = db.get_database_backend();
        // Facets that count every match (each product has one category and
        // one price band) give the exact total as their sum: no count.
        let early_facets = self.facets.any()
            && self.is_filtered()
            && self.q.is_none()
            && (self.facets.category || self.facets.price);
        let (matching, total, facets) = if early_facets {
            let facets = facets::filtered(db, self.facets, || self.filtered(backend, None)).await?;
            let total = Total {
                count: facets.matches(),
                exact: true,
            };
            (None, total, Some(facets))
        } else {
            let (matching, total) = self.total(db).await?;
            (matching, total, None)
        };
        let rows: Vec<entity::Model> = match (&self.q, matching) {
            _ if self.offset() >= total.count => Vec::new(),
            (Some(q), Some(Matching::Words)) if self.sort == Sort::Relevance => {
                relevance::page(db, self, q).await?
            }
            _ => self.page_rows(db, matching).await?,
        };
        let facets = match facets {
            Some(facets) => Some(facets),
            None if !self.facets.any() => None,
            None if self.is_filtered() => {
                let select = || self.filtered(backend, matching);
                Some(facets::filtered(db, self.facets, select).await?)
            }
            None => Some(facets::unfiltered(db, self.facets).await?),
        };
        Ok(ProductPage {
            items: rows.into_iter().map(Product::from).collect(),
            total: total.count,
            total_is_exact: total.exact,
            page: self.page,
            per_page: self.per_page,
            facets,
        })
    }
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
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    Query(params): Query<ListParams>,
) -> Result<Response, Problem> {
    let key = raw.unwrap_or_default();
    if !cache.enabled() {
        let body = compute(&db, params).await?;
        return Ok(http_cache::respond(body, &headers));
    }
    let version = cache.version(&db).await?;
    if let Some(body) = cache.get(&key, version) {
        return Ok(http_cache::respond(body, &headers));
    }
    let gate = cache.gate(&key);
    let _turn = gate.lock().await;
    if let Some(body) = cache.get(&key, version) {
        return Ok(http_cache::respond(body, &headers));
    }
    let _retire = cache.retire_on_drop(&key);
    let body = compute(&db, params).await?;
    cache.put(&key, version, body.clone());
    Ok(http_cache::respond(body, &headers))
}

/// Check the parameters, run the listing and render the page.
async fn compute(db: &DatabaseConnection, params: ListParams) -> Result<Bytes, Problem> {
    let page = params.parse()?.run(db).await?;
    serde_json::to_vec(&page)
        .map(Bytes::from)
        .map_err(|_| Problem::internal())
}
