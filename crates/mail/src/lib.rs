//! Mail adapters for catalog: they implement the domain's `Mailer` port by rendering a
//! queued message from its templates (plain text and HTML) and handing it to SMTP
//! (lettre: plain, STARTTLS, implicit TLS), the console, or `.eml` files.
//!
//! The adapters arrive with the accounts work; until then the server queues mail in the
//! outbox (storage) and nothing delivers it.
