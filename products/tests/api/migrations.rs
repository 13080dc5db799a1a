//! Several replicas starting at once on one empty database.

use common::db::connect_and_migrate;
use products::migration::Migrator;
use sea_orm::{ConnectionTrait, Statement};

common::backend_tests! {
    async fn three_replicas_migrating_one_empty_database_at_once_all_succeed_and_migrate_once(db) {
        let settings = db.settings();
        let replicas: Vec<_> = (0..3)
            .map(|_| {
                let settings = settings.clone();
                tokio::spawn(async move { connect_and_migrate::<Migrator>(&settings).await })
            })
            .collect();
        let mut connections = Vec::new();
        for replica in replicas {
            let connection = replica.await.expect("task").expect("connects and migrates");
            connections.push(connection);
        }
        let db = &connections[0];
        let backend = db.get_database_backend();
        let rows = db
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT version, COUNT(*) AS n FROM seaql_migrations GROUP BY version",
            ))
            .await
            .expect("migration history");
        let migrations = <Migrator as sea_orm_migration::MigratorTrait>::migrations();
        assert_eq!(rows.len(), migrations.len());
        for row in rows {
            let n: i64 = row.try_get("", "n").expect("count");
            assert_eq!(n, 1, "each migration recorded once");
        }
        let products = db
            .query_one_raw(Statement::from_string(backend, "SELECT COUNT(*) AS n FROM products"))
            .await
            .expect("the products table exists")
            .expect("a row");
        assert_eq!(products.try_get::<i64>("", "n").expect("count"), 0);
    }
}
