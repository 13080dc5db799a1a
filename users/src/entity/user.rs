//! A row of `users`. Never serialised directly: responses go through
//! [`crate::users::UserView`], which has no password hash.

use std::fmt;

use sea_orm::entity::prelude::*;

/// An account.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    /// The user id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Normalised (trimmed, lower-case) email address.
    #[sea_orm(unique)]
    pub email: String,
    /// Argon2id PHC string.
    pub password_hash: HashedPassword,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Link to a picture.
    pub avatar_url: Option<String>,
    /// `admin`, `staff` or `customer`.
    pub role: String,
    /// Deactivated accounts cannot sign in or use their tokens here.
    pub is_active: bool,
    /// Creation time.
    pub created_at: TimeDateTimeWithTimeZone,
    /// Last change.
    pub updated_at: TimeDateTimeWithTimeZone,
}

/// Relations of `users`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The user's refresh tokens.
    #[sea_orm(has_many = "super::refresh_token::Entity")]
    RefreshTokens,
}

impl Related<super::refresh_token::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::RefreshTokens.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

/// A password's Argon2id PHC string as stored. `Debug` never prints it, so
/// neither a logged row nor a logged change leaks a hash to crack offline.
#[derive(Clone, PartialEq, Eq, DeriveValueType)]
pub struct HashedPassword(String);

impl HashedPassword {
    /// Wrap a PHC string.
    pub fn new(phc: String) -> Self {
        Self(phc)
    }

    /// The PHC string, for verifying a password against it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for HashedPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HashedPassword([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_row_and_its_changes_print_no_password_hash() {
        let hash = "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g";
        let now = time::OffsetDateTime::now_utc();
        let row = Model {
            id: Uuid::nil(),
            email: "ada@example.com".into(),
            password_hash: HashedPassword::new(hash.into()),
            first_name: None,
            last_name: None,
            avatar_url: None,
            role: "customer".into(),
            is_active: true,
            created_at: now,
            updated_at: now,
        };
        assert!(!format!("{row:?}").contains("argon2"), "{row:?}");
        let change = ActiveModel::from(row);
        assert!(!format!("{change:?}").contains("argon2"), "{change:?}");
    }
}
