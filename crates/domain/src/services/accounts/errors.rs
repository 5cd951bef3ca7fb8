//! What the account use cases answer besides success.

use super::*;

#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    #[error(transparent)]
    Hash(#[from] HashError),
    #[error(transparent)]
    Unexpected(#[from] RepoError),
}

/// What a verification link says about its account.
#[derive(Debug, Clone, PartialEq)]
pub enum Verification {
    /// A valid link for an account still waiting for confirmation.
    Pending(Box<User>),
    /// The account is verified already: the link was used (whatever its age).
    AlreadyVerified,
}

#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("the link is invalid")]
    Invalid,
    #[error("the link has expired")]
    Expired,
    #[error(transparent)]
    Unexpected(#[from] RepoError),
}

#[derive(Debug, thiserror::Error)]
pub enum ResendError {
    #[error(transparent)]
    Hash(#[from] HashError),
    #[error(transparent)]
    Unexpected(#[from] RepoError),
}

#[derive(Debug, Clone, PartialEq)]
pub struct SignedIn {
    pub user: User,
    /// Signed in with a generated password: must choose a new one before anything else.
    pub password_change_required: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// Unknown email, wrong password, or a deactivated account: one answer for all.
    #[error("invalid email or password")]
    InvalidCredentials,
    /// The password is right but the address is not confirmed; `resent` says whether a
    /// new link went out (at most one per three minutes).
    #[error("the email address is not confirmed yet")]
    Unverified { resent: bool },
    #[error(transparent)]
    Hash(#[from] HashError),
    #[error(transparent)]
    Unexpected(#[from] RepoError),
}

#[derive(Debug, thiserror::Error)]
pub enum PasswordChangeError {
    #[error("invalid input: {0}")]
    Invalid(FieldErrors),
    #[error(transparent)]
    Hash(#[from] HashError),
    #[error(transparent)]
    Unexpected(#[from] RepoError),
}

#[derive(Debug, thiserror::Error)]
pub enum EmailChangeError {
    #[error("invalid input: {0}")]
    Invalid(FieldErrors),
    #[error(transparent)]
    Hash(#[from] HashError),
    #[error(transparent)]
    Unexpected(#[from] RepoError),
}

#[derive(Debug, thiserror::Error)]
pub enum ConfirmEmailChangeError {
    #[error(transparent)]
    Link(#[from] LinkError),
    /// The change was confirmed before, or replaced by a newer request.
    #[error("this link was already used")]
    AlreadyUsed,
    #[error("an account with this email already exists")]
    EmailTaken,
}

#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("invalid profile: {0}")]
    Invalid(FieldErrors),
    #[error(transparent)]
    Media(MediaError),
    #[error(transparent)]
    Unexpected(#[from] RepoError),
}

#[derive(Debug, thiserror::Error)]
pub enum AvatarError {
    #[error(transparent)]
    Image(#[from] MediaError),
    #[error(transparent)]
    Unexpected(#[from] RepoError),
}
