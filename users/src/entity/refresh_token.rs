//! A row of `refresh_tokens`: the SHA-256 of an opaque token, never the token.

use sea_orm::entity::prelude::*;

/// One issued refresh token.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "refresh_tokens")]
pub struct Model {
    /// Row id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Owner.
    pub user_id: Uuid,
    /// Tokens rotated from the same login share a family.
    pub family_id: Uuid,
    /// Hex SHA-256 of the token.
    #[sea_orm(unique)]
    pub token_hash: String,
    /// After this the token is refused (never after `family_expires_at`).
    pub expires_at: TimeDateTimeWithTimeZone,
    /// The family's absolute end, set at login and kept by every rotation.
    /// `None` on rows issued before it existed: their `expires_at` is then
    /// the family's end.
    pub family_expires_at: Option<TimeDateTimeWithTimeZone>,
    /// Set when rotated, logged out or revoked.
    pub revoked_at: Option<TimeDateTimeWithTimeZone>,
    /// Issue time.
    pub created_at: TimeDateTimeWithTimeZone,
}

/// Relations of `refresh_tokens`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The owner.
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::UserId",
        to = "super::user::Column::Id",
        on_delete = "Cascade"
    )]
    User,
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
