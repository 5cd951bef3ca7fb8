use catalog_domain::ports::RepoError;
use sea_orm::{DbErr, RuntimeErr, SqlErr};

/// Failures of the adapter itself: connecting and migrating. Repository calls report
/// through the domain's [`RepoError`].
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("unsupported database URL: use sqlite://… or postgres://…")]
    UnsupportedUrl,
    #[error("cannot connect to the database: {0}")]
    Connect(String),
    #[error("database error: {0}")]
    Database(#[from] DbErr),
    #[error("cannot write the search index: {0}")]
    Search(String),
}

/// Maps a database error to what the domain understands. Unique and foreign-key
/// violations become the conflict the caller names; the rest means the database is not
/// usable right now.
pub(crate) fn repo_err(e: DbErr, on_unique: impl FnOnce() -> RepoError) -> RepoError {
    match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => on_unique(),
        Some(SqlErr::ForeignKeyConstraintViolation(_)) => RepoError::MissingReference,
        _ => match e {
            DbErr::RecordNotFound(_) | DbErr::RecordNotUpdated => RepoError::NotFound,
            DbErr::Conn(RuntimeErr::SqlxError(_)) | DbErr::ConnectionAcquire(_) => {
                RepoError::Unavailable(Box::new(e))
            }
            other => RepoError::Unavailable(Box::new(other)),
        },
    }
}

/// For operations where a unique violation cannot be a user's doing.
pub(crate) fn db(e: DbErr) -> RepoError {
    repo_err(e, || {
        RepoError::Corrupt("unexpected unique violation".into())
    })
}

pub(crate) fn corrupt(what: &str, e: impl std::fmt::Display) -> RepoError {
    RepoError::Corrupt(format!("{what}: {e}"))
}
