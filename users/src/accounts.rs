//! Queries on `users`: the only place that reads or writes account rows.
//! Handlers and the admin bootstrap alike create and change accounts through
//! [`create`] and [`update`], so `updated_at` and the taken-email `409` are
//! handled once.

use common::Problem;
use common::auth::Role;
use common::db::{UniqueKey, contains_pattern};
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, Set,
};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::Email;
use crate::entity::user::{self, Entity as Users, HashedPassword};

/// An account about to be created.
#[derive(Debug, Clone)]
pub struct NewAccount {
    /// Normalised email.
    pub email: Email,
    /// Argon2id PHC string.
    pub password_hash: HashedPassword,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Role.
    pub role: Role,
}

/// Insert `new`; a taken email is `409`.
pub async fn create(db: &impl ConnectionTrait, new: NewAccount) -> Result<user::Model, Problem> {
    let now = OffsetDateTime::now_utc();
    let row = user::ActiveModel {
        id: Set(Uuid::now_v7()),
        email: Set(new.email.as_str().to_string()),
        password_hash: Set(new.password_hash),
        first_name: Set(new.first_name),
        last_name: Set(new.last_name),
        avatar_url: Set(None),
        role: Set(new.role.as_str().to_string()),
        is_active: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
    };
    row.insert(db).await.map_err(email_taken)
}

/// The unique index on the (normalised) email.
const UNIQUE_EMAIL: UniqueKey = UniqueKey {
    name: "ux_users_email",
    columns: "users.email",
};

/// A taken email is a precise 409.
fn email_taken(err: DbErr) -> Problem {
    UNIQUE_EMAIL.or_problem(err, || {
        Problem::conflict("an account with this email already exists")
    })
}

/// The account with `email`, if any.
pub async fn find_by_email(
    db: &impl ConnectionTrait,
    email: &Email,
) -> Result<Option<user::Model>, DbErr> {
    Users::find()
        .filter(user::Column::Email.eq(email.as_str()))
        .one(db)
        .await
}

/// The account with `id`, if any.
pub async fn find_by_id(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<user::Model>, DbErr> {
    Users::find_by_id(id).one(db).await
}

/// The account with `id`, or `404`.
pub async fn get(db: &impl ConnectionTrait, id: Uuid) -> Result<user::Model, Problem> {
    find_by_id(db, id)
        .await?
        .ok_or_else(|| Problem::not_found("no user with this id"))
}

/// Save changes made to `row`, stamping `updated_at`.
pub async fn update(
    db: &impl ConnectionTrait,
    mut row: user::ActiveModel,
) -> Result<user::Model, Problem> {
    row.updated_at = Set(OffsetDateTime::now_utc());
    row.update(db).await.map_err(email_taken)
}

/// Delete the account with `id` for good (its refresh tokens go with it);
/// whether there was one.
pub async fn delete(db: &impl ConnectionTrait, id: Uuid) -> Result<bool, DbErr> {
    Users::delete_by_id(id)
        .exec(db)
        .await
        .map(|r| r.rows_affected > 0)
}

/// Which accounts to list and which page.
#[derive(Debug, Clone)]
pub struct ListFilter {
    /// Only this role.
    pub role: Option<Role>,
    /// Text contained (case-insensitively) in the email or a name.
    pub q: Option<String>,
    /// 1-based page.
    pub page: u64,
    /// Page size, already capped.
    pub per_page: u64,
}

/// One page of accounts, oldest first, and the total matching.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: &ListFilter,
) -> Result<(Vec<user::Model>, u64), DbErr> {
    let mut condition = Condition::all();
    if let Some(role) = filter.role {
        condition = condition.add(user::Column::Role.eq(role.as_str()));
    }
    if let Some(q) = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        // Emails are stored folded in Rust, so the email is compared as
        // stored; SQL `lower()` (ASCII-only on SQLite) only serves names.
        let pattern = contains_pattern(&crate::domain::fold(q));
        let name_contains =
            |col: user::Column| Expr::expr(Func::lower(Expr::col(col))).like(pattern.clone());
        condition = condition.add(
            Condition::any()
                .add(Expr::col(user::Column::Email).like(pattern.clone()))
                .add(name_contains(user::Column::FirstName))
                .add(name_contains(user::Column::LastName)),
        );
    }
    let query = Users::find()
        .filter(condition)
        .order_by_asc(user::Column::CreatedAt)
        .order_by_asc(user::Column::Id);
    let paginator = query.paginate(db, filter.per_page);
    let total = paginator.num_items().await?;
    let items = paginator.fetch_page(filter.page.saturating_sub(1)).await?;
    Ok((items, total))
}

/// The role stored in `row` (rows are only written with valid roles).
pub fn role_of(row: &user::Model) -> Role {
    row.role.parse().unwrap_or(Role::Customer)
}

#[cfg(test)]
mod tests {
    use super::*;

    common::backend_tests! {
        async fn a_taken_email_is_a_precise_409_on_every_backend(db) {
            let settings = db.settings();
            let conn = common::db::connect_and_migrate::<crate::Migrator>(&settings)
                .await
                .expect("database");
            let account = || NewAccount {
                email: Email::parse("ada@example.com").expect("email"),
                password_hash: HashedPassword::new("not a real hash".to_string()),
                first_name: None,
                last_name: None,
                role: Role::Customer,
            };
            create(&conn, account()).await.expect("first account");
            let err = create(&conn, account()).await.expect_err("taken email");
            assert_eq!(err.status, 409);
            assert_eq!(err.detail, "an account with this email already exists");
        }
    }
}
