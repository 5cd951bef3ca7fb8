//! People: accounts and the values that describe them.

mod country;
mod email;
mod password;
mod phone;

use std::fmt;

pub use country::{Country, CountryError};
pub use email::{Email, EmailError};
pub use password::{
    Attribute, Password, PasswordAttempt, PasswordContext, PasswordError, PasswordHash,
    PasswordProblem,
};
pub use phone::{Phone, PhoneError};

use crate::Timestamp;
use crate::access::Group;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(pub i64);

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A first or last name: at most 150 characters, no control characters (names end up in
/// email headers and must not carry line breaks).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PersonName(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PersonNameError {
    #[error("Ensure this value has at most {max} characters.", max = PersonName::MAX_LEN)]
    TooLong,
    #[error("Names cannot contain control characters.")]
    ControlCharacter,
}

impl PersonName {
    pub const MAX_LEN: usize = 150;

    /// # Errors
    /// [`PersonNameError`] when the name is too long or contains control characters.
    pub fn parse(input: &str) -> Result<Self, PersonNameError> {
        Self::checked(crate::normalize_text(input))
    }

    /// As [`PersonName::parse`], keeping the string's buffer when it is normalised
    /// already (as stored names are: every product row read carries its owner's).
    ///
    /// # Errors
    /// As [`PersonName::parse`].
    pub fn parse_owned(input: String) -> Result<Self, PersonNameError> {
        Self::checked(crate::normalize_owned(input))
    }

    fn checked(value: String) -> Result<Self, PersonNameError> {
        if value.len() > Self::MAX_LEN && crate::char_len(&value) > Self::MAX_LEN {
            return Err(PersonNameError::TooLong);
        }
        if value.chars().any(char::is_control) {
            return Err(PersonNameError::ControlCharacter);
        }
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A generated password waiting for its first use (password reset).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingPassword {
    pub hash: PasswordHash,
    pub expires_at: Timestamp,
}

/// An account as storage returns it.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: UserId,
    pub email: Email,
    pub password_hash: Option<PasswordHash>,
    pub first_name: PersonName,
    pub last_name: PersonName,
    /// Media-store key of the avatar image.
    pub avatar: Option<String>,
    pub phone: Option<Phone>,
    pub country: Option<Country>,
    pub is_active: bool,
    pub is_verified: bool,
    pub is_superuser: bool,
    /// Switched off by a superuser: stays inactive, whatever happens to it (confirming
    /// its address included), until a superuser activates it.
    pub deactivated: bool,
    pub password_change_required: bool,
    /// A generated password from a reset, until it is used or expires.
    pub pending_password: Option<PendingPassword>,
    /// A new address waiting for confirmation.
    pub pending_email: Option<Email>,
    pub date_joined: Timestamp,
    pub last_login: Option<Timestamp>,
    /// The code of the language the person reads the site and their mail in; `None`
    /// for accounts that never chose (their browser's language applies).
    pub language: Option<String>,
}

/// What it takes to create an account.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: Email,
    pub password_hash: PasswordHash,
    pub is_active: bool,
    pub is_verified: bool,
    pub is_superuser: bool,
    pub first_name: PersonName,
    pub last_name: PersonName,
    pub date_joined: Timestamp,
    pub language: Option<String>,
}

/// An account with its group memberships, for administrative listings.
#[derive(Debug, Clone, PartialEq)]
pub struct UserWithGroups {
    pub user: User,
    pub groups: Vec<Group>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn person_names_are_trimmed_and_bounded() {
        assert_eq!(PersonName::parse("  Ann ").unwrap().as_str(), "Ann");
        assert!(PersonName::parse(&"é".repeat(150)).is_ok());
        assert_eq!(
            PersonName::parse(&"é".repeat(151)),
            Err(PersonNameError::TooLong)
        );
        assert_eq!(
            PersonName::parse("Ann\r\nBcc: x@example.com"),
            Err(PersonNameError::ControlCharacter)
        );
    }

    #[test]
    fn stored_names_read_as_typed_names_parse() {
        for input in ["", " Ann ", "Cafe\u{301}", "a\nb", &"é".repeat(151)] {
            assert_eq!(
                PersonName::parse_owned(input.to_owned()),
                PersonName::parse(input),
                "{input:?}"
            );
        }
    }
}
