//! A listing shows a signed-in user the published products and their own drafts. The
//! drafts branch read the owner's whole index range, checking `is_published` row by
//! row; with the flag in the index it reads only the drafts, in order, from the index
//! alone. The new index still serves every look-up by owner, so it replaces the old one.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Products {
    Table,
    Id,
    IsPublished,
    OwnerId,
    CreatedAt,
}

const OLD: &str = "ix_products_owner_created";
const NEW: &str = "ix_products_owner_published_created";

/// The index `name` on `products` over `columns`.
fn index(name: &str, columns: &[Products]) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(Products::Table);
    for column in columns {
        index.col(*column);
    }
    index.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use Products::{CreatedAt, Id, IsPublished, OwnerId};
        manager
            .create_index(index(NEW, &[OwnerId, IsPublished, CreatedAt, Id]))
            .await?;
        manager
            .drop_index(Index::drop().name(OLD).table(Products::Table).to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use Products::{CreatedAt, Id, OwnerId};
        manager
            .create_index(index(OLD, &[OwnerId, CreatedAt, Id]))
            .await?;
        manager
            .drop_index(Index::drop().name(NEW).table(Products::Table).to_owned())
            .await
    }
}
