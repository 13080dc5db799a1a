//! PostgreSQL plans each catalogue statement for its own values.
//!
//! sqlx prepares every statement once per connection; after five
//! executions PostgreSQL may switch a prepared statement to a generic plan
//! made without the values. For the catalogue's listings that plan is
//! wrong in the costly direction: a brand's page by a price range, newest
//! first, became a bitmap scan of every match and a sort (40 ms at
//! 1,000,000 products, 5,144 blocks) instead of walking the brand's
//! newest-first index to the 20th match (1 ms); a word search's tier
//! likewise. Planning one of these statements takes 0.1-0.2 ms on a warm
//! connection, so the service asks for a plan per execution
//! (`plan_cache_mode = force_custom_plan`, a connection start-up option).

use common::config::Secret;
use common::db::DbSettings;

/// The start-up option, as a URL query parameter.
const OPTION: &str = "options=-c%20plan_cache_mode%3Dforce_custom_plan";

/// `settings` with custom plans asked for on a PostgreSQL URL that sets
/// no start-up `options` of its own (the operator's then stand).
pub(crate) fn ask_for_custom_plans(mut settings: DbSettings) -> DbSettings {
    if let Some(url) = with_custom_plans(settings.url.expose()) {
        settings.url = Secret::new(url);
    }
    settings
}

fn with_custom_plans(url: &str) -> Option<String> {
    let postgres = url.starts_with("postgres://") || url.starts_with("postgresql://");
    let query = url.split_once('?').map(|(_, query)| query);
    let has_options = query.is_some_and(|query| {
        query
            .split('&')
            .any(|pair| pair.split('=').next() == Some("options"))
    });
    if !postgres || has_options {
        return None;
    }
    let separator = if query.is_some() { '&' } else { '?' };
    Some(format!("{url}{separator}{OPTION}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_postgres_url_asks_for_custom_plans() {
        assert_eq!(
            with_custom_plans("postgres://u:p@db:5432/shop").as_deref(),
            Some("postgres://u:p@db:5432/shop?options=-c%20plan_cache_mode%3Dforce_custom_plan")
        );
        assert_eq!(
            with_custom_plans("postgresql://db/shop?sslmode=require").as_deref(),
            Some(
                "postgresql://db/shop?sslmode=require&options=-c%20plan_cache_mode%3Dforce_custom_plan"
            )
        );
    }

    #[test]
    fn sqlite_and_an_operators_options_are_left_alone() {
        assert_eq!(with_custom_plans("sqlite://data/products.db"), None);
        assert_eq!(
            with_custom_plans("postgres://db/shop?options=-c%20work_mem%3D64MB"),
            None
        );
    }
}
