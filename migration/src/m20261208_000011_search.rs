//! Finding products: each product's search document and the index of its terms, both
//! written by the storage crate from terms built in Rust (catalog-domain's
//! `product::search`), so that both databases find the same products in the same
//! order; and the indexes the listing's filters and orders read. Each term entry
//! carries whether its product is published, so that a search for a common word reads
//! its matches from the terms alone, without a product row each.
//!
//! The documents of products stored before this migration are written by
//! `catalog migrate` right after it (and by `catalog search reindex`): building them
//! needs the stemmers, which live in Rust, not in SQL.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Each index: its name and its columns, `name` in byte order on PostgreSQL (as SQLite
/// compares text), so that both order names alike.
const INDEXES: [(&str, &str); 5] = [
    (
        "ix_products_category_published_created",
        "category_id, is_published, created_at, id",
    ),
    (
        "ix_products_published_price",
        "is_published, price_cents, id",
    ),
    (
        "ix_products_category_published_price",
        "category_id, is_published, price_cents, id",
    ),
    ("ix_products_published_name", "is_published, name {C}, id"),
    (
        "ix_products_category_published_name",
        "category_id, is_published, name {C}, id",
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let postgres = manager.get_database_backend() == DbBackend::Postgres;
        if postgres {
            db.execute_unprepared(
                "CREATE TABLE product_search (\
                 product_id BIGINT PRIMARY KEY REFERENCES products(id) ON DELETE CASCADE, \
                 document TEXT NOT NULL)",
            )
            .await?;
            // No foreign key: checking it on every entry of a bulk load would cost more
            // than the rows, and the reads join the products anyway; a product's
            // entries go with it in the same transaction.
            db.execute_unprepared(
                "CREATE TABLE search_terms (term TEXT COLLATE \"C\" NOT NULL, \
                 product_id BIGINT NOT NULL, weight SMALLINT NOT NULL, published BOOLEAN NOT NULL, \
                 PRIMARY KEY (term, product_id))",
            )
            .await?;
        } else {
            db.execute_unprepared(
                "CREATE TABLE product_search (\
                 product_id INTEGER PRIMARY KEY REFERENCES products(id) ON DELETE CASCADE, \
                 document TEXT NOT NULL)",
            )
            .await?;
            db.execute_unprepared(
                "CREATE TABLE search_terms (term TEXT NOT NULL, product_id INTEGER NOT NULL, \
                 weight INTEGER NOT NULL, published BOOLEAN NOT NULL, \
                 PRIMARY KEY (term, product_id)) WITHOUT ROWID",
            )
            .await?;
        }
        let c = if postgres { " COLLATE \"C\"" } else { "" };
        for (name, columns) in INDEXES {
            let columns = columns.replace(" {C}", c);
            db.execute_unprepared(&format!("CREATE INDEX {name} ON products ({columns})"))
                .await?;
        }
        // The category index is now the first part of a wider one.
        db.execute_unprepared("DROP INDEX ix_products_category")
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("CREATE INDEX ix_products_category ON products (category_id)")
            .await?;
        for (name, _) in INDEXES {
            db.execute_unprepared(&format!("DROP INDEX {name}")).await?;
        }
        db.execute_unprepared("DROP TABLE search_terms").await?;
        db.execute_unprepared("DROP TABLE product_search").await?;
        Ok(())
    }
}
