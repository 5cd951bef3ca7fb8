use sea_orm_migration::prelude::*;

use crate::SEEDED_PERMISSIONS;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Groups {
    Table,
    Id,
    Name,
}

#[derive(DeriveIden)]
enum Permissions {
    Table,
    Id,
    Codename,
    Name,
}

#[derive(DeriveIden)]
enum GroupPermissions {
    Table,
    GroupId,
    PermissionId,
}

const MODERATORS: &str = "moderators";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut permissions = Query::insert();
        permissions
            .into_table(Permissions::Table)
            .columns([Permissions::Codename, Permissions::Name]);
        for (codename, name) in SEEDED_PERMISSIONS {
            permissions.values_panic([codename.into(), name.into()]);
        }
        manager.exec_stmt(permissions.to_owned()).await?;

        manager
            .exec_stmt(
                Query::insert()
                    .into_table(Groups::Table)
                    .columns([Groups::Name])
                    .values_panic([MODERATORS.into()])
                    .to_owned(),
            )
            .await?;

        // Link the group to exactly the seeded permissions, whatever ids they received.
        let select = Query::select()
            .column((Groups::Table, Groups::Id))
            .column((Permissions::Table, Permissions::Id))
            .from(Groups::Table)
            .cross_join(Permissions::Table)
            .and_where(Expr::col((Groups::Table, Groups::Name)).eq(MODERATORS))
            .and_where(
                Expr::col((Permissions::Table, Permissions::Codename))
                    .is_in(SEEDED_PERMISSIONS.map(|(c, _)| c)),
            )
            .to_owned();
        manager
            .exec_stmt(
                Query::insert()
                    .into_table(GroupPermissions::Table)
                    .columns([GroupPermissions::GroupId, GroupPermissions::PermissionId])
                    .select_from(select)
                    .map_err(|e| DbErr::Custom(e.to_string()))?
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .exec_stmt(
                Query::delete()
                    .from_table(Groups::Table)
                    .and_where(Expr::col(Groups::Name).eq(MODERATORS))
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::delete()
                    .from_table(Permissions::Table)
                    .and_where(
                        Expr::col(Permissions::Codename).is_in(SEEDED_PERMISSIONS.map(|(c, _)| c)),
                    )
                    .to_owned(),
            )
            .await
    }
}
