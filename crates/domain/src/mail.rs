//! Messages the service sends. A message is queued in the outbox in the same unit of
//! work as the change that causes it and delivered later by the dispatcher.

use std::fmt;

use crate::Timestamp;
use crate::user::Email;

/// Which message to send; the mail adapter renders each from its templates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MailKind {
    Verification,
    RegistrationAttempt,
    GeneratedPassword,
    PasswordChanged,
    EmailChangeConfirmation,
    EmailChangeNotice,
}

impl MailKind {
    pub const ALL: [MailKind; 6] = [
        MailKind::Verification,
        MailKind::RegistrationAttempt,
        MailKind::GeneratedPassword,
        MailKind::PasswordChanged,
        MailKind::EmailChangeConfirmation,
        MailKind::EmailChangeNotice,
    ];

    /// The stable name stored in the outbox.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Verification => "verification",
            Self::RegistrationAttempt => "registration_attempt",
            Self::GeneratedPassword => "generated_password",
            Self::PasswordChanged => "password_changed",
            Self::EmailChangeConfirmation => "email_change_confirmation",
            Self::EmailChangeNotice => "email_change_notice",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == value)
    }
}

/// Material that must not outlive delivery: a link carrying a token, a generated
/// password. Redacted in `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct MailSecret(String);

impl MailSecret {
    pub fn new(value: String) -> Self {
        Self(value)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for MailSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MailSecret(<redacted>)")
    }
}

/// A message to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    pub to: Email,
    pub kind: MailKind,
    /// How to greet the recipient (may be empty).
    pub recipient_name: String,
    /// An absolute link with a token (verification, email change).
    pub link: Option<MailSecret>,
    /// A generated password.
    pub secret: Option<MailSecret>,
    /// Non-secret context such as the new address in an email-change notice.
    pub detail: Option<String>,
    /// The code of the language to write the message in: the recipient account's
    /// (`None`: the site's default language).
    pub language: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OutboxId(pub i64);

/// A queued message claimed for delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    pub id: OutboxId,
    pub mail: OutgoingMail,
    pub attempts: u32,
    pub created_at: Timestamp,
}
