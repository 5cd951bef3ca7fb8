//! The schema of catalog and the rows every database must have (the permissions and
//! the `moderators` group). Migrations run in order and each can be reverted.

pub use sea_orm_migration::prelude::*;

mod m20261125_000001_accounts;
mod m20261125_000002_catalog;
mod m20261125_000003_mail_outbox;
mod m20261125_000004_seed_moderators;
mod m20261201_000005_owner_drafts_index;
mod m20261205_000006_change_notices;
mod m20261207_000007_deactivated_accounts;
mod m20261207_000008_product_revisions;
mod m20261207_000009_product_images_index;
mod m20261207_000010_languages;
mod m20261208_000011_search;
mod m20261208_000012_covering_search_terms;

#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_accounts::Migration),
            Box::new(m20261125_000002_catalog::Migration),
            Box::new(m20261125_000003_mail_outbox::Migration),
            Box::new(m20261125_000004_seed_moderators::Migration),
            Box::new(m20261201_000005_owner_drafts_index::Migration),
            Box::new(m20261205_000006_change_notices::Migration),
            Box::new(m20261207_000007_deactivated_accounts::Migration),
            Box::new(m20261207_000008_product_revisions::Migration),
            Box::new(m20261207_000009_product_images_index::Migration),
            Box::new(m20261207_000010_languages::Migration),
            Box::new(m20261208_000011_search::Migration),
            Box::new(m20261208_000012_covering_search_terms::Migration),
        ]
    }
}

/// The permission codenames the seed migration creates; kept here so the storage tests
/// can check them against the domain's list.
pub const SEEDED_PERMISSIONS: [(&str, &str); 3] = [
    ("catalog.unpublish_product", "Can unpublish any product"),
    (
        "catalog.change_product_description",
        "Can change the description of any product",
    ),
    (
        "catalog.change_product_category",
        "Can change the category of any product",
    ),
];

/// The tables whose changes PostgreSQL announces on the `catalog_changes` channel.
pub const ANNOUNCED_TABLES: [&str; 10] = m20261205_000006_change_notices::WATCHED;
