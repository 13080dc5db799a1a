//! The whole catalogue in each sort order, in memory: a page without a
//! filter is a slice of one of these lists, not a walk of a database
//! index (a deep page of the whole catalogue, `OFFSET` in the thousands,
//! was the browse mix's largest cost on PostgreSQL).
//!
//! The lists belong to one view of the index (a tantivy searcher
//! generation). The refresher builds them after the index changed, at most
//! once per [`BUILD_EVERY`] (a sort of every product: ~10 ms per 100,000);
//! until they match the current view, the database answers such pages as
//! before ([`SortedViews::page`] returns `None`).

use std::time::Duration;

use tantivy::{DocAddress, Searcher};

use super::{CREATED, ID, PRICE, TITLE_RANK};

/// Least time between two builds of the lists.
pub const BUILD_EVERY: Duration = Duration::from_secs(1);

/// A sort of the whole catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// `price`.
    Price,
    /// `created_at`.
    Created,
    /// `title` (the title rank).
    Title,
}

/// Every product's document in ascending order of each [`Key`], the id
/// breaking ties (descending orders are the same lists read backwards).
#[derive(Debug)]
pub struct SortedViews {
    generation: u64,
    price: Vec<DocAddress>,
    created: Vec<DocAddress>,
    title: Vec<DocAddress>,
}

/// One product's sort columns and document.
struct Row {
    price: i64,
    created: i64,
    title: u64,
    id: u64,
    address: DocAddress,
}

/// The documents of `rows` in ascending `key` order.
fn ordered(rows: &mut [Row], key: impl Fn(&Row) -> (i128, u64)) -> Vec<DocAddress> {
    rows.sort_unstable_by_key(|row| key(row));
    rows.iter().map(|row| row.address).collect()
}

impl SortedViews {
    /// The lists of `searcher`'s view of the index.
    pub fn build(searcher: &Searcher) -> tantivy::Result<SortedViews> {
        let mut rows: Vec<Row> =
            Vec::with_capacity(usize::try_from(searcher.num_docs()).unwrap_or(0));
        for (ordinal, segment) in searcher.segment_readers().iter().enumerate() {
            let fast = segment.fast_fields();
            let (id, price, created, title) = (
                fast.u64(ID)?,
                fast.i64(PRICE)?,
                fast.i64(CREATED)?,
                fast.u64(TITLE_RANK)?,
            );
            let segment_ord = u32::try_from(ordinal).unwrap_or(u32::MAX);
            for doc in segment.doc_ids_alive() {
                rows.push(Row {
                    price: price.first(doc).unwrap_or(0),
                    created: created.first(doc).unwrap_or(0),
                    title: title.first(doc).unwrap_or(0),
                    id: id.first(doc).unwrap_or(0),
                    address: DocAddress::new(segment_ord, doc),
                });
            }
        }
        let price = ordered(&mut rows, |row| (i128::from(row.price), row.id));
        let created = ordered(&mut rows, |row| (i128::from(row.created), row.id));
        let title = ordered(&mut rows, |row| (i128::from(row.title), row.id));
        Ok(SortedViews {
            generation: searcher.generation().generation_id(),
            price,
            created,
            title,
        })
    }

    /// Whether these lists are of `searcher`'s view.
    pub fn is_of(&self, searcher: &Searcher) -> bool {
        self.generation == searcher.generation().generation_id()
    }

    /// The documents of `[offset, offset + count)` in `key` order,
    /// descending when `descending`; `None` when these lists are not of
    /// `searcher`'s view.
    pub fn page(
        &self,
        searcher: &Searcher,
        key: Key,
        descending: bool,
        offset: u64,
        count: u64,
    ) -> Option<Vec<DocAddress>> {
        if !self.is_of(searcher) {
            return None;
        }
        let list = match key {
            Key::Price => &self.price,
            Key::Created => &self.created,
            Key::Title => &self.title,
        };
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(list.len());
        let end = usize::try_from(offset.saturating_add(count))
            .unwrap_or(usize::MAX)
            .min(list.len());
        Some(if descending {
            list.iter()
                .rev()
                .skip(start)
                .take(end - start)
                .copied()
                .collect()
        } else {
            list[start..end].to_vec()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::entity;
    use crate::catalogue::index::SearchIndex;

    fn product(id: i64, title: &str, price_minor: i64, created_s: i64) -> entity::Model {
        let created = time::OffsetDateTime::from_unix_timestamp(created_s).expect("time");
        entity::Model {
            id,
            title: title.into(),
            slug: format!("p{id}"),
            description: String::new(),
            price_minor,
            currency: "USD".into(),
            stock_qty: 1,
            category: "c".into(),
            brand: None,
            image_url: None,
            version: 1,
            created_at: created,
            updated_at: created,
        }
    }

    /// The ids of a page of the whole catalogue.
    fn ids(index: &SearchIndex, key: Key, descending: bool, offset: u64, count: u64) -> Vec<u64> {
        let (searcher, page) = index
            .whole_catalogue(key, descending, offset, count)
            .expect("lists of the current view");
        page.into_iter()
            .map(|address| {
                let reader = searcher.segment_reader(address.segment_ord);
                let id = reader.fast_fields().u64(ID).expect("id column");
                id.first(address.doc_id).expect("id")
            })
            .collect()
    }

    #[test]
    fn pages_of_the_whole_catalogue_follow_each_sort_and_the_current_view_only() {
        let index = SearchIndex::empty().expect("index");
        let rows = [
            product(1, "Cherry", 300, 10),
            product(2, "apple", 100, 30),
            product(3, "Banana", 100, 20),
            product(4, "banana", 900, 20),
        ];
        index.put(&[], &rows).expect("put");
        index.publish(1).expect("publish");
        assert!(!index.views_current(), "not built yet");
        assert!(index.whole_catalogue(Key::Price, false, 0, 10).is_none());
        index.build_views().expect("build");
        assert!(index.views_current());
        // Ties broken by id, in the same direction.
        assert_eq!(ids(&index, Key::Price, false, 0, 10), [2, 3, 1, 4]);
        assert_eq!(ids(&index, Key::Price, true, 0, 10), [4, 1, 3, 2]);
        assert_eq!(ids(&index, Key::Created, true, 0, 10), [2, 4, 3, 1]);
        assert_eq!(ids(&index, Key::Title, false, 0, 10), [2, 3, 4, 1]);
        assert_eq!(ids(&index, Key::Title, true, 1, 2), [4, 3], "a page inside");
        assert!(
            ids(&index, Key::Title, true, 4, 2).is_empty(),
            "past the end"
        );
        // A new view of the index: the lists are stale until rebuilt.
        index
            .put(&[1], &[product(1, "Cherry", 50, 10)])
            .expect("put");
        index.publish(2).expect("publish");
        assert!(index.whole_catalogue(Key::Price, false, 0, 10).is_none());
        index.build_views().expect("build");
        assert_eq!(ids(&index, Key::Price, false, 0, 10), [1, 2, 3, 4]);
    }
}
