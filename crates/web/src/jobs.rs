//! Background work inside `serve`: the mail dispatcher that empties the outbox, and the
//! sweep that deletes expired sessions.

use std::sync::Arc;
use std::time::Duration;

use catalog_domain::ports::{Clock, Mailer, OutboxRepository};
use catalog_domain::services::dispatch::MailDispatcher;
use catalog_mail::{
    MailAdapter, MailConfig, MailConfigError, SmtpConfig, SmtpSecurity, TransportKind,
};
use secrecy::ExposeSecret;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::settings::{MailBackend, Settings};

/// How long one SMTP delivery may take.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// Messages sent per pass (a busy pass is followed at once by another).
const BATCH: u32 = 20;
/// A claim outlives the slowest possible send (twice the SMTP timeout), so no other
/// process re-sends a message this one is still sending; a message stranded by a killed
/// process goes out once its lease ends.
const LEASE: Duration = Duration::from_secs(2 * SEND_TIMEOUT.as_secs());

/// Builds the mail adapter the settings name.
///
/// # Errors
/// [`MailConfigError`] for a bad sender address, TLS host or file path.
pub fn mailer(settings: &Settings) -> Result<MailAdapter, MailConfigError> {
    let email = &settings.email;
    let transport = match email.backend {
        MailBackend::Console => TransportKind::Console,
        MailBackend::File => TransportKind::File(email.file_path.clone()),
        MailBackend::Smtp => TransportKind::Smtp(SmtpConfig {
            host: email.host.clone(),
            port: email.port,
            user: email.user.clone(),
            password: email
                .password
                .as_ref()
                .map(|p| p.expose_secret().to_owned()),
            security: if email.use_ssl {
                SmtpSecurity::Implicit
            } else if email.use_tls {
                SmtpSecurity::StartTls
            } else {
                SmtpSecurity::None
            },
            timeout: SEND_TIMEOUT,
        }),
    };
    MailAdapter::new(MailConfig {
        transport,
        from: email.from.clone(),
        site_url: settings.public_url.as_str().to_owned(),
        default_language: settings.default_language,
    })
}

/// Runs the dispatcher until `stop` flips to true, polling every `interval`. A pass
/// that finds work is followed at once by another, so a burst drains quickly.
pub fn spawn_dispatcher(
    outbox: Arc<dyn OutboxRepository>,
    mailer: Arc<dyn Mailer>,
    clock: Arc<dyn Clock>,
    interval: Duration,
    mut stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    let dispatcher = MailDispatcher::new(outbox, mailer, clock, BATCH, LEASE);
    tokio::spawn(async move {
        loop {
            let mut busy = false;
            match dispatcher.dispatch_once().await {
                Ok(report) => {
                    if report.sent > 0 {
                        tracing::info!(sent = report.sent, "mail delivered");
                    }
                    for failure in &report.failures {
                        tracing::warn!(
                            id = failure.id.0,
                            kind = failure.kind.as_str(),
                            error = %failure.error,
                            retry_in_s = failure.retry_in.as_secs(),
                            "mail delivery failed; will retry"
                        );
                    }
                    busy = report.sent + report.failures.len() > 0;
                }
                Err(e) => tracing::warn!(error = %e, "mail outbox unavailable"),
            }
            if *stop.borrow() {
                break;
            }
            if !busy {
                tokio::select! {
                    _ = tokio::time::sleep(interval) => {}
                    _ = stop.changed() => break,
                }
            }
        }
    })
}

/// Deletes expired sessions every `interval` until `stop` flips to true.
pub fn spawn_session_sweeper(
    sessions: Arc<dyn catalog_domain::ports::SessionRepository>,
    clock: Arc<dyn Clock>,
    interval: Duration,
    mut stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match sessions.purge_expired(clock.now()).await {
                Ok(0) => {}
                Ok(purged) => tracing::info!(purged, "expired sessions deleted"),
                Err(e) => tracing::warn!(error = %e, "could not delete expired sessions"),
            }
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = stop.changed() => break,
            }
        }
    })
}
