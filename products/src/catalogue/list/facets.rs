//! `?facets=category,brand,price`: how many of the matching products fall
//! in each category, brand and price band.
//!
//! Without a filter the counts the database keeps (`catalogue_counts`)
//! answer at once; with one, the matches are counted exactly, whatever
//! their number: on PostgreSQL in one pass over them (`GROUP BY GROUPING
//! SETS`, one set per asked facet), on SQLite by a `UNION ALL` of one
//! `GROUP BY` per asked facet. The caller runs it in the transaction that
//! reads the page and the total.

use sea_orm::sea_query::{Expr, UnionType};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, QueryFilter, QuerySelect, QueryTrait, Select,
    Statement,
};
use serde::Serialize;
use utoipa::ToSchema;

use super::super::entity::{Column, Entity};
use super::params::FacetSet;
use crate::domain::Price;
use crate::domain::price_band::{self, PRICE_BANDS};

/// The asked facets; a facet that was not asked for is left out.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct Facets {
    /// Matching products per category, most first (then by name).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub category: Option<Vec<FacetCount>>,
    /// Matching products per brand, most first (then by name); products
    /// without a brand are not counted here.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub brand: Option<Vec<FacetCount>>,
    /// Matching products per price band, cheapest band first; bands
    /// without a match are left out.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub price: Option<Vec<PriceBandCount>>,
}

impl Facets {
    /// The number of matching products, from a facet that counts each of
    /// them once (category, else price band); 0 when neither was asked.
    pub fn matches(&self) -> u64 {
        match (&self.category, &self.price) {
            (Some(category), _) => category.iter().map(|c| c.count).sum(),
            (None, Some(bands)) => bands.iter().map(|b| b.count).sum(),
            (None, None) => 0,
        }
    }
}

/// One category or brand and its number of matching products.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FacetCount {
    /// The category or brand name (usable as `?category=` / `?brand=`).
    #[schema(example = "Electronics")]
    pub value: String,
    /// How many matching products have it (at least 1).
    #[schema(example = 12, minimum = 1)]
    pub count: u64,
}

/// One price band and its number of matching products.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PriceBandCount {
    /// Lowest price of the band, inclusive (usable as `?min_price=`).
    #[schema(example = "10.00")]
    pub min: String,
    /// Highest price of the band, exclusive; null for the last band.
    #[schema(example = "25.00")]
    pub max: Option<String>,
    /// How many matching products are priced in the band (at least 1).
    #[schema(example = 3, minimum = 1)]
    pub count: u64,
}

/// One `(facet, value, count)` row of either source.
type Row = (String, String, i64);

/// The kept counts of the whole catalogue.
pub(super) async fn unfiltered(
    db: &impl ConnectionTrait,
    asked: FacetSet,
) -> Result<Facets, DbErr> {
    let sql =
        "SELECT facet, value, count FROM catalogue_counts WHERE count > 0 AND facet <> 'total'";
    let statement = sea_orm::Statement::from_string(db.get_database_backend(), sql);
    let rows = read(db, statement).await?;
    Ok(assemble(asked, rows))
}

/// The counts of the products `matching` selects (all filters applied).
pub(super) async fn filtered(
    db: &impl ConnectionTrait,
    asked: FacetSet,
    matching: impl Fn() -> Select<Entity>,
) -> Result<Facets, DbErr> {
    if db.get_database_backend() == DbBackend::Postgres {
        return grouping_sets(db, asked, matching()).await;
    }
    let price = price_band::band_sql("\"products\".\"price_minor\"");
    let mut parts = Vec::new();
    if asked.category {
        parts.push(group(
            matching(),
            "category",
            Expr::col((Entity, Column::Category)),
        ));
    }
    if asked.brand {
        parts.push(group(
            matching().filter(Column::Brand.is_not_null()),
            "brand",
            Expr::col((Entity, Column::Brand)),
        ));
    }
    if asked.price {
        parts.push(group(matching(), "price", Expr::cust(price)));
    }
    let mut parts = parts.into_iter();
    let Some(mut query) = parts.next() else {
        return Ok(Facets::default());
    };
    for part in parts {
        query.union(UnionType::All, part);
    }
    let statement = db.get_database_backend().build(&query);
    let rows = read(db, statement).await?;
    Ok(assemble(asked, rows))
}

/// PostgreSQL: every asked facet counted in one pass over the matches.
async fn grouping_sets(
    db: &impl ConnectionTrait,
    asked: FacetSet,
    matching: Select<Entity>,
) -> Result<Facets, DbErr> {
    let price = price_band::band_sql("\"products\".\"price_minor\"");
    let inner = matching
        .select_only()
        .column(Column::Category)
        .column(Column::Brand)
        .expr_as(Expr::cust(price), "band")
        .into_query();
    let inner = DbBackend::Postgres.build(&inner);
    let (inner_sql, values) = (inner.sql, inner.values.map(|v| v.0).unwrap_or_default());
    // (facet, grouped column) of each asked facet; only grouped columns
    // may be named, and GROUPING(x) is 0 in the set that groups by x.
    let asked_sets: Vec<(&str, &str)> = [
        (asked.category, "category", "category"),
        (asked.brand, "brand", "brand"),
        (asked.price, "price", "band"),
    ]
    .into_iter()
    .filter(|(on, _, _)| *on)
    .map(|(_, facet, column)| (facet, column))
    .collect();
    if asked_sets.is_empty() {
        return Ok(Facets::default());
    }
    let mut facet = String::from("CASE");
    let mut value = String::from("CASE");
    for (name, column) in &asked_sets {
        facet.push_str(&format!(" WHEN GROUPING({column}) = 0 THEN '{name}'"));
        value.push_str(&format!(" WHEN GROUPING({column}) = 0 THEN {column}"));
    }
    facet.push_str(" END");
    value.push_str(" END");
    let sets: Vec<String> = asked_sets
        .iter()
        .map(|(_, column)| format!("({column})"))
        .collect();
    let sql = format!(
        "SELECT {facet}, {value}, COUNT(*) FROM ({inner_sql}) AS matches \
         GROUP BY GROUPING SETS ({})",
        sets.join(", ")
    );
    let statement = Statement::from_sql_and_values(DbBackend::Postgres, sql, values);
    let mut rows: Vec<Row> = Vec::new();
    for row in db.query_all_raw(statement).await? {
        // Products without a brand form a NULL brand group: not counted.
        let Some(value) = row.try_get_by_index::<Option<String>>(1)? else {
            continue;
        };
        let facet = row.try_get_by_index::<String>(0)?;
        rows.push((facet, value, row.try_get_by_index::<i64>(2)?));
    }
    Ok(assemble(asked, rows))
}

fn group(select: Select<Entity>, facet: &str, value: Expr) -> sea_orm::sea_query::SelectStatement {
    select
        .select_only()
        .expr(Expr::val(facet.to_string()))
        .expr(value.clone())
        .expr(Expr::cust("COUNT(*)"))
        .group_by(value)
        .into_query()
}

async fn read(db: &impl ConnectionTrait, statement: sea_orm::Statement) -> Result<Vec<Row>, DbErr> {
    db.query_all_raw(statement)
        .await?
        .iter()
        .map(|row| {
            Ok((
                row.try_get_by_index::<String>(0)?,
                row.try_get_by_index::<String>(1)?,
                row.try_get_by_index::<i64>(2)?,
            ))
        })
        .collect()
}

/// Sort the rows into the asked facets.
pub(super) fn assemble(asked: FacetSet, rows: Vec<Row>) -> Facets {
    let mut category = Vec::new();
    let mut brand = Vec::new();
    let mut bands = Vec::new();
    for (facet, value, count) in rows {
        let Ok(count) = u64::try_from(count) else {
            continue;
        };
        if count == 0 {
            continue;
        }
        match facet.as_str() {
            "category" => category.push(FacetCount { value, count }),
            "brand" => brand.push(FacetCount { value, count }),
            "price" => {
                if let Ok(lower) = value.parse::<i64>() {
                    bands.push((lower, count));
                }
            }
            _ => {}
        }
    }
    let by_count =
        |a: &FacetCount, b: &FacetCount| b.count.cmp(&a.count).then(a.value.cmp(&b.value));
    category.sort_by(by_count);
    brand.sort_by(by_count);
    bands.sort_unstable();
    let text = |minor: i64| {
        Price::from_minor_units(minor)
            .map(|p| p.to_string())
            .unwrap_or_default()
    };
    Facets {
        category: asked.category.then_some(category),
        brand: asked.brand.then_some(brand),
        price: asked.price.then(|| {
            bands
                .into_iter()
                .filter(|(lower, _)| PRICE_BANDS.contains(lower))
                .map(|(lower, count)| PriceBandCount {
                    min: text(lower),
                    max: price_band::upper_of(lower).map(text),
                    count,
                })
                .collect()
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(facet: &str, value: &str, count: i64) -> Row {
        (facet.into(), value.into(), count)
    }

    #[test]
    fn values_come_most_first_and_bands_cheapest_first() {
        let asked = FacetSet {
            category: true,
            brand: false,
            price: true,
        };
        let facets = assemble(
            asked,
            vec![
                row("category", "Books", 2),
                row("category", "Audio", 2),
                row("category", "Toys", 5),
                row("category", "Empty", 0),
                row("brand", "Acme", 3),
                row("price", "100000", 1),
                row("price", "1000", 4),
            ],
        );
        let names: Vec<&str> = facets
            .category
            .iter()
            .flatten()
            .map(|c| c.value.as_str())
            .collect();
        assert_eq!(names, ["Toys", "Audio", "Books"]);
        assert!(facets.brand.is_none());
        let bands = facets.price.expect("price");
        assert_eq!(bands[0].min, "10.00");
        assert_eq!(bands[0].max.as_deref(), Some("25.00"));
        assert_eq!(bands[1].min, "1000.00");
        assert_eq!(bands[1].max, None);
    }
}
