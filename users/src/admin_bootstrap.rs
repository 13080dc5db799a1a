//! The first admin: from `ADMIN_EMAIL`/`ADMIN_PASSWORD` at start-up
//! (idempotent) or the `users create-admin` command.
//!
//! Several replicas starting together on one database all try to create the
//! admin; the unique email index lets one win, and the others read the
//! winner's row back and carry on instead of failing start-up.

use anyhow::Context;
use common::auth::Role;
use sea_orm::{ConnectionTrait, IntoActiveModel, Set};

use crate::accounts::{self, NewAccount};
use crate::config::Config;
use crate::domain::{Email, Password};
use crate::entity::user;
use crate::passwords::PasswordHashing;

/// What happened to the admin account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A new admin was created.
    Created,
    /// The account already existed and was made an active admin.
    Promoted,
    /// The account already existed as an active admin; nothing changed.
    Unchanged,
}

/// Create the configured admin when it does not exist. An existing account
/// is left as it is (its password is never reset from configuration).
pub async fn ensure_configured_admin(
    db: &impl ConnectionTrait,
    config: &Config,
    hashing: &PasswordHashing,
) -> anyhow::Result<()> {
    let Some(raw_email) = &config.admin_email else {
        return Ok(());
    };
    let email = Email::parse(raw_email)
        .map_err(|m| anyhow::anyhow!("invalid configuration: ADMIN_EMAIL: {m}"))?;
    if accounts::find_by_email(db, &email).await?.is_some() {
        tracing::info!(email = %email, "configured admin already exists");
        return Ok(());
    }
    let raw_password = config.admin_password.as_ref().ok_or_else(|| {
        anyhow::anyhow!(
            "invalid configuration: ADMIN_PASSWORD: is required to create the admin {email}"
        )
    })?;
    let password = Password::parse(raw_password.expose())
        .map_err(|m| anyhow::anyhow!("invalid configuration: ADMIN_PASSWORD: {m}"))?;
    match create(db, hashing, &email, &password).await? {
        Created::Now => tracing::info!(email = %email, "created the configured admin"),
        Created::ByAnotherReplica(_) => {
            tracing::info!(email = %email, "the configured admin was created by another replica")
        }
    }
    Ok(())
}

/// Who created the account.
enum Created {
    /// This call.
    Now,
    /// A concurrent call (another replica) between our look-up and insert.
    ByAnotherReplica(user::Model),
}

/// Insert the admin; losing a race for the email is not an error: the
/// winner's row is read back.
async fn create(
    db: &impl ConnectionTrait,
    hashing: &PasswordHashing,
    email: &Email,
    password: &Password,
) -> anyhow::Result<Created> {
    let password_hash = hashing.hash(password).await?;
    let inserted = accounts::create(
        db,
        NewAccount {
            email: email.clone(),
            password_hash,
            first_name: None,
            last_name: None,
            role: Role::Admin,
        },
    )
    .await;
    match inserted {
        Ok(_) => Ok(Created::Now),
        Err(p) if p.status == http::StatusCode::CONFLICT => {
            let winner = accounts::find_by_email(db, email).await?.ok_or_else(|| {
                anyhow::anyhow!("cannot create the admin: {email} is taken but cannot be read")
            })?;
            Ok(Created::ByAnotherReplica(winner))
        }
        Err(p) => Err(anyhow::anyhow!("cannot create the admin: {}", p.detail)),
    }
}

/// Make `email` an active admin, creating it with `password` (or a
/// generated one, returned) when it does not exist. An existing account's
/// password changes only when `password` is given.
pub async fn create_or_promote(
    db: &impl ConnectionTrait,
    hashing: &PasswordHashing,
    email: &Email,
    password: Option<Password>,
) -> anyhow::Result<(Outcome, Option<String>)> {
    if let Some(existing) = accounts::find_by_email(db, email).await? {
        return promote(db, hashing, existing, password).await;
    }
    let (password, generated) = match password {
        Some(p) => (p, None),
        None => {
            let text = generate_password();
            let p = Password::parse(&text).map_err(|m| anyhow::anyhow!(m))?;
            (p, Some(text))
        }
    };
    match create(db, hashing, email, &password).await? {
        Created::Now => Ok((Outcome::Created, generated)),
        // Someone else created the account meanwhile: make it an admin,
        // with the password asked for (a generated one was never shown).
        Created::ByAnotherReplica(existing) => {
            let password = generated.is_none().then_some(password);
            promote(db, hashing, existing, password).await
        }
    }
}

/// Make `existing` an active admin; its password changes only when given.
async fn promote(
    db: &impl ConnectionTrait,
    hashing: &PasswordHashing,
    existing: user::Model,
    password: Option<Password>,
) -> anyhow::Result<(Outcome, Option<String>)> {
    let unchanged =
        existing.is_active && accounts::role_of(&existing) == Role::Admin && password.is_none();
    if unchanged {
        return Ok((Outcome::Unchanged, None));
    }
    let mut row = existing.into_active_model();
    row.role = Set(Role::Admin.as_str().to_string());
    row.is_active = Set(true);
    if let Some(password) = &password {
        row.password_hash = Set(hashing.hash(password).await?);
    }
    accounts::update(db, row)
        .await
        .map_err(|p| anyhow::anyhow!("cannot promote the admin: {}", p.detail))?;
    Ok((Outcome::Promoted, None))
}

/// 24 random URL-safe characters (144 bits).
fn generate_password() -> String {
    use base64::Engine;
    let bytes: [u8; 18] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// `users create-admin`: connect, migrate, create or promote, print the
/// outcome (and a generated password, once).
pub async fn create_admin_command(
    config: &Config,
    raw_email: &str,
    raw_password: Option<String>,
) -> anyhow::Result<()> {
    let email = Email::parse(raw_email).map_err(|m| anyhow::anyhow!("--email: {m}"))?;
    let password = raw_password
        .map(|p| Password::parse(&p).map_err(|m| anyhow::anyhow!("password: {m}")))
        .transpose()?;
    let db = common::db::connect_and_migrate::<crate::Migrator>(&config.base.db("users"))
        .await
        .context("users database")?;
    let hashing = PasswordHashing::from_config(config)?;
    let (outcome, generated) = create_or_promote(&db, &hashing, &email, password).await?;
    match outcome {
        Outcome::Created => println!("created admin {email}"),
        Outcome::Promoted => println!("{email} is now an active admin"),
        Outcome::Unchanged => println!("{email} is already an active admin; nothing changed"),
    }
    if let Some(password) = generated {
        println!("password: {password}");
        println!("(shown once; store it now)");
    }
    Ok(())
}
