//! PostgreSQL reads a search's term entries from the index alone: the primary key of
//! `search_terms` carries each entry's weight and whether its product is published.
//!
//! Without them, every entry a search steps over cost a heap fetch, and the planner,
//! which cannot know how common a word is from a prepared statement's parameter, chose
//! a bitmap scan and a sort over all of a common word's entries (tens of milliseconds
//! a search) instead of reading its newest entries in index order (about one). With
//! the columns in the index, reading them in order is the cheapest plan whatever the
//! estimate. SQLite's `WITHOUT ROWID` table already is its primary key, columns and all.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Makes `search_terms`' primary key `(term, product_id)` with `extra` after it.
async fn primary_key(manager: &SchemaManager<'_>, extra: &str) -> Result<(), DbErr> {
    if manager.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    manager
        .get_connection()
        .execute_unprepared(&format!(
            "ALTER TABLE search_terms DROP CONSTRAINT search_terms_pkey, \
             ADD CONSTRAINT search_terms_pkey PRIMARY KEY (term, product_id){extra}"
        ))
        .await?;
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        primary_key(manager, " INCLUDE (weight, published)").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        primary_key(manager, "").await
    }
}
