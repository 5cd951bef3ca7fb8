//! Validation errors keyed by the input they concern, named in the domain's words: how a
//! page's form or an API body calls that input is the web crate's business.

use std::fmt;

/// An input a use case validates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Input {
    /// The address of an account being registered, or sought.
    Email,
    /// The password chosen for a new account.
    Password,
    /// The account's password, asked for to confirm a sensitive change.
    CurrentPassword,
    /// The password being replaced in a password change.
    OldPassword,
    /// The password chosen in a password change.
    NewPassword,
    NewEmail,
    FirstName,
    LastName,
    Phone,
    Country,
    /// The language a person reads the site and their mail in.
    Language,
    Avatar,
    /// A product's name, or a version's.
    Name,
    Description,
    Price,
    Category,
    Image,
    /// A product's versions as a whole (the edit form's formset).
    Versions,
    VersionNumber,
    IsCurrent,
    /// A listing's filters and order.
    MinPrice,
    MaxPrice,
    Mine,
    Status,
    Sort,
}

/// What to tell a person, named by a message id: the words, in each language, live in
/// the message files (`crates/i18n/locales`), not here. The domain's errors keep an
/// English `Display` for logs and the CLI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: &'static str,
    pub args: Vec<(&'static str, MessageArg)>,
}

/// An argument of a [`Message`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageArg {
    Number(i64),
    Text(String),
}

impl From<usize> for MessageArg {
    fn from(n: usize) -> Self {
        Self::Number(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

impl From<u32> for MessageArg {
    fn from(n: u32) -> Self {
        Self::Number(i64::from(n))
    }
}

impl From<String> for MessageArg {
    fn from(s: String) -> Self {
        Self::Text(s)
    }
}

impl From<&str> for MessageArg {
    fn from(s: &str) -> Self {
        Self::Text(s.to_owned())
    }
}

impl Message {
    /// A message without arguments.
    pub const fn new(id: &'static str) -> Self {
        Self {
            id,
            args: Vec::new(),
        }
    }

    /// A message with arguments.
    pub fn with<const N: usize>(id: &'static str, args: [(&'static str, MessageArg); N]) -> Self {
        Self {
            id,
            args: args.into(),
        }
    }
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id)
    }
}

/// Messages per input, in the order they were found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors(Vec<(Input, Message)>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, input: Input, message: impl Into<Message>) {
        self.0.push((input, message.into()));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Every (input, message) pair.
    pub fn iter(&self) -> impl Iterator<Item = (Input, &Message)> {
        self.0.iter().map(|(f, m)| (*f, m))
    }

    /// The messages of one input.
    pub fn of(&self, input: Input) -> Vec<&Message> {
        self.iter()
            .filter(|(f, _)| *f == input)
            .map(|(_, m)| m)
            .collect()
    }

    /// `Ok(())` when nothing was added.
    ///
    /// # Errors
    /// `self` when any input has a message.
    pub fn check(self) -> Result<(), Self> {
        if self.is_empty() { Ok(()) } else { Err(self) }
    }
}

impl fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|(k, m)| format!("{k:?}: {m}")).collect();
        f.write_str(&parts.join("; "))
    }
}

impl std::error::Error for FieldErrors {}
