//! Mail adapters for catalog. [`MailAdapter`] implements the domain's `Mailer` port: it
//! renders a queued message from the templates (plain text and HTML, both always) and
//! hands it to the configured transport — SMTP through lettre (plain, STARTTLS or
//! implicit TLS, with a send timeout), the console, or one `.eml` file per message.

mod render;
mod transport;

pub use render::{RenderError, Rendered, render};
pub use transport::{
    MailAdapter, MailConfig, MailConfigError, SmtpConfig, SmtpSecurity, TransportKind,
};
