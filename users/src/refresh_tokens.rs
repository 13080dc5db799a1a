//! Opaque refresh tokens: 256 random bits, handed out once, stored only as
//! SHA-256 hashes, rotated on every use. Tokens rotated from one login form
//! a family; presenting a revoked member (a stolen, already-used token)
//! revokes the whole family.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::Problem;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, Set, TransactionTrait,
};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::entity::refresh_token::{self, Entity as RefreshTokens};

/// A freshly issued refresh token (the only time the plain value exists).
#[derive(Debug, Clone)]
pub struct IssuedRefreshToken(pub String);

/// Why a refresh token was not accepted.
#[derive(Debug)]
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

/// Issue a token for `user_id` in `family` (a new family for a login).
pub async fn issue(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    family: Uuid,
    ttl: Duration,
) -> Result<IssuedRefreshToken, DbErr> {
    let token = new_token();
    let now = OffsetDateTime::now_utc();
    refresh_token::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        family_id: Set(family),
        token_hash: Set(hash(&token)),
        expires_at: Set(now + ttl),
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
    ttl: Duration,
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
    let next = issue(&txn, row.user_id, row.family_id, ttl).await?;
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

#[cfg(test)]
mod tests {
    use super::*;

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
