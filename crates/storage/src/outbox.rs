use std::time::Duration;

use async_trait::async_trait;
use catalog_domain::Timestamp;
use catalog_domain::mail::{MailKind, MailSecret, OutboxId, OutboxMessage, OutgoingMail};
use catalog_domain::ports::{OutboxRepository, RepoError};
use catalog_domain::user::Email;
use sea_orm::sea_query::{Expr, ExprTrait, LockBehavior, LockType, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set,
    StatementBuilder,
};

use crate::entities::mail_outbox::{self, Column};
use crate::error::{corrupt, db};
use crate::{Backend, Store, convert};

/// Queues a message on an open connection or transaction, so that callers can make it
/// part of the change that causes it.
pub(crate) async fn enqueue_in<C: ConnectionTrait>(
    conn: &C,
    mail: OutgoingMail,
    at: Timestamp,
) -> Result<OutboxId, RepoError> {
    let at = convert::micros(at);
    let row = mail_outbox::ActiveModel {
        kind: Set(mail.kind.as_str().to_owned()),
        to_addr: Set(mail.to.as_str().to_owned()),
        recipient_name: Set(mail.recipient_name),
        link: Set(mail.link.map(|s| s.expose().to_owned())),
        secret: Set(mail.secret.map(|s| s.expose().to_owned())),
        detail: Set(mail.detail),
        attempts: Set(0),
        next_attempt_at: Set(at),
        locked_until: Set(None),
        created_at: Set(at),
        sent_at: Set(None),
        last_error: Set(None),
        language: Set(mail.language),
        ..Default::default()
    }
    .insert(conn)
    .await
    .map_err(db)?;
    Ok(OutboxId(row.id))
}

fn message(m: mail_outbox::Model) -> Result<OutboxMessage, RepoError> {
    Ok(OutboxMessage {
        id: OutboxId(m.id),
        mail: OutgoingMail {
            to: Email::parse(&m.to_addr).map_err(|e| corrupt("mail_outbox.to_addr", e))?,
            kind: MailKind::parse(&m.kind).ok_or_else(|| corrupt("mail_outbox.kind", &m.kind))?,
            recipient_name: m.recipient_name,
            link: m.link.map(MailSecret::new),
            secret: m.secret.map(MailSecret::new),
            detail: m.detail,
            language: m.language,
        },
        attempts: u32::try_from(m.attempts).unwrap_or(0),
        created_at: m.created_at,
    })
}

#[async_trait]
impl OutboxRepository for Store {
    async fn enqueue(&self, mail: OutgoingMail, at: Timestamp) -> Result<OutboxId, RepoError> {
        enqueue_in(self.conn(), mail, at).await
    }

    async fn claim_due(
        &self,
        now: Timestamp,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<OutboxMessage>, RepoError> {
        let now = convert::micros(now);
        let until = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::minutes(5));
        let mut due = Query::select();
        due.column(Column::Id)
            .from(mail_outbox::Entity)
            .and_where(Column::SentAt.is_null())
            .and_where(Column::NextAttemptAt.lte(now))
            .and_where(
                Column::LockedUntil
                    .is_null()
                    .or(Column::LockedUntil.lt(now)),
            )
            .order_by(Column::Id, sea_orm::Order::Asc)
            .limit(u64::from(limit));
        if self.backend() == Backend::Postgres {
            // Rows another dispatcher is claiming right now are skipped, not waited for.
            due.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
        }
        // One statement claims the rows: on SQLite writes are serialised, on PostgreSQL
        // the row locks and the re-checked lease keep two dispatchers apart.
        let claim = Query::update()
            .table(mail_outbox::Entity)
            .value(Column::LockedUntil, until)
            .and_where(Column::Id.in_subquery(due))
            .and_where(
                Column::LockedUntil
                    .is_null()
                    .or(Column::LockedUntil.lt(now)),
            )
            .returning_all()
            .to_owned();
        let statement = StatementBuilder::build(&claim, &self.conn().get_database_backend());
        let mut rows = mail_outbox::Entity::find()
            .from_raw_sql(statement)
            .all(self.conn())
            .await
            .map_err(db)?;
        rows.sort_by_key(|m| m.id);
        rows.into_iter().map(message).collect()
    }

    async fn mark_sent(&self, id: OutboxId, at: Timestamp) -> Result<(), RepoError> {
        mail_outbox::Entity::update_many()
            .col_expr(Column::SentAt, Expr::value(convert::micros(at)))
            .col_expr(Column::LockedUntil, Expr::value(Option::<Timestamp>::None))
            // Secrets must not outlive delivery.
            .col_expr(Column::Link, Expr::value(Option::<String>::None))
            .col_expr(Column::Secret, Expr::value(Option::<String>::None))
            .col_expr(Column::LastError, Expr::value(Option::<String>::None))
            .col_expr(Column::Attempts, Expr::col(Column::Attempts).add(1))
            .filter(Column::Id.eq(id.0))
            .exec(self.conn())
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn mark_failed(
        &self,
        id: OutboxId,
        error: String,
        retry_at: Timestamp,
    ) -> Result<(), RepoError> {
        mail_outbox::Entity::update_many()
            .col_expr(
                Column::NextAttemptAt,
                Expr::value(convert::micros(retry_at)),
            )
            .col_expr(Column::LockedUntil, Expr::value(Option::<Timestamp>::None))
            .col_expr(Column::LastError, Expr::value(error))
            .col_expr(Column::Attempts, Expr::col(Column::Attempts).add(1))
            .filter(Column::Id.eq(id.0))
            .exec(self.conn())
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn pending_count(&self) -> Result<u64, RepoError> {
        mail_outbox::Entity::find()
            .filter(Column::SentAt.is_null())
            .count(self.conn())
            .await
            .map_err(db)
    }
}
