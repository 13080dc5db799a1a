//! Opaque refresh tokens: 256 random bits, handed out once, stored only as
//! SHA-256 hashes, rotated on every use. Tokens rotated from one login form
//! a family; presenting a revoked member (a stolen, already-used token)
//! revokes the whole family. A family also has an absolute end
//! (`REFRESH_FAMILY_LIFETIME`) that rotation never extends, and the rows of
//! families that can no longer be used are purged periodically.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::Problem;
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, Set, TransactionTrait,
};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::entity::refresh_token::{self, Entity as RefreshTokens};

/// A freshly issued refresh token (the only time the plain value exists;
/// `Debug` hides it).
#[derive(Clone)]
pub struct IssuedRefreshToken(pub String);

impl std::fmt::Debug for IssuedRefreshToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("IssuedRefreshToken")
            .field(&crate::redact::Redacted)
            .finish()
    }
}

/// Why a refresh token was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshRefusal {
    /// Unknown, expired or malformed.
    Invalid,
    /// Already used or revoked: its family has now been revoked.
    Reused,
}

impl From<RefreshRefusal> for Problem {
    fn from(r: RefreshRefusal) -> Self {
        match r {
            RefreshRefusal::Invalid => {
                Problem::invalid_token("the refresh token is invalid or has expired")
            }
            RefreshRefusal::Reused => Problem::invalid_token(
                "the refresh token was already used; every token of this session is now revoked",
            ),
        }
    }
}

fn hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn new_token() -> String {
    let bytes: [u8; 32] = rand::random();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// How long refresh tokens live: each token, and the family of one login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshTtl {
    /// `REFRESH_TOKEN_TTL`: one token, from its issue.
    pub token: Duration,
    /// `REFRESH_FAMILY_LIFETIME`: every token of a login, from the login.
    pub family: Duration,
}

/// Issue the first token of a new `family` for `user_id` (a login).
pub async fn issue(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    family: Uuid,
    ttl: RefreshTtl,
) -> Result<IssuedRefreshToken, DbErr> {
    let family_end = OffsetDateTime::now_utc() + ttl.family;
    insert(db, user_id, family, ttl.token, family_end).await
}

/// Insert a token of `family` living `ttl`, cut at the family's end.
async fn insert(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    family: Uuid,
    ttl: Duration,
    family_end: OffsetDateTime,
) -> Result<IssuedRefreshToken, DbErr> {
    let token = new_token();
    let now = OffsetDateTime::now_utc();
    refresh_token::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        family_id: Set(family),
        token_hash: Set(hash(&token)),
        expires_at: Set(Ord::min(now + ttl, family_end)),
        family_expires_at: Set(Some(family_end)),
        revoked_at: Set(None),
        created_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(IssuedRefreshToken(token))
}

/// The row of `token`, live or not.
pub async fn find(
    db: &impl ConnectionTrait,
    token: &str,
) -> Result<Option<refresh_token::Model>, DbErr> {
    RefreshTokens::find()
        .filter(refresh_token::Column::TokenHash.eq(hash(token)))
        .one(db)
        .await
}

/// Whether `row` may be used; a revoked row means reuse, and its whole
/// family is revoked.
pub async fn check_live(
    db: &impl ConnectionTrait,
    row: &refresh_token::Model,
) -> Result<Result<(), RefreshRefusal>, DbErr> {
    if row.revoked_at.is_some() {
        revoke_family(db, row.family_id).await?;
        tracing::warn!(user_id = %row.user_id, family = %row.family_id, "refresh token reuse: family revoked");
        return Ok(Err(RefreshRefusal::Reused));
    }
    if row.expires_at <= OffsetDateTime::now_utc() {
        return Ok(Err(RefreshRefusal::Invalid));
    }
    Ok(Ok(()))
}

/// Revoke `row` and issue its successor in the same family, atomically:
/// of two concurrent rotations of one token, one wins and the other is
/// treated as reuse.
pub async fn rotate(
    db: &DatabaseConnection,
    row: &refresh_token::Model,
    ttl: RefreshTtl,
) -> Result<Result<IssuedRefreshToken, RefreshRefusal>, DbErr> {
    let txn = db.begin().await?;
    let revoked = RefreshTokens::update_many()
        .col_expr(
            refresh_token::Column::RevokedAt,
            Expr::value(OffsetDateTime::now_utc()),
        )
        .filter(refresh_token::Column::Id.eq(row.id))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?;
    if revoked.rows_affected != 1 {
        txn.rollback().await?;
        revoke_family(db, row.family_id).await?;
        return Ok(Err(RefreshRefusal::Reused));
    }
    let family_end = row.family_expires_at.unwrap_or(row.expires_at);
    let next = insert(&txn, row.user_id, row.family_id, ttl.token, family_end).await?;
    txn.commit().await?;
    Ok(Ok(next))
}

/// Logout: revoke the session `token` belongs to. Unknown tokens are
/// ignored (RFC 7009: the outcome is the same, a dead token).
pub async fn revoke(db: &impl ConnectionTrait, token: &str) -> Result<(), DbErr> {
    if let Some(row) = find(db, token).await? {
        revoke_family(db, row.family_id).await?;
    }
    Ok(())
}

/// Revoke every live token of a family.
pub async fn revoke_family(db: &impl ConnectionTrait, family: Uuid) -> Result<u64, DbErr> {
    RefreshTokens::update_many()
        .col_expr(
            refresh_token::Column::RevokedAt,
            Expr::value(OffsetDateTime::now_utc()),
        )
        .filter(refresh_token::Column::FamilyId.eq(family))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(db)
        .await
        .map(|r| r.rows_affected)
}

/// Revoke every live token of a user (password change, deactivation).
pub async fn revoke_all_of_user(db: &impl ConnectionTrait, user_id: Uuid) -> Result<u64, DbErr> {
    RefreshTokens::update_many()
        .col_expr(
            refresh_token::Column::RevokedAt,
            Expr::value(OffsetDateTime::now_utc()),
        )
        .filter(refresh_token::Column::UserId.eq(user_id))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(db)
        .await
        .map(|r| r.rows_affected)
}

/// Delete every token of a user (the account is being deleted). The
/// foreign key cascades too; this does not rely on SQLite enforcing it.
pub async fn delete_all_of_user(db: &impl ConnectionTrait, user_id: Uuid) -> Result<u64, DbErr> {
    RefreshTokens::delete_many()
        .filter(refresh_token::Column::UserId.eq(user_id))
        .exec(db)
        .await
        .map(|r| r.rows_affected)
}

/// Delete every row of the families that can no longer be used: those
/// without a live (unrevoked, unexpired) token. Rows of a live family stay,
/// revoked ones included, because reuse of a rotated token must still be
/// recognised. Returns how many rows went.
pub async fn purge(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    let live_families = Query::select()
        .column(refresh_token::Column::FamilyId)
        .from(RefreshTokens)
        .and_where(refresh_token::Column::RevokedAt.is_null())
        .and_where(refresh_token::Column::ExpiresAt.gt(OffsetDateTime::now_utc()))
        .to_owned();
    RefreshTokens::delete_many()
        .filter(refresh_token::Column::FamilyId.not_in_subquery(live_families))
        .exec(db)
        .await
        .map(|r| r.rows_affected)
}

/// Purge every `every` until the returned task is aborted. Every replica
/// may run it: deleting dead rows twice deletes nothing the second time.
pub fn spawn_purge(db: DatabaseConnection, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        loop {
            ticks.tick().await;
            match purge(&db).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(rows = n, "purged dead refresh tokens"),
                Err(e) => tracing::warn!(error = %e, "purging refresh tokens"),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_issued_token_prints_no_token() {
        let token = new_token();
        let printed = format!("{:?}", IssuedRefreshToken(token.clone()));
        assert!(!printed.contains(&token), "{printed}");
    }

    #[test]
    fn tokens_are_random_and_hashes_are_hex_sha256() {
        let a = new_token();
        assert_ne!(a, new_token());
        assert_eq!(a.len(), 43);
        let h = hash(&a);
        assert_eq!(h.len(), 64);
        assert!(h.chars().all(|c| c.is_ascii_hexdigit()));
    }
}

#[cfg(test)]
mod purge_tests {
    use common::auth::Role;

    use super::*;
    use crate::accounts::{self, NewAccount};
    use crate::domain::Email;
    use crate::entity::user::HashedPassword;

    const TTL: RefreshTtl = RefreshTtl {
        token: Duration::from_secs(3600),
        family: Duration::from_secs(7200),
    };

    async fn database_with_a_user(
        db: &common::testing::TestDb,
    ) -> (DatabaseConnection, crate::entity::user::Model) {
        let conn = common::db::connect_and_migrate::<crate::Migrator>(&db.settings())
            .await
            .expect("database");
        let user = accounts::create(
            &conn,
            NewAccount {
                email: Email::parse("ada@example.com").expect("email"),
                password_hash: HashedPassword::new("not a real hash".to_string()),
                first_name: None,
                last_name: None,
                role: Role::Customer,
            },
        )
        .await
        .expect("account");
        (conn, user)
    }

    async fn rows(db: &DatabaseConnection) -> usize {
        RefreshTokens::find().all(db).await.expect("rows").len()
    }

    common::backend_tests! {
        async fn the_purge_deletes_dead_families_and_keeps_live_ones_whole(db) {
            let (conn, user) = database_with_a_user(&db).await;
            // A live family, rotated once: its revoked first token stays so
            // that replaying it is still recognised as reuse.
            let live = issue(&conn, user.id, Uuid::now_v7(), TTL).await.expect("issue");
            let first = find(&conn, &live.0).await.expect("find").expect("row");
            rotate(&conn, &first, TTL).await.expect("rotate").expect("rotated");
            // A logged-out family and an expired one.
            let out = issue(&conn, user.id, Uuid::now_v7(), TTL).await.expect("issue");
            revoke(&conn, &out.0).await.expect("logout");
            let short = RefreshTtl { token: Duration::ZERO, family: TTL.family };
            issue(&conn, user.id, Uuid::now_v7(), short).await.expect("issue");
            assert_eq!(rows(&conn).await, 4);

            assert_eq!(purge(&conn).await.expect("purge"), 2);
            assert_eq!(rows(&conn).await, 2);
            assert!(find(&conn, &out.0).await.expect("find").is_none());
            let replayed = find(&conn, &live.0).await.expect("find").expect("kept");
            assert!(matches!(
                check_live(&conn, &replayed).await.expect("check"),
                Err(RefreshRefusal::Reused)
            ));
            // Nothing is left to purge a second time... until the reuse
            // above revoked the live family, which is now dead too.
            assert_eq!(purge(&conn).await.expect("purge"), 2);
            assert_eq!(rows(&conn).await, 0);
        }

        async fn rotation_never_extends_the_family(db) {
            let (conn, user) = database_with_a_user(&db).await;
            let ttl = RefreshTtl { token: Duration::from_secs(3600), family: Duration::from_secs(60) };
            let token = issue(&conn, user.id, Uuid::now_v7(), ttl).await.expect("issue");
            let row = find(&conn, &token.0).await.expect("find").expect("row");
            let end = row.family_expires_at.expect("family end");
            assert_eq!(row.expires_at, end);
            let next = rotate(&conn, &row, ttl).await.expect("rotate").expect("rotated");
            let next_row = find(&conn, &next.0).await.expect("find").expect("row");
            assert_eq!(next_row.family_expires_at, Some(end));
            assert_eq!(next_row.expires_at, end);
        }
    }
}
