//! PostgreSQL's hot reads, on connections kept out of sqlx's pool between them.
//!
//! sqlx tests every connection as it comes back to its pool: a Sync message and a wait
//! for the server's answer. A page makes two reads (who is asking, then what they see),
//! so it made four round trips to the server, and on a machine the server shares, each
//! round trip is two context switches. Here a connection that has just answered a read
//! in full is kept aside for the next one instead, without that test: its protocol
//! state is known to be clean, because the read ran to its end. A read that does not
//! (an error, or a request dropped half-way) lets its connection go back to the pool the
//! usual way, tested as before; so does one kept aside longer than the pool would trust
//! it without a test.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use catalog_domain::ports::RepoError;
use sea_orm::sqlx::pool::PoolConnection;
use sea_orm::sqlx::postgres::{PgArguments, PgPool};
use sea_orm::sqlx::query::Query;
use sea_orm::sqlx::{self, Postgres};
use sea_orm::{DbErr, QueryResult, RuntimeErr, Statement, Value};

/// How long a connection may wait here and still be used untested: the pool's own rule
/// (`test_before_acquire_if_idle_for`) for the connections it hands out.
const TRUSTED_FOR: Duration = Duration::from_secs(1);

#[derive(Debug)]
pub(crate) struct Held {
    pool: PgPool,
    idle: Mutex<Vec<(PoolConnection<Postgres>, Instant)>>,
    /// Hot reads under way at once, and connections kept aside at most: half of the
    /// pool, so that the other queries always find one there. Reads beyond that wait
    /// their turn in order: a read arriving just as a connection came back must not take
    /// it ahead of reads already waiting (they waited hundreds of milliseconds that way).
    limit: usize,
    turns: tokio::sync::Semaphore,
}

impl Held {
    pub(crate) fn new(pool: PgPool) -> Self {
        let limit = usize::try_from(pool.options().get_max_connections() / 2)
            .unwrap_or(1)
            .max(1);
        Self {
            pool,
            idle: Mutex::new(Vec::new()),
            limit,
            turns: tokio::sync::Semaphore::new(limit),
        }
    }

    /// The statement's rows; `None` for a statement binding a type this path does not
    /// bind (it then runs through sea-orm as before).
    pub(crate) async fn rows(
        &self,
        statement: &Statement,
    ) -> Option<Result<Vec<QueryResult>, RepoError>> {
        let query = bound(statement)?;
        // First come, first served (tokio's semaphore is fair); held until the read ends
        // or is dropped.
        let _turn = self.turns.acquire().await.ok()?;
        let mut conn = match self.take() {
            Some(conn) => conn,
            None => match self.pool.acquire().await {
                Ok(conn) => conn,
                Err(e) => return Some(Err(crate::error::db(acquire_error(e)))),
            },
        };
        // Should this future be dropped while the query runs, `conn` is dropped with it
        // and goes back to the pool, which tests it: nothing half-read is kept here.
        let rows = match query.fetch_all(&mut *conn).await {
            Ok(rows) => rows,
            Err(e) => {
                drop(conn);
                return Some(Err(crate::error::db(DbErr::Query(RuntimeErr::SqlxError(
                    e.into(),
                )))));
            }
        };
        self.keep(conn);
        Some(Ok(rows.into_iter().map(QueryResult::from).collect()))
    }

    fn take(&self) -> Option<PoolConnection<Postgres>> {
        let mut idle = self.idle.lock().ok()?;
        while let Some((conn, since)) = idle.pop() {
            if since.elapsed() < TRUSTED_FOR {
                return Some(conn);
            }
            // Back to the pool, which tests it before handing it out again.
            drop(conn);
        }
        None
    }

    fn keep(&self, conn: PoolConnection<Postgres>) {
        let Ok(mut idle) = self.idle.lock() else {
            return;
        };
        if idle.len() < self.limit {
            idle.push((conn, Instant::now()));
        }
    }

    /// Hands every kept connection back to the pool (before the pool closes, which
    /// waits for all of its connections).
    pub(crate) fn release(&self) {
        let kept = match self.idle.lock() {
            Ok(mut idle) => std::mem::take(&mut *idle),
            Err(_) => return,
        };
        drop(kept);
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        // A connection dropped into its pool is returned by a task; without a runtime
        // (a store dropped after its runtime ended) there is none to run it, so the
        // connections are closed as they are instead.
        if tokio::runtime::Handle::try_current().is_err()
            && let Ok(idle) = self.idle.get_mut()
        {
            for (conn, _) in idle.drain(..) {
                drop(conn.leak());
            }
        }
    }
}

fn acquire_error(e: sqlx::Error) -> DbErr {
    match e {
        sqlx::Error::PoolTimedOut => DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::Timeout),
        sqlx::Error::PoolClosed => {
            DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::ConnectionClosed)
        }
        other => DbErr::Conn(RuntimeErr::SqlxError(other.into())),
    }
}

/// The statement with its values bound as sea-orm binds them for PostgreSQL (the same
/// Rust types, so the same parameter types); `None` when one is of a type the hot reads
/// do not use.
fn bound(statement: &Statement) -> Option<Query<'_, Postgres, PgArguments>> {
    let mut query = sqlx::query(sqlx::AssertSqlSafe(statement.sql.as_str()));
    let Some(values) = &statement.values else {
        return Some(query);
    };
    for value in &values.0 {
        query = match value {
            Value::Bool(v) => query.bind(*v),
            Value::Int(v) => query.bind(*v),
            Value::BigInt(v) => query.bind(*v),
            Value::String(v) => query.bind(v.as_deref()),
            Value::ChronoDateTimeUtc(v) => query.bind(*v),
            _ => return None,
        };
    }
    Some(query)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::testing::TestDatabase;
    use sea_orm::DbBackend;

    impl Held {
        fn kept(&self) -> usize {
            self.idle.lock().map(|idle| idle.len()).unwrap_or(0)
        }
    }

    fn number(rows: &[QueryResult]) -> i64 {
        rows.first()
            .and_then(|row| row.try_get::<i64>("", "n").ok())
            .unwrap_or(-1)
    }

    /// A fresh PostgreSQL store and its kept connections; `None` without a server.
    async fn postgres() -> Option<(TestDatabase, std::sync::Arc<Held>)> {
        let db = TestDatabase::postgres().await.unwrap()?;
        let held = db
            .store
            .held
            .clone()
            .expect("a PostgreSQL store keeps connections");
        Some((db, held))
    }

    /// Every connection plans each statement once (see `Store::connect`): a search's
    /// statement was planned again at every run, for every word.
    #[tokio::test]
    async fn statements_are_planned_once_a_connection() {
        let Some((db, held)) = postgres().await else {
            return;
        };
        let show = Statement::from_string(DbBackend::Postgres, "SHOW plan_cache_mode");
        // On a connection from the pool and on one kept aside alike.
        for _ in 0..2 {
            let rows = held.rows(&show).await.unwrap().unwrap();
            let mode = rows
                .first()
                .and_then(|row| row.try_get::<String>("", "plan_cache_mode").ok());
            assert_eq!(mode.as_deref(), Some("force_generic_plan"));
        }
        db.drop_database().await.unwrap();
    }

    /// A connection is kept only after a read it answered in full: not after a read
    /// dropped half-way (its answer may still be on the wire), not after an error, and
    /// not once it has waited longer than the pool trusts a connection untested.
    #[tokio::test]
    async fn only_connections_that_answered_in_full_are_kept() {
        let Some((db, held)) = postgres().await else {
            return;
        };
        let read = |n: i64| {
            Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT $1::bigint AS n",
                [n.into()],
            )
        };

        let first = held.rows(&read(7)).await.unwrap().unwrap();
        assert_eq!((number(&first), held.kept()), (7, 1));

        let slow = Statement::from_string(
            DbBackend::Postgres,
            "SELECT 8::bigint AS n FROM pg_sleep(0.5)",
        );
        let dropped = tokio::time::timeout(Duration::from_millis(50), held.rows(&slow)).await;
        assert!(dropped.is_err(), "the slow read was cut short");
        assert_eq!(held.kept(), 0, "its connection went back to the pool");
        // The next read is answered with its own rows, not the dropped read's.
        let next = held.rows(&read(9)).await.unwrap().unwrap();
        assert_eq!((number(&next), held.kept()), (9, 1));

        let failing = Statement::from_string(DbBackend::Postgres, "SELECT 1 / 0 AS n");
        assert!(held.rows(&failing).await.unwrap().is_err());
        assert_eq!(held.kept(), 0, "a connection that failed is not kept");

        let again = held.rows(&read(10)).await.unwrap().unwrap();
        assert_eq!(number(&again), 10);
        tokio::time::sleep(TRUSTED_FOR + Duration::from_millis(100)).await;
        assert!(held.take().is_none(), "too long aside to be used untested");

        db.drop_database().await.unwrap();
    }

    /// Reads beyond the connections kept wait their turn in the order they came: of
    /// many slow reads started one after the other, the last to start end last, and no
    /// more connections than kept are ever taken from the pool for hot reads.
    #[tokio::test]
    async fn reads_take_their_turns_in_order() {
        let Some((db, held)) = postgres().await else {
            return;
        };
        let limit = held.limit;
        assert_eq!(limit, 8, "half of the pool's sixteen");
        let wave = i64::try_from(limit).unwrap();
        // Connections opened first: opening one takes longer than a read, and would
        // muddle the order.
        let warm: Vec<_> = (0..wave)
            .map(|n| {
                let held = held.clone();
                tokio::spawn(async move {
                    let slow = Statement::from_sql_and_values(
                        DbBackend::Postgres,
                        "SELECT $1::bigint AS n FROM pg_sleep(0.05)",
                        [n.into()],
                    );
                    held.rows(&slow).await.unwrap().unwrap()
                })
            })
            .collect();
        for read in warm {
            read.await.unwrap();
        }
        assert_eq!(held.kept(), limit);
        let order = std::sync::Arc::new(Mutex::new(Vec::new()));
        let mut reads = Vec::new();
        for n in 0..(3 * wave) {
            let (held, order) = (held.clone(), order.clone());
            reads.push(tokio::spawn(async move {
                let slow = Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    "SELECT $1::bigint AS n FROM pg_sleep(0.05)",
                    [n.into()],
                );
                let rows = held.rows(&slow).await.unwrap().unwrap();
                order.lock().unwrap().push(number(&rows));
            }));
            // Started one after the other, so that their order is known.
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        for read in reads {
            read.await.unwrap();
        }
        let order = order.lock().unwrap().clone();
        assert_eq!(order.len(), 3 * limit);
        let last_wave: Vec<i64> = order.iter().skip(2 * limit).copied().collect();
        assert!(
            last_wave.iter().all(|&n| n >= 2 * wave),
            "the last {limit} reads to start end last: {order:?}"
        );
        assert!(held.kept() <= limit);
        assert!(db.store.db.get_postgres_connection_pool().size() as usize <= limit + 1);
        db.drop_database().await.unwrap();
    }

    #[test]
    fn values_are_bound_as_sea_orm_binds_them_or_not_at_all() {
        let with = |values: Vec<Value>| {
            Statement::from_sql_and_values(DbBackend::Postgres, "SELECT 1", values)
        };
        let supported = with(vec![
            Value::Bool(Some(true)),
            Value::Int(None),
            Value::BigInt(Some(3)),
            Value::String(Some("a".into())),
            Value::ChronoDateTimeUtc(None),
        ]);
        assert!(bound(&supported).is_some());
        assert!(bound(&with(vec![Value::Double(Some(1.5))])).is_none());
    }
}
