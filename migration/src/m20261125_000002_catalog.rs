use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261125_000001_accounts::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Categories {
    Table,
    Id,
    Name,
    Description,
}

#[derive(DeriveIden)]
enum Products {
    Table,
    Id,
    Name,
    Description,
    Image,
    CategoryId,
    PriceCents,
    IsPublished,
    ModerationLocked,
    OwnerId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Versions {
    Table,
    Id,
    ProductId,
    Number,
    Name,
    IsCurrent,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Categories::Table)
                    .col(big_pk_auto(Categories::Id))
                    .col(string_len_uniq(Categories::Name, 100))
                    .col(text(Categories::Description).default(""))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Products::Table)
                    .col(big_pk_auto(Products::Id))
                    .col(string_len(Products::Name, 100))
                    .col(text(Products::Description).default(""))
                    .col(string_len_null(Products::Image, 255))
                    .col(big_integer(Products::CategoryId))
                    // Exact money: integer minor units, never a float.
                    .col(big_integer(Products::PriceCents))
                    .col(boolean(Products::IsPublished).default(false))
                    .col(boolean(Products::ModerationLocked).default(false))
                    .col(big_integer(Products::OwnerId))
                    .col(timestamp_with_time_zone(Products::CreatedAt))
                    .col(timestamp_with_time_zone(Products::UpdatedAt))
                    .check(Expr::col(Products::PriceCents).gte(0))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_products_category")
                            .from(Products::Table, Products::CategoryId)
                            .to(Categories::Table, Categories::Id)
                            // A category with products cannot be removed.
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_products_owner")
                            .from(Products::Table, Products::OwnerId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // Listings are newest first: everybody's (moderators), published ones, and a
        // user's own; each gets an index that matches its ORDER BY so no page scans.
        for (name, cols) in [
            (
                "ix_products_created",
                vec![Products::CreatedAt, Products::Id],
            ),
            (
                "ix_products_published_created",
                vec![Products::IsPublished, Products::CreatedAt, Products::Id],
            ),
            (
                "ix_products_owner_created",
                vec![Products::OwnerId, Products::CreatedAt, Products::Id],
            ),
            ("ix_products_category", vec![Products::CategoryId]),
        ] {
            let mut index = Index::create();
            index.name(name).table(Products::Table);
            for col in cols {
                index.col(col);
            }
            manager.create_index(index.to_owned()).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(Versions::Table)
                    .col(big_pk_auto(Versions::Id))
                    .col(big_integer(Versions::ProductId))
                    .col(string_len(Versions::Number, 20))
                    .col(string_len(Versions::Name, 100).default(""))
                    .col(boolean(Versions::IsCurrent).default(false))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_versions_product")
                            .from(Versions::Table, Versions::ProductId)
                            .to(Products::Table, Products::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_versions_product_number")
                    .table(Versions::Table)
                    .col(Versions::ProductId)
                    .col(Versions::Number)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // At most one current version per product, whatever the code above does.
        // sea-query has no partial indexes; both databases accept this statement.
        manager
            .get_connection()
            .execute_unprepared(
                r#"CREATE UNIQUE INDEX "ux_versions_one_current" ON "versions" ("product_id") WHERE "is_current""#,
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Versions::Table.into_iden(),
            Products::Table.into_iden(),
            Categories::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
