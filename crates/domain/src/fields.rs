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
}

/// Messages per input, in the order they were found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors(Vec<(Input, String)>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, input: Input, message: impl fmt::Display) {
        self.0.push((input, message.to_string()));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Every (input, message) pair.
    pub fn iter(&self) -> impl Iterator<Item = (Input, &str)> {
        self.0.iter().map(|(f, m)| (*f, m.as_str()))
    }

    /// The messages of one input.
    pub fn of(&self, input: Input) -> Vec<&str> {
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
