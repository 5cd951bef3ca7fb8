use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use catalog_domain::mail::OutboxMessage;
use catalog_domain::ports::{BoxError, Mailer};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{
    Address, AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
};

use crate::render::{Rendered, render};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain SMTP (a local relay or a test sink).
    None,
    /// STARTTLS, required: the connection is refused without it.
    StartTls,
    /// TLS from the first byte (port 465).
    Implicit,
}

#[derive(Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub user: Option<String>,
    pub password: Option<String>,
    pub security: SmtpSecurity,
    /// How long one delivery may take before it counts as failed and is retried.
    pub timeout: Duration,
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("security", &self.security)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone)]
pub enum TransportKind {
    Smtp(SmtpConfig),
    Console,
    File(PathBuf),
}

#[derive(Debug, Clone)]
pub struct MailConfig {
    pub transport: TransportKind,
    /// `DEFAULT_FROM_EMAIL`: an address, optionally with a name (`Shop <shop@x.org>`).
    pub from: String,
    /// The public base URL, for links in the footer.
    pub site_url: String,
    /// The language of messages queued without one (`CATALOG_DEFAULT_LANGUAGE`).
    pub default_language: catalog_i18n::Lang,
}

#[derive(Debug, thiserror::Error)]
pub enum MailConfigError {
    #[error("DEFAULT_FROM_EMAIL is not a valid mailbox: {0}")]
    From(String),
    #[error("EMAIL_HOST cannot be used for TLS: {0}")]
    Tls(String),
    #[error("EMAIL_FILE_PATH cannot be created: {0}")]
    FilePath(String),
}

enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Console,
    File(AsyncFileTransport<Tokio1Executor>),
}

/// Renders and delivers queued messages through the configured transport.
pub struct MailAdapter {
    transport: Transport,
    from: Mailbox,
    site: String,
    /// The public host, the right-hand side of Message-IDs.
    host: String,
    default_language: catalog_i18n::Lang,
}

impl std::fmt::Debug for MailAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.transport {
            Transport::Smtp(_) => "smtp",
            Transport::Console => "console",
            Transport::File(_) => "file",
        };
        f.debug_struct("MailAdapter")
            .field("transport", &kind)
            .field("from", &self.from.to_string())
            .finish()
    }
}

impl MailAdapter {
    /// # Errors
    /// [`MailConfigError`] for a bad sender, TLS host or file path.
    pub fn new(config: MailConfig) -> Result<Self, MailConfigError> {
        let from =
            Mailbox::from_str(&config.from).map_err(|e| MailConfigError::From(e.to_string()))?;
        let transport = match config.transport {
            TransportKind::Console => Transport::Console,
            TransportKind::File(dir) => {
                std::fs::create_dir_all(&dir)
                    .map_err(|e| MailConfigError::FilePath(e.to_string()))?;
                Transport::File(AsyncFileTransport::new(dir))
            }
            TransportKind::Smtp(smtp) => Transport::Smtp(smtp_transport(&smtp)?),
        };
        Ok(Self {
            transport,
            from,
            site: config.site_url.trim_end_matches('/').to_owned(),
            default_language: config.default_language,
            host: url::Url::parse(&config.site_url)
                .ok()
                .and_then(|u| u.host_str().map(str::to_owned))
                .unwrap_or_else(|| "catalog.invalid".to_owned()),
        })
    }

    /// The same for every attempt at one outbox row: a retry after a crash between the
    /// SMTP server's acceptance and the row being marked sent repeats the *same* message,
    /// which receivers can recognise (and mail stores such as Gmail collapse).
    fn message_id(&self, message: &OutboxMessage) -> String {
        format!(
            "<outbox.{}.{}@{}>",
            message.id.0,
            message.created_at.timestamp_micros(),
            self.host
        )
    }

    fn build(&self, message: &OutboxMessage, rendered: Rendered) -> Result<Message, BoxError> {
        let to = Address::from_str(message.mail.to.as_str())?;
        Ok(Message::builder()
            .message_id(Some(self.message_id(message)))
            .from(self.from.clone())
            .to(Mailbox::new(None, to))
            .subject(rendered.subject)
            .multipart(MultiPart::alternative_plain_html(
                rendered.text,
                rendered.html,
            ))?)
    }
}

fn smtp_transport(
    smtp: &SmtpConfig,
) -> Result<AsyncSmtpTransport<Tokio1Executor>, MailConfigError> {
    let tls = |e: lettre::transport::smtp::Error| MailConfigError::Tls(e.to_string());
    let mut builder = match smtp.security {
        SmtpSecurity::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host),
        SmtpSecurity::StartTls => {
            AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host).map_err(tls)?
        }
        SmtpSecurity::Implicit => {
            AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host).map_err(tls)?
        }
    }
    .port(smtp.port)
    .timeout(Some(smtp.timeout));
    if let (Some(user), Some(password)) = (&smtp.user, &smtp.password) {
        builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
    }
    Ok(builder.build())
}

#[async_trait]
impl Mailer for MailAdapter {
    async fn deliver(&self, message: &OutboxMessage) -> Result<(), BoxError> {
        let rendered = render(&message.mail, &self.site, self.default_language)?;
        match &self.transport {
            Transport::Console => {
                // The development backend: the whole message, readable, on stdout.
                println!(
                    "---------- mail #{} ----------\nFrom: {}\nTo: {}\nSubject: {}\n\n{}\n-------------------------------",
                    message.id.0, self.from, message.mail.to, rendered.subject, rendered.text
                );
                Ok(())
            }
            Transport::File(file) => {
                let email = self.build(message, rendered)?;
                file.send(email).await?;
                Ok(())
            }
            Transport::Smtp(smtp) => {
                let email = self.build(message, rendered)?;
                smtp.send(email).await?;
                Ok(())
            }
        }
    }
}
