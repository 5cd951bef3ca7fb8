//! PostgreSQL only: every change to the tables a page's reads come from sends a notice
//! on the `catalog_changes` channel when its transaction commits, whoever made it (a
//! server, a command, psql). Servers keep those reads' answers until a notice comes
//! (catalog-storage's `kept` module). SQLite has no notices and keeps nothing.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The tables whose rows the kept answers are made of.
pub(crate) const WATCHED: [&str; 10] = [
    "users",
    "groups",
    "permissions",
    "group_permissions",
    "user_groups",
    "sessions",
    "api_tokens",
    "categories",
    "products",
    "versions",
];

const TRIGGER: &str = "catalog_change_notice";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        // One notice per statement, not per row, and PostgreSQL folds equal notices of
        // one transaction into one: a bulk load sends a handful.
        db.execute_unprepared(&format!(
            "CREATE OR REPLACE FUNCTION {TRIGGER}() RETURNS trigger LANGUAGE plpgsql AS $$ \
             BEGIN PERFORM pg_notify('catalog_changes', TG_TABLE_NAME); RETURN NULL; END $$"
        ))
        .await?;
        for table in WATCHED {
            db.execute_unprepared(&format!(
                "CREATE TRIGGER {TRIGGER} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE \
                 ON {table} FOR EACH STATEMENT EXECUTE FUNCTION {TRIGGER}()"
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        for table in WATCHED {
            db.execute_unprepared(&format!("DROP TRIGGER IF EXISTS {TRIGGER} ON {table}"))
                .await?;
        }
        db.execute_unprepared(&format!("DROP FUNCTION IF EXISTS {TRIGGER}()"))
            .await?;
        Ok(())
    }
}
