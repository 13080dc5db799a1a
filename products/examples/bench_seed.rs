//! Fill a products database with N synthetic products for benchmarks.
//!
//! `DATABASE_URL=sqlite://bench.db cargo run --release -p products --example bench_seed -- 100000`
//!
//! The database is migrated first; existing products are kept. The rows are
//! made by the database itself ([`products::synthetic`]): titles,
//! categories (10), brands (20), prices and stock (every 7th is out of
//! stock) are deterministic, so runs are comparable. Prints the time taken.

use std::time::{Duration, Instant};

use common::Secret;
use common::db::DbSettings;
use products::migration::Migrator;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let count: u64 = std::env::args()
        .nth(1)
        .map(|n| n.parse())
        .transpose()?
        .unwrap_or(1_000);
    let url = std::env::var("DATABASE_URL")
        .map_err(|_| anyhow::anyhow!("DATABASE_URL: is required but not set"))?;
    let settings = DbSettings {
        url: Secret::new(url),
        max_connections: 2,
        connect_timeout: Duration::from_secs(5),
        startup_timeout: Duration::from_secs(30),
    };
    let db = common::db::connect_and_migrate::<Migrator>(&settings).await?;
    let run = uuid::Uuid::new_v4().simple().to_string();
    let started = Instant::now();
    products::synthetic::insert(&db, count, &run[..8]).await?;
    println!(
        "inserted {count} products in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
