//! A listing answered from the search index (`catalogue/index`): the word
//! search of `q`, and any filtered listing with facets.
//!
//! One searcher (one consistent view of the index) gives the total (exact:
//! the index counts its matches), the page's products (each document
//! stores the product's JSON, so the database is not read) and the facet
//! counts. Filters
//! (`category`, `brand`, price range, `in_stock`) are index terms and
//! ranges; sorts are the index's columns, the id breaking ties in the same
//! direction. A word search by relevance is sorted by tier
//! ([`super::super::index::text::TextQueries::matching`]), then newest
//! first, in one pass over the matches: each match's tier is the first
//! tier query its document meets (their scorers move forward with the
//! matches), the page is a top-k of (tier, id), so no match is scored. Facets are counted from the index's
//! columns over the matches in memory.

use std::collections::HashMap;
use std::ops::Bound;

use serde_json::value::RawValue;
use tantivy::collector::sort_key::{NaturalComparator, SortByStaticFastValue};
use tantivy::collector::{
    Collector, Count, SegmentCollector, SegmentSortKeyComputer, SortKeyComputer, TopDocs,
};
use tantivy::columnar::{Column, StrColumn};
use tantivy::query::{AllQuery, EnableScoring, Query, RangeQuery, Scorer, TermQuery, Weight};
use tantivy::schema::IndexRecordOption;
use tantivy::schema::Value;
use tantivy::{
    DocAddress, DocId, DocSet, Order, Score, Searcher, SegmentOrdinal, SegmentReader,
    TantivyDocument,
};

use super::facets::{self, Facets};
use super::params::{FacetSet, Listing, Sort};
use crate::catalogue::index::sorted::Key;
use crate::catalogue::index::text::{SubstringWord, every, i64_range, substring_words};
use crate::catalogue::index::{self, SearchIndex};
use crate::domain::price_band::{PRICE_BANDS, band_of};

/// What the index found for a listing.
#[derive(Debug)]
pub(super) struct Found {
    /// The page's products (their JSON as the index stores it), in order.
    pub items: Vec<Box<RawValue>>,
    /// How many products match (exact).
    pub total: u64,
    /// The asked facets, if any.
    pub facets: Option<Facets>,
}

/// Answer `listing` from `index`; `None` when `q`'s words match nothing
/// (the caller then matches `q` as a substring).
pub(super) fn search(listing: &Listing, index: &SearchIndex) -> tantivy::Result<Option<Found>> {
    let fields = index.fields();
    let searcher = index.searcher();
    let mut clauses = filters(listing, fields);
    let mut tiers = Vec::new();
    if let Some(q) = &listing.q {
        let Some(words) = index.text_queries().matching(q) else {
            return Ok(None);
        };
        clauses.push(words.matching);
        tiers = words.tiers;
    }
    let matching: Box<dyn Query> = if clauses.is_empty() {
        Box::new(AllQuery)
    } else {
        every(clauses)
    };
    let (offset, per_page) = (listing.offset(), listing.per_page);
    // No facet collector at all when none was asked: even an idle one is
    // called for every match.
    let counter = listing.facets.any().then_some(FacetCounter(listing.facets));
    let (total, found, rows) = if listing.q.is_some() && listing.sort == Sort::Relevance {
        let range = as_usize(offset)..as_usize(offset.saturating_add(per_page));
        let by = (
            (TierOf::new(&searcher, &tiers)?, Order::Asc),
            (
                SortByStaticFastValue::<u64>::for_field(index::ID),
                Order::Desc,
            ),
        );
        let top = TopDocs::for_doc_range(range).order_by(by);
        let (total, found, rows) = searcher.search(&*matching, &(Count, top, counter))?;
        (total, page_ids(found), rows)
    } else {
        sorted(
            &searcher,
            &*matching,
            listing.sort,
            offset,
            per_page,
            counter,
        )?
    };
    if total == 0 && listing.q.is_some() {
        return Ok(None);
    }
    let items = found
        .into_iter()
        .map(|address| stored_product(&searcher, fields, address))
        .collect::<tantivy::Result<Vec<_>>>()?;
    let facets = rows.map(|rows| facets::assemble(listing.facets, rows));
    Ok(Some(Found {
        items,
        total: total as u64,
        facets,
    }))
}

/// A page of the whole catalogue (no filter, no facets) from the sorted
/// lists of the index (`index/sorted.rs`); `None` while they are not of
/// the index's current view.
pub(super) fn whole_catalogue(
    listing: &Listing,
    index: &SearchIndex,
) -> tantivy::Result<Option<Found>> {
    let (key, descending) = match listing.sort {
        Sort::Relevance | Sort::CreatedDesc => (Key::Created, true),
        Sort::CreatedAsc => (Key::Created, false),
        Sort::PriceAsc => (Key::Price, false),
        Sort::PriceDesc => (Key::Price, true),
        Sort::TitleAsc => (Key::Title, false),
        Sort::TitleDesc => (Key::Title, true),
    };
    let Some((searcher, page)) =
        index.whole_catalogue(key, descending, listing.offset(), listing.per_page)
    else {
        return Ok(None);
    };
    let items = page
        .into_iter()
        .map(|address| stored_product(&searcher, index.fields(), address))
        .collect::<tantivy::Result<Vec<_>>>()?;
    Ok(Some(Found {
        items,
        total: searcher.num_docs(),
        facets: None,
    }))
}

/// Whether a product matching the listing's filters may contain `q` as a
/// substring: `false` only when no product has the words such a text
/// needs ([`substring_words`]), so the database's substring search would
/// find nothing; `true` when that cannot be told from the index.
///
/// Two words that never occur in the same product (`falcon orbit`) are
/// common in a search box; without this, each such search scanned the
/// trigram index of the database (every trigram of both words is common).
pub(super) fn substring_possible(listing: &Listing, index: &SearchIndex) -> tantivy::Result<bool> {
    let Some(words) = listing.q.as_deref().and_then(substring_words) else {
        return Ok(true);
    };
    let fields = index.fields();
    let mut clauses = filters(listing, fields);
    for word in words {
        clauses.push(match word {
            SubstringWord::Whole(word) => Box::new(TermQuery::new(
                tantivy::Term::from_field_text(fields.words_raw, &word),
                IndexRecordOption::Basic,
            )),
            SubstringWord::StartOf(start) => starting_with(fields.words_raw, &start),
            SubstringWord::EndOf(end) => {
                let reversed: String = end.chars().rev().collect();
                starting_with(fields.words_rev, &reversed)
            }
        });
    }
    let found = index.searcher().search(&*every(clauses), &Count)?;
    Ok(found > 0)
}

/// The terms of `field` starting with `start` (ASCII letters and digits).
fn starting_with(field: tantivy::schema::Field, start: &str) -> Box<dyn Query> {
    let mut end = start.as_bytes().to_vec();
    if let Some(last) = end.last_mut() {
        *last += 1;
    }
    let end = String::from_utf8(end).unwrap_or_default();
    Box::new(RangeQuery::new(
        Bound::Included(tantivy::Term::from_field_text(field, start)),
        Bound::Excluded(tantivy::Term::from_field_text(field, &end)),
    ))
}

/// The listing's filters other than `q`, as index queries.
fn filters(listing: &Listing, fields: index::Fields) -> Vec<Box<dyn Query>> {
    let term = |term: tantivy::Term| -> Box<dyn Query> {
        Box::new(TermQuery::new(term, IndexRecordOption::Basic))
    };
    let mut clauses = Vec::new();
    if let Some(category) = &listing.category {
        clauses.push(term(tantivy::Term::from_field_text(
            fields.category,
            category,
        )));
    }
    if let Some(brand) = &listing.brand {
        clauses.push(term(tantivy::Term::from_field_text(fields.brand, brand)));
    }
    let (min, max) = (
        listing.min_price.map(|p| p.minor_units()),
        listing.max_price.map(|p| p.minor_units()),
    );
    if min.is_some() || max.is_some() {
        clauses.push(i64_range(fields.price, min, max));
    }
    if let Some(in_stock) = listing.in_stock {
        let value = u64::from(in_stock);
        clauses.push(term(tantivy::Term::from_field_u64(fields.in_stock, value)));
    }
    clauses
}

/// The product JSON stored in the document at `address`.
fn stored_product(
    searcher: &Searcher,
    fields: index::Fields,
    address: DocAddress,
) -> tantivy::Result<Box<RawValue>> {
    let doc: TantivyDocument = searcher.doc(address)?;
    let json = doc
        .get_first(fields.product)
        .and_then(|value| value.as_bytes())
        .and_then(|bytes| std::str::from_utf8(bytes).ok())
        .and_then(|text| RawValue::from_string(text.to_string()).ok());
    json.ok_or_else(|| {
        tantivy::TantivyError::InternalError("a document without its product".into())
    })
}

fn as_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// A match's relevance tier as a sort key (0 is the best): the first of
/// the tier queries it meets, the number of them when none (the last tier,
/// "every other match", is not a query). With the id after it, one pass
/// over the matches counts them and collects the page, tier by tier,
/// newest first within a tier; no match is scored.
struct TierOf {
    tiers: Vec<Box<dyn Weight>>,
}

impl TierOf {
    /// The tier keys of `tiers` (the last one, every product, left out).
    fn new(searcher: &Searcher, tiers: &[Box<dyn Query>]) -> tantivy::Result<TierOf> {
        let scoring = EnableScoring::disabled_from_searcher(searcher);
        let tiers = tiers
            .split_last()
            .map(|(_, queries)| queries)
            .unwrap_or_default()
            .iter()
            .map(|query| query.weight(scoring))
            .collect::<tantivy::Result<Vec<_>>>()?;
        Ok(TierOf { tiers })
    }
}

impl SortKeyComputer for TierOf {
    type SortKey = u64;
    type Child = SegmentTiers;
    type Comparator = NaturalComparator;

    fn segment_sort_key_computer(&self, reader: &SegmentReader) -> tantivy::Result<SegmentTiers> {
        let scorers = self
            .tiers
            .iter()
            .map(|weight| weight.scorer(reader, 1.0))
            .collect::<tantivy::Result<Vec<_>>>()?;
        Ok(SegmentTiers { scorers })
    }
}

/// A segment's tier scorers, moved forward with the matches (a segment's
/// matches are visited in increasing document order).
struct SegmentTiers {
    scorers: Vec<Box<dyn Scorer>>,
}

impl SegmentSortKeyComputer for SegmentTiers {
    type SortKey = u64;
    type SegmentSortKey = u64;
    type SegmentComparator = NaturalComparator;

    fn segment_sort_key(&mut self, doc: DocId, _score: Score) -> u64 {
        for (tier, scorer) in self.scorers.iter_mut().enumerate() {
            if scorer.doc() < doc {
                scorer.seek(doc);
            }
            if scorer.doc() == doc {
                return tier as u64;
            }
        }
        self.scorers.len() as u64
    }

    fn convert_segment_sort_key(&self, key: u64) -> u64 {
        key
    }
}

/// The documents of a page's matches in a key order.
fn page_ids<K>(found: Vec<(K, DocAddress)>) -> Vec<DocAddress> {
    found.into_iter().map(|(_, address)| address).collect()
}

/// The matches counted, the documents of `[offset, offset + per_page)` of
/// them in `sort` order (the id breaking ties) and the facet rows, in one
/// pass over the matches.
fn sorted(
    searcher: &Searcher,
    matching: &dyn Query,
    sort: Sort,
    offset: u64,
    per_page: u64,
    counter: Option<FacetCounter>,
) -> tantivy::Result<(usize, Vec<DocAddress>, Option<Vec<Row>>)> {
    let top = TopDocs::for_doc_range(as_usize(offset)..as_usize(offset.saturating_add(per_page)));
    let id = |order: Order| (SortByStaticFastValue::<u64>::for_field(index::ID), order);
    let number =
        |field: &str, order: Order| (SortByStaticFastValue::<i64>::for_field(field), order);
    let title = |order: Order| {
        (
            SortByStaticFastValue::<u64>::for_field(index::TITLE_RANK),
            order,
        )
    };
    match sort {
        Sort::PriceAsc => {
            let by = (number(index::PRICE, Order::Asc), id(Order::Asc));
            one_pass(searcher, matching, top.order_by(by), counter)
        }
        Sort::PriceDesc => {
            let by = (number(index::PRICE, Order::Desc), id(Order::Desc));
            one_pass(searcher, matching, top.order_by(by), counter)
        }
        Sort::CreatedAsc => {
            let by = (number(index::CREATED, Order::Asc), id(Order::Asc));
            one_pass(searcher, matching, top.order_by(by), counter)
        }
        Sort::CreatedDesc | Sort::Relevance => {
            let by = (number(index::CREATED, Order::Desc), id(Order::Desc));
            one_pass(searcher, matching, top.order_by(by), counter)
        }
        Sort::TitleAsc => {
            let by = (title(Order::Asc), id(Order::Asc));
            one_pass(searcher, matching, top.order_by(by), counter)
        }
        Sort::TitleDesc => {
            let by = (title(Order::Desc), id(Order::Desc));
            one_pass(searcher, matching, top.order_by(by), counter)
        }
    }
}

/// Count, page and facets of `matching` in one pass.
fn one_pass<K, C>(
    searcher: &Searcher,
    matching: &dyn Query,
    page: C,
    counter: Option<FacetCounter>,
) -> tantivy::Result<(usize, Vec<DocAddress>, Option<Vec<Row>>)>
where
    K: Send + 'static,
    C: Collector<Fruit = Vec<(K, DocAddress)>>,
{
    let (total, found, rows) = searcher.search(matching, &(Count, page, counter))?;
    Ok((total, page_ids(found), rows))
}

/// Counts the asked facets of the matches from the index's columns
/// (nothing when none was asked).
#[derive(Clone, Copy)]
struct FacetCounter(FacetSet);

/// One `(facet, value, count)` row, as `facets::assemble` takes them.
type Row = (String, String, i64);

/// A segment's counts: per category and brand term (by ordinal) and per
/// price band (by position in [`PRICE_BANDS`]).
struct SegmentFacets {
    category: Option<(StrColumn, Vec<u64>)>,
    brand: Option<(StrColumn, Vec<u64>)>,
    price: Option<(Column<i64>, [u64; PRICE_BANDS.len()])>,
}

impl Collector for FacetCounter {
    type Fruit = Vec<Row>;
    type Child = SegmentFacets;

    fn for_segment(
        &self,
        _segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<SegmentFacets> {
        let fast = reader.fast_fields();
        let terms = |field: &str| -> tantivy::Result<Option<(StrColumn, Vec<u64>)>> {
            Ok(fast.str(field)?.map(|column| {
                let counts = vec![0; column.num_terms()];
                (column, counts)
            }))
        };
        let asked = self.0;
        Ok(SegmentFacets {
            category: if asked.category {
                terms(index::CATEGORY)?
            } else {
                None
            },
            brand: if asked.brand {
                terms(index::BRAND)?
            } else {
                None
            },
            price: if asked.price {
                Some((fast.i64(index::PRICE)?, [0; PRICE_BANDS.len()]))
            } else {
                None
            },
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, segments: Vec<Vec<Row>>) -> tantivy::Result<Vec<Row>> {
        let mut merged: HashMap<(String, String), i64> = HashMap::new();
        for (facet, value, count) in segments.into_iter().flatten() {
            *merged.entry((facet, value)).or_default() += count;
        }
        Ok(merged
            .into_iter()
            .map(|((facet, value), count)| (facet, value, count))
            .collect())
    }
}

impl SegmentCollector for SegmentFacets {
    type Fruit = Vec<Row>;

    fn collect(&mut self, doc: DocId, _score: Score) {
        for (column, counts) in [&mut self.category, &mut self.brand].into_iter().flatten() {
            for ord in column.term_ords(doc) {
                if let Some(count) = counts.get_mut(as_usize(ord)) {
                    *count += 1;
                }
            }
        }
        if let Some((column, bands)) = &mut self.price
            && let Some(price) = column.first(doc)
        {
            let band = band_of(price);
            if let Some(at) = PRICE_BANDS.iter().position(|lower| *lower == band) {
                bands[at] += 1;
            }
        }
    }

    fn harvest(self) -> Vec<Row> {
        let mut rows = Vec::new();
        for (facet, terms) in [("category", self.category), ("brand", self.brand)] {
            let Some((column, counts)) = terms else {
                continue;
            };
            for (ord, count) in counts.into_iter().enumerate() {
                let mut value = String::new();
                if count > 0 && column.ord_to_str(ord as u64, &mut value).unwrap_or(false) {
                    rows.push((facet.to_string(), value, count as i64));
                }
            }
        }
        if let Some((_, bands)) = self.price {
            for (lower, count) in PRICE_BANDS.iter().zip(bands) {
                if count > 0 {
                    rows.push(("price".to_string(), lower.to_string(), count as i64));
                }
            }
        }
        rows
    }
}
