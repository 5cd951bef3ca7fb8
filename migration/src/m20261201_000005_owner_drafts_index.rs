//! A listing shows a signed-in user the published products and their own drafts. The
//! drafts branch read the owner's whole index range, checking `is_published` row by
//! row; with the flag in the index it reads only the drafts, in order, from the index
//! alone. The new index still serves every look-up by owner, so it replaces the old one.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Products {
    Table,
    Id,
    IsPublished,
    OwnerId,
    CreatedAt,
}

const OLD: &str = "ix_products_owner_created";
const NEW: &str = "ix_products_owner_published_created";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(NEW)
                    .table(Products::Table)
                    .col(Products::OwnerId)
                    .col(Products::IsPublished)
                    .col(Products::CreatedAt)
                    .col(Products::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(Index::drop().name(OLD).table(Products::Table).to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(OLD)
                    .table(Products::Table)
                    .col(Products::OwnerId)
                    .col(Products::CreatedAt)
                    .col(Products::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(Index::drop().name(NEW).table(Products::Table).to_owned())
            .await
    }
}
