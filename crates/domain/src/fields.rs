//! Validation errors keyed by the name of the form field or JSON key they concern.

use std::fmt;

/// Messages per field, in the order they were found. Web handlers show them beside the
/// fields (HTML) or as `errors: {field: [..]}` (problem+json).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors(Vec<(&'static str, String)>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: &'static str, message: impl fmt::Display) {
        self.0.push((field, message.to_string()));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Every (field, message) pair.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.0.iter().map(|(f, m)| (*f, m.as_str()))
    }

    /// The messages of one field.
    pub fn of(&self, field: &str) -> Vec<&str> {
        self.iter()
            .filter(|(f, _)| *f == field)
            .map(|(_, m)| m)
            .collect()
    }

    /// The same messages with `from`'s reported under `to` (forms and JSON sometimes
    /// name a field differently).
    #[must_use]
    pub fn renamed(self, from: &str, to: &'static str) -> Self {
        Self(
            self.0
                .into_iter()
                .map(|(f, m)| (if f == from { to } else { f }, m))
                .collect(),
        )
    }

    /// `Ok(())` when nothing was added.
    ///
    /// # Errors
    /// `self` when any field has a message.
    pub fn check(self) -> Result<(), Self> {
        if self.is_empty() { Ok(()) } else { Err(self) }
    }
}

impl fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|(k, m)| format!("{k}: {m}")).collect();
        f.write_str(&parts.join("; "))
    }
}

impl std::error::Error for FieldErrors {}
