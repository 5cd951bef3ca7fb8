//! One way of reading a row's columns, whichever driver produced the row: sqlx through
//! SeaORM (PostgreSQL, and SQLite when the inline path steps aside) or SQLite's C
//! library directly (see [`crate::inline`]). The hot reads map their rows once, through
//! this trait, so both paths build the same values from the same columns.

use catalog_domain::Timestamp;
use catalog_domain::ports::RepoError;
use sea_orm::QueryResult;

use crate::error::{corrupt, db};

pub(crate) trait Cells {
    fn int(&self, column: &str) -> Result<Option<i64>, RepoError>;
    fn text(&self, column: &str) -> Result<Option<String>, RepoError>;
    fn flag(&self, column: &str) -> Result<Option<bool>, RepoError>;
    fn time(&self, column: &str) -> Result<Option<Timestamp>, RepoError>;
}

/// A column that may not be NULL.
pub(crate) fn present<T>(value: Option<T>, column: &str) -> Result<T, RepoError> {
    value.ok_or_else(|| corrupt(column, "NULL"))
}

impl Cells for QueryResult {
    fn int(&self, column: &str) -> Result<Option<i64>, RepoError> {
        self.try_get("", column).map_err(db)
    }

    fn text(&self, column: &str) -> Result<Option<String>, RepoError> {
        self.try_get("", column).map_err(db)
    }

    fn flag(&self, column: &str) -> Result<Option<bool>, RepoError> {
        self.try_get("", column).map_err(db)
    }

    fn time(&self, column: &str) -> Result<Option<Timestamp>, RepoError> {
        self.try_get("", column).map_err(db)
    }
}
