//! The services around the use cases: hashing, signing, time, randomness, media.

use std::time::Duration;

use async_trait::async_trait;

use crate::Timestamp;
use crate::user::{Password, PasswordAttempt, PasswordHash};

use super::BoxError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordCheck {
    Valid { needs_rehash: bool },
    Invalid,
}

#[derive(Debug, thiserror::Error)]
#[error("password hashing failed")]
pub struct HashError(#[source] pub BoxError);

/// Password hashing. Implementations run the expensive work off the async reactor.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PasswordHasher: Send + Sync {
    /// # Errors
    /// [`HashError`] when the hasher fails (it should not).
    async fn hash(&self, password: &Password) -> Result<PasswordHash, HashError>;
    /// Checks an attempt against a hash; with `None` it hashes anyway, so that an unknown
    /// account costs the same time as a known one.
    ///
    /// # Errors
    /// [`HashError`] when the hasher fails.
    async fn verify(
        &self,
        attempt: &PasswordAttempt,
        hash: Option<PasswordHash>,
    ) -> Result<PasswordCheck, HashError>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token is malformed or its signature is wrong")]
    Invalid,
    #[error("the token has expired")]
    Expired,
}

/// What a verified signed token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedClaims {
    /// Whom the token is for and the state it is bound to, as the use case wrote it
    /// (for example the address being confirmed): once that state changes, the token no
    /// longer matches and cannot be used again.
    pub subject: String,
    pub issued_at: Timestamp,
}

/// Signs and checks tokens (HMAC). `purpose` separates kinds of token, so a token made
/// for one use is worthless for another.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait TokenSigner: Send + Sync {
    fn sign(&self, purpose: &str, subject: &str, issued_at: Timestamp) -> String;
    /// Checks the signature first, then the age (`max_age` from `issued_at` to `now`).
    ///
    /// # Errors
    /// [`TokenError::Invalid`] or [`TokenError::Expired`]; an expired token still reports
    /// its claims through [`TokenSigner::verify_signature`].
    fn verify(
        &self,
        purpose: &str,
        token: &str,
        now: Timestamp,
        max_age: Duration,
    ) -> Result<SignedClaims, TokenError>;
    /// Checks only the signature, whatever the token's age.
    ///
    /// # Errors
    /// [`TokenError::Invalid`].
    fn verify_signature(&self, purpose: &str, token: &str) -> Result<SignedClaims, TokenError>;
    /// A keyed digest of a secret (API tokens, session ids) to store instead of the
    /// secret itself: a copy of the table hands out nothing usable.
    fn fingerprint(&self, secret: &str) -> String;
}

#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

/// Randomness from a cryptographically secure generator.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait Random: Send + Sync {
    /// `bytes` random bytes, URL-safe base64 without padding.
    fn token(&self, bytes: usize) -> String;
    /// A password of `len` characters without look-alike characters.
    fn password(&self, len: usize) -> String;
}

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("the file is not an image of a supported type")]
    NotAnImage,
    #[error("the image is larger than {max_side}×{max_side} pixels or {max_megapixels} megapixels")]
    TooLarge { max_side: u32, max_megapixels: u32 },
    /// Within the size limits, but more than the budget once decoded (16 bits a
    /// channel): a small file must not cost the server hundreds of megabytes.
    #[error(
        "the image takes more than {max_mib} MiB once decoded; save it with 8 bits per channel or make it smaller"
    )]
    TooDeep { max_mib: u32 },
    #[error("no such file")]
    NotFound,
    #[error("the media store failed")]
    Io(#[source] BoxError),
}

impl MediaError {
    /// Whether the upload itself is refused (a field error for its sender), rather than
    /// the store failing.
    pub fn refuses_the_file(&self) -> bool {
        matches!(
            self,
            Self::NotAnImage | Self::TooLarge { .. } | Self::TooDeep { .. }
        )
    }
}

/// A stored image, ready to serve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMedia {
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
}

/// Where avatars and product images live. `save_image` decodes, checks and re-encodes the
/// image and stores it under a fresh random key, with its resized variants
/// ([`crate::media::Variant`]) beside it.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait MediaStore: Send + Sync {
    /// # Errors
    /// [`MediaError::NotAnImage`], [`MediaError::TooLarge`], [`MediaError::TooDeep`] or
    /// [`MediaError::Io`].
    async fn save_image(&self, folder: &str, bytes: Vec<u8>) -> Result<String, MediaError>;
    /// # Errors
    /// [`MediaError::NotFound`] or [`MediaError::Io`].
    async fn open(&self, key: &str) -> Result<StoredMedia, MediaError>;
    /// Deletes the image and its variants; deleting a missing file is not an error.
    ///
    /// # Errors
    /// [`MediaError::Io`].
    async fn delete(&self, key: &str) -> Result<(), MediaError>;
    /// The keys of every stored original (variants left out), in no particular order.
    ///
    /// # Errors
    /// [`MediaError::Io`].
    async fn originals(&self) -> Result<Vec<String>, MediaError>;
    /// Makes the variants the image under `key` lacks (an image stored before variants
    /// existed); returns whether it made any.
    ///
    /// # Errors
    /// [`MediaError::NotFound`], [`MediaError::Io`], or the decoding errors of
    /// [`MediaStore::save_image`] for a stored file that is no longer an acceptable image.
    async fn make_variants(&self, key: &str) -> Result<bool, MediaError>;
}
