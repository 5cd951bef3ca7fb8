//! Throw-away databases for tests: a SQLite file in a temporary directory, or a new
//! PostgreSQL database on the server `TEST_DATABASE_URL` names, migrated and ready.

use rand::Rng;
use sea_orm::{ConnectionTrait, Database};

use crate::{Backend, Kept, StorageError, Store};

/// Set in CI: a PostgreSQL test that cannot reach its server fails instead of skipping.
pub const REQUIRE_POSTGRES: &str = "CATALOG_REQUIRE_POSTGRES_TESTS";

/// A migrated, empty database that disappears with the value (PostgreSQL databases are
/// dropped by [`TestDatabase::drop_database`]; SQLite files with their directory).
#[derive(Debug)]
pub struct TestDatabase {
    pub store: Store,
    /// The kept layer over [`TestDatabase::store`], as a server reads through it.
    pub kept: Kept,
    pub url: String,
    pub backend: Backend,
    admin_url: Option<String>,
    name: String,
    _dir: Option<tempfile::TempDir>,
}

impl TestDatabase {
    /// A fresh SQLite database file.
    ///
    /// # Errors
    /// [`StorageError`] when the file cannot be created or migrated.
    pub async fn sqlite() -> Result<Self, StorageError> {
        let dir = tempfile::tempdir().map_err(|e| StorageError::Connect(e.to_string()))?;
        let path = dir.path().join("catalog.db");
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let store = Store::connect(&url).await?;
        store.migrate_up().await?;
        Ok(Self {
            kept: Kept::new(store.clone()),
            store,
            url,
            backend: Backend::Sqlite,
            admin_url: None,
            name: path.display().to_string(),
            _dir: Some(dir),
        })
    }

    /// A fresh PostgreSQL database, or `None` when `TEST_DATABASE_URL` is not set.
    ///
    /// # Errors
    /// [`StorageError`] when the server cannot be reached or the database not created.
    pub async fn postgres() -> Result<Option<Self>, StorageError> {
        let Ok(admin_url) = std::env::var("TEST_DATABASE_URL") else {
            if std::env::var_os(REQUIRE_POSTGRES).is_some() {
                return Err(StorageError::Connect(format!(
                    "{REQUIRE_POSTGRES} is set but TEST_DATABASE_URL is not"
                )));
            }
            return Ok(None);
        };
        let name = format!("catalog_test_{:016x}", rand::rng().random::<u64>());
        let admin = Database::connect(admin_url.as_str()).await?;
        admin
            .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await?;
        admin.close().await?;
        let mut url =
            url::Url::parse(&admin_url).map_err(|e| StorageError::Connect(e.to_string()))?;
        url.set_path(&name);
        let url = url.to_string();
        let store = Store::connect(&url).await?;
        store.migrate_up().await?;
        Ok(Some(Self {
            kept: Kept::new(store.clone()),
            store,
            url,
            backend: Backend::Postgres,
            admin_url: Some(admin_url),
            name,
            _dir: None,
        }))
    }

    /// Runs a query returning one integer column named `n` (for assertions about rows
    /// the ports do not expose, such as wiped secrets).
    ///
    /// # Errors
    /// [`StorageError`] when the query fails or returns no row.
    pub async fn count(&self, sql: &str) -> Result<i64, StorageError> {
        use sea_orm::{ConnectionTrait, Statement};
        let backend = self.store.conn().get_database_backend();
        let row = self
            .store
            .conn()
            .query_one_raw(Statement::from_string(backend, sql.to_owned()))
            .await?
            .ok_or_else(|| StorageError::Connect("the query returned no row".into()))?;
        Ok(row.try_get::<i64>("", "n")?)
    }

    /// Runs a query returning one text column named `s`, and gives its values in order.
    ///
    /// # Errors
    /// [`StorageError`] when the query fails.
    pub async fn strings(&self, sql: &str) -> Result<Vec<String>, StorageError> {
        use sea_orm::{ConnectionTrait, Statement};
        let backend = self.store.conn().get_database_backend();
        let rows = self
            .store
            .conn()
            .query_all_raw(Statement::from_string(backend, sql.to_owned()))
            .await?;
        rows.iter()
            .map(|row| row.try_get::<String>("", "s").map_err(StorageError::from))
            .collect()
    }

    /// Closes the pool and drops a PostgreSQL database; a no-op for SQLite.
    ///
    /// # Errors
    /// [`StorageError`] when the drop fails.
    pub async fn drop_database(self) -> Result<(), StorageError> {
        let Self {
            store,
            kept,
            admin_url,
            name,
            ..
        } = self;
        drop(kept);
        store.close().await?;
        if let Some(admin_url) = admin_url {
            let admin = Database::connect(admin_url.as_str()).await?;
            admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .await?;
            admin.close().await?;
        }
        Ok(())
    }
}

/// Runs `body` against a fresh database of `backend`, then drops it. Returns `false`
/// (after saying so on stderr) when PostgreSQL is not configured.
///
/// # Panics
/// When the database cannot be prepared: a test without its database must fail.
#[allow(clippy::expect_used)]
pub async fn with_database<F, Fut>(backend: Backend, body: F) -> bool
where
    F: FnOnce(TestDatabase) -> Fut,
    Fut: std::future::Future<Output = TestDatabase>,
{
    let db = match backend {
        Backend::Sqlite => Some(
            TestDatabase::sqlite()
                .await
                .expect("create SQLite test database"),
        ),
        Backend::Postgres => TestDatabase::postgres()
            .await
            .expect("create PostgreSQL test database"),
    };
    let Some(db) = db else {
        eprintln!("skipped on PostgreSQL: TEST_DATABASE_URL is not set");
        return false;
    };
    let db = body(db).await;
    db.drop_database().await.expect("drop test database");
    true
}

/// Declares one test per backend: `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! db_test {
    ($name:ident, |$db:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run($db: $crate::testing::TestDatabase) -> $crate::testing::TestDatabase {
                $body
                $db
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $crate::testing::with_database($crate::Backend::Sqlite, run).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                $crate::testing::with_database($crate::Backend::Postgres, run).await;
            }
        }
    };
}
