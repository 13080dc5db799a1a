//! The product as clients see it.

use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::entity;
use crate::domain::Price;

/// A product. `price` is an exact decimal string; `in_stock` is derived
/// from `stock_qty > 0`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Product {
    /// Integer id assigned by the service.
    #[schema(example = 42)]
    pub id: i64,
    /// Display title.
    #[schema(example = "Blue Widget X")]
    pub title: String,
    /// Unique URL name.
    #[schema(example = "blue-widget-x")]
    pub slug: String,
    /// Free text.
    pub description: String,
    /// Exact decimal with two places, as a string.
    #[schema(value_type = String, example = "19.99")]
    pub price: Price,
    /// ISO 4217 code.
    #[schema(example = "USD")]
    pub currency: String,
    /// Units on hand (never negative).
    #[schema(example = 20)]
    pub stock_qty: i64,
    /// `stock_qty > 0`.
    pub in_stock: bool,
    /// Category name.
    #[schema(example = "Electronics")]
    pub category: String,
    /// Brand name.
    pub brand: Option<String>,
    /// Picture URL.
    pub image_url: Option<String>,
    /// Creation time (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    /// Last change (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
}

impl From<entity::Model> for Product {
    fn from(m: entity::Model) -> Self {
        // The CHECK constraint and validation keep stored prices in range.
        let price = Price::from_minor_units(m.price_minor).unwrap_or_else(|e| {
            tracing::error!(id = m.id, error = %e, "stored price out of range");
            Price::ZERO
        });
        Product {
            id: m.id,
            title: m.title,
            slug: m.slug,
            description: m.description,
            price,
            currency: m.currency,
            stock_qty: m.stock_qty,
            in_stock: m.stock_qty > 0,
            category: m.category,
            brand: m.brand,
            image_url: m.image_url,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// The current time, at the microsecond precision both databases keep.
pub fn now() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(now.nanosecond() / 1_000 * 1_000)
        .unwrap_or(now)
}
