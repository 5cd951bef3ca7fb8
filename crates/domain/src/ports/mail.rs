//! The mail's ports: the outbox the use cases write, and the mailer that delivers it.

use std::time::Duration;

use async_trait::async_trait;

use crate::Timestamp;
use crate::mail::{OutboxId, OutboxMessage, OutgoingMail};

use super::{BoxError, RepoError};

#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait OutboxRepository: Send + Sync {
    /// # Errors
    /// [`RepoError::Unavailable`].
    async fn enqueue(&self, mail: OutgoingMail, at: Timestamp) -> Result<OutboxId, RepoError>;
    /// Claims up to `limit` due messages for `lease`: no other dispatcher gets them until
    /// the lease runs out, so several processes never send one message twice.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Corrupt`].
    async fn claim_due(
        &self,
        now: Timestamp,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<OutboxMessage>, RepoError>;
    /// Marks a message delivered and wipes its secrets.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`].
    async fn mark_sent(&self, id: OutboxId, at: Timestamp) -> Result<(), RepoError>;
    /// Records a failed attempt and when to try again.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`].
    async fn mark_failed(
        &self,
        id: OutboxId,
        error: String,
        retry_at: Timestamp,
    ) -> Result<(), RepoError>;
    /// Number of messages not yet delivered.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`].
    async fn pending_count(&self) -> Result<u64, RepoError>;
}

/// Delivers one queued message (renders and sends it).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Mailer: Send + Sync {
    /// # Errors
    /// [`BoxError`] describing the transport failure; the dispatcher retries later.
    async fn deliver(&self, message: &OutboxMessage) -> Result<(), BoxError>;
}
