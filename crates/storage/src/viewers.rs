//! The reads every request makes: who is asking and what they may do. Each is one
//! round trip — a session or an API token joined to its user and to the codenames their
//! groups grant (one row per grant, or a single row when there is none) — because on a
//! page that does little else, every extra query is a large share of its cost.

use std::collections::BTreeSet;

use catalog_domain::Timestamp;
use catalog_domain::access::Permission;
use catalog_domain::ports::{RepoError, SessionRecord, UserWithPermissions};
use catalog_domain::user::UserId;
use sea_orm::DbBackend;
use sea_orm::sea_query::{Expr, ExprTrait, JoinType, Query, SelectStatement};

use crate::cells::{Cells, present};
use crate::entities::{api_token, group_permission, permission, session, user, user_group};
use crate::error::corrupt;
use crate::hot::{HotRead, Template, param, select_list};
use crate::{Store, convert};

select_list! {
    /// The user's columns of a [`with_grants`] row, and the grant it carries.
    mod user_columns {
        ID = "users.id" as "id",
        EMAIL = "users.email" as "email",
        EMAIL_KEY = "users.email_key" as "email_key",
        PASSWORD_HASH = "users.password_hash" as "password_hash",
        PENDING_PASSWORD_HASH = "users.pending_password_hash" as "pending_password_hash",
        PENDING_PASSWORD_EXPIRES_AT = "users.pending_password_expires_at"
            as "pending_password_expires_at",
        PASSWORD_CHANGE_REQUIRED = "users.password_change_required"
            as "password_change_required",
        PENDING_EMAIL = "users.pending_email" as "pending_email",
        FIRST_NAME = "users.first_name" as "first_name",
        LAST_NAME = "users.last_name" as "last_name",
        AVATAR = "users.avatar" as "avatar",
        PHONE = "users.phone" as "phone",
        COUNTRY = "users.country" as "country",
        IS_ACTIVE = "users.is_active" as "is_active",
        IS_VERIFIED = "users.is_verified" as "is_verified",
        IS_SUPERUSER = "users.is_superuser" as "is_superuser",
        DATE_JOINED = "users.date_joined" as "date_joined",
        LAST_LOGIN = "users.last_login" as "last_login",
        VERIFICATION_SENT_AT = "users.verification_sent_at" as "verification_sent_at",
        REGISTRATION_NOTICE_SENT_AT = "users.registration_notice_sent_at"
            as "registration_notice_sent_at",
        DEACTIVATED = "users.deactivated" as "deactivated",
        LANGUAGE = "users.language" as "language",
        GRANT = "permissions.codename" as "grant_codename",
    }
}

select_list! {
    /// The session's columns of a [`Store::session_with_user`] row.
    mod session_columns {
        KEY = "sessions.key" as "s_key",
        USER_ID = "sessions.user_id" as "s_user_id",
        DATA = "sessions.data" as "s_data",
        EXPIRES_AT = "sessions.expires_at" as "s_expires_at",
    }
}

/// Adds the user's columns and their grants to a query that joins `users` already.
fn with_grants(query: &mut SelectStatement) -> &mut SelectStatement {
    query
        .expr(Expr::cust(user_columns::LIST))
        .join(
            JoinType::LeftJoin,
            user_group::Entity,
            Expr::col((user_group::Entity, user_group::Column::UserId))
                .equals((user::Entity, user::Column::Id)),
        )
        .join(
            JoinType::LeftJoin,
            group_permission::Entity,
            Expr::col((group_permission::Entity, group_permission::Column::GroupId))
                .equals((user_group::Entity, user_group::Column::GroupId)),
        )
        .join(
            JoinType::LeftJoin,
            permission::Entity,
            Expr::col((permission::Entity, permission::Column::Id)).equals((
                group_permission::Entity,
                group_permission::Column::PermissionId,
            )),
        )
}

/// The user's columns of a [`with_grants`] row; `None` when the row carries no user
/// (an anonymous session, a user deleted meanwhile).
fn user_model(c: &dyn Cells) -> Result<Option<user::Model>, RepoError> {
    use user_columns as u;
    let Some(id) = c.int(u::ID)? else {
        return Ok(None);
    };
    Ok(Some(user::Model {
        id,
        email: present(c.text(u::EMAIL)?, u::EMAIL)?,
        email_key: present(c.text(u::EMAIL_KEY)?, u::EMAIL_KEY)?,
        password_hash: c.text(u::PASSWORD_HASH)?,
        pending_password_hash: c.text(u::PENDING_PASSWORD_HASH)?,
        pending_password_expires_at: c.time(u::PENDING_PASSWORD_EXPIRES_AT)?,
        password_change_required: present(
            c.flag(u::PASSWORD_CHANGE_REQUIRED)?,
            u::PASSWORD_CHANGE_REQUIRED,
        )?,
        pending_email: c.text(u::PENDING_EMAIL)?,
        first_name: present(c.text(u::FIRST_NAME)?, u::FIRST_NAME)?,
        last_name: present(c.text(u::LAST_NAME)?, u::LAST_NAME)?,
        avatar: c.text(u::AVATAR)?,
        phone: c.text(u::PHONE)?,
        country: c.text(u::COUNTRY)?,
        is_active: present(c.flag(u::IS_ACTIVE)?, u::IS_ACTIVE)?,
        is_verified: present(c.flag(u::IS_VERIFIED)?, u::IS_VERIFIED)?,
        is_superuser: present(c.flag(u::IS_SUPERUSER)?, u::IS_SUPERUSER)?,
        date_joined: present(c.time(u::DATE_JOINED)?, u::DATE_JOINED)?,
        last_login: c.time(u::LAST_LOGIN)?,
        verification_sent_at: c.time(u::VERIFICATION_SENT_AT)?,
        registration_notice_sent_at: c.time(u::REGISTRATION_NOTICE_SENT_AT)?,
        deactivated: present(c.flag(u::DEACTIVATED)?, u::DEACTIVATED)?,
        language: c.text(u::LANGUAGE)?,
    }))
}

/// One row of a [`with_grants`] query: the user (repeated on every row) and one grant.
pub(crate) struct Grant {
    user: Option<user::Model>,
    codename: Option<String>,
}

fn grant(c: &dyn Cells) -> Result<Grant, RepoError> {
    Ok(Grant {
        user: user_model(c)?,
        codename: c.text(user_columns::GRANT)?,
    })
}

/// Folds the rows of a [`with_grants`] query into the user and their permissions.
fn fold(rows: Vec<Grant>) -> Result<Option<UserWithPermissions>, RepoError> {
    let mut rows = rows.into_iter();
    let Some(Grant {
        user: Some(model),
        codename,
    }) = rows.next()
    else {
        return Ok(None);
    };
    let user = convert::user(model)?;
    let mut permissions = BTreeSet::new();
    for codename in std::iter::once(codename)
        .chain(rows.map(|row| row.codename))
        .flatten()
    {
        permissions.insert(
            Permission::from_codename(&codename)
                .ok_or_else(|| corrupt("permissions.codename", &codename))?,
        );
    }
    Ok(Some(UserWithPermissions {
        user,
        permissions: permissions.into_iter().collect(),
    }))
}

/// A session row of [`Store::session_with_user`] with its user's columns and grant.
pub(crate) struct SessionRow {
    record: SessionRecord,
    grant: Grant,
}

fn session_row(c: &dyn Cells) -> Result<SessionRow, RepoError> {
    use session_columns as s;
    Ok(SessionRow {
        record: SessionRecord {
            key: present(c.text(s::KEY)?, s::KEY)?,
            user_id: c.int(s::USER_ID)?.map(UserId),
            data: present(c.text(s::DATA)?, s::DATA)?,
            expires_at: present(c.time(s::EXPIRES_AT)?, s::EXPIRES_AT)?,
        },
        grant: grant(c)?,
    })
}

/// Who is asking, by user id.
fn user_query() -> SelectStatement {
    let mut query = Query::select();
    with_grants(query.from(user::Entity))
        .and_where(Expr::col((user::Entity, user::Column::Id)).eq(param("id")));
    query
}

/// Who is asking, by the digest of their API token.
fn token_query() -> SelectStatement {
    let mut query = Query::select();
    with_grants(
        query.from(api_token::Entity).join(
            JoinType::InnerJoin,
            user::Entity,
            Expr::col((user::Entity, user::Column::Id))
                .equals((api_token::Entity, api_token::Column::UserId)),
        ),
    )
    .and_where(Expr::col((api_token::Entity, api_token::Column::Digest)).eq(param("digest")));
    query
}

/// A session that has not expired, with its user if signed in.
fn session_query() -> SelectStatement {
    let column = |c: session::Column| Expr::col((session::Entity, c));
    let mut query = Query::select();
    query
        .expr(Expr::cust(session_columns::LIST))
        .from(session::Entity)
        .join(
            JoinType::LeftJoin,
            user::Entity,
            Expr::col((user::Entity, user::Column::Id))
                .equals((session::Entity, session::Column::UserId)),
        );
    with_grants(&mut query)
        .and_where(column(session::Column::Key).eq(param("key")))
        .and_where(column(session::Column::ExpiresAt).gt(param("now")));
    query
}

// These run on every request: each is built once per backend.
static USER: Template = Template::new(user_query);
static TOKEN: Template = Template::new(token_query);
static SESSION: Template = Template::new(session_query);

/// The hot read of a user and their grants.
pub(crate) fn user_read(backend: DbBackend, id: UserId) -> Result<HotRead<Grant>, RepoError> {
    Ok(HotRead::new(
        USER.statement(backend, &[("id", id.0.into())])?,
        grant,
    ))
}

/// The hot read of an API token's holder and their grants.
pub(crate) fn token_read(backend: DbBackend, digest: &str) -> Result<HotRead<Grant>, RepoError> {
    Ok(HotRead::new(
        TOKEN.statement(backend, &[("digest", digest.into())])?,
        grant,
    ))
}

/// The hot read of a live session, its user and their grants.
pub(crate) fn session_read(
    backend: DbBackend,
    key: &str,
    now: Timestamp,
) -> Result<HotRead<SessionRow>, RepoError> {
    let args = [("key", key.into()), ("now", convert::micros(now).into())];
    Ok(HotRead::new(
        SESSION.statement(backend, &args)?,
        session_row,
    ))
}

impl Store {
    pub(crate) async fn user_with_permissions(
        &self,
        id: UserId,
    ) -> Result<Option<UserWithPermissions>, RepoError> {
        let read = user_read(self.conn().get_database_backend(), id)?;
        fold(self.hot_rows(read).await?)
    }

    pub(crate) async fn token_holder(
        &self,
        digest: &str,
    ) -> Result<Option<UserWithPermissions>, RepoError> {
        let read = token_read(self.conn().get_database_backend(), digest)?;
        fold(self.hot_rows(read).await?)
    }

    pub(crate) async fn session_with_user(
        &self,
        key: &str,
        now: Timestamp,
    ) -> Result<Option<(SessionRecord, Option<UserWithPermissions>)>, RepoError> {
        let read = session_read(self.conn().get_database_backend(), key, now)?;
        let mut rows = self.hot_rows(read).await?.into_iter();
        let Some(first) = rows.next() else {
            return Ok(None);
        };
        let grants = std::iter::once(first.grant)
            .chain(rows.map(|row| row.grant))
            .collect();
        Ok(Some((first.record, fold(grants)?)))
    }
}
