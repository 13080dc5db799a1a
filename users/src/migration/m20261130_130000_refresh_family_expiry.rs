//! Refresh-token families get an absolute end (`REFRESH_FAMILY_LIFETIME`).
//! Rows issued before have none: each keeps its own `expires_at` as its
//! family's end, so no session outlives what it was promised then.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    FamilyExpiresAt,
    ExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(RefreshTokens::Table)
                    .add_column(timestamp_with_time_zone_null(
                        RefreshTokens::FamilyExpiresAt,
                    ))
                    .to_owned(),
            )
            .await?;
        // The purge looks for families without a live token.
        manager
            .create_index(
                Index::create()
                    .name("ix_refresh_tokens_expires_at")
                    .table(RefreshTokens::Table)
                    .col(RefreshTokens::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_refresh_tokens_expires_at")
                    .table(RefreshTokens::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(RefreshTokens::Table)
                    .drop_column(RefreshTokens::FamilyExpiresAt)
                    .to_owned(),
            )
            .await
    }
}
