//! The ports: what the domain needs from the outside world. Adapters implement them;
//! services hold them as `Arc<dyn Port>` so the adapter is chosen at run time.
//!
//! One module per side of the hexagon: accounts, the catalog, mail, and the services
//! around them (hashing, signing, time, randomness, media).

mod accounts;
mod catalog;
mod mail;
mod services;

pub use accounts::*;
pub use catalog::*;
pub use mail::*;
pub use services::*;

use crate::mail::OutgoingMail;
use crate::user::User;

pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What a repository can report. Conflicts are typed so that use cases can answer them;
/// everything the caller cannot act on is `Unavailable` or `Corrupt`.
#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    #[error("an account with this email already exists")]
    EmailTaken,
    #[error("a category with this name already exists")]
    CategoryNameTaken,
    #[error("this product already has a version with that number")]
    VersionNumberTaken,
    #[error("the category still has {0} products")]
    CategoryInUse(u64),
    #[error("a referenced row does not exist")]
    MissingReference,
    #[error("not found")]
    NotFound,
    /// The row was written by someone else since it was read: the write was not made.
    #[error("the row changed since it was read")]
    Conflict,
    #[error("a stored row is invalid: {0}")]
    Corrupt(String),
    #[error("the database is unavailable")]
    Unavailable(#[source] BoxError),
}

/// Writes the mail of an account being created, from the stored account: a
/// verification link names the account's id, which exists only once it is stored.
pub type MailFor = Box<dyn FnOnce(&User) -> OutgoingMail + Send>;
