//! Automatic certificates (ACME, RFC 8555) with instant-acme: one
//! certificate for `acme.domains`, validated by HTTP-01 on the plain
//! listener, kept in `acme.storage` ([`storage`]) and served by SNI beside
//! the certificate files.
//!
//! The issuer is one task: it serves the stored certificate when there is
//! one (so a restart needs no order), orders a new one when there is none
//! or two thirds of its lifetime have passed, and after a failure waits
//! `acme.retry_initial`, doubled on each further failure up to 6 hours.
//! Plain HTTP serves meanwhile. Replicas sharing the storage take turns
//! through a lock file; the others pick the certificate up from storage,
//! and answer the challenges their peer published there.

mod client;
pub(crate) mod storage;

use std::sync::Arc;
use std::time::Duration;

use instant_acme::{
    Account, AuthorizationStatus, ChallengeType, Identifier, NewAccount, NewOrder, OrderStatus,
    RetryPolicy,
};

use crate::config::AcmeConfig;
use crate::error::GatewayError;
use crate::state::Shared;
use crate::stop::Stop;
use crate::tls::certs::{self, Certificate, unix_now};
use crate::tls::{Source, TlsState};

use client::AcmeHttp;
use storage::Storage;

/// Longest wait between two looks at the storage (another replica may
/// have renewed).
const RECHECK: Duration = Duration::from_secs(3600);
/// Longest wait after failures.
const MAX_BACKOFF: Duration = Duration::from_secs(6 * 3600);
/// How long the server may take to validate and to issue.
const POLL: RetryPolicy = RetryPolicy::new()
    .initial_delay(Duration::from_millis(250))
    .backoff(1.5)
    .timeout(Duration::from_secs(120));

/// Why an order failed.
#[derive(Debug, thiserror::Error)]
enum AcmeError {
    #[error(transparent)]
    Protocol(#[from] instant_acme::Error),
    #[error("storage: {0}")]
    Storage(#[from] std::io::Error),
    #[error("the issued certificate is not usable: {0}")]
    Certificate(#[from] certs::CertError),
    #[error("{0}")]
    Other(String),
}

/// At start: check the storage can be written and serve the stored
/// certificate, if it is still good, before the listener opens.
pub(crate) fn load_stored(tls: &TlsState, config: &AcmeConfig) -> Result<(), GatewayError> {
    let storage = Storage::new(config);
    storage.prepare().map_err(|e| {
        GatewayError::Tls(format!("acme.storage {}: {e}", config.storage.display()))
    })?;
    tls.challenges.share_through(storage.http01_dir());
    if let Some(cert) = stored(&storage, config) {
        tls.store.set(Source::Acme, vec![cert]);
    }
    Ok(())
}

/// Keep a certificate for the domains until `stop`.
pub(crate) async fn run(shared: Arc<Shared>, mut stop: Stop) {
    let (Some(tls), Some(config)) = (shared.tls.clone(), shared.active.load().config.acme.clone())
    else {
        return;
    };
    let storage = Storage::new(&config);
    let mut failures = 0u32;
    loop {
        let wait = match round(&tls, &config, &storage).await {
            Ok(wait) => {
                failures = 0;
                wait
            }
            Err(e) => {
                failures = failures.saturating_add(1);
                crate::metrics::acme_order(false);
                let wait = backoff(config.retry_initial, failures);
                tracing::error!(error = %e, domains = ?config.domains, retry_in = ?wait, "ACME order failed");
                wait
            }
        };
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = stop.stopped() => return,
        }
    }
}

/// `first` doubled for each failure after the first, at most 6 hours.
fn backoff(first: Duration, failures: u32) -> Duration {
    let factor = 2u32.saturating_pow(failures.saturating_sub(1).min(20));
    first.saturating_mul(factor).min(MAX_BACKOFF)
}

/// When a certificate is due: two thirds into its lifetime (Unix seconds).
fn renew_at(cert: &Certificate) -> i64 {
    let info = &cert.info;
    info.not_before + (info.not_after - info.not_before) * 2 / 3
}

/// The stored certificate, when it loads, has not expired and covers every domain.
fn stored(storage: &Storage, config: &AcmeConfig) -> Option<Certificate> {
    let (cert, key) = storage.load_certificate()?;
    let loaded = certs::from_pem(cert.as_bytes(), key.as_bytes(), "acme", "acme key");
    match loaded {
        Ok(c) if config.domains.iter().all(|d| c.info.covers(d)) => Some(c),
        Ok(_) => None,
        Err(e) => {
            tracing::warn!(error = %e, "the stored ACME certificate is not usable; ordering a new one");
            None
        }
    }
}

/// One round: serve what storage holds, order when nothing good is there
/// or it is due; how long until the next round.
async fn round(
    tls: &TlsState,
    config: &AcmeConfig,
    storage: &Storage,
) -> Result<Duration, AcmeError> {
    let now = unix_now();
    if let Some(cert) = stored(storage, config) {
        let due = renew_at(&cert);
        install(tls, cert);
        if now < due {
            return Ok(Duration::from_secs(u64::try_from(due - now).unwrap_or(0)).min(RECHECK));
        }
        tracing::info!(domains = ?config.domains, "certificate due for renewal");
    }
    let Some(_lock) = storage.try_lock()? else {
        tracing::info!("another replica is ordering the certificate; waiting for it");
        return Ok(config.retry_initial.min(Duration::from_secs(30)));
    };
    let (chain, key) = order(tls, config, storage).await?;
    let cert = certs::from_pem(chain.as_bytes(), key.as_bytes(), "acme", "acme key")?;
    storage.save_certificate(&chain, &key)?;
    let due = renew_at(&cert);
    tracing::info!(domains = ?config.domains, expires = cert.info.not_after, "certificate obtained");
    crate::metrics::acme_order(true);
    install(tls, cert);
    Ok(Duration::from_secs(u64::try_from(due - unix_now()).unwrap_or(0)).min(RECHECK))
}

/// Serve `cert` for the domains (unless it already is).
fn install(tls: &TlsState, cert: Certificate) {
    let current = tls.store.get(Source::Acme);
    if current.first().is_some_and(|c| c.key.cert == cert.key.cert) {
        return;
    }
    tls.store.set(Source::Acme, vec![cert]);
}

/// The account: stored, or created (and stored) on first use.
async fn account(config: &AcmeConfig, storage: &Storage) -> Result<Account, AcmeError> {
    let http = Box::new(AcmeHttp::new(config.ca_file.as_deref()).map_err(AcmeError::Other)?);
    if let Some(credentials) = storage.load_account()? {
        return Ok(Account::builder_with_http(http)
            .from_credentials(credentials)
            .await?);
    }
    let contact: Vec<&str> = config.contact.iter().map(String::as_str).collect();
    let (account, credentials) = Account::builder_with_http(http)
        .create(
            &NewAccount {
                contact: &contact,
                terms_of_service_agreed: true,
                only_return_existing: false,
            },
            config.directory.clone(),
            None,
        )
        .await?;
    storage.save_account(&credentials)?;
    tracing::info!(directory = %config.directory, "ACME account created");
    Ok(account)
}

/// Order a certificate: HTTP-01 for every domain, then the chain and its key (PEM).
async fn order(
    tls: &TlsState,
    config: &AcmeConfig,
    storage: &Storage,
) -> Result<(String, String), AcmeError> {
    let account = account(config, storage).await?;
    let identifiers: Vec<Identifier> = config
        .domains
        .iter()
        .map(|d| Identifier::Dns(d.clone()))
        .collect();
    let mut order = account.new_order(&NewOrder::new(&identifiers)).await?;
    let mut published = Vec::new();
    let result = async {
        let mut authorizations = order.authorizations();
        while let Some(authorization) = authorizations.next().await {
            let mut authorization = authorization?;
            match authorization.status {
                AuthorizationStatus::Pending => {}
                AuthorizationStatus::Valid => continue,
                other => {
                    return Err(AcmeError::Other(format!("an authorization is {other:?}")));
                }
            }
            let mut challenge = authorization
                .challenge(ChallengeType::Http01)
                .ok_or_else(|| AcmeError::Other("the server offers no http-01 challenge".into()))?;
            tls.challenges
                .publish(&challenge.token, challenge.key_authorization().as_str());
            published.push(challenge.token.clone());
            challenge.set_ready().await?;
        }
        let status = order.poll_ready(&POLL).await?;
        if status != OrderStatus::Ready {
            return Err(AcmeError::Other(format!("the order is {status:?}")));
        }
        let key = order.finalize().await?;
        let chain = order.poll_certificate(&POLL).await?;
        Ok((chain, key))
    }
    .await;
    for token in published {
        tls.challenges.remove(&token);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_first_wait_up_to_six_hours() {
        let first = Duration::from_secs(60);
        assert_eq!(backoff(first, 1), first);
        assert_eq!(backoff(first, 2), Duration::from_secs(120));
        assert_eq!(backoff(first, 4), Duration::from_secs(480));
        assert_eq!(backoff(first, 30), MAX_BACKOFF);
    }
}
