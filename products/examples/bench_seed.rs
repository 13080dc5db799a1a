//! Fill a products database with N synthetic products for benchmarks.
//!
//! `DATABASE_URL=sqlite://bench.db cargo run --release -p products --example bench_seed -- 100000`
//!
//! The database is migrated first; existing products are kept. Titles,
//! categories (10), brands (20), prices and stock (every 7th is out of
//! stock) are deterministic, so runs are comparable.

use std::time::Duration;

use common::Secret;
use common::db::DbSettings;
use products::catalogue::entity::{ActiveModel, Entity};
use products::migration::Migrator;
use sea_orm::{ActiveValue::Set, EntityTrait, TransactionTrait};

const BATCH: usize = 1_000;
const WORDS: [&str; 16] = [
    "Aurora", "Granite", "Willow", "Ember", "Harbor", "Nimbus", "Quartz", "Cedar", "Falcon",
    "Meadow", "Orbit", "Summit", "Tidal", "Velvet", "Zephyr", "Lumen",
];
const NOUNS: [&str; 12] = [
    "Lamp",
    "Kettle",
    "Backpack",
    "Headphones",
    "Jacket",
    "Notebook",
    "Skillet",
    "Tent",
    "Keyboard",
    "Mug",
    "Puzzle",
    "Speaker",
];

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let count: usize = std::env::args()
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
    let now = time::OffsetDateTime::now_utc();
    for start in (0..count).step_by(BATCH) {
        let end = (start + BATCH).min(count);
        let rows = (start..end).map(|i| {
            let title = format!(
                "{} {} {}",
                WORDS[i % WORDS.len()],
                NOUNS[(i / WORDS.len()) % NOUNS.len()],
                i
            );
            let created = now - time::Duration::seconds((count - i) as i64);
            ActiveModel {
                slug: Set(format!("bench-{}-{i}", &run[..8])),
                description: Set(format!(
                    "Synthetic product number {i} for benchmarks; a sturdy {} for everyday use.",
                    NOUNS[i % NOUNS.len()].to_lowercase()
                )),
                title: Set(title),
                price_minor: Set(((i * 7919) % 50_000 + 99) as i64),
                currency: Set("USD".to_string()),
                stock_qty: Set(if i % 7 == 0 { 0 } else { (i % 50) as i64 + 1 }),
                category: Set(format!("Category {}", i % 10)),
                brand: Set(Some(format!("Brand {}", i % 20))),
                image_url: Set(None),
                version: Set(1),
                created_at: Set(created),
                updated_at: Set(created),
                ..Default::default()
            }
        });
        let txn = db.begin().await?;
        Entity::insert_many(rows).exec(&txn).await?;
        txn.commit().await?;
    }
    println!("inserted {count} products");
    Ok(())
}
