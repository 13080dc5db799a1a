//! The one shape in which a user leaves the service: no password hash.

use common::auth::Role;
use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::accounts::role_of;
use crate::entity::user;

/// A user as clients see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserView {
    /// The user id.
    pub id: Uuid,
    /// Email address (normalised to lower case).
    #[schema(example = "ada@example.com")]
    pub email: String,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Link to a picture.
    pub avatar_url: Option<String>,
    /// `admin`, `staff` or `customer`.
    pub role: Role,
    /// Whether the account may sign in.
    pub is_active: bool,
    /// Creation time (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    /// Last change (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
}

impl From<user::Model> for UserView {
    fn from(row: user::Model) -> Self {
        UserView {
            role: role_of(&row),
            id: row.id,
            email: row.email,
            first_name: row.first_name,
            last_name: row.last_name,
            avatar_url: row.avatar_url,
            is_active: row.is_active,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}
