//! What each product operation answers besides success: one enum per kind of operation,
//! holding only what that operation can meet, and [`ProductError`], any of them, for
//! callers that answer them all alike (the web edge maps it once).
//!
//! Each `From<RepoError>` is written out, so that `?` on a repository call cannot turn
//! a lost race into "unexpected": a write that found the product changed is a conflict,
//! one that found it gone is "not found".

use crate::access::{Field, PatchDenied, PublishDenied};
use crate::fields::FieldErrors;
use crate::ports::{MediaError, RepoError};

use super::EditErrors;

/// Listing products.
#[derive(Debug, thiserror::Error)]
pub enum ListError {
    /// Anonymous visitor while public browsing is off.
    #[error("sign in to see products")]
    LoginRequired,
    #[error(transparent)]
    Unexpected(#[from] RepoError),
}

/// Reading one product (or its image).
#[derive(Debug, thiserror::Error)]
pub enum ViewError {
    #[error("sign in to see products")]
    LoginRequired,
    /// Unknown, or invisible to this viewer (never 403 for what one may not see).
    #[error("no such product")]
    NotFound,
    #[error(transparent)]
    Media(MediaError),
    #[error(transparent)]
    Unexpected(RepoError),
}

impl From<RepoError> for ViewError {
    fn from(e: RepoError) -> Self {
        match e {
            RepoError::NotFound => Self::NotFound,
            other => Self::Unexpected(other),
        }
    }
}

/// Creating a product.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    #[error("invalid input: {0}")]
    Invalid(FieldErrors),
    #[error(transparent)]
    Media(MediaError),
    #[error(transparent)]
    Unexpected(#[from] RepoError),
}

/// Changing a product: its fields, its image, its versions.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    /// Unknown, or invisible to the actor.
    #[error("no such product")]
    NotFound,
    /// The actor may not change these fields; nothing was saved.
    #[error("forbidden: {}", .fields.iter().map(|f| f.api_name()).collect::<Vec<_>>().join(", "))]
    Forbidden {
        fields: Vec<Field>,
        publish_denied: Option<PublishDenied>,
    },
    #[error("invalid input: {0}")]
    Invalid(FieldErrors),
    /// The edit form: errors of the product's fields and of each submitted version row.
    #[error("invalid input")]
    InvalidEdit(EditErrors),
    /// Someone else changed the product after this change was decided on (a moderator
    /// unpublished it while its owner's edit was on its way, say); nothing was saved.
    #[error("the product changed meanwhile")]
    Conflict,
    #[error(transparent)]
    Media(MediaError),
    #[error(transparent)]
    Unexpected(RepoError),
}

impl From<RepoError> for ChangeError {
    fn from(e: RepoError) -> Self {
        match e {
            RepoError::Conflict => Self::Conflict,
            RepoError::NotFound => Self::NotFound,
            other => Self::Unexpected(other),
        }
    }
}

impl From<PatchDenied> for ChangeError {
    fn from(d: PatchDenied) -> Self {
        Self::Forbidden {
            fields: d.fields,
            publish_denied: d.publish_denied,
        }
    }
}

/// Deleting a product.
#[derive(Debug, thiserror::Error)]
pub enum DeleteError {
    #[error("no such product")]
    NotFound,
    /// Only its owner and superusers delete a product.
    #[error("forbidden")]
    Forbidden,
    #[error("the product changed meanwhile")]
    Conflict,
    #[error(transparent)]
    Unexpected(RepoError),
}

impl From<RepoError> for DeleteError {
    fn from(e: RepoError) -> Self {
        match e {
            RepoError::Conflict => Self::Conflict,
            RepoError::NotFound => Self::NotFound,
            other => Self::Unexpected(other),
        }
    }
}

/// An image the media pipeline would not store.
pub(super) enum ImageRefused {
    /// The file is not an image it takes (its message is the image field's).
    Invalid(FieldErrors),
    Failed(MediaError),
}

impl From<ImageRefused> for CreateError {
    fn from(e: ImageRefused) -> Self {
        match e {
            ImageRefused::Invalid(errors) => Self::Invalid(errors),
            ImageRefused::Failed(e) => Self::Media(e),
        }
    }
}

impl From<ImageRefused> for ChangeError {
    fn from(e: ImageRefused) -> Self {
        match e {
            ImageRefused::Invalid(errors) => Self::Invalid(errors),
            ImageRefused::Failed(e) => Self::Media(e),
        }
    }
}

/// Any product operation's failure, for callers that answer them all the same way.
#[derive(Debug, thiserror::Error)]
pub enum ProductError {
    #[error("sign in to see products")]
    LoginRequired,
    #[error("no such product")]
    NotFound,
    #[error("forbidden: {}", .fields.iter().map(|f| f.api_name()).collect::<Vec<_>>().join(", "))]
    Forbidden {
        fields: Vec<Field>,
        publish_denied: Option<PublishDenied>,
    },
    #[error("invalid input: {0}")]
    Invalid(FieldErrors),
    #[error("invalid input")]
    InvalidEdit(EditErrors),
    #[error("the product changed meanwhile")]
    Conflict,
    #[error(transparent)]
    Media(MediaError),
    #[error(transparent)]
    Unexpected(RepoError),
}

impl From<ListError> for ProductError {
    fn from(e: ListError) -> Self {
        match e {
            ListError::LoginRequired => Self::LoginRequired,
            ListError::Unexpected(e) => Self::Unexpected(e),
        }
    }
}

impl From<ViewError> for ProductError {
    fn from(e: ViewError) -> Self {
        match e {
            ViewError::LoginRequired => Self::LoginRequired,
            ViewError::NotFound => Self::NotFound,
            ViewError::Media(e) => Self::Media(e),
            ViewError::Unexpected(e) => Self::Unexpected(e),
        }
    }
}

impl From<CreateError> for ProductError {
    fn from(e: CreateError) -> Self {
        match e {
            CreateError::Invalid(errors) => Self::Invalid(errors),
            CreateError::Media(e) => Self::Media(e),
            CreateError::Unexpected(e) => Self::Unexpected(e),
        }
    }
}

impl From<ChangeError> for ProductError {
    fn from(e: ChangeError) -> Self {
        match e {
            ChangeError::NotFound => Self::NotFound,
            ChangeError::Forbidden {
                fields,
                publish_denied,
            } => Self::Forbidden {
                fields,
                publish_denied,
            },
            ChangeError::Invalid(errors) => Self::Invalid(errors),
            ChangeError::InvalidEdit(errors) => Self::InvalidEdit(errors),
            ChangeError::Conflict => Self::Conflict,
            ChangeError::Media(e) => Self::Media(e),
            ChangeError::Unexpected(e) => Self::Unexpected(e),
        }
    }
}

impl From<DeleteError> for ProductError {
    fn from(e: DeleteError) -> Self {
        match e {
            DeleteError::NotFound => Self::NotFound,
            DeleteError::Forbidden => Self::Forbidden {
                fields: Vec::new(),
                publish_denied: None,
            },
            DeleteError::Conflict => Self::Conflict,
            DeleteError::Unexpected(e) => Self::Unexpected(e),
        }
    }
}
