//! The query parameters of `GET /`, their OpenAPI schemas and their checks.

use common::Problem;
use common::fields::FieldErrors;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::domain::Price;

/// Largest page size; larger requests are clamped to it.
pub const PER_PAGE_MAX: u64 = 100;
const PER_PAGE_DEFAULT: u64 = 20;
/// Longest `q`, in characters.
pub const Q_MAX: usize = 200;
/// Most terms (words and quoted phrases, excluded ones included) in `q`:
/// each is a clause of the index query, per field and per relevance tier.
pub const Q_TERMS_MAX: usize = 10;

/// Query parameters of `GET /`, as sent. Unknown parameters are refused.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Words searched in title and description, web-search syntax
    /// (`"a phrase"`, `or`, `-excluded`), stemmed, case-insensitive; when no
    /// product matches the words, the text is matched as a substring. At
    /// most 200 characters and 10 words or quoted phrases.
    #[param(schema_with = q_schema, example = "kettle or lamp")]
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
    /// `relevance` (the default with `q`; without `q` it is the default
    /// order), `price`, `-price`, `created_at`, `-created_at` (the default
    /// without `q`), `title`, `-title`.
    #[param(schema_with = sort_schema, example = "-price")]
    pub sort: Option<String>,
    /// Counts to add to the page for the current filter: a comma-separated
    /// list of `category`, `brand`, `price` (price bands).
    #[param(schema_with = facets_schema, example = "category,brand,price")]
    pub facets: Option<String>,
    /// Page number from 1 (default 1).
    #[param(schema_with = common::input::page_number_schema)]
    pub page: Option<String>,
    /// Page size from 1 (default 20); any larger number is served as 100.
    #[param(schema_with = per_page)]
    pub per_page: Option<String>,
}

/// The accepted `sort` values, in the order the schema lists them.
const SORTS: [&str; 7] = [
    "relevance",
    "price",
    "-price",
    "created_at",
    "-created_at",
    "title",
    "-title",
];

/// The facets a listing can count.
const FACETS: [&str; 3] = ["category", "brand", "price"];

fn q_schema() -> utoipa::openapi::schema::Object {
    common::input::string(false).max_length(Some(Q_MAX)).build()
}

fn sort_schema() -> utoipa::openapi::schema::Object {
    common::input::string(false)
        .enum_values(Some(SORTS))
        .build()
}

fn facets_schema() -> utoipa::openapi::schema::Object {
    let one = FACETS.join("|");
    common::input::string(false)
        .pattern(Some(format!("^({one})(,({one}))*$")))
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

/// How the list is ordered; the id breaks ties so pages are stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    /// Best match first (with `q`; otherwise newest first).
    Relevance,
    /// Cheapest first.
    PriceAsc,
    /// Dearest first.
    PriceDesc,
    /// Oldest first.
    CreatedAsc,
    /// Newest first (the default without `q`).
    CreatedDesc,
    /// By title, A to Z.
    TitleAsc,
    /// By title, Z to A.
    TitleDesc,
}

/// Which facets to count.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FacetSet {
    /// Counts per category.
    pub category: bool,
    /// Counts per brand.
    pub brand: bool,
    /// Counts per price band.
    pub price: bool,
}

impl FacetSet {
    /// Whether any facet was asked for.
    pub fn any(&self) -> bool {
        self.category || self.brand || self.price
    }
}

/// A checked listing request.
#[derive(Debug, Clone)]
pub struct Listing {
    pub(super) q: Option<String>,
    pub(super) category: Option<String>,
    pub(super) brand: Option<String>,
    pub(super) min_price: Option<Price>,
    pub(super) max_price: Option<Price>,
    pub(super) in_stock: Option<bool>,
    pub(super) sort: Sort,
    pub(super) facets: FacetSet,
    pub(super) page: u64,
    pub(super) per_page: u64,
}

impl ListParams {
    /// Check every parameter; 422 lists all invalid ones.
    pub fn parse(self) -> Result<Listing, Problem> {
        let mut errors = FieldErrors::default();
        let mut invalid = |field: &str, message: &str| errors.reject(field, message);
        // The length as sent, as the schema's `maxLength` states it.
        let too_long = self.q.as_ref().is_some_and(|q| q.chars().count() > Q_MAX);
        let q = self
            .q
            .map(|q| q.trim().to_lowercase())
            .filter(|q| !q.is_empty());
        if too_long {
            invalid("q", "must be at most 200 characters");
        } else if q
            .as_deref()
            .is_some_and(|q| crate::catalogue::index::text::term_count(q) > Q_TERMS_MAX)
        {
            invalid("q", "must have at most 10 words or quoted phrases");
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
        let default_sort = if q.is_some() {
            Sort::Relevance
        } else {
            Sort::CreatedDesc
        };
        let sort = match self.sort.as_deref() {
            None => default_sort,
            Some("relevance") => Sort::Relevance,
            Some("-created_at") => Sort::CreatedDesc,
            Some("created_at") => Sort::CreatedAsc,
            Some("price") => Sort::PriceAsc,
            Some("-price") => Sort::PriceDesc,
            Some("title") => Sort::TitleAsc,
            Some("-title") => Sort::TitleDesc,
            Some(_) => {
                invalid(
                    "sort",
                    "must be one of relevance, price, -price, created_at, -created_at, title, -title",
                );
                default_sort
            }
        };
        let facets = match self.facets.as_deref().map(parse_facets) {
            None => FacetSet::default(),
            Some(Some(set)) => set,
            Some(None) => {
                invalid(
                    "facets",
                    "must be a comma-separated list of category, brand, price",
                );
                FacetSet::default()
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
            facets,
            page,
            per_page,
        })
    }
}

/// `category,brand,price` (any subset, any order, repeats allowed).
fn parse_facets(text: &str) -> Option<FacetSet> {
    let mut set = FacetSet::default();
    for name in text.split(',') {
        match name {
            "category" => set.category = true,
            "brand" => set.brand = true,
            "price" => set.price = true,
            _ => return None,
        }
    }
    Some(set)
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

impl Listing {
    /// Whether any filter (text included) narrows the catalogue.
    pub(super) fn is_filtered(&self) -> bool {
        self.q.is_some()
            || self.category.is_some()
            || self.brand.is_some()
            || self.min_price.is_some()
            || self.max_price.is_some()
            || self.in_stock.is_some()
    }

    /// The number of rows the page skips.
    pub(super) fn offset(&self) -> u64 {
        (self.page - 1).saturating_mul(self.per_page)
    }
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
    fn relevance_is_the_default_only_with_q() {
        assert!(params("q=kettle").is_ok_and(|l| l.sort == Sort::Relevance));
        assert!(params("q=+").is_ok_and(|l| l.sort == Sort::CreatedDesc));
        assert!(params("").is_ok_and(|l| l.sort == Sort::CreatedDesc));
        assert!(params("q=kettle&sort=price").is_ok_and(|l| l.sort == Sort::PriceAsc));
    }

    #[test]
    fn facets_are_a_list_of_known_names() {
        let all = params("facets=price,category,brand").map(|l| l.facets).ok();
        assert_eq!(
            all,
            Some(FacetSet {
                category: true,
                brand: true,
                price: true
            })
        );
        assert!(params("facets=brand").is_ok_and(|l| l.facets.brand && !l.facets.category));
        for bad in [
            "facets=",
            "facets=colour",
            "facets=brand,",
            "facets=brand,,price",
        ] {
            let err = params(bad).expect_err(bad);
            assert_eq!(err.errors[0].field, "facets", "{bad}");
        }
    }

    #[test]
    fn the_facets_pattern_accepts_what_the_parser_accepts() {
        let schema = facets_schema();
        let pattern = schema.pattern.as_deref().expect("pattern");
        assert_eq!(
            pattern,
            "^(category|brand|price)(,(category|brand|price))*$"
        );
    }

    #[test]
    fn q_is_bounded_in_length_and_terms() {
        let ten = "a b c d e f g h i \"j k\"";
        assert!(params(&format!("q={ten}")).is_ok());
        let eleven = format!("q={ten} -l");
        let err = params(&eleven).expect_err("eleven terms");
        assert_eq!(err.errors[0].field, "q");
        let long = format!("q={}", "a".repeat(201));
        assert_eq!(params(&long).expect_err("long").errors[0].field, "q");
        assert!(params(&format!("q={}", "a".repeat(200))).is_ok());
    }

    #[test]
    fn every_invalid_parameter_is_listed() {
        let err = params(
            "page=0&per_page=-1&sort=cheap&in_stock=yes&min_price=abc&max_price=1.234&facets=x",
        )
        .expect_err("invalid");
        let fields: Vec<&str> = err.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "min_price",
                "max_price",
                "in_stock",
                "sort",
                "facets",
                "page",
                "per_page"
            ]
        );
    }
}
