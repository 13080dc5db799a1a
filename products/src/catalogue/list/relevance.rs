//! A word search's page in relevance order, read tier by tier
//! ([`super::search::tiers`]): each tier is the matches that meet its
//! condition and no earlier one's, newest first, so the database walks the
//! primary key (or a tier's few matches) and stops at the page's end
//! instead of scoring and sorting every match. A tier that ends before the
//! page starts is counted (at most up to the page's offset) to know how
//! far into the next one the page begins.

use sea_orm::sea_query::{ExprTrait, SimpleExpr};
use sea_orm::{ConnectionTrait, DbErr, QueryFilter, QueryOrder, QuerySelect};

use super::super::entity::{self, Column};
use super::counts;
use super::params::Listing;
use super::search::{self, Matching};

/// The rows of `listing`'s page for `q` matched as words, best first.
pub(super) async fn page(
    db: &impl ConnectionTrait,
    listing: &Listing,
    q: &str,
) -> Result<Vec<entity::Model>, DbErr> {
    let backend = db.get_database_backend();
    let mut skip = listing.offset();
    let mut wanted = listing.per_page;
    let mut rows: Vec<entity::Model> = Vec::new();
    let mut earlier: Vec<SimpleExpr> = Vec::new();
    for tier in search::tiers(q, backend) {
        if wanted == 0 {
            break;
        }
        let mut select = listing
            .filtered(backend, Some(Matching::Words))
            .filter(tier.clone());
        for before in &earlier {
            select = select.filter(before.clone().not());
        }
        earlier.push(tier);
        let found = select
            .clone()
            .order_by_desc(Column::Id)
            .offset(skip)
            .limit(wanted)
            .all(db)
            .await?;
        if found.is_empty() {
            if skip > 0 {
                // The tier ends before the page: it has at most `skip` rows.
                skip -= counts::bounded(db, select, skip).await?.count;
            }
            continue;
        }
        skip = 0;
        wanted = wanted.saturating_sub(found.len() as u64);
        rows.extend(found);
    }
    Ok(rows)
}
