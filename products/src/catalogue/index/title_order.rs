//! `sort=title` as a number: every product's place in title order (the
//! title lower-cased, the id breaking ties), kept as a `u64` rank in the
//! index, so a title-sorted page is a top-k over numbers.
//!
//! Sorting by the title text itself made the index turn every candidate of
//! the page's top-k back into its title (a dictionary block decoded per
//! candidate): a category page 50 deep cost ~1 ms of the service's CPU,
//! most of the browse mix's. Ranks are spaced [`SPACING`] apart when the
//! index is built; a product added or renamed later takes the middle of
//! the gap between its neighbours (after the last one: the last plus
//! [`SPACING`]). Only when a gap is used up ([`Exhausted`], after about
//! 32 insertions at the very same place) is the index rebuilt, with even
//! ranks again.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::sync::Arc;

/// The distance between neighbouring ranks after a rebuild.
pub const SPACING: u64 = 1 << 32;

/// The title order: rank by (title key, id), and each id's title key.
#[derive(Debug, Default)]
pub struct TitleOrder {
    by_title: BTreeMap<(Arc<str>, i64), u64>,
    title_of: HashMap<i64, Arc<str>>,
}

/// No rank is left between two neighbouring titles: rebuild.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("no title rank left between two neighbouring titles")]
pub struct Exhausted;

/// The key a title sorts by.
pub fn title_key(title: &str) -> String {
    title.to_lowercase()
}

impl TitleOrder {
    /// The order of `products` (id, title), ranks evenly spaced.
    pub fn evenly(products: Vec<(i64, String)>) -> TitleOrder {
        let mut keyed: Vec<(Arc<str>, i64)> = products
            .into_iter()
            .map(|(id, title)| (Arc::from(title_key(&title)), id))
            .collect();
        keyed.sort_unstable();
        let mut order = TitleOrder::default();
        for (at, (key, id)) in keyed.into_iter().enumerate() {
            let rank = (at as u64 + 1).saturating_mul(SPACING);
            order.title_of.insert(id, key.clone());
            order.by_title.insert((key, id), rank);
        }
        order
    }

    /// How many products are ordered.
    pub fn len(&self) -> usize {
        self.title_of.len()
    }

    /// Whether no product is ordered.
    pub fn is_empty(&self) -> bool {
        self.title_of.is_empty()
    }

    /// The rank of product `id`, if ordered.
    pub fn rank(&self, id: i64) -> Option<u64> {
        let key = self.title_of.get(&id)?;
        self.by_title.get(&(key.clone(), id)).copied()
    }

    /// Forget product `id` (nothing if it was not ordered).
    pub fn remove(&mut self, id: i64) {
        if let Some(key) = self.title_of.remove(&id) {
            self.by_title.remove(&(key, id));
        }
    }

    /// Place product `id` titled `title` (moving it if it was placed
    /// before) and return its rank.
    pub fn insert(&mut self, id: i64, title: &str) -> Result<u64, Exhausted> {
        let key: Arc<str> = Arc::from(title_key(title));
        let entry = (key.clone(), id);
        if let Some(rank) = self.by_title.get(&entry) {
            return Ok(*rank);
        }
        self.remove(id);
        let before = self
            .by_title
            .range(..&entry)
            .next_back()
            .map(|(_, rank)| *rank);
        let after = self
            .by_title
            .range((Bound::Excluded(&entry), Bound::Unbounded))
            .next()
            .map(|(_, rank)| *rank);
        let rank = match (before, after) {
            (None, None) => SPACING,
            (Some(low), None) => low.checked_add(SPACING).ok_or(Exhausted)?,
            (low, Some(high)) => {
                let low = low.unwrap_or(0);
                if high - low < 2 {
                    return Err(Exhausted);
                }
                low + (high - low) / 2
            }
        };
        self.title_of.insert(id, key);
        self.by_title.insert(entry, rank);
        Ok(rank)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ids in rank order.
    fn ranked(order: &TitleOrder, ids: &[i64]) -> Vec<i64> {
        let mut ids = ids.to_vec();
        ids.sort_by_key(|id| order.rank(*id).expect("ranked"));
        ids
    }

    #[test]
    fn ranks_follow_the_lower_cased_title_then_the_id() {
        let order = TitleOrder::evenly(vec![
            (1, "banana".into()),
            (2, "Apple".into()),
            (3, "apple".into()),
            (4, "cherry".into()),
        ]);
        assert_eq!(ranked(&order, &[1, 2, 3, 4]), vec![2, 3, 1, 4]);
        assert_eq!(order.rank(2), Some(SPACING));
        assert_eq!(order.len(), 4);
    }

    #[test]
    fn a_new_or_renamed_title_takes_its_place_between_its_neighbours() {
        let mut order = TitleOrder::evenly(vec![(1, "b".into()), (2, "d".into())]);
        order.insert(3, "c").expect("room");
        order.insert(4, "a").expect("room");
        order.insert(5, "e").expect("room");
        assert_eq!(ranked(&order, &[1, 2, 3, 4, 5]), vec![4, 1, 3, 2, 5]);
        order.insert(4, "f").expect("renamed");
        assert_eq!(ranked(&order, &[1, 2, 3, 4, 5]), vec![1, 3, 2, 5, 4]);
        assert_eq!(order.len(), 5, "a rename moves, it does not add");
        order.remove(3);
        assert_eq!(order.rank(3), None);
        assert_eq!(ranked(&order, &[1, 2, 4, 5]), vec![1, 2, 5, 4]);
    }

    #[test]
    fn the_same_title_again_keeps_its_rank() {
        let mut order = TitleOrder::evenly(vec![(1, "a".into()), (2, "b".into())]);
        let rank = order.rank(1);
        assert_eq!(order.insert(1, "A").ok(), rank, "same key");
    }

    #[test]
    fn a_used_up_gap_says_so_and_changes_nothing() {
        let mut order = TitleOrder::evenly(vec![(1, "a".into()), (2, "b".into())]);
        // Each title sorts just before the previous one and after "a":
        // every insertion halves the same gap.
        let mut inserted = 0;
        let mut title = String::from("az");
        let failed = loop {
            match order.insert(100 + inserted, &title) {
                Ok(_) => inserted += 1,
                Err(failed) => break failed,
            }
            title.insert(1, 'a');
        };
        assert_eq!(failed, Exhausted);
        assert!((30..=33).contains(&inserted), "{inserted} insertions");
        assert_eq!(
            order.len(),
            2 + inserted as usize,
            "the refused one was not added"
        );
        let mut ids: Vec<i64> = (100..100 + inserted).collect();
        ids.extend([1, 2]);
        let mut expected = vec![1];
        expected.extend((100..100 + inserted).rev());
        expected.push(2);
        assert_eq!(ranked(&order, &ids), expected);
    }

    #[test]
    fn an_empty_order_starts_anywhere() {
        let mut order = TitleOrder::default();
        assert!(order.is_empty());
        assert_eq!(order.insert(7, "x"), Ok(SPACING));
        assert_eq!(order.insert(8, "a"), Ok(SPACING / 2));
    }
}
