use std::collections::HashMap;

use async_trait::async_trait;
use catalog_domain::Timestamp;
use catalog_domain::access::Group;
use catalog_domain::mail::OutgoingMail;
use std::time::Duration;

use catalog_domain::ports::{
    MailFor, MailThrottle, ProfileUpdate, RepoError, UserRepository, UserWithPermissions,
};
use catalog_domain::user::{
    Email, NewUser, PasswordHash, PendingPassword, User, UserId, UserWithGroups,
};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
    TransactionTrait,
};

use crate::entities::{api_token, session, user};
use crate::error::{db, repo_err};
use crate::{Store, convert, groups, outbox};

fn active(new: &NewUser) -> user::ActiveModel {
    user::ActiveModel {
        email: Set(new.email.as_str().to_owned()),
        email_key: Set(new.email.key()),
        password_hash: Set(Some(new.password_hash.as_str().to_owned())),
        pending_password_hash: Set(None),
        pending_password_expires_at: Set(None),
        password_change_required: Set(false),
        pending_email: Set(None),
        first_name: Set(new.first_name.as_str().to_owned()),
        last_name: Set(new.last_name.as_str().to_owned()),
        avatar: Set(None),
        phone: Set(None),
        country: Set(None),
        is_active: Set(new.is_active),
        is_verified: Set(new.is_verified),
        is_superuser: Set(new.is_superuser),
        date_joined: Set(convert::micros(new.date_joined)),
        last_login: Set(None),
        verification_sent_at: Set(None),
        registration_notice_sent_at: Set(None),
        // Set, not left to the column's default: a SQLite connection opened before
        // the migration that added the column answers the insert's RETURNING without it.
        deactivated: Set(false),
        language: Set(new.language.clone()),
        ..Default::default()
    }
}

fn email_taken() -> RepoError {
    RepoError::EmailTaken
}

/// Outbox rows written next to an account change are due at once.
fn now() -> Timestamp {
    convert::micros(chrono::Utc::now())
}

async fn end_sessions_and_tokens<C: ConnectionTrait>(
    conn: &C,
    id: UserId,
    keep_session: Option<String>,
) -> Result<(), RepoError> {
    let mut sessions = session::Entity::delete_many().filter(session::Column::UserId.eq(id.0));
    if let Some(keep) = keep_session {
        sessions = sessions.filter(session::Column::Key.ne(keep));
    }
    sessions.exec(conn).await.map_err(db)?;
    api_token::Entity::delete_many()
        .filter(api_token::Column::UserId.eq(id.0))
        .exec(conn)
        .await
        .map_err(db)?;
    Ok(())
}

/// Adds to `update` the clearing of a pending generated password.
fn without_pending_password(
    update: sea_orm::UpdateMany<user::Entity>,
) -> sea_orm::UpdateMany<user::Entity> {
    update
        .col_expr(
            user::Column::PendingPasswordHash,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            user::Column::PendingPasswordExpiresAt,
            Expr::value(Option::<Timestamp>::None),
        )
}

/// Updates one user with `changes`, reporting an unknown id as `NotFound`.
async fn update_user<C: ConnectionTrait>(
    conn: &C,
    id: UserId,
    changes: Vec<(user::Column, Expr)>,
) -> Result<(), RepoError> {
    let mut update = user::Entity::update_many().filter(user::Column::Id.eq(id.0));
    for (column, value) in changes {
        update = update.col_expr(column, value);
    }
    let result = update.exec(conn).await.map_err(db)?;
    if result.rows_affected == 0 {
        return Err(RepoError::NotFound);
    }
    Ok(())
}

#[async_trait]
impl UserRepository for Store {
    async fn insert(&self, new: NewUser) -> Result<User, RepoError> {
        let model = active(&new)
            .insert(self.conn())
            .await
            .map_err(|e| repo_err(e, email_taken))?;
        convert::user(model)
    }

    async fn insert_with_mail(&self, new: NewUser, mail: MailFor) -> Result<User, RepoError> {
        let txn = self.conn().begin().await.map_err(db)?;
        let model = active(&new)
            .insert(&txn)
            .await
            .map_err(|e| repo_err(e, email_taken))?;
        let user = convert::user(model)?;
        outbox::enqueue_in(&txn, mail(&user), new.date_joined).await?;
        txn.commit().await.map_err(db)?;
        Ok(user)
    }

    async fn release_stale_address(
        &self,
        email: &Email,
        cutoff: Timestamp,
    ) -> Result<bool, RepoError> {
        let cutoff = convert::micros(cutoff);
        let stale = user::Entity::delete_many()
            .filter(user::Column::EmailKey.eq(email.key()))
            .filter(user::Column::IsVerified.eq(false))
            .filter(user::Column::DateJoined.lt(cutoff))
            .filter(
                user::Column::VerificationSentAt
                    .is_null()
                    .or(user::Column::VerificationSentAt.lt(cutoff)),
            )
            .exec(self.conn())
            .await
            .map_err(db)?;
        Ok(stale.rows_affected > 0)
    }

    async fn find_by_id(&self, id: UserId) -> Result<Option<User>, RepoError> {
        user::Entity::find_by_id(id.0)
            .one(self.conn())
            .await
            .map_err(db)?
            .map(convert::user)
            .transpose()
    }

    async fn find_with_permissions(
        &self,
        id: UserId,
    ) -> Result<Option<UserWithPermissions>, RepoError> {
        self.user_with_permissions(id).await
    }

    async fn find_by_email(&self, email: &Email) -> Result<Option<User>, RepoError> {
        user::Entity::find()
            .filter(user::Column::EmailKey.eq(email.key()))
            .one(self.conn())
            .await
            .map_err(db)?
            .map(convert::user)
            .transpose()
    }

    async fn list(&self) -> Result<Vec<UserWithGroups>, RepoError> {
        let users = user::Entity::find()
            .order_by_asc(user::Column::Id)
            .all(self.conn())
            .await
            .map_err(db)?;
        let mut memberships: HashMap<i64, Vec<Group>> = groups::memberships(self.conn()).await?;
        users
            .into_iter()
            .map(|m| {
                let groups = memberships.remove(&m.id).unwrap_or_default();
                Ok(UserWithGroups {
                    user: convert::user(m)?,
                    groups,
                })
            })
            .collect()
    }

    async fn set_active(&self, id: UserId, is_active: bool) -> Result<(), RepoError> {
        let txn = self.conn().begin().await.map_err(db)?;
        update_user(
            &txn,
            id,
            vec![
                (user::Column::IsActive, Expr::value(is_active)),
                (user::Column::Deactivated, Expr::value(!is_active)),
            ],
        )
        .await?;
        if !is_active {
            end_sessions_and_tokens(&txn, id, None).await?;
        }
        txn.commit().await.map_err(db)
    }

    async fn set_password(
        &self,
        id: UserId,
        hash: PasswordHash,
        change_required: bool,
    ) -> Result<(), RepoError> {
        update_user(
            self.conn(),
            id,
            vec![
                (user::Column::PasswordHash, Expr::value(hash.as_str())),
                (
                    user::Column::PasswordChangeRequired,
                    Expr::value(change_required),
                ),
            ],
        )
        .await
    }

    async fn update_profile(&self, id: UserId, p: ProfileUpdate) -> Result<User, RepoError> {
        update_user(
            self.conn(),
            id,
            vec![
                (user::Column::FirstName, Expr::value(p.first_name.as_str())),
                (user::Column::LastName, Expr::value(p.last_name.as_str())),
                (
                    user::Column::Phone,
                    Expr::value(p.phone.as_ref().map(|p| p.e164().to_owned())),
                ),
                (
                    user::Column::Country,
                    Expr::value(p.country.map(|c| c.code().to_owned())),
                ),
            ],
        )
        .await?;
        self.find_by_id(id).await?.ok_or(RepoError::NotFound)
    }

    async fn set_avatar(&self, id: UserId, avatar: Option<String>) -> Result<(), RepoError> {
        update_user(
            self.conn(),
            id,
            vec![(user::Column::Avatar, Expr::value(avatar))],
        )
        .await
    }

    async fn set_language(&self, id: UserId, language: Option<String>) -> Result<(), RepoError> {
        update_user(
            self.conn(),
            id,
            vec![(user::Column::Language, Expr::value(language))],
        )
        .await
    }

    async fn record_login(&self, id: UserId, at: Timestamp) -> Result<(), RepoError> {
        update_user(
            self.conn(),
            id,
            vec![(user::Column::LastLogin, Expr::value(convert::micros(at)))],
        )
        .await
    }

    async fn mark_verified(&self, id: UserId) -> Result<bool, RepoError> {
        let result = user::Entity::update_many()
            .col_expr(user::Column::IsVerified, Expr::value(true))
            .col_expr(user::Column::IsActive, Expr::value(true))
            .filter(user::Column::Id.eq(id.0))
            .filter(user::Column::IsVerified.eq(false))
            .filter(user::Column::Deactivated.eq(false))
            .exec(self.conn())
            .await
            .map_err(db)?;
        Ok(result.rows_affected > 0)
    }

    async fn queue_throttled(
        &self,
        id: UserId,
        throttle: MailThrottle,
        now: Timestamp,
        min_interval: Duration,
        mail: OutgoingMail,
    ) -> Result<bool, RepoError> {
        let column = match throttle {
            MailThrottle::Verification => user::Column::VerificationSentAt,
            MailThrottle::RegistrationNotice => user::Column::RegistrationNoticeSentAt,
        };
        let now = convert::micros(now);
        let cutoff =
            now - chrono::Duration::from_std(min_interval).unwrap_or(chrono::Duration::MAX);
        let txn = self.conn().begin().await.map_err(db)?;
        // Check and claim in one statement, so two processes cannot both send.
        let claimed = user::Entity::update_many()
            .col_expr(column, Expr::value(now))
            .filter(user::Column::Id.eq(id.0))
            .filter(column.is_null().or(column.lte(cutoff)))
            .exec(&txn)
            .await
            .map_err(db)?;
        if claimed.rows_affected == 0 {
            return Ok(false);
        }
        outbox::enqueue_in(&txn, mail, now).await?;
        txn.commit().await.map_err(db)?;
        Ok(true)
    }

    async fn set_pending_password(
        &self,
        id: UserId,
        pending: PendingPassword,
        mail: OutgoingMail,
    ) -> Result<(), RepoError> {
        let txn = self.conn().begin().await.map_err(db)?;
        update_user(
            &txn,
            id,
            vec![
                (
                    user::Column::PendingPasswordHash,
                    Expr::value(pending.hash.as_str()),
                ),
                (
                    user::Column::PendingPasswordExpiresAt,
                    Expr::value(convert::micros(pending.expires_at)),
                ),
            ],
        )
        .await?;
        outbox::enqueue_in(&txn, mail, now()).await?;
        txn.commit().await.map_err(db)
    }

    async fn adopt_pending_password(
        &self,
        id: UserId,
        expected: PasswordHash,
        mail: OutgoingMail,
    ) -> Result<bool, RepoError> {
        let txn = self.conn().begin().await.map_err(db)?;
        let adopted = without_pending_password(user::Entity::update_many())
            .col_expr(user::Column::PasswordHash, Expr::value(expected.as_str()))
            .col_expr(user::Column::PasswordChangeRequired, Expr::value(true))
            .filter(user::Column::Id.eq(id.0))
            .filter(user::Column::PendingPasswordHash.eq(expected.as_str()))
            .exec(&txn)
            .await
            .map_err(db)?;
        if adopted.rows_affected == 0 {
            return Ok(false);
        }
        end_sessions_and_tokens(&txn, id, None).await?;
        outbox::enqueue_in(&txn, mail, now()).await?;
        txn.commit().await.map_err(db)?;
        Ok(true)
    }

    async fn change_password(
        &self,
        id: UserId,
        hash: PasswordHash,
        keep_session: Option<String>,
        mail: OutgoingMail,
    ) -> Result<(), RepoError> {
        let txn = self.conn().begin().await.map_err(db)?;
        update_user(
            &txn,
            id,
            vec![
                (user::Column::PasswordHash, Expr::value(hash.as_str())),
                (
                    user::Column::PendingPasswordHash,
                    Expr::value(Option::<String>::None),
                ),
                (
                    user::Column::PendingPasswordExpiresAt,
                    Expr::value(Option::<Timestamp>::None),
                ),
                (user::Column::PasswordChangeRequired, Expr::value(false)),
            ],
        )
        .await?;
        end_sessions_and_tokens(&txn, id, keep_session).await?;
        outbox::enqueue_in(&txn, mail, now()).await?;
        txn.commit().await.map_err(db)
    }

    async fn set_pending_email(
        &self,
        id: UserId,
        pending: Option<Email>,
        mails: Vec<OutgoingMail>,
    ) -> Result<(), RepoError> {
        let txn = self.conn().begin().await.map_err(db)?;
        update_user(
            &txn,
            id,
            vec![(
                user::Column::PendingEmail,
                Expr::value(pending.map(|e| e.as_str().to_owned())),
            )],
        )
        .await?;
        for mail in mails {
            outbox::enqueue_in(&txn, mail, now()).await?;
        }
        txn.commit().await.map_err(db)
    }

    async fn adopt_pending_email(
        &self,
        id: UserId,
        expected: &Email,
        keep_session: Option<String>,
    ) -> Result<bool, RepoError> {
        let txn = self.conn().begin().await.map_err(db)?;
        // The generated password went to the old address: it goes with it.
        let result = without_pending_password(user::Entity::update_many())
            .col_expr(user::Column::Email, Expr::value(expected.as_str()))
            .col_expr(user::Column::EmailKey, Expr::value(expected.key()))
            .col_expr(
                user::Column::PendingEmail,
                Expr::value(Option::<String>::None),
            )
            .filter(user::Column::Id.eq(id.0))
            .filter(user::Column::PendingEmail.eq(expected.as_str()))
            .exec(&txn)
            .await
            .map_err(|e| repo_err(e, email_taken))?;
        if result.rows_affected == 0 {
            return Ok(false);
        }
        end_sessions_and_tokens(&txn, id, keep_session).await?;
        txn.commit().await.map_err(db)?;
        Ok(true)
    }

    async fn insert_many(&self, users: Vec<NewUser>) -> Result<Vec<UserId>, RepoError> {
        let keys: Vec<String> = users.iter().map(|u| u.email.key()).collect();
        let txn = self.conn().begin().await.map_err(db)?;
        // 20 columns a row keeps each statement under SQLite's bound-parameter limit.
        for chunk in users.chunks(500) {
            user::Entity::insert_many(chunk.iter().map(active))
                .exec(&txn)
                .await
                .map_err(|e| repo_err(e, email_taken))?;
        }
        let mut ids = HashMap::with_capacity(keys.len());
        for chunk in keys.chunks(500) {
            let rows = user::Entity::find()
                .filter(user::Column::EmailKey.is_in(chunk.iter().cloned()))
                .all(&txn)
                .await
                .map_err(db)?;
            ids.extend(rows.into_iter().map(|m| (m.email_key, m.id)));
        }
        txn.commit().await.map_err(db)?;
        keys.iter()
            .map(|k| ids.get(k).map(|id| UserId(*id)).ok_or(RepoError::NotFound))
            .collect()
    }
}
