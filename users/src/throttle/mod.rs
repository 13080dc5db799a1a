//! Throttling of password guesses and registrations, shared by every
//! replica through the users database.
//!
//! * Password attempts (login, and the current password of a password
//!   change): `LOGIN_MAX_FAILURES_PER_EMAIL` failures in a row lock the
//!   account for `LOGIN_LOCKOUT` after the last one;
//!   `LOGIN_MAX_FAILURES_PER_IP_PER_MINUTE` failures from one client in a
//!   fixed one-minute window block that client until the window ends.
//! * Registrations: `REGISTER_MAX_PER_IP_PER_HOUR` from one client in a
//!   fixed one-hour window.
//!
//! An attempt is reserved (counted as a failure) *before* the password is
//! hashed, so parallel guesses cannot all pass a check before any failure
//! is recorded; a right password then gives its reservation back.

mod buckets;
mod store;

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use common::Problem;
use sea_orm::{DatabaseConnection, DbErr, TransactionTrait};

use store::Limit;

const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);
/// Every this many reservations, a replica deletes the expired buckets.
const PURGE_EVERY: u64 = 256;

/// Throttling thresholds.
#[derive(Debug, Clone, Copy)]
pub struct ThrottleSettings {
    /// Failures in a row that lock an email.
    pub max_failures_per_email: u32,
    /// How long a locked email stays locked (after its last failure).
    pub lockout: Duration,
    /// Failures one client may make per minute.
    pub max_failures_per_ip_per_minute: u32,
    /// Registrations one client may make per hour.
    pub max_registrations_per_ip_per_hour: u32,
}

/// Why an attempt may not go ahead.
#[derive(Debug, thiserror::Error)]
pub enum ThrottleError {
    /// A bucket is full; try again after this long.
    #[error("too many attempts; retry after {0:?}")]
    Refused(Duration),
    /// The counters could not be read or written.
    #[error("throttle counters: {0}")]
    Store(#[from] DbErr),
}

impl ThrottleError {
    /// The response: `429` with `Retry-After` and `detail`, or a `500`.
    pub fn into_problem(self, detail: &str) -> Problem {
        match self {
            ThrottleError::Refused(wait) => Problem::too_many_requests(detail, wait),
            ThrottleError::Store(e) => Problem::from(e),
        }
    }
}

/// Counters in the users database.
#[derive(Debug)]
pub struct Throttle {
    db: DatabaseConnection,
    settings: ThrottleSettings,
    reservations: AtomicU64,
}

impl Throttle {
    /// Counters kept in `db` (the `throttle_counters` table).
    pub fn new(db: DatabaseConnection, settings: ThrottleSettings) -> Self {
        Self {
            db,
            settings,
            reservations: AtomicU64::new(0),
        }
    }

    /// Count a password attempt for `email` from `ip` as a failure, or
    /// refuse it when either the account or the client is over its limit
    /// (then nothing is counted). Call [`Self::password_accepted`] when the
    /// password turns out right.
    pub async fn reserve_password_attempt(
        &self,
        email: &str,
        ip: IpAddr,
    ) -> Result<(), ThrottleError> {
        let now = now_millis();
        let client = buckets::login_client(ip);
        let account = buckets::login_email(email);
        let client_limit = Limit {
            max: self.settings.max_failures_per_ip_per_minute,
            window: MINUTE,
            sliding: false,
        };
        let account_limit = Limit {
            max: self.settings.max_failures_per_email,
            window: self.settings.lockout,
            sliding: true,
        };
        // Both or neither: a refused attempt must not use up the other
        // bucket. Always client first, so two transactions never wait on
        // each other's rows in opposite orders.
        let txn = self.db.begin().await?;
        let refused = if !store::reserve(&txn, &client, client_limit, now).await? {
            Some(client)
        } else if !store::reserve(&txn, &account, account_limit, now).await? {
            Some(account)
        } else {
            None
        };
        match refused {
            None => {
                txn.commit().await?;
                self.purge_now_and_then(now).await;
                Ok(())
            }
            Some(bucket) => {
                txn.rollback().await?;
                let wait = store::retry_after(&self.db, &bucket, now).await?;
                Err(ThrottleError::Refused(wait))
            }
        }
    }

    /// The password was right: the account's run of failures ends, and the
    /// client's reservation is given back (only failures count per client).
    pub async fn password_accepted(&self, email: &str, ip: IpAddr) -> Result<(), DbErr> {
        store::clear(&self.db, &buckets::login_email(email)).await?;
        store::refund(&self.db, &buckets::login_client(ip), now_millis()).await
    }

    /// Count a registration from `ip`, or refuse it when the client has
    /// registered too often this hour.
    pub async fn reserve_registration(&self, ip: IpAddr) -> Result<(), ThrottleError> {
        let now = now_millis();
        let bucket = buckets::registration_client(ip);
        let limit = Limit {
            max: self.settings.max_registrations_per_ip_per_hour,
            window: HOUR,
            sliding: false,
        };
        if !store::reserve(&self.db, &bucket, limit, now).await? {
            let wait = store::retry_after(&self.db, &bucket, now).await?;
            return Err(ThrottleError::Refused(wait));
        }
        self.purge_now_and_then(now).await;
        Ok(())
    }

    /// Expired buckets are deleted by whichever replica happens to be
    /// counting, so the table holds only the last window's clients.
    async fn purge_now_and_then(&self, now: i64) {
        if !self
            .reservations
            .fetch_add(1, Ordering::Relaxed)
            .is_multiple_of(PURGE_EVERY)
        {
            return;
        }
        if let Err(e) = store::purge_expired(&self.db, now).await {
            tracing::warn!(error = %e, "purging expired throttle counters");
        }
    }
}

/// Unix time in milliseconds. Replicas compare each other's times, so
/// their clocks must agree (NTP); a skew shifts windows by as much.
fn now_millis() -> i64 {
    let nanos = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
    i64::try_from(nanos / 1_000_000).unwrap_or(i64::MAX)
}
