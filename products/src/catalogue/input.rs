//! Request bodies for creating and changing products, and their checks.
//! Every invalid field is reported at once (422).

use common::Problem;
use common::fields::{FieldErrors, Patch};
use serde::Deserialize;
use utoipa::ToSchema;

use super::input_schema::{self as schema, DESCRIPTION_MAX, NAME_MAX, TITLE_MAX};
use crate::domain::{Currency, Price, PriceInput, Slug, WholeNumber};

/// The stock maximum: the most units a product may have, at creation and
/// after any stock change (far inside the `bigint` column, so no sum of a
/// stock and a delta can overflow).
pub const STOCK_MAX: i64 = 1_000_000_000;

/// `POST /`: a new product. Unknown fields are refused.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateProduct {
    /// 1-200 characters (trimmed). Required.
    #[schema(schema_with = schema::title, required = true)]
    pub title: Option<String>,
    /// Derived from the title when absent; must be unique.
    #[schema(schema_with = schema::new_slug)]
    pub slug: Option<String>,
    /// Up to 10,000 characters (default empty).
    #[schema(schema_with = schema::new_description)]
    pub description: Option<String>,
    /// Decimal string or number, `>= 0`, at most 2 decimals. Required.
    #[schema(schema_with = schema::price, required = true)]
    pub price: Option<PriceInput>,
    /// ISO 4217 code (default `USD`).
    #[schema(schema_with = schema::new_currency)]
    pub currency: Option<String>,
    /// Initial stock, 0 to 1,000,000,000 (default 0).
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 1_000_000_000, example = 20)]
    pub stock_qty: Option<WholeNumber>,
    /// 1-100 characters. Required.
    #[schema(schema_with = schema::category, required = true)]
    pub category: Option<String>,
    /// 1-100 characters, or null.
    #[schema(schema_with = schema::brand)]
    pub brand: Option<String>,
    /// Absolute http(s) URL, or null.
    #[schema(schema_with = schema::image_url)]
    pub image_url: Option<String>,
}

/// `PATCH /{id}`: only the fields present change; `brand` and `image_url`
/// may be set to null. Unknown fields are refused.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateProduct {
    /// 1-200 characters (trimmed). The slug does not follow the title.
    #[serde(default)]
    #[schema(schema_with = schema::title)]
    pub title: Patch<String>,
    /// A new unique slug.
    #[serde(default)]
    #[schema(schema_with = schema::slug)]
    pub slug: Patch<String>,
    /// Up to 10,000 characters.
    #[serde(default)]
    #[schema(schema_with = schema::description)]
    pub description: Patch<String>,
    /// Decimal string or number, `>= 0`, at most 2 decimals.
    #[serde(default)]
    #[schema(schema_with = schema::price)]
    pub price: Patch<PriceInput>,
    /// ISO 4217 code.
    #[serde(default)]
    #[schema(schema_with = schema::currency)]
    pub currency: Patch<String>,
    /// 1-100 characters.
    #[serde(default)]
    #[schema(schema_with = schema::category)]
    pub category: Patch<String>,
    /// 1-100 characters, or null to clear.
    #[serde(default)]
    #[schema(schema_with = schema::brand)]
    pub brand: Patch<String>,
    /// Absolute http(s) URL, or null to clear.
    #[serde(default)]
    #[schema(schema_with = schema::image_url)]
    pub image_url: Patch<String>,
}

/// A checked new product.
#[derive(Debug, Clone)]
pub struct NewProduct {
    /// Trimmed title.
    pub title: String,
    /// Given or derived slug.
    pub slug: Slug,
    /// Description.
    pub description: String,
    /// Price.
    pub price: Price,
    /// Currency.
    pub currency: Currency,
    /// Initial stock.
    pub stock_qty: i64,
    /// Category.
    pub category: String,
    /// Brand.
    pub brand: Option<String>,
    /// Picture URL.
    pub image_url: Option<String>,
}

/// Checked changes; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ProductChanges {
    /// New title.
    pub title: Option<String>,
    /// New slug.
    pub slug: Option<Slug>,
    /// New description.
    pub description: Option<String>,
    /// New price.
    pub price: Option<Price>,
    /// New currency.
    pub currency: Option<Currency>,
    /// New category.
    pub category: Option<String>,
    /// New brand (`Some(None)` clears it).
    pub brand: Option<Option<String>>,
    /// New picture URL (`Some(None)` clears it).
    pub image_url: Option<Option<String>>,
}

impl ProductChanges {
    /// Whether nothing would change.
    pub fn is_empty(&self) -> bool {
        self.title.is_none()
            && self.slug.is_none()
            && self.description.is_none()
            && self.price.is_none()
            && self.currency.is_none()
            && self.category.is_none()
            && self.brand.is_none()
            && self.image_url.is_none()
    }
}

impl CreateProduct {
    /// Check every field; 422 lists all invalid ones.
    pub fn parse(self) -> Result<NewProduct, Problem> {
        let mut errors = FieldErrors::default();
        let title = match self.title {
            Some(t) => errors.check("title", title(&t)),
            None => {
                errors.missing("title");
                None
            }
        };
        let slug = match (&self.slug, &title) {
            (Some(s), _) => errors.check("slug", Slug::parse(s)),
            (None, Some(t)) => Some(Slug::derive(t)),
            (None, None) => None,
        };
        let description = errors.check(
            "description",
            description(self.description.as_deref().unwrap_or("")),
        );
        let price = match &self.price {
            Some(p) => errors.check("price", p.parse()),
            None => {
                errors.missing("price");
                None
            }
        };
        let currency = match &self.currency {
            Some(c) => errors.check("currency", Currency::parse(c)),
            None => Some(Currency::USD),
        };
        let stock_qty = match &self.stock_qty {
            Some(qty) => errors.check("stock_qty", qty.in_range(0..=STOCK_MAX)),
            None => Some(0),
        };
        let category = match &self.category {
            Some(c) => errors.check("category", name(c)),
            None => {
                errors.missing("category");
                None
            }
        };
        let brand = match &self.brand {
            Some(b) => errors.check("brand", name(b)).map(Some),
            None => Some(None),
        };
        let image_url = match &self.image_url {
            Some(u) => errors.check("image_url", url(u)).map(Some),
            None => Some(None),
        };
        errors.finish()?;
        match (
            title,
            slug,
            description,
            price,
            currency,
            stock_qty,
            category,
            brand,
            image_url,
        ) {
            (
                Some(title),
                Some(slug),
                Some(description),
                Some(price),
                Some(currency),
                Some(stock_qty),
                Some(category),
                Some(brand),
                Some(image_url),
            ) => Ok(NewProduct {
                title,
                slug,
                description,
                price,
                currency,
                stock_qty,
                category,
                brand,
                image_url,
            }),
            // Every `None` above recorded an error.
            _ => Err(Problem::internal()),
        }
    }
}

impl UpdateProduct {
    /// Check every present field; 422 lists all invalid ones.
    pub fn parse(self) -> Result<ProductChanges, Problem> {
        let mut errors = FieldErrors::default();
        let mut changes = ProductChanges::default();
        let not_null = |errors: &mut FieldErrors, field: &str| {
            errors.reject(field, "must not be null (leave it out to keep it)");
        };
        match self.title {
            Patch::Value(t) => changes.title = errors.check("title", title(&t)),
            Patch::Null => not_null(&mut errors, "title"),
            Patch::Absent => {}
        }
        match self.slug {
            Patch::Value(s) => changes.slug = errors.check("slug", Slug::parse(&s)),
            Patch::Null => not_null(&mut errors, "slug"),
            Patch::Absent => {}
        }
        match self.description {
            Patch::Value(d) => changes.description = errors.check("description", description(&d)),
            Patch::Null => not_null(&mut errors, "description"),
            Patch::Absent => {}
        }
        match self.price {
            Patch::Value(p) => changes.price = errors.check("price", p.parse()),
            Patch::Null => not_null(&mut errors, "price"),
            Patch::Absent => {}
        }
        match self.currency {
            Patch::Value(c) => changes.currency = errors.check("currency", Currency::parse(&c)),
            Patch::Null => not_null(&mut errors, "currency"),
            Patch::Absent => {}
        }
        match self.category {
            Patch::Value(c) => changes.category = errors.check("category", name(&c)),
            Patch::Null => not_null(&mut errors, "category"),
            Patch::Absent => {}
        }
        match self.brand {
            Patch::Value(b) => changes.brand = errors.check("brand", name(&b)).map(Some),
            Patch::Null => changes.brand = Some(None),
            Patch::Absent => {}
        }
        match self.image_url {
            Patch::Value(u) => changes.image_url = errors.check("image_url", url(&u)).map(Some),
            Patch::Null => changes.image_url = Some(None),
            Patch::Absent => {}
        }
        errors.finish()?;
        Ok(changes)
    }
}

fn title(text: &str) -> Result<String, String> {
    common::input::label(text, TITLE_MAX)
}

fn description(text: &str) -> Result<String, String> {
    if text.chars().count() > DESCRIPTION_MAX {
        return Err(format!("must be at most {DESCRIPTION_MAX} characters"));
    }
    Ok(text.to_string())
}

fn name(text: &str) -> Result<String, String> {
    common::input::label(text, NAME_MAX)
}

fn url(text: &str) -> Result<String, String> {
    common::input::web_url(text)
}
