use async_trait::async_trait;
use catalog_domain::Timestamp;
use catalog_domain::ports::{
    ApiTokenRepository, RepoError, SessionRecord, SessionRepository, UserWithPermissions,
};
use catalog_domain::user::UserId;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};

use crate::entities::{api_token, session};
use crate::error::{db, repo_err};
use crate::{Store, convert};

#[async_trait]
impl SessionRepository for Store {
    async fn save(&self, s: SessionRecord) -> Result<(), RepoError> {
        let row = session::ActiveModel {
            key: Set(s.key),
            user_id: Set(s.user_id.map(|u| u.0)),
            data: Set(s.data),
            expires_at: Set(convert::micros(s.expires_at)),
        };
        session::Entity::insert(row)
            .on_conflict(
                OnConflict::column(session::Column::Key)
                    .update_columns([
                        session::Column::UserId,
                        session::Column::Data,
                        session::Column::ExpiresAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(self.conn())
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn update(&self, s: SessionRecord) -> Result<bool, RepoError> {
        let updated = session::Entity::update_many()
            .col_expr(session::Column::UserId, Expr::value(s.user_id.map(|u| u.0)))
            .col_expr(session::Column::Data, Expr::value(s.data))
            .col_expr(
                session::Column::ExpiresAt,
                Expr::value(convert::micros(s.expires_at)),
            )
            .filter(session::Column::Key.eq(s.key))
            .exec(self.conn())
            .await
            .map_err(db)?;
        Ok(updated.rows_affected > 0)
    }

    async fn find(&self, key: &str, now: Timestamp) -> Result<Option<SessionRecord>, RepoError> {
        Ok(session::Entity::find_by_id(key.to_owned())
            .filter(session::Column::ExpiresAt.gt(convert::micros(now)))
            .one(self.conn())
            .await
            .map_err(db)?
            .map(|m| SessionRecord {
                key: m.key,
                user_id: m.user_id.map(UserId),
                data: m.data,
                expires_at: m.expires_at,
            }))
    }

    async fn find_with_user(
        &self,
        key: &str,
        now: Timestamp,
    ) -> Result<Option<(SessionRecord, Option<UserWithPermissions>)>, RepoError> {
        self.session_with_user(key, now).await
    }

    async fn delete(&self, key: &str) -> Result<(), RepoError> {
        session::Entity::delete_by_id(key.to_owned())
            .exec(self.conn())
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn delete_for_user(&self, user: UserId, keep: Option<String>) -> Result<u64, RepoError> {
        let mut query = session::Entity::delete_many().filter(session::Column::UserId.eq(user.0));
        if let Some(keep) = keep {
            query = query.filter(session::Column::Key.ne(keep));
        }
        Ok(query.exec(self.conn()).await.map_err(db)?.rows_affected)
    }

    async fn purge_expired(&self, now: Timestamp) -> Result<u64, RepoError> {
        Ok(session::Entity::delete_many()
            .filter(session::Column::ExpiresAt.lte(convert::micros(now)))
            .exec(self.conn())
            .await
            .map_err(db)?
            .rows_affected)
    }
}

#[async_trait]
impl ApiTokenRepository for Store {
    async fn insert(&self, user: UserId, digest: String, at: Timestamp) -> Result<(), RepoError> {
        let row = api_token::ActiveModel {
            user_id: Set(user.0),
            digest: Set(digest),
            created_at: Set(convert::micros(at)),
            last_used_at: Set(None),
            ..Default::default()
        };
        api_token::Entity::insert(row)
            .exec_without_returning(self.conn())
            .await
            .map_err(|e| repo_err(e, || RepoError::Corrupt("duplicate token digest".into())))?;
        Ok(())
    }

    async fn find_holder(&self, digest: &str) -> Result<Option<UserWithPermissions>, RepoError> {
        self.token_holder(digest).await
    }

    async fn delete(&self, digest: &str) -> Result<bool, RepoError> {
        Ok(api_token::Entity::delete_many()
            .filter(api_token::Column::Digest.eq(digest))
            .exec(self.conn())
            .await
            .map_err(db)?
            .rows_affected
            > 0)
    }

    async fn delete_for_user(&self, user: UserId) -> Result<u64, RepoError> {
        Ok(api_token::Entity::delete_many()
            .filter(api_token::Column::UserId.eq(user.0))
            .exec(self.conn())
            .await
            .map_err(db)?
            .rows_affected)
    }
}
