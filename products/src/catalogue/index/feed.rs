//! Reading the catalogue into the search index: all of it on start
//! ([`rebuild`]), then what changed ([`refresh`], from the change feed of
//! the seventh migration), in a task of its own ([`spawn_refresher`]).

use std::time::{Duration, Instant};

use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Statement, TransactionTrait,
};

use super::title_order::TitleOrder;
use super::{IndexError, SharedIndex};
use crate::catalogue::entity::{self, Column, Entity};
use crate::catalogue::store;

/// Products read per statement while rebuilding.
const BATCH: u64 = 10_000;

/// Changed products per statement while refreshing.
const CHANGED_BATCH: usize = 1_000;

/// More changed products than this since the last refresh: rebuild.
const REBUILD_ABOVE: usize = 50_000;

/// Change-feed rows kept behind the newest version (older ones are pruned).
pub const KEEP_VERSIONS: i64 = 10_000;

/// How often a replica prunes the change feed.
const PRUNE_EVERY: Duration = Duration::from_secs(60);

/// Pause after a failed refresh before the next attempt.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// Run `sql` with `values` and read the first column of each row as i64
/// (NULL as `None`).
async fn numbers(
    db: &impl ConnectionTrait,
    sql: &str,
    values: Vec<sea_orm::Value>,
) -> Result<Vec<Option<i64>>, sea_orm::DbErr> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => numbered(sql),
        _ => sql.to_string(),
    };
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    rows.iter()
        .map(|row| row.try_get_by_index::<Option<i64>>(0))
        .collect()
}

/// `?` placeholders as PostgreSQL's `$1`, `$2`, ...
fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push_str(&format!("${n}"));
        } else {
            out.push(c);
        }
    }
    out
}

/// The catalogue version and the highest pruned change-feed version.
async fn markers(db: &impl ConnectionTrait) -> Result<(i64, i64), sea_orm::DbErr> {
    let sql = "SELECT (SELECT count FROM catalogue_counts WHERE facet = 'version' AND value = ''), \
               (SELECT count FROM catalogue_counts WHERE facet = 'changes_pruned' AND value = '')";
    let statement = Statement::from_string(db.get_database_backend(), sql);
    let Some(row) = db.query_one_raw(statement).await? else {
        return Ok((0, 0));
    };
    let version = row.try_get_by_index::<Option<i64>>(0)?.unwrap_or(0);
    let pruned = row.try_get_by_index::<Option<i64>>(1)?.unwrap_or(0);
    Ok((version, pruned))
}

/// Fill the index with the whole catalogue, read in one snapshot, and mark
/// it at that snapshot's version.
pub async fn rebuild(db: &DatabaseConnection, index: &SharedIndex) -> Result<(), IndexError> {
    let started = Instant::now();
    let txn = store::read_snapshot(db).await?;
    let (version, _) = markers(&txn).await?;
    // Every title first, for evenly spaced title ranks (title_order.rs).
    let titles: Vec<(i64, String)> = Entity::find()
        .select_only()
        .column(Column::Id)
        .column(Column::Title)
        .into_tuple()
        .all(&txn)
        .await?;
    let mut titles = TitleOrder::evenly(titles);
    index.clear()?;
    let mut after = 0_i64;
    let mut count = 0_usize;
    loop {
        let rows = Entity::find()
            .filter(Column::Id.gt(after))
            .order_by_asc(Column::Id)
            .limit(BATCH)
            .all(&txn)
            .await;
        let rows = match rows {
            Ok(rows) => rows,
            Err(failed) => {
                index.discard()?;
                return Err(failed.into());
            }
        };
        let Some(last) = rows.last() else {
            break;
        };
        after = last.id;
        count += rows.len();
        if let Err(failed) = index.put_ranked(&rows, &mut titles) {
            index.discard()?;
            return Err(failed);
        }
    }
    txn.commit().await?;
    publish(index, version).await?;
    index.set_titles(titles);
    build_views(index).await?;
    tracing::info!(
        products = count,
        version,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "search index built"
    );
    Ok(())
}

/// Make the index's pending changes visible as `version`, off the async
/// threads (a commit waits for the indexing).
async fn publish(index: &SharedIndex, version: i64) -> Result<(), IndexError> {
    let index = index.clone();
    tokio::task::spawn_blocking(move || index.publish(version))
        .await
        .map_err(|failed| IndexError::Task(failed.to_string()))?
}

/// Build the sorted lists of the whole catalogue for the index's current
/// view, off the async threads.
async fn build_views(index: &SharedIndex) -> Result<(), IndexError> {
    let index = index.clone();
    tokio::task::spawn_blocking(move || index.build_views())
        .await
        .map_err(|failed| IndexError::Task(failed.to_string()))?
}

/// Run `sql` with `values` (`?` placeholders) for its effect.
async fn execute(
    db: &impl ConnectionTrait,
    sql: &str,
    values: Vec<sea_orm::Value>,
) -> Result<(), sea_orm::DbErr> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => numbered(sql),
        _ => sql.to_string(),
    };
    db.execute_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    Ok(())
}

/// Bring the index to the catalogue's current version: re-read the
/// products changed since the version it is at (a rebuild when the feed
/// was pruned past it, a `TRUNCATE` happened, or many changed).
pub async fn refresh(db: &DatabaseConnection, index: &SharedIndex) -> Result<(), IndexError> {
    let applied = index.applied();
    let (version, pruned) = markers(db).await?;
    if version == applied {
        return Ok(());
    }
    if version < applied || pruned > applied {
        return rebuild(db, index).await;
    }
    let changed = numbers(
        db,
        "SELECT DISTINCT product_id FROM catalogue_changes \
         WHERE version > ? AND version <= ? LIMIT ?",
        vec![
            applied.into(),
            version.into(),
            i64::try_from(REBUILD_ABOVE + 1).unwrap_or(i64::MAX).into(),
        ],
    )
    .await?;
    if changed.len() > REBUILD_ABOVE || changed.iter().any(Option::is_none) {
        return rebuild(db, index).await;
    }
    let ids: Vec<i64> = changed.into_iter().flatten().collect();
    let mut rows: Vec<entity::Model> = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(CHANGED_BATCH) {
        rows.extend(
            Entity::find()
                .filter(Column::Id.is_in(chunk.iter().copied()))
                .all(db)
                .await?,
        );
    }
    match index.put(&ids, &rows) {
        Ok(()) => {}
        Err(IndexError::TitlesExhausted(_)) => {
            index.discard()?;
            tracing::info!("title order out of room: rebuilding the search index");
            return rebuild(db, index).await;
        }
        Err(failed) => {
            index.discard()?;
            return Err(failed);
        }
    }
    publish(index, version).await
}

/// Delete change-feed rows more than [`KEEP_VERSIONS`] behind the newest,
/// noting the highest deleted version first (in the same transaction), so
/// a replica that had not read them rebuilds.
pub async fn prune(db: &DatabaseConnection) -> Result<(), IndexError> {
    let (version, pruned) = markers(db).await?;
    let cut = version - KEEP_VERSIONS;
    if cut <= pruned {
        return Ok(());
    }
    let txn = db.begin().await?;
    execute(
        &txn,
        "INSERT INTO catalogue_counts (facet, value, count) VALUES ('changes_pruned', '', ?) \
         ON CONFLICT (facet, value) DO UPDATE SET count = CASE \
         WHEN excluded.count > catalogue_counts.count THEN excluded.count \
         ELSE catalogue_counts.count END",
        vec![cut.into()],
    )
    .await?;
    execute(
        &txn,
        "DELETE FROM catalogue_changes WHERE version <= ?",
        vec![cut.into()],
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Keep `index` fresh until the returned task is aborted: a refresh every
/// [`super::REFRESH_EVERY`] or when a request asks for one, the sorted
/// lists of the whole catalogue rebuilt when the index changed (at most
/// every [`super::sorted::BUILD_EVERY`]), a prune every [`PRUNE_EVERY`].
pub fn spawn_refresher(db: DatabaseConnection, index: SharedIndex) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut pruned_at = Instant::now();
        let mut views_at = Instant::now();
        loop {
            tokio::select! {
                () = tokio::time::sleep(super::REFRESH_EVERY) => {}
                () = index.nudge.notified() => {}
            }
            if let Err(failed) = refresh(&db, &index).await {
                tracing::warn!(error = %failed, "search index refresh failed");
                tokio::time::sleep(RETRY_AFTER).await;
                continue;
            }
            if !index.views_current() && views_at.elapsed() >= super::sorted::BUILD_EVERY {
                views_at = Instant::now();
                if let Err(failed) = build_views(&index).await {
                    tracing::warn!(error = %failed, "sorted lists of the catalogue not built");
                }
            }
            if pruned_at.elapsed() >= PRUNE_EVERY {
                pruned_at = Instant::now();
                if let Err(failed) = prune(&db).await {
                    tracing::warn!(error = %failed, "change feed prune failed");
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_for_postgres() {
        assert_eq!(
            numbered("WHERE a > ? AND b <= ? LIMIT ?"),
            "WHERE a > $1 AND b <= $2 LIMIT $3"
        );
    }
}
