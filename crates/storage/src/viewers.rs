//! The reads every request makes: who is asking and what they may do. Each is one
//! round trip — a session or an API token joined to its user and to the codenames their
//! groups grant (one row per grant, or a single row when there is none) — because on a
//! page that does little else, every extra query is a large share of its cost.

use std::collections::BTreeSet;

use catalog_domain::Timestamp;
use catalog_domain::access::Permission;
use catalog_domain::ports::{RepoError, SessionRecord, UserWithPermissions};
use catalog_domain::user::UserId;
use sea_orm::sea_query::{Alias, Asterisk, Expr, ExprTrait, JoinType, Query, SelectStatement};
use sea_orm::{ConnectionTrait, FromQueryResult, QueryResult, StatementBuilder};

use crate::entities::{api_token, group_permission, permission, session, user, user_group};
use crate::error::{corrupt, db};
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

/// Folds the rows of a [`with_grants`] query into the user and their permissions;
/// `None` when the rows carry no user (an anonymous session, a user deleted meanwhile).
fn fold(rows: &[QueryResult]) -> Result<Option<UserWithPermissions>, RepoError> {
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    if first
        .try_get::<Option<i64>>("", "id")
        .map_err(db)?
        .is_none()
    {
        return Ok(None);
    }
    let user = convert::user(user::Model::from_query_result(first, "").map_err(db)?)?;
    let mut permissions = BTreeSet::new();
    for row in rows {
        if let Some(codename) = row.try_get::<Option<String>>("", GRANT).map_err(db)? {
            permissions.insert(
                Permission::from_codename(&codename)
                    .ok_or_else(|| corrupt("permissions.codename", &codename))?,
            );
        }
    }
    Ok(Some(UserWithPermissions {
        user,
        permissions: permissions.into_iter().collect(),
    }))
}

impl Store {
    async fn rows(&self, query: &SelectStatement) -> Result<Vec<QueryResult>, RepoError> {
        let statement = StatementBuilder::build(query, &self.conn().get_database_backend());
        self.conn().query_all_raw(statement).await.map_err(db)
    }

    pub(crate) async fn user_with_permissions(
        &self,
        id: UserId,
    ) -> Result<Option<UserWithPermissions>, RepoError> {
        let mut query = Query::select();
        with_grants(query.from(user::Entity))
            .and_where(Expr::col((user::Entity, user::Column::Id)).eq(id.0));
        fold(&self.rows(&query).await?)
    }

    pub(crate) async fn token_holder(
        &self,
        digest: &str,
    ) -> Result<Option<UserWithPermissions>, RepoError> {
        let mut query = Query::select();
        with_grants(
            query.from(api_token::Entity).join(
                JoinType::InnerJoin,
                user::Entity,
                Expr::col((user::Entity, user::Column::Id))
                    .equals((api_token::Entity, api_token::Column::UserId)),
            ),
        )
        .and_where(Expr::col((api_token::Entity, api_token::Column::Digest)).eq(digest));
        fold(&self.rows(&query).await?)
    }

    pub(crate) async fn session_with_user(
        &self,
        key: &str,
        now: Timestamp,
    ) -> Result<Option<(SessionRecord, Option<UserWithPermissions>)>, RepoError> {
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
            .and_where(column(session::Column::Key).eq(key))
            .and_where(column(session::Column::ExpiresAt).gt(convert::micros(now)));
        let rows = self.rows(&query).await?;
        let Some(first) = rows.first() else {
            return Ok(None);
        };
        let record = SessionRecord {
            key: first.try_get("", "s_key").map_err(db)?,
            user_id: first
                .try_get::<Option<i64>>("", "s_user_id")
                .map_err(db)?
                .map(UserId),
            data: first.try_get("", "s_data").map_err(db)?,
            expires_at: first.try_get("", "s_expires_at").map_err(db)?,
        };
        Ok(Some((record, fold(&rows)?)))
    }
}
