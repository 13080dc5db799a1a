//! `GET /`: search, filters, sort and pagination.

use axum::Json;
use axum::extract::State;
use common::Problem;
use common::db::contains_pattern;
use common::extract::Query;
use common::fields::FieldErrors;
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbBackend, EntityTrait, Order, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Select,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::entity::{self, Column, Entity};
use super::product::Product;
use crate::domain::Price;

/// Largest page size; larger requests are clamped to it.
pub const PER_PAGE_MAX: u64 = 100;
const PER_PAGE_DEFAULT: u64 = 20;
const Q_MAX: usize = 200;

/// Query parameters of `GET /`, as sent. Unknown parameters are refused.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Case-insensitive text searched in title and description.
    pub q: Option<String>,
    /// Exact category name.
    pub category: Option<String>,
    /// Exact brand name.
    pub brand: Option<String>,
    /// Lowest price, inclusive (decimal, at most 2 decimals).
    #[param(schema_with = price_bound, example = "10.00")]
    pub min_price: Option<String>,
    /// Highest price, inclusive (decimal, at most 2 decimals; not below
    /// `min_price`).
    #[param(schema_with = price_bound, example = "50")]
    pub max_price: Option<String>,
    /// `true`: only products with stock; `false`: only those without.
    #[param(value_type = Option<bool>)]
    pub in_stock: Option<String>,
    /// `price`, `-price`, `created_at`, `-created_at` (default), `title`, `-title`.
    #[param(schema_with = sort_schema, example = "-price")]
    pub sort: Option<String>,
    /// Page number from 1 (default 1).
    #[param(schema_with = common::input::page_number_schema)]
    pub page: Option<String>,
    /// Page size from 1 (default 20); any larger number is served as 100.
    #[param(schema_with = per_page)]
    pub per_page: Option<String>,
}

/// The accepted `sort` values, in the order the schema lists them.
const SORTS: [&str; 6] = [
    "price",
    "-price",
    "created_at",
    "-created_at",
    "title",
    "-title",
];

fn sort_schema() -> utoipa::openapi::schema::Object {
    common::input::string(false)
        .enum_values(Some(SORTS))
        .default(Some("-created_at".into()))
        .build()
}

fn price_bound() -> utoipa::openapi::schema::Object {
    common::input::string(false)
        .pattern(Some(crate::domain::price::TEXT_PATTERN))
        .build()
}

fn per_page() -> utoipa::openapi::schema::Object {
    common::input::clamped_page_size_schema(PER_PAGE_DEFAULT, PER_PAGE_MAX)
}

/// One page of products.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProductPage {
    /// The products of this page.
    pub items: Vec<Product>,
    /// How many products match in all.
    pub total: u64,
    /// This page's number (from 1).
    pub page: u64,
    /// The page size used (after clamping).
    pub per_page: u64,
}

/// How the list is ordered; the id breaks ties so pages are stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    /// Cheapest first.
    PriceAsc,
    /// Dearest first.
    PriceDesc,
    /// Oldest first.
    CreatedAsc,
    /// Newest first (the default).
    CreatedDesc,
    /// By title, A to Z.
    TitleAsc,
    /// By title, Z to A.
    TitleDesc,
}

/// A checked listing request.
#[derive(Debug, Clone)]
pub struct Listing {
    q: Option<String>,
    category: Option<String>,
    brand: Option<String>,
    min_price: Option<Price>,
    max_price: Option<Price>,
    in_stock: Option<bool>,
    sort: Sort,
    page: u64,
    per_page: u64,
}

impl ListParams {
    /// Check every parameter; 422 lists all invalid ones.
    pub fn parse(self) -> Result<Listing, Problem> {
        let mut errors = FieldErrors::default();
        let mut invalid = |field: &str, message: &str| errors.reject(field, message);
        let q = self
            .q
            .map(|q| q.trim().to_lowercase())
            .filter(|q| !q.is_empty());
        if q.as_ref().is_some_and(|q| q.chars().count() > Q_MAX) {
            invalid("q", "must be at most 200 characters");
        }
        let mut price = |field: &str, value: Option<String>| match value.map(|v| Price::parse(&v)) {
            None => None,
            Some(Ok(p)) => Some(p),
            Some(Err(e)) => {
                invalid(field, &e.to_string());
                None
            }
        };
        let min_price = price("min_price", self.min_price);
        let max_price = price("max_price", self.max_price);
        // `min_price` above `max_price` is a valid, empty range: no match.
        let in_stock = match self.in_stock.as_deref() {
            None => None,
            Some("true") => Some(true),
            Some("false") => Some(false),
            Some(_) => {
                invalid("in_stock", "must be true or false");
                None
            }
        };
        let sort = match self.sort.as_deref() {
            None | Some("-created_at") => Sort::CreatedDesc,
            Some("created_at") => Sort::CreatedAsc,
            Some("price") => Sort::PriceAsc,
            Some("-price") => Sort::PriceDesc,
            Some("title") => Sort::TitleAsc,
            Some("-title") => Sort::TitleDesc,
            Some(_) => {
                invalid(
                    "sort",
                    "must be one of price, -price, created_at, -created_at, title, -title",
                );
                Sort::CreatedDesc
            }
        };
        let page = match self.page.as_deref().map(str::parse::<u32>) {
            None => 1,
            Some(Ok(p)) if p >= 1 => u64::from(p),
            Some(_) => {
                invalid("page", "must be a whole number from 1");
                1
            }
        };
        let per_page = match self.per_page.as_deref().map(str::parse::<u64>) {
            None => PER_PAGE_DEFAULT,
            Some(Ok(n)) if n >= 1 => Ord::min(n, PER_PAGE_MAX),
            // Any larger number is clamped too, however large.
            Some(Err(_)) if self.per_page.as_deref().is_some_and(is_digits) => PER_PAGE_MAX,
            Some(_) => {
                invalid("per_page", "must be a whole number from 1");
                PER_PAGE_DEFAULT
            }
        };
        errors.finish()?;
        Ok(Listing {
            q,
            category: self.category,
            brand: self.brand,
            min_price,
            max_price,
            in_stock,
            sort,
            page,
            per_page,
        })
    }
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

impl Listing {
    /// The matching products, without order or paging.
    fn filtered(&self, backend: DbBackend) -> Select<Entity> {
        let mut select = Entity::find();
        if let Some(q) = &self.q {
            select = select.filter(text_search(q, backend));
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

    fn ordered(&self, select: Select<Entity>) -> Select<Entity> {
        let (column, order) = match self.sort {
            Sort::PriceAsc => (Column::PriceMinor, Order::Asc),
            Sort::PriceDesc => (Column::PriceMinor, Order::Desc),
            Sort::CreatedAsc => (Column::CreatedAt, Order::Asc),
            Sort::CreatedDesc => (Column::CreatedAt, Order::Desc),
            Sort::TitleAsc => (Column::Title, Order::Asc),
            Sort::TitleDesc => (Column::Title, Order::Desc),
        };
        select
            .order_by(column, order.clone())
            .order_by(Column::Id, order)
    }

    /// Run the listing: one count and one page query.
    pub async fn run(&self, db: &DatabaseConnection) -> Result<ProductPage, sea_orm::DbErr> {
        let backend = db.get_database_backend();
        let total = self.filtered(backend).count(db).await?;
        let offset = (self.page - 1).saturating_mul(self.per_page);
        let rows: Vec<entity::Model> = if offset >= total {
            Vec::new()
        } else {
            self.ordered(self.filtered(backend))
                .offset(offset)
                .limit(self.per_page)
                .all(db)
                .await?
        };
        Ok(ProductPage {
            items: rows.into_iter().map(Product::from).collect(),
            total,
            page: self.page,
            per_page: self.per_page,
        })
    }
}

/// Shortest query the SQLite trigram index can answer.
const TRIGRAM: usize = 3;

/// `q` (already lower-cased) as a substring of title or description.
///
/// On SQLite a query of 3 or more characters is a phrase match in the
/// trigram FTS5 index `products_search` (substring semantics, case-folded);
/// shorter ones, and PostgreSQL (trigram GIN indexes on the `lower()`
/// expressions), use `lower(column) LIKE '%q%'`.
fn text_search(q: &str, backend: DbBackend) -> Expr {
    if backend == DbBackend::Sqlite && q.chars().count() >= TRIGRAM {
        let phrase = format!("\"{}\"", q.replace('"', "\"\""));
        return Expr::cust_with_values(
            "\"products\".\"id\" IN (SELECT rowid FROM products_search WHERE products_search MATCH ?)",
            [phrase],
        );
    }
    let pattern = contains_pattern(q);
    let contains =
        |column: Column| Expr::expr(Func::lower(Expr::col(column))).like(pattern.clone());
    contains(Column::Title).or(contains(Column::Description))
}

/// List products: search, filter, sort, paginate.
#[utoipa::path(get, path = "/", tag = "products",
    params(ListParams),
    responses(
        (status = 200, description = "One page of matching products", body = ProductPage),
        (status = 422, description = "An invalid parameter (each one listed)"),
    ))]
pub async fn list_products(
    State(db): State<DatabaseConnection>,
    Query(params): Query<ListParams>,
) -> Result<Json<ProductPage>, Problem> {
    let listing = params.parse()?;
    Ok(Json(listing.run(&db).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(query: &str) -> Result<Listing, Problem> {
        common::extract::parse_query::<ListParams>(query)?.parse()
    }

    #[test]
    fn per_page_is_clamped_to_100() {
        assert_eq!(params("per_page=500").map(|l| l.per_page).ok(), Some(100));
        assert_eq!(
            params("per_page=99999999999999999999999")
                .map(|l| l.per_page)
                .ok(),
            Some(100)
        );
        assert_eq!(params("").map(|l| l.per_page).ok(), Some(20));
    }

    #[test]
    fn every_documented_sort_is_accepted() {
        for sort in SORTS {
            assert!(params(&format!("sort={sort}")).is_ok(), "{sort}");
        }
        assert!(params("sort=-created_at").is_ok_and(|l| l.sort == Sort::CreatedDesc));
    }

    #[test]
    fn every_invalid_parameter_is_listed() {
        let err =
            params("page=0&per_page=-1&sort=cheap&in_stock=yes&min_price=abc&max_price=1.234")
                .expect_err("invalid");
        let fields: Vec<&str> = err.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "min_price",
                "max_price",
                "in_stock",
                "sort",
                "page",
                "per_page"
            ]
        );
    }
}
