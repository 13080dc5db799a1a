//! Production refuses the placeholder secrets of `users/.env.example`
//! (`change-me...`): a copied example file must not become a deployment
//! with a guessable admin password or database password.

use common::ConfigError;
use common::config::Secret;
use common::service::AppEnv;

/// What every placeholder secret in `.env.example` contains.
const PLACEHOLDER: &str = "change-me";

/// In production, the first of `secrets` (variable, value) still holding
/// a placeholder is an error naming its variable.
pub(crate) fn refuse_in_production(
    app_env: AppEnv,
    secrets: &[(&str, Option<&Secret>)],
) -> Result<(), ConfigError> {
    if app_env != AppEnv::Production {
        return Ok(());
    }
    for (variable, value) in secrets {
        let placeholder =
            value.is_some_and(|v| v.expose().to_ascii_lowercase().contains(PLACEHOLDER));
        if placeholder {
            return Err(ConfigError::invalid(
                *variable,
                "still holds the `change-me` placeholder from .env.example; set a real secret",
            ));
        }
    }
    Ok(())
}
