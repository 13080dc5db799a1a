//! `/` and `/{id}`: user administration, for admins only.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use common::Problem;
use common::auth::Role;
use common::extract::{Json, Query};
use common::fields::FieldErrors;
use sea_orm::{IntoActiveModel, Set, TransactionTrait};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::accounts::{self, ListFilter};
use crate::current_user::Admin;
use crate::refresh_tokens;
use crate::state::AppState;
use crate::user_view::UserView;

/// Largest page size; larger requests are clamped to it.
pub const MAX_PER_PAGE: u64 = 100;
const DEFAULT_PER_PAGE: u64 = 20;

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users))
        .routes(routes!(read_user, update_user, delete_user))
}

/// Query of the user list. `page` and `per_page` arrive as text and are
/// bounded here (as the products list does), so no number a client sends
/// can overflow the offset computed from them.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// 1-based page, at most 4294967295 (default 1).
    #[param(schema_with = common::input::page_number_schema)]
    pub page: Option<String>,
    /// Page size from 1 (default 20); any larger number is served as 100.
    #[param(schema_with = per_page_schema)]
    pub per_page: Option<String>,
    /// Only users with this role.
    #[param(value_type = Option<Role>)]
    pub role: Option<String>,
    /// Text contained in the email, first or last name (any case).
    pub q: Option<String>,
}

fn per_page_schema() -> utoipa::openapi::schema::Object {
    common::input::clamped_page_size_schema(DEFAULT_PER_PAGE, MAX_PER_PAGE)
}

/// One page of users.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserPage {
    /// The users on this page, oldest first.
    pub items: Vec<UserView>,
    /// How many users match in total.
    pub total: u64,
    /// This page (1-based).
    pub page: u64,
    /// The page size used (after clamping).
    pub per_page: u64,
}

/// What an admin may change about an account.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdminUpdate {
    /// New role.
    pub role: Option<Role>,
    /// `false` deactivates (the account stays, cannot sign in, and its
    /// refresh tokens are revoked), `true` reactivates.
    pub is_active: Option<bool>,
}

/// List users.
#[utoipa::path(
    get,
    path = "/",
    tag = "admin",
    security(("bearer" = [])),
    params(ListQuery),
    responses(
        (status = 200, description = "One page of users", body = UserPage),
        (status = 401, description = "Missing, invalid or expired access token"),
        (status = 403, description = "Not an admin"),
        (status = 422, description = "Invalid or unknown query parameters"),
    )
)]
async fn list_users(
    State(state): State<AppState>,
    _admin: Admin,
    Query(query): Query<ListQuery>,
) -> Result<axum::Json<UserPage>, Problem> {
    let mut fields = FieldErrors::default();
    let page = match query.page.as_deref().map(str::parse::<u32>) {
        None => 1,
        Some(Ok(p)) if p >= 1 => u64::from(p),
        Some(_) => {
            fields.reject("page", "must be a whole number from 1 to 4294967295");
            1
        }
    };
    let per_page = match query.per_page.as_deref().map(str::parse::<u64>) {
        None => DEFAULT_PER_PAGE,
        Some(Ok(n)) if n >= 1 => n.min(MAX_PER_PAGE),
        // Any larger number is clamped too, however many digits it has.
        Some(Err(_)) if query.per_page.as_deref().is_some_and(is_digits) => MAX_PER_PAGE,
        Some(_) => {
            fields.reject("per_page", "must be a whole number from 1");
            DEFAULT_PER_PAGE
        }
    };
    let role = query
        .role
        .as_deref()
        .and_then(|r| fields.check("role", r.parse::<Role>()));
    fields.finish()?;
    let filter = ListFilter {
        role,
        q: query.q,
        page,
        per_page,
    };
    let (rows, total) = accounts::list(&state.db, &filter).await?;
    Ok(axum::Json(UserPage {
        items: rows.into_iter().map(UserView::from).collect(),
        total,
        page: filter.page,
        per_page: filter.per_page,
    }))
}

/// Read a user.
#[utoipa::path(
    get,
    path = "/{id}",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "User id")),
    responses(
        (status = 200, description = "The user", body = UserView),
        (status = 401, description = "Missing, invalid or expired access token"),
        (status = 403, description = "Not an admin"),
        (status = 404, description = "No such user"),
    )
)]
async fn read_user(
    State(state): State<AppState>,
    _admin: Admin,
    Path(id): Path<String>,
) -> Result<axum::Json<UserView>, Problem> {
    let row = accounts::get(&state.db, parse_id(&id)?).await?;
    Ok(axum::Json(UserView::from(row)))
}

/// Change a user's role or active flag.
///
/// Deactivating revokes the user's refresh tokens; their access tokens stop
/// working here at once (other services refuse them when they expire).
/// Admins cannot demote or deactivate themselves (409), so there is always
/// an admin left.
#[utoipa::path(
    patch,
    path = "/{id}",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "User id")),
    request_body = AdminUpdate,
    responses(
        (status = 200, description = "The updated user", body = UserView),
        (status = 401, description = "Missing, invalid or expired access token"),
        (status = 403, description = "Not an admin"),
        (status = 404, description = "No such user"),
        (status = 409, description = "An admin demoting or deactivating themselves"),
        (status = 415, description = "Not JSON"),
        (status = 422, description = "Invalid or unknown fields"),
    )
)]
async fn update_user(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<String>,
    Json(body): Json<AdminUpdate>,
) -> Result<axum::Json<UserView>, Problem> {
    let id = parse_id(&id)?;
    let target = accounts::get(&state.db, id).await?;
    if target.id == admin.id
        && (body.is_active == Some(false) || body.role.is_some_and(|r| r != Role::Admin))
    {
        return Err(Problem::conflict(
            "admins cannot demote or deactivate themselves; ask another admin",
        ));
    }
    let deactivating = target.is_active && body.is_active == Some(false);
    let mut row = target.into_active_model();
    if let Some(role) = body.role {
        row.role = Set(role.as_str().to_string());
    }
    if let Some(active) = body.is_active {
        row.is_active = Set(active);
    }
    let txn = state.db.begin().await?;
    let updated = accounts::update(&txn, row).await?;
    if deactivating {
        refresh_tokens::revoke_all_of_user(&txn, id).await?;
    }
    txn.commit().await?;
    Ok(axum::Json(UserView::from(updated)))
}

/// Delete a user for good.
///
/// The account and its refresh tokens are removed: a later `GET` of it is
/// `404`, its email can be registered again, and its access tokens are
/// refused here at once (`401`; other services refuse them when they
/// expire). To keep the account but stop its use, deactivate it instead
/// with `PATCH {"is_active": false}`. Admins cannot delete themselves (409).
#[utoipa::path(
    delete,
    path = "/{id}",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "User id")),
    responses(
        (status = 204, description = "Deleted: the user no longer exists"),
        (status = 401, description = "Missing, invalid or expired access token"),
        (status = 403, description = "Not an admin"),
        (status = 404, description = "No such user (or already deleted)"),
        (status = 409, description = "An admin deleting themselves"),
    )
)]
async fn delete_user(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    let id = parse_id(&id)?;
    if id == admin.id {
        return Err(Problem::conflict(
            "admins cannot delete themselves; ask another admin",
        ));
    }
    let txn = state.db.begin().await?;
    refresh_tokens::delete_all_of_user(&txn, id).await?;
    if !accounts::delete(&txn, id).await? {
        return Err(Problem::not_found("no user with this id"));
    }
    txn.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Only ASCII digits (a number too large for `u64`, not a malformed one).
fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// A path id that is not a UUID names no user.
fn parse_id(raw: &str) -> Result<Uuid, Problem> {
    Uuid::parse_str(raw).map_err(|_| Problem::not_found("no user with this id"))
}
