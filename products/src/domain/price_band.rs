//! Price bands: the fixed ranges the `price` facet counts products in.
//!
//! The bands are part of the schema: the database keeps a count per band
//! (`catalogue_counts`, maintained by triggers that compute the band with
//! [`band_sql`]), so changing them needs a migration that recounts.

/// Lower bounds of the bands in minor units, ascending; each band runs up
/// to the next bound (exclusive), the last one has no upper bound.
pub const PRICE_BANDS: [i64; 8] = [0, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000];

/// The band of a price in minor units: its lower bound.
pub fn band_of(price_minor: i64) -> i64 {
    PRICE_BANDS
        .iter()
        .rev()
        .copied()
        .find(|&lower| price_minor >= lower)
        .unwrap_or(0)
}

/// The upper bound (exclusive) of the band starting at `lower`, if any.
pub fn upper_of(lower: i64) -> Option<i64> {
    PRICE_BANDS.iter().copied().find(|&bound| bound > lower)
}

/// SQL (both backends) naming the band of `column` as text: its lower
/// bound in minor units, as [`band_of`] computes it.
pub fn band_sql(column: &str) -> String {
    let mut sql = String::from("CASE");
    for pair in PRICE_BANDS.windows(2) {
        sql.push_str(&format!(" WHEN {column} < {} THEN '{}'", pair[1], pair[0]));
    }
    let last = PRICE_BANDS[PRICE_BANDS.len() - 1];
    sql.push_str(&format!(" ELSE '{last}' END"));
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_price_falls_in_the_band_below_it() {
        assert_eq!(band_of(0), 0);
        assert_eq!(band_of(999), 0);
        assert_eq!(band_of(1_000), 1_000);
        assert_eq!(band_of(2_499), 1_000);
        assert_eq!(band_of(9_999_999_999), 100_000);
        assert_eq!(upper_of(0), Some(1_000));
        assert_eq!(upper_of(100_000), None);
    }

    #[test]
    fn the_sql_names_the_same_bands() {
        let sql = band_sql("p");
        assert!(sql.starts_with("CASE WHEN p < 1000 THEN '0' WHEN p < 2500 THEN '1000'"));
        assert!(sql.ends_with("WHEN p < 100000 THEN '50000' ELSE '100000' END"));
    }
}
