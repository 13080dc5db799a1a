//! The `products` table as sea-orm sees it. Prices are integer minor units
//! (cents), so storage is exact on every backend; the API speaks
//! [`crate::domain::Price`].

use sea_orm::entity::prelude::*;

/// A stored product row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "products")]
pub struct Model {
    /// Database-assigned id, never reused.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Display title.
    pub title: String,
    /// Unique URL name.
    #[sea_orm(unique)]
    pub slug: String,
    /// Free text.
    pub description: String,
    /// Price in minor units (1999 = 19.99).
    pub price_minor: i64,
    /// ISO 4217 code.
    pub currency: String,
    /// Units on hand, never below zero (CHECK constraint).
    pub stock_qty: i64,
    /// Category name.
    pub category: String,
    /// Brand name, if any.
    pub brand: Option<String>,
    /// Picture URL, if any.
    pub image_url: Option<String>,
    /// Bumped by every change; the ETag is derived from it.
    pub version: i64,
    /// When the product was created.
    pub created_at: TimeDateTimeWithTimeZone,
    /// When the product last changed.
    pub updated_at: TimeDateTimeWithTimeZone,
}

/// `products` has no relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
