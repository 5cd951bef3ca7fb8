//! The reads every request makes: who is asking and what they may do. Each is one
//! round trip — a session or an API token joined to its user and to the codenames their
//! groups grant (one row per grant, or a single row when there is none) — because on a
//! page that does little else, every extra query is a large share of its cost.

use std::collections::BTreeSet;

use catalog_domain::Timestamp;
use catalog_domain::access::Permission;
use catalog_domain::ports::{RepoError, SessionRecord, UserWithPermissions};
use catalog_domain::user::UserId;
use std::sync::OnceLock;

use sea_orm::sea_query::{Alias, Asterisk, Expr, ExprTrait, JoinType, Query, SelectStatement};
use sea_orm::{DbBackend, Statement, StatementBuilder};

use crate::cells::{Cells, present};
use crate::entities::{api_token, group_permission, permission, session, user, user_group};
use crate::error::corrupt;
use crate::{Store, convert};

const GRANT: &str = "grant_codename";

/// Adds the user's columns and their grants to a query that joins `users` already.
fn with_grants(query: &mut SelectStatement) -> &mut SelectStatement {
    query
        .column((user::Entity, Asterisk))
        .expr_as(
            Expr::col((permission::Entity, permission::Column::Codename)),
            Alias::new(GRANT),
        )
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
    let Some(id) = c.int("id")? else {
        return Ok(None);
    };
    Ok(Some(user::Model {
        id,
        email: present(c.text("email")?, "users.email")?,
        email_key: present(c.text("email_key")?, "users.email_key")?,
        password_hash: c.text("password_hash")?,
        pending_password_hash: c.text("pending_password_hash")?,
        pending_password_expires_at: c.time("pending_password_expires_at")?,
        password_change_required: present(
            c.flag("password_change_required")?,
            "users.password_change_required",
        )?,
        pending_email: c.text("pending_email")?,
        first_name: present(c.text("first_name")?, "users.first_name")?,
        last_name: present(c.text("last_name")?, "users.last_name")?,
        avatar: c.text("avatar")?,
        phone: c.text("phone")?,
        country: c.text("country")?,
        is_active: present(c.flag("is_active")?, "users.is_active")?,
        is_verified: present(c.flag("is_verified")?, "users.is_verified")?,
        is_superuser: present(c.flag("is_superuser")?, "users.is_superuser")?,
        date_joined: present(c.time("date_joined")?, "users.date_joined")?,
        last_login: c.time("last_login")?,
        verification_sent_at: c.time("verification_sent_at")?,
        registration_notice_sent_at: c.time("registration_notice_sent_at")?,
        deactivated: present(c.flag("deactivated")?, "users.deactivated")?,
    }))
}

/// One row of a [`with_grants`] query: the user (repeated on every row) and one grant.
struct Grant {
    user: Option<user::Model>,
    codename: Option<String>,
}

fn grant(c: &dyn Cells) -> Result<Grant, RepoError> {
    Ok(Grant {
        user: user_model(c)?,
        codename: c.text(GRANT)?,
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
struct SessionRow {
    record: SessionRecord,
    grant: Grant,
}

fn session_row(c: &dyn Cells) -> Result<SessionRow, RepoError> {
    Ok(SessionRow {
        record: SessionRecord {
            key: present(c.text("s_key")?, "sessions.key")?,
            user_id: c.int("s_user_id")?.map(UserId),
            data: present(c.text("s_data")?, "sessions.data")?,
            expires_at: present(c.time("s_expires_at")?, "sessions.expires_at")?,
        },
        grant: grant(c)?,
    })
}

/// The SQL of one viewer read for each backend, built on first use: these run on every
/// request, and building them again each time was 3 % of a page. Only the bound values
/// change (given in the order the query binds them).
struct Sql([OnceLock<String>; 2]);

impl Sql {
    const fn new() -> Self {
        Self([OnceLock::new(), OnceLock::new()])
    }

    fn statement(
        &self,
        backend: DbBackend,
        build: impl FnOnce() -> SelectStatement,
        values: Vec<sea_orm::Value>,
    ) -> Statement {
        let slot = &self.0[usize::from(backend == DbBackend::Postgres)];
        let sql = slot.get_or_init(|| StatementBuilder::build(&build(), &backend).sql);
        Statement::from_sql_and_values(backend, sql.clone(), values)
    }
}

static USER_SQL: Sql = Sql::new();
static TOKEN_SQL: Sql = Sql::new();
static SESSION_SQL: Sql = Sql::new();

impl Store {
    /// A point read through unique keys: a user's few grants, never more.
    async fn read<T>(
        &self,
        sql: &Sql,
        build: impl FnOnce() -> SelectStatement,
        values: Vec<sea_orm::Value>,
        map: impl Fn(&dyn Cells) -> Result<T, RepoError> + Send,
    ) -> Result<Vec<T>, RepoError> {
        let statement = sql.statement(self.conn().get_database_backend(), build, values);
        self.hot_rows(statement, true, map).await
    }

    pub(crate) async fn user_with_permissions(
        &self,
        id: UserId,
    ) -> Result<Option<UserWithPermissions>, RepoError> {
        let build = || {
            let mut query = Query::select();
            with_grants(query.from(user::Entity))
                .and_where(Expr::col((user::Entity, user::Column::Id)).eq(0));
            query
        };
        fold(
            self.read(&USER_SQL, build, vec![id.0.into()], grant)
                .await?,
        )
    }

    pub(crate) async fn token_holder(
        &self,
        digest: &str,
    ) -> Result<Option<UserWithPermissions>, RepoError> {
        let build = || {
            let mut query = Query::select();
            with_grants(
                query.from(api_token::Entity).join(
                    JoinType::InnerJoin,
                    user::Entity,
                    Expr::col((user::Entity, user::Column::Id))
                        .equals((api_token::Entity, api_token::Column::UserId)),
                ),
            )
            .and_where(Expr::col((api_token::Entity, api_token::Column::Digest)).eq(""));
            query
        };
        let values = vec![digest.into()];
        fold(self.read(&TOKEN_SQL, build, values, grant).await?)
    }

    pub(crate) async fn session_with_user(
        &self,
        key: &str,
        now: Timestamp,
    ) -> Result<Option<(SessionRecord, Option<UserWithPermissions>)>, RepoError> {
        let build = || {
            let column = |c: session::Column| Expr::col((session::Entity, c));
            let mut query = Query::select();
            query
                .expr_as(column(session::Column::Key), Alias::new("s_key"))
                .expr_as(column(session::Column::UserId), Alias::new("s_user_id"))
                .expr_as(column(session::Column::Data), Alias::new("s_data"))
                .expr_as(
                    column(session::Column::ExpiresAt),
                    Alias::new("s_expires_at"),
                )
                .from(session::Entity)
                .join(
                    JoinType::LeftJoin,
                    user::Entity,
                    Expr::col((user::Entity, user::Column::Id))
                        .equals((session::Entity, session::Column::UserId)),
                );
            with_grants(&mut query)
                .and_where(column(session::Column::Key).eq(""))
                .and_where(column(session::Column::ExpiresAt).gt(convert::micros(now)));
            query
        };
        let values = vec![key.into(), convert::micros(now).into()];
        let mut rows = self
            .read(&SESSION_SQL, build, values, session_row)
            .await?
            .into_iter();
        let Some(first) = rows.next() else {
            return Ok(None);
        };
        let grants = std::iter::once(first.grant)
            .chain(rows.map(|row| row.grant))
            .collect();
        Ok(Some((first.record, fold(grants)?)))
    }
}
