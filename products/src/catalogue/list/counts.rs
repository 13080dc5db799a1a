//! The `total` of a listing: exact where it is cheap, bounded elsewhere.
//!
//! * No filter, or only `category`, or only `brand`: the count the database
//!   keeps in `catalogue_counts` (fourth migration), exact, one lookup.
//! * Any other filter (or text search): the matches are counted up to a
//!   bound, `SELECT count(*) FROM (SELECT 1 ... LIMIT bound + 1)`, which
//!   reads at most `bound + 1` index entries or rows. The bound is
//!   [`EXACT_UP_TO`] or the end of the requested page, whichever is
//!   larger, so counting never costs more than serving a deep page does.
//!   Up to the bound the total is exact; beyond it `total` is the bound and
//!   `total_is_exact` is `false`: more than `total` products match.
//! * Text search (`q`): the same with [`SEARCH_EXACT_UP_TO`]: each counted
//!   match costs a text test on its row (the index gives the matches, not
//!   their number), so the bound is lower.

use sea_orm::sea_query::{Alias, Expr, Query};
use sea_orm::{ConnectionTrait, DbErr, QuerySelect, QueryTrait, Select, Statement};

use super::super::entity::Entity;

/// Matches counted exactly before a filtered total becomes a lower bound.
pub const EXACT_UP_TO: u64 = 10_000;

/// Text matches counted exactly before the total becomes a lower bound.
pub const SEARCH_EXACT_UP_TO: u64 = 200;

/// How many products match, and whether that is exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Total {
    /// The count, or its lower bound when not exact.
    pub count: u64,
    /// `false`: more than `count` products match.
    pub exact: bool,
}

/// The count the database keeps for `(facet, value)` (`("total", "")` for
/// the whole catalogue); 0 when there is no row.
pub(super) async fn maintained(
    db: &impl ConnectionTrait,
    facet: &str,
    value: &str,
) -> Result<Total, DbErr> {
    let statement = Statement::from_sql_and_values(
        db.get_database_backend(),
        match db.get_database_backend() {
            sea_orm::DbBackend::Postgres => {
                "SELECT count FROM catalogue_counts WHERE facet = $1 AND value = $2"
            }
            _ => "SELECT count FROM catalogue_counts WHERE facet = ? AND value = ?",
        },
        [facet.into(), value.into()],
    );
    let count = match db.query_one_raw(statement).await? {
        Some(row) => row.try_get_by_index::<i64>(0)?,
        None => 0,
    };
    Ok(Total {
        count: u64::try_from(count).unwrap_or(0),
        exact: true,
    })
}

/// The rows of `select` counted up to `bound` (see the module comment).
pub(super) async fn bounded(
    db: &impl ConnectionTrait,
    select: Select<Entity>,
    bound: u64,
) -> Result<Total, DbErr> {
    let probe = select
        .select_only()
        .expr(Expr::val(1))
        .limit(bound.saturating_add(1))
        .into_query();
    let mut count = Query::select();
    count
        .expr(Expr::cust("COUNT(*)"))
        .from_subquery(probe, Alias::new("matches"));
    let statement = db.get_database_backend().build(&count);
    let counted = match db.query_one_raw(statement).await? {
        Some(row) => u64::try_from(row.try_get_by_index::<i64>(0)?).unwrap_or(0),
        None => 0,
    };
    Ok(if counted > bound {
        Total {
            count: bound,
            exact: false,
        }
    } else {
        Total {
            count: counted,
            exact: true,
        }
    })
}

/// The bound for a page starting at `offset`: [`EXACT_UP_TO`], or the end
/// of the page when that is further.
pub(super) fn bound_for(offset: u64, per_page: u64) -> u64 {
    Ord::max(EXACT_UP_TO, offset.saturating_add(per_page))
}

/// The bound for a text search's page starting at `offset`:
/// [`SEARCH_EXACT_UP_TO`], or the end of the page when that is further.
pub(super) fn search_bound_for(offset: u64, per_page: u64) -> u64 {
    Ord::max(SEARCH_EXACT_UP_TO, offset.saturating_add(per_page))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bound_reaches_past_any_requested_page() {
        assert_eq!(bound_for(0, 20), EXACT_UP_TO);
        assert_eq!(bound_for(50_000, 100), 50_100);
        assert_eq!(bound_for(u64::MAX, 100), u64::MAX);
        assert_eq!(search_bound_for(0, 20), SEARCH_EXACT_UP_TO);
        assert_eq!(search_bound_for(2_000, 50), 2_050);
        const { assert!(SEARCH_EXACT_UP_TO < EXACT_UP_TO) };
    }
}
