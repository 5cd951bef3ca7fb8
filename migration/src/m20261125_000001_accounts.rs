use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub(crate) enum Users {
    Table,
    Id,
    Email,
    EmailKey,
    PasswordHash,
    PendingPasswordHash,
    PendingPasswordExpiresAt,
    PasswordChangeRequired,
    PendingEmail,
    FirstName,
    LastName,
    Avatar,
    Phone,
    Country,
    IsActive,
    IsVerified,
    IsSuperuser,
    DateJoined,
    LastLogin,
    VerificationSentAt,
    RegistrationNoticeSentAt,
}

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

#[derive(DeriveIden)]
enum UserGroups {
    Table,
    UserId,
    GroupId,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Key,
    UserId,
    Data,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum ApiTokens {
    Table,
    Id,
    UserId,
    Digest,
    CreatedAt,
    LastUsedAt,
}

fn fk(
    name: &str,
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(big_pk_auto(Users::Id))
                    .col(string_len(Users::Email, 254))
                    // The lowercased address: the case-insensitive identity, unique.
                    .col(string_len_uniq(Users::EmailKey, 254))
                    .col(string_len_null(Users::PasswordHash, 255))
                    .col(string_len_null(Users::PendingPasswordHash, 255))
                    .col(timestamp_with_time_zone_null(
                        Users::PendingPasswordExpiresAt,
                    ))
                    .col(boolean(Users::PasswordChangeRequired).default(false))
                    .col(string_len_null(Users::PendingEmail, 254))
                    .col(string_len(Users::FirstName, 150).default(""))
                    .col(string_len(Users::LastName, 150).default(""))
                    .col(string_len_null(Users::Avatar, 255))
                    .col(string_len_null(Users::Phone, 20))
                    .col(string_len_null(Users::Country, 2))
                    .col(boolean(Users::IsActive).default(false))
                    .col(boolean(Users::IsVerified).default(false))
                    .col(boolean(Users::IsSuperuser).default(false))
                    .col(timestamp_with_time_zone(Users::DateJoined))
                    .col(timestamp_with_time_zone_null(Users::LastLogin))
                    .col(timestamp_with_time_zone_null(Users::VerificationSentAt))
                    .col(timestamp_with_time_zone_null(
                        Users::RegistrationNoticeSentAt,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Groups::Table)
                    .col(big_pk_auto(Groups::Id))
                    .col(string_len_uniq(Groups::Name, 150))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Permissions::Table)
                    .col(big_pk_auto(Permissions::Id))
                    .col(string_len_uniq(Permissions::Codename, 100))
                    .col(string_len(Permissions::Name, 255))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(GroupPermissions::Table)
                    .col(big_integer(GroupPermissions::GroupId))
                    .col(big_integer(GroupPermissions::PermissionId))
                    .primary_key(
                        Index::create()
                            .col(GroupPermissions::GroupId)
                            .col(GroupPermissions::PermissionId),
                    )
                    .foreign_key(&mut fk(
                        "fk_group_permissions_group",
                        (GroupPermissions::Table, GroupPermissions::GroupId),
                        (Groups::Table, Groups::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_group_permissions_permission",
                        (GroupPermissions::Table, GroupPermissions::PermissionId),
                        (Permissions::Table, Permissions::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(UserGroups::Table)
                    .col(big_integer(UserGroups::UserId))
                    .col(big_integer(UserGroups::GroupId))
                    .primary_key(
                        Index::create()
                            .col(UserGroups::UserId)
                            .col(UserGroups::GroupId),
                    )
                    .foreign_key(&mut fk(
                        "fk_user_groups_user",
                        (UserGroups::Table, UserGroups::UserId),
                        (Users::Table, Users::Id),
                    ))
                    .foreign_key(&mut fk(
                        "fk_user_groups_group",
                        (UserGroups::Table, UserGroups::GroupId),
                        (Groups::Table, Groups::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_user_groups_group")
                    .table(UserGroups::Table)
                    .col(UserGroups::GroupId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    // A digest of the cookie value, never the value itself.
                    .col(string_len(Sessions::Key, 64).primary_key())
                    .col(big_integer_null(Sessions::UserId))
                    .col(text(Sessions::Data))
                    .col(timestamp_with_time_zone(Sessions::ExpiresAt))
                    .foreign_key(&mut fk(
                        "fk_sessions_user",
                        (Sessions::Table, Sessions::UserId),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_sessions_user")
                    .table(Sessions::Table)
                    .col(Sessions::UserId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_sessions_expires_at")
                    .table(Sessions::Table)
                    .col(Sessions::ExpiresAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ApiTokens::Table)
                    .col(big_pk_auto(ApiTokens::Id))
                    .col(big_integer(ApiTokens::UserId))
                    .col(string_len_uniq(ApiTokens::Digest, 64))
                    .col(timestamp_with_time_zone(ApiTokens::CreatedAt))
                    .col(timestamp_with_time_zone_null(ApiTokens::LastUsedAt))
                    .foreign_key(&mut fk(
                        "fk_api_tokens_user",
                        (ApiTokens::Table, ApiTokens::UserId),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_api_tokens_user")
                    .table(ApiTokens::Table)
                    .col(ApiTokens::UserId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ApiTokens::Table.into_iden(),
            Sessions::Table.into_iden(),
            UserGroups::Table.into_iden(),
            GroupPermissions::Table.into_iden(),
            Permissions::Table.into_iden(),
            Groups::Table.into_iden(),
            Users::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
