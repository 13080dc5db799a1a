//! Production refuses the placeholder secrets of the services'
//! `.env.example` files (`change-me...`): a copied example file must not
//! become a deployment with a guessable admin or database password.

use crate::ConfigError;
use crate::config::Secret;
use crate::service::AppEnv;

/// What every placeholder secret in `.env.example` contains.
const PLACEHOLDER: &str = "change-me";

/// In production, the first of `secrets` (variable, value) still holding
/// a placeholder is an error naming its variable.
pub fn refuse_placeholder_secrets(
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
