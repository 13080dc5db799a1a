//! Throttle counters shared by every replica: one row per bucket (a login
//! email, a client network), holding the attempts counted in its window and
//! when the window ends (Unix milliseconds, so both backends compare plain
//! integers).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ThrottleCounters {
    Table,
    Bucket,
    Hits,
    ResetsAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ThrottleCounters::Table)
                    .if_not_exists()
                    // "login-email:" + an email of at most 254 characters.
                    .col(string_len(ThrottleCounters::Bucket, 300).primary_key())
                    .col(integer(ThrottleCounters::Hits))
                    .col(big_integer(ThrottleCounters::ResetsAt))
                    .to_owned(),
            )
            .await?;
        // Expired rows are purged by `resets_at`.
        manager
            .create_index(
                Index::create()
                    .name("ix_throttle_counters_resets_at")
                    .table(ThrottleCounters::Table)
                    .col(ThrottleCounters::ResetsAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ThrottleCounters::Table).to_owned())
            .await
    }
}
