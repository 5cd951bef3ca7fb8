//! A superuser's deactivation is recorded apart from `is_active`. Registration creates
//! accounts inactive until they are verified, so `is_active = false` alone could not
//! tell "not confirmed yet" from "switched off": confirming the address turned a
//! deactivated, unverified account back on.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Deactivated,
    IsActive,
    IsVerified,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(
                        ColumnDef::new(Users::Deactivated)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .to_owned(),
            )
            .await?;
        // A verified account is inactive only because a superuser deactivated it.
        manager
            .exec_stmt(
                Query::update()
                    .table(Users::Table)
                    .value(Users::Deactivated, true)
                    .and_where(Expr::col(Users::IsActive).eq(false))
                    .and_where(Expr::col(Users::IsVerified).eq(true))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(Users::Deactivated)
                    .to_owned(),
            )
            .await
    }
}
