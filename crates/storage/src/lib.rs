//! SeaORM adapters for catalog-domain's repository ports. One code base serves SQLite
//! (the embedded default) and PostgreSQL (production); where the two differ (connection
//! tuning, row locking) the difference is confined to this crate.

mod cells;
mod convert;
mod entities;
mod error;
mod groups;
mod held;
mod hot;
#[cfg(test)]
mod hot_reads_tests;
mod inline;
mod kept;
mod outbox;
mod plans;
mod products;
mod sessions;
mod users;
mod viewers;

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr};

pub use error::StorageError;
pub use inline::InlineReads;
pub use kept::{Kept, KeptAnswers, one_catch_up_per_request};

/// The database adapter: one pool, implementing every repository port, keeping nothing
/// between reads. A server reads and writes through [`Kept`], the layer that keeps the
/// hot reads' answers and forgets them after every write.
#[derive(Debug, Clone)]
pub struct Store {
    db: DatabaseConnection,
    /// SQLite files only: the hot reads' path around sqlx (see [`inline`]).
    inline: Option<std::sync::Arc<inline::Inline>>,
    /// PostgreSQL only: the hot reads' connections kept aside (see [`held`]).
    held: Option<std::sync::Arc<held::Held>>,
}

/// Which database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// # Errors
    /// [`StorageError::UnsupportedUrl`] for anything but `sqlite:` and `postgres(ql):`.
    pub fn of_url(url: &str) -> Result<Self, StorageError> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else {
            Err(StorageError::UnsupportedUrl)
        }
    }
}

/// A migration and whether it has been applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationState {
    pub name: String,
    pub applied: bool,
}

impl Store {
    /// Opens a connection pool. The pool connects lazily after the first check, so a
    /// server can start while the database is away and recover when it comes back.
    ///
    /// # Errors
    /// [`StorageError`] for an unsupported URL or a database that cannot be reached.
    pub async fn connect(url: &str) -> Result<Self, StorageError> {
        let backend = Backend::of_url(url)?;
        let mut options = ConnectOptions::new(url.to_owned());
        options
            .connect_timeout(Duration::from_secs(5))
            // A request waits at most this long for a connection, then fails with 503
            // instead of hanging while the database is down.
            .acquire_timeout(Duration::from_secs(5))
            .sqlx_logging(false);
        match backend {
            Backend::Sqlite => {
                options
                    // Measured with the benchmark on two cores: 2 and 4 connections
                    // serve fewer pages a second than 8, and 16 no more.
                    .max_connections(8)
                    // A file cannot hang up: no ping before every query (sqlx still
                    // pings each connection as it comes back to the pool).
                    .test_before_acquire(false)
                    .min_connections(1)
                    .map_sqlx_sqlite_opts(|o| {
                        o.journal_mode(SqliteJournalMode::Wal)
                            .synchronous(SqliteSynchronous::Normal)
                            .busy_timeout(Duration::from_secs(5))
                            .foreign_keys(true)
                    });
            }
            Backend::Postgres => {
                options
                    .max_connections(16)
                    .min_connections(0)
                    // A connection in use is known to work (sqlx pings each one as it
                    // comes back to the pool); one idle for a while may have been cut
                    // by the server or a proxy, and is checked before it is handed out.
                    // Pinging at every checkout cost a round trip per query.
                    .test_before_acquire_if_idle_for(Duration::from_secs(1))
                    // Every statement is prepared once a connection and then planned
                    // once, not at each run: PostgreSQL otherwise plans again for the
                    // values of a statement whose cost depends on them (a search's word,
                    // whose statistics say rare) on every run, and planning a search
                    // took 2.4 ms where running it took 0.3. Every read here is led by
                    // an index in its order and stops at its LIMIT, which no value
                    // makes a worse plan.
                    .map_sqlx_postgres_pool_opts(|pool| {
                        pool.after_connect(|conn, _| {
                            Box::pin(async move {
                                sea_orm::sqlx::Executor::execute(
                                    conn,
                                    "SET plan_cache_mode = force_generic_plan",
                                )
                                .await
                                .map(|_| ())
                            })
                        })
                    });
            }
        }
        let db = Database::connect(options)
            .await
            .map_err(|e| StorageError::Connect(redact(&e)))?;
        let mut store = Self::from_connection(db);
        match backend {
            Backend::Sqlite => {
                store.inline = inline::Inline::for_url(url).map(std::sync::Arc::new);
            }
            Backend::Postgres => {
                let pool = store.db.get_postgres_connection_pool().clone();
                store.held = Some(std::sync::Arc::new(held::Held::new(pool)));
            }
        }
        Ok(store)
    }

    /// Wraps an existing connection (tests, tools).
    pub fn from_connection(db: DatabaseConnection) -> Self {
        Self {
            db,
            inline: None,
            held: None,
        }
    }

    pub fn backend(&self) -> Backend {
        match self.db.get_database_backend() {
            DbBackend::Postgres => Backend::Postgres,
            _ => Backend::Sqlite,
        }
    }

    /// Settles the tables after a bulk load. PostgreSQL would do it by itself some time
    /// later (autovacuum, where it is on); until then it plans a freshly filled table as
    /// if it were empty, and reads each entry of an index that covers a read (a search's
    /// terms) from the table too, as it cannot know the entry visible. SQLite's planner
    /// keeps no statistics here, and its indexes need no such mark.
    ///
    /// # Errors
    /// [`StorageError::Database`] when the database fails.
    pub async fn refresh_statistics(&self) -> Result<(), StorageError> {
        if self.backend() == Backend::Postgres {
            self.db.execute_unprepared("VACUUM (ANALYZE)").await?;
        }
        Ok(())
    }

    /// Answers whether the database responds now.
    ///
    /// # Errors
    /// [`StorageError::Database`] when it does not.
    pub async fn ping(&self) -> Result<(), StorageError> {
        self.db.ping().await.map_err(StorageError::from)
    }

    /// Applies every pending migration; returns how many ran.
    ///
    /// # Errors
    /// [`StorageError::Database`] when a migration fails.
    pub async fn migrate_up(&self) -> Result<usize, StorageError> {
        let pending = Migrator::get_pending_migrations(&self.db).await?.len();
        Migrator::up(&self.db, None).await?;
        if pending > 0 {
            // Products stored before search existed get their documents now: they are
            // built in Rust, so no SQL migration can write them.
            self.index_unindexed()
                .await
                .map_err(|e| StorageError::Search(e.to_string()))?;
        }
        Ok(pending)
    }

    /// Reverts the last `steps` applied migrations.
    ///
    /// # Errors
    /// [`StorageError::Database`] when a migration fails.
    pub async fn migrate_down(&self, steps: u32) -> Result<(), StorageError> {
        Ok(Migrator::down(&self.db, Some(steps)).await?)
    }

    /// Reverts every migration and applies them all again: an empty, seeded schema.
    /// (sea-orm-migration's own `fresh` drops tables in an order SQLite's foreign-key
    /// checks refuse; our down migrations know the right order.)
    ///
    /// # Errors
    /// [`StorageError::Database`] when a migration fails.
    pub async fn migrate_fresh(&self) -> Result<(), StorageError> {
        Ok(Migrator::refresh(&self.db).await?)
    }

    /// # Errors
    /// [`StorageError::Database`] when the migration table cannot be read.
    pub async fn migration_status(&self) -> Result<Vec<MigrationState>, StorageError> {
        let applied: Vec<String> = Migrator::get_applied_migrations(&self.db)
            .await?
            .iter()
            .map(|m| m.name().to_owned())
            .collect();
        Ok(Migrator::migrations()
            .iter()
            .map(|m| MigrationState {
                name: m.name().to_owned(),
                applied: applied.iter().any(|a| a == m.name()),
            })
            .collect())
    }

    /// Whether migrations are pending (checked at start-up when auto-migrate is off).
    ///
    /// # Errors
    /// [`StorageError::Database`] when the migration table cannot be read.
    pub async fn has_pending_migrations(&self) -> Result<bool, StorageError> {
        Ok(!Migrator::get_pending_migrations(&self.db).await?.is_empty())
    }

    /// The SQLite file the inline path reads, which the kept layer watches for other
    /// connections' commits; `None` for PostgreSQL and in-memory SQLite.
    pub(crate) fn sqlite_file(&self) -> Option<&str> {
        self.inline.as_deref().map(inline::Inline::path)
    }

    pub(crate) fn conn(&self) -> &DatabaseConnection {
        &self.db
    }

    /// How many hot reads took the inline path and how many stepped aside to sqlx;
    /// `None` where there is no inline path (PostgreSQL, in-memory SQLite).
    pub fn inline_reads(&self) -> Option<InlineReads> {
        self.inline.as_ref().map(|i| i.reads())
    }

    /// The rows of a read that every page makes, each mapped by its mapper. Only a
    /// bounded read may take SQLite's inline path; the rest (and whatever steps aside)
    /// go through sqlx.
    pub(crate) async fn hot_rows<T>(
        &self,
        read: hot::HotRead<T>,
    ) -> Result<Vec<T>, catalog_domain::ports::RepoError> {
        if read.bounded
            && let Some(inline) = &self.inline
            && let Some(rows) = inline.rows(&read.statement, &read.map)
        {
            return rows;
        }
        // sqlx's acquire and fetch futures take kilobytes, which every caller's future
        // would carry and copy on each request; boxed, they are paid for only when the
        // read goes through the pool.
        let rows = Box::pin(self.pooled_rows(read.statement)).await?;
        rows.iter().map(|row| (read.map)(row)).collect()
    }

    async fn pooled_rows(
        &self,
        statement: sea_orm::Statement,
    ) -> Result<Vec<sea_orm::QueryResult>, catalog_domain::ports::RepoError> {
        if let Some(held) = &self.held
            && let Some(rows) = held.rows(&statement).await
        {
            return rows;
        }
        self.db.query_all_raw(statement).await.map_err(error::db)
    }

    /// Runs a statement that returns nothing; for tests and tooling.
    ///
    /// # Errors
    /// [`StorageError::Database`].
    pub async fn execute_unprepared(&self, sql: &str) -> Result<(), StorageError> {
        self.db.execute_unprepared(sql).await?;
        Ok(())
    }

    /// Closes the pool, waiting for connections in use to be returned.
    ///
    /// # Errors
    /// [`StorageError::Database`].
    pub async fn close(self) -> Result<(), StorageError> {
        if let Some(held) = &self.held {
            held.release();
        }
        self.db.close().await.map_err(StorageError::from)
    }
}

/// Connection errors can echo the URL, which may carry a password.
fn redact(e: &DbErr) -> String {
    let text = e.to_string();
    match (text.find("://"), text.find('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://<redacted>{}", &text[..scheme], &text[at..])
        }
        _ => text,
    }
}

#[cfg(feature = "test-support")]
pub mod testing;
