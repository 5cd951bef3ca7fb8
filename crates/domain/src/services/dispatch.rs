//! Delivering the outbox: claim due messages, hand each to the mailer, record the
//! outcome. Failed messages come back with exponential backoff.

use std::sync::Arc;
use std::time::Duration;

use crate::mail::{MailKind, OutboxId};
use crate::ports::{Clock, Mailer, OutboxRepository, RepoError};

/// What one pass achieved; the caller logs it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DispatchReport {
    pub sent: usize,
    pub failures: Vec<DeliveryFailure>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryFailure {
    pub id: OutboxId,
    pub kind: MailKind,
    pub error: String,
    pub retry_in: Duration,
}

#[derive(Clone)]
pub struct MailDispatcher {
    outbox: Arc<dyn OutboxRepository>,
    mailer: Arc<dyn Mailer>,
    clock: Arc<dyn Clock>,
    /// Messages sent per pass at most.
    batch: u32,
    /// How long a claimed message stays reserved for this dispatcher. Longer than a
    /// send may take (the SMTP timeout), so two processes never send one message; and
    /// short, because a process killed while sending leaves its claim behind.
    lease: Duration,
}

impl std::fmt::Debug for MailDispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailDispatcher")
            .field("batch", &self.batch)
            .field("lease", &self.lease)
            .finish_non_exhaustive()
    }
}

/// The wait before attempt `attempts + 1`: 10 s, 20 s, 40 s, … capped at one hour.
pub fn backoff(attempts: u32) -> Duration {
    let secs = 10_u64.saturating_mul(1_u64 << attempts.min(20));
    Duration::from_secs(secs.min(3600))
}

impl MailDispatcher {
    pub fn new(
        outbox: Arc<dyn OutboxRepository>,
        mailer: Arc<dyn Mailer>,
        clock: Arc<dyn Clock>,
        batch: u32,
        lease: Duration,
    ) -> Self {
        Self {
            outbox,
            mailer,
            clock,
            batch,
            lease,
        }
    }

    /// Delivers the messages that are due now.
    ///
    /// # Errors
    /// [`RepoError`] when the outbox cannot be read or updated; delivery failures are
    /// recorded on the message and retried later, not returned.
    pub async fn dispatch_once(&self) -> Result<DispatchReport, RepoError> {
        let mut report = DispatchReport::default();
        // One message is claimed at a time, right before it is sent: a lease then only
        // has to cover one send, and a crash strands one message for one lease instead
        // of a whole batch.
        for _ in 0..self.batch {
            let Some(message) = self
                .outbox
                .claim_due(self.clock.now(), 1, self.lease)
                .await?
                .into_iter()
                .next()
            else {
                break;
            };
            match self.mailer.deliver(&message).await {
                Ok(()) => {
                    self.outbox.mark_sent(message.id, self.clock.now()).await?;
                    report.sent += 1;
                }
                Err(error) => {
                    let wait = backoff(message.attempts);
                    let retry_at = self.clock.now()
                        + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::hours(1));
                    let error = error.to_string();
                    self.outbox
                        .mark_failed(message.id, error.clone(), retry_at)
                        .await?;
                    report.failures.push(DeliveryFailure {
                        id: message.id,
                        kind: message.mail.kind,
                        error,
                        retry_in: wait,
                    });
                }
            }
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use mockall::predicate::eq;

    use super::*;
    use crate::mail::{OutboxMessage, OutgoingMail};
    use crate::ports::{MockClock, MockMailer, MockOutboxRepository};
    use crate::user::Email;

    fn queued(id: i64, attempts: u32) -> OutboxMessage {
        OutboxMessage {
            id: OutboxId(id),
            mail: OutgoingMail {
                to: Email::parse("ann@example.com").unwrap(),
                kind: MailKind::PasswordChanged,
                recipient_name: String::new(),
                link: None,
                secret: None,
                detail: None,
                language: None,
            },
            attempts,
            created_at: chrono::DateTime::UNIX_EPOCH,
        }
    }

    fn clock() -> Arc<MockClock> {
        let mut clock = MockClock::new();
        clock
            .expect_now()
            .return_const(chrono::DateTime::UNIX_EPOCH);
        Arc::new(clock)
    }

    #[tokio::test]
    async fn delivered_messages_are_marked_sent_once_and_failures_rescheduled() {
        let mut outbox = MockOutboxRepository::new();
        let mut queue = vec![queued(2, 3), queued(1, 0)];
        outbox
            .expect_claim_due()
            .withf(|_, limit, lease| *limit == 1 && *lease == Duration::from_secs(60))
            .times(3)
            .returning(move |_, _, _| Ok(queue.pop().into_iter().collect()));
        outbox
            .expect_mark_sent()
            .with(eq(OutboxId(1)), mockall::predicate::always())
            .times(1)
            .returning(|_, _| Ok(()));
        outbox
            .expect_mark_failed()
            .withf(|id, error, at| {
                *id == OutboxId(2)
                    && error == "connection refused"
                    && *at == chrono::DateTime::UNIX_EPOCH + chrono::Duration::seconds(80)
            })
            .times(1)
            .returning(|_, _, _| Ok(()));
        let mut mailer = MockMailer::new();
        mailer.expect_deliver().times(2).returning(|m| {
            if m.id == OutboxId(1) {
                Ok(())
            } else {
                Err("connection refused".into())
            }
        });
        let dispatcher = MailDispatcher::new(
            Arc::new(outbox),
            Arc::new(mailer),
            clock(),
            10,
            Duration::from_secs(60),
        );
        let report = dispatcher.dispatch_once().await.unwrap();
        assert_eq!(report.sent, 1);
        assert_eq!(report.failures.len(), 1);
        assert_eq!(report.failures[0].id, OutboxId(2));
        assert_eq!(report.failures[0].retry_in, Duration::from_secs(80));
    }

    #[tokio::test]
    async fn nothing_due_sends_nothing() {
        let mut outbox = MockOutboxRepository::new();
        outbox.expect_claim_due().returning(|_, _, _| Ok(vec![]));
        let mut mailer = MockMailer::new();
        mailer.expect_deliver().times(0);
        let dispatcher = MailDispatcher::new(
            Arc::new(outbox),
            Arc::new(mailer),
            clock(),
            10,
            Duration::from_secs(60),
        );
        assert_eq!(
            dispatcher.dispatch_once().await.unwrap(),
            DispatchReport::default()
        );
    }

    #[tokio::test]
    async fn a_pass_sends_at_most_a_batch() {
        let mut outbox = MockOutboxRepository::new();
        outbox
            .expect_claim_due()
            .times(3)
            .returning(|_, _, _| Ok(vec![queued(7, 0)]));
        outbox.expect_mark_sent().times(3).returning(|_, _| Ok(()));
        let mut mailer = MockMailer::new();
        mailer.expect_deliver().times(3).returning(|_| Ok(()));
        let dispatcher = MailDispatcher::new(
            Arc::new(outbox),
            Arc::new(mailer),
            clock(),
            3,
            Duration::from_secs(60),
        );
        assert_eq!(dispatcher.dispatch_once().await.unwrap().sent, 3);
    }

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        assert_eq!(backoff(0), Duration::from_secs(10));
        assert_eq!(backoff(1), Duration::from_secs(20));
        assert_eq!(backoff(3), Duration::from_secs(80));
        assert_eq!(backoff(9), Duration::from_secs(3600));
        assert_eq!(backoff(u32::MAX), Duration::from_secs(3600));
    }
}
