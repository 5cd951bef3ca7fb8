//! The answers of the reads every page makes (who is asking, a page of products, a
//! product), kept in this process for as long as the database says that nothing they
//! were read from has changed.
//!
//! A page on PostgreSQL cost two round trips, and PostgreSQL's backend spent more CPU on
//! them (about 90 µs each, mostly executor start-up and waking up) than this server
//! spent on the whole page; on a machine the two share, that held a listing to a
//! third of what the same server serves from SQLite. On SQLite the same reads, even on
//! the inline path, were still two thirds of a listing's CPU.
//!
//! Correctness rests on the database, not on this process. On PostgreSQL a
//! statement-level trigger on every table these answers come from sends a notice
//! (`LISTEN catalog_changes`) when its transaction commits, whichever process or tool
//! wrote. On a SQLite file, SQLite itself counts the commits of every other connection
//! (`PRAGMA data_version`), whichever process or tool it was. Each notice forgets every
//! kept answer. Answers are kept only while the notices are heard (a listening
//! connection that drops forgets everything and keeps nothing until it listens again),
//! each for at most [`KEEP_FOR`] (the bound for a connection that hangs without
//! closing), and a read that started before a notice arrived does not keep what it
//! read. Writes through this process forget at once, before their notices come back,
//! so a client always reads its own writes.
//!
//! A kept answer is served only after every commit that ended before the read was asked
//! for has been heard of ([`Memory::catch_up`]), so a change made elsewhere (a moderator
//! removed from the group by the CLI, a password changed through another server) holds
//! from the very next request, as it would without anything kept. On SQLite that is one
//! `PRAGMA data_version` on a connection kept for it, a few microseconds. On PostgreSQL
//! it is a barrier: an empty query on the listening connection, after whose answer
//! PostgreSQL has sent every notice of a commit that ended before it; reads that arrive
//! together share one, so under load a barrier costs a fraction of a round trip each.

use std::borrow::Borrow;
use std::cell::Cell;
use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use catalog_domain::Page;
use catalog_domain::access::ProductFacts;
use catalog_domain::ports::{SessionRecord, UserWithPermissions};
use catalog_domain::product::Category;
use catalog_domain::product::search::ProductFilter;
use catalog_domain::product::{Product, Version};
use sea_orm::sqlx::postgres::{PgListener, PgPool};

tokio::task_local! {
    /// Whether the request this task serves has caught up already (see
    /// [`one_catch_up_per_request`]).
    static CAUGHT_UP: Cell<bool>;
}

/// Runs `request` so that its kept reads ask the database for news once, at the first
/// of them, rather than each: every commit that ended before the request began is heard
/// of all the same, and a page's second kept read (its viewer, then its products) no
/// longer pays for another `PRAGMA data_version` or barrier. Reads outside such a scope
/// catch up every time.
pub fn one_catch_up_per_request<F: Future>(request: F) -> impl Future<Output = F::Output> {
    CAUGHT_UP.scope(Cell::new(false), request)
}

/// The channel the migration's trigger notifies.
pub(crate) const CHANNEL: &str = "catalog_changes";

/// The longest an answer is kept, whatever the notices say; the listings' product
/// counts are kept as long.
pub(crate) const KEEP_FOR: Duration = Duration::from_secs(2);

/// The longest a read that missed waits for another's read of the same answer before
/// it reads for itself: longer than a page's read under load, shorter than a read that
/// recounts a large catalog (a hundred milliseconds for a million products), which the
/// others should not wait for (see [`crate::plans`]).
const FOLLOW_FOR: Duration = Duration::from_millis(20);

/// PostgreSQL: the longest a read waits for its barrier before it reads from the
/// database instead (and answers stop being kept until a barrier passes again).
const BARRIER_WAIT: Duration = Duration::from_millis(250);

/// SQLite: how long after failing to open its watching connection a store tries again.
const REOPEN_AFTER: Duration = Duration::from_secs(1);

/// A listing's key: the scope (kind and owner), the page and its size.
pub(crate) type PageKey = ((u8, i64), u64, u64);

/// A filtered listing's or a search's key: the scope, the filter, the page and its
/// size.
pub(crate) type FilteredKey = ((u8, i64), ProductFilter, u64, u64);

/// The kept answers, each map bounded (see [`Answers`]).
#[derive(Debug, Default)]
pub(crate) struct Memory {
    live: AtomicBool,
    generation: AtomicU64,
    // Sized so that full maps stay within a few MiB: a session or product is about a
    // kilobyte, a page up to a hundred products.
    pub(crate) sessions:
        Answers<String, Option<(SessionRecord, Option<UserWithPermissions>)>, 2048>,
    pub(crate) tokens: Answers<String, Option<UserWithPermissions>, 1024>,
    pub(crate) products: Answers<i64, Option<(Product, Vec<Version>)>, 2048>,
    pub(crate) pages: Answers<PageKey, Page<Product>, 64>,
    pub(crate) pages_with_versions: Answers<PageKey, Page<(Product, Vec<Version>)>, 64>,
    pub(crate) filtered: Answers<FilteredKey, Page<Product>, 64>,
    /// The categories, as every list page's filter shows them.
    pub(crate) categories: Answers<(), Vec<Category>, 1>,
    /// The categories with their counts, by scope.
    pub(crate) category_counts: Answers<(u8, i64), Vec<(Category, u64)>, 256>,
    pub(crate) filtered_with_versions: Answers<FilteredKey, Page<(Product, Vec<Version>)>, 64>,
    /// Whose product an image key is, for the check before an image is served.
    pub(crate) images: Answers<String, Option<ProductFacts>, 4096>,
    /// Notices heard, and times the listening connection was lost (for the tests).
    notices: AtomicU64,
    interruptions: AtomicU64,
    /// Times the database was asked for news before a kept answer (for the tests).
    catch_ups: AtomicU64,
    /// How long a read follows another, in milliseconds, when not [`FOLLOW_FOR`] (the
    /// tests' choice; 0 is unset).
    follow_ms: AtomicU64,
    /// How other connections' commits are heard of; unset until answers are kept.
    changes: OnceLock<Changes>,
}

/// Taken before a read: whether what it reads may be kept, and from which generation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ticket(Option<u64>);

impl Ticket {
    /// Whether what is read under this ticket may be kept at all.
    pub(crate) fn may_keep(self) -> bool {
        self.0.is_some()
    }
}

/// At most `N` answers by key. A full map first drops what can no longer be served
/// (forgotten or too old), and if that is not enough, everything: it fills only when
/// more distinct keys are read within [`KEEP_FOR`] than it holds, and then a kept
/// answer is worth little anyway.
#[derive(Debug)]
pub(crate) struct Answers<K, V, const N: usize> {
    map: Mutex<HashMap<K, (u64, Instant, V)>>,
    /// The reads under way, by key: see [`Memory::flight`].
    flights: Mutex<HashMap<K, Arc<tokio::sync::RwLock<()>>>>,
}

impl<K, V, const N: usize> Default for Answers<K, V, N> {
    fn default() -> Self {
        Self {
            map: Mutex::new(HashMap::new()),
            flights: Mutex::new(HashMap::new()),
        }
    }
}

/// A read of a key that nothing kept answers: the first to miss it reads it, and those
/// that miss it while it does wait for it to end, then look again.
pub(crate) enum Flight<'a, K: Eq + Hash, V, const N: usize> {
    /// This one reads; the others wait until it is dropped.
    Lead(Leading<'a, K, V, N>),
    /// Another one reads: this one waits for it ([`Flight::landed`]).
    Follow(Arc<tokio::sync::RwLock<()>>),
}

impl<K: Eq + Hash, V, const N: usize> Flight<'_, K, V, N> {
    /// Waits until the read this one follows has ended, however it ended, or until
    /// `bound` has passed.
    pub(crate) async fn landed(self, bound: Duration) {
        if let Flight::Follow(lock) = self {
            let _ = tokio::time::timeout(bound, lock.read()).await;
        }
    }
}

/// Held by the read that leads a flight; dropped, it ends the flight (after the
/// answer was kept, or when the read failed or was dropped half-way) and wakes those
/// that wait.
pub(crate) struct Leading<'a, K: Eq + Hash, V, const N: usize> {
    answers: &'a Answers<K, V, N>,
    key: Option<K>,
    _held: tokio::sync::OwnedRwLockWriteGuard<()>,
}

impl<K: Eq + Hash, V, const N: usize> Drop for Leading<'_, K, V, N> {
    fn drop(&mut self) {
        if let (Some(key), Ok(mut flights)) = (self.key.take(), self.answers.flights.lock()) {
            flights.remove(&key);
        }
        // The guard is released after this: a new miss of the key leads a new flight.
    }
}

impl Memory {
    /// Whether answers are kept now.
    pub(crate) fn is_live(&self) -> bool {
        self.live.load(Ordering::Acquire)
    }

    pub(crate) fn state(&self) -> crate::KeptAnswers {
        crate::KeptAnswers {
            live: self.is_live(),
            notices: self.notices.load(Ordering::Relaxed),
            interruptions: self.interruptions.load(Ordering::Relaxed),
            catch_ups: self.catch_ups.load(Ordering::Relaxed),
        }
    }

    /// Something changed: every answer kept so far is forgotten, and reads under way
    /// will not keep theirs.
    pub(crate) fn changed(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    fn set_live(&self, live: bool) {
        // Forget first: answers from before a gap in the notices must not come back.
        self.changed();
        self.live.store(live, Ordering::Release);
    }

    pub(crate) fn ticket(&self) -> Ticket {
        if !self.is_live() {
            return Ticket(None);
        }
        Ticket(Some(self.generation.load(Ordering::Acquire)))
    }

    pub(crate) fn get<K, Q, V, const N: usize>(
        &self,
        answers: &Answers<K, V, N>,
        key: &Q,
    ) -> Option<V>
    where
        K: Eq + Hash + Borrow<Q>,
        Q: Eq + Hash + ?Sized,
        V: Clone,
    {
        if !self.is_live() {
            return None;
        }
        let generation = self.generation.load(Ordering::Acquire);
        let map = answers.map.lock().ok()?;
        let (kept_in, at, value) = map.get(key)?;
        let fresh = *kept_in == generation && at.elapsed() < KEEP_FOR;
        fresh.then(|| value.clone())
    }

    pub(crate) fn put<K: Eq + Hash, V, const N: usize>(
        &self,
        answers: &Answers<K, V, N>,
        ticket: Ticket,
        key: K,
        value: V,
    ) {
        let Some(generation) = ticket.0 else {
            return;
        };
        let Ok(mut map) = answers.map.lock() else {
            return;
        };
        // Checked under the lock, so a notice that came during the read is seen here
        // or makes the entry stale as soon as it is counted.
        if !self.is_live() || self.generation.load(Ordering::Acquire) != generation {
            return;
        }
        if map.len() >= N && !map.contains_key(&key) {
            map.retain(|_, (kept_in, at, _)| *kept_in == generation && at.elapsed() < KEEP_FOR);
            if map.len() >= N {
                map.clear();
            }
        }
        map.insert(key, (generation, Instant::now(), value));
    }

    /// How long a read that missed waits for another's read of the same answer.
    pub(crate) fn follow_for(&self) -> Duration {
        match self.follow_ms.load(Ordering::Relaxed) {
            0 => FOLLOW_FOR,
            ms => Duration::from_millis(ms),
        }
    }

    #[cfg(test)]
    pub(crate) fn set_follow_for(&self, bound: Duration) {
        let ms = u64::try_from(bound.as_millis()).unwrap_or(u64::MAX).max(1);
        self.follow_ms.store(ms, Ordering::Relaxed);
    }

    /// Joins the read of `key` under way, or leads one. Sharing a read is as safe as
    /// serving what it keeps: a follower serves only what [`Memory::get`] gives it
    /// after the read, so an answer the read could not keep (a notice came) is read
    /// again by each.
    pub(crate) fn flight<'a, K: Eq + Hash + Clone, V, const N: usize>(
        &self,
        answers: &'a Answers<K, V, N>,
        key: &K,
    ) -> Option<Flight<'a, K, V, N>> {
        let mut flights = answers.flights.lock().ok()?;
        if let Some(lock) = flights.get(key) {
            return Some(Flight::Follow(lock.clone()));
        }
        let lock = Arc::new(tokio::sync::RwLock::new(()));
        // Nobody else holds it yet: the guard is had at once.
        let held = lock.clone().try_write_owned().ok()?;
        flights.insert(key.clone(), lock);
        Some(Flight::Lead(Leading {
            answers,
            key: Some(key.clone()),
            _held: held,
        }))
    }

    /// Makes sure that every commit by another connection that ended before this call
    /// (or, within [`one_catch_up_per_request`], before the request began) has been
    /// heard of, and returns whether kept answers may be served.
    pub(crate) async fn catch_up(&self) -> bool {
        if CAUGHT_UP.try_with(Cell::get).unwrap_or(false) {
            // Writes through this process have forgotten what they changed already.
            return self.is_live();
        }
        self.catch_ups.fetch_add(1, Ordering::Relaxed);
        let caught_up = match self.changes.get() {
            Some(Changes::Sqlite(watch)) => self.ask_sqlite(watch),
            // Boxed: the wait is kilobytes of state, and every hot read's future holds
            // this one (a heap allocation is nothing beside the round trip).
            Some(Changes::Postgres(barrier)) => {
                self.is_live() && Box::pin(self.pass(barrier)).await
            }
            None => self.is_live(),
        };
        if caught_up {
            // Outside a request's scope there is nothing to set.
            let _ = CAUGHT_UP.try_with(|done| done.set(true));
        }
        caught_up
    }

    /// Starts watching the SQLite file at `path` for other connections' commits, and
    /// returns whether answers are kept now.
    pub(crate) fn watch_sqlite(&self, path: String) -> bool {
        let watch = Mutex::new(SqliteWatch {
            path,
            open: None,
            reopen_at: None,
        });
        if self.changes.set(Changes::Sqlite(watch)).is_err() {
            tracing::debug!("the database is already watched");
        }
        match self.changes.get() {
            Some(Changes::Sqlite(watch)) => self.ask_sqlite(watch),
            _ => false,
        }
    }

    fn ask_sqlite(&self, watch: &Mutex<SqliteWatch>) -> bool {
        let Ok(mut watch) = watch.lock() else {
            return false;
        };
        let asked = match &mut watch.open {
            Some((conn, seen)) => data_version(conn).map(|version| {
                let changed = version != *seen;
                *seen = version;
                changed
            }),
            None => {
                if watch.reopen_at.is_some_and(|at| Instant::now() < at) {
                    return false;
                }
                match open_watching(&watch.path) {
                    Ok(opened) => {
                        watch.open = Some(opened);
                        watch.reopen_at = None;
                        self.set_live(true);
                        return true;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot watch the database for changes; keeping no answers");
                        watch.reopen_at = Some(Instant::now() + REOPEN_AFTER);
                        return false;
                    }
                }
            }
        };
        match asked {
            Ok(false) => true,
            Ok(true) => {
                self.notices.fetch_add(1, Ordering::Relaxed);
                self.changed();
                true
            }
            Err(e) => {
                self.interruptions.fetch_add(1, Ordering::Relaxed);
                self.set_live(false);
                tracing::warn!(error = %e, "lost sight of the database's changes; forgetting kept answers");
                watch.open = None;
                false
            }
        }
    }

    /// Waits for a barrier that started after this call; false if none passed in time.
    async fn pass(&self, barrier: &Barrier) -> bool {
        let mut passed = barrier.passed.subscribe();
        let mine = barrier.asked.fetch_add(1, Ordering::AcqRel) + 1;
        barrier.wake.notify_one();
        match tokio::time::timeout(BARRIER_WAIT, passed.wait_for(|p| *p >= mine)).await {
            Ok(Ok(_)) => true,
            Ok(Err(_)) => false,
            Err(_) => {
                // Hung, or too slow to be worth waiting for: read from the database
                // until a barrier passes again.
                tracing::warn!("change notices are late; keeping no answers until they catch up");
                self.set_live(false);
                false
            }
        }
    }

    /// Listens for the trigger's notices until the pool closes, keeping answers only
    /// while it hears them, and answers barriers on the same connection. A failed
    /// connection is retried every second.
    pub(crate) async fn listen(&self, pool: PgPool) {
        if self
            .changes
            .set(Changes::Postgres(Barrier::default()))
            .is_err()
        {
            tracing::debug!("already listening");
            return;
        }
        let Some(Changes::Postgres(barrier)) = self.changes.get() else {
            return;
        };
        loop {
            let mut listener = match PgListener::connect_with(&pool).await {
                Ok(listener) => listener,
                Err(e) if pool.is_closed() => {
                    tracing::debug!(error = %e, "change notices stop: the pool is closed");
                    self.lost(barrier);
                    return;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen for change notices; keeping no answers");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            if let Err(e) = listener.listen(CHANNEL).await {
                tracing::warn!(error = %e, "cannot listen for change notices; keeping no answers");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
            self.set_live(true);
            let stopped = loop {
                tokio::select! {
                    received = listener.try_recv() => match received {
                        Ok(Some(_)) => {
                            self.notices.fetch_add(1, Ordering::Relaxed);
                            self.changed();
                        }
                        // The connection dropped and sqlx has listened again on a new
                        // one: whatever changed in between went unheard.
                        Ok(None) => {
                            self.interruptions.fetch_add(1, Ordering::Relaxed);
                            tracing::warn!("change notices were interrupted; forgetting kept answers");
                            self.lost(barrier);
                            self.set_live(true);
                        }
                        Err(e) => break e,
                    },
                    () = barrier.wake.notified() => {
                        let asked = barrier.asked.load(Ordering::Acquire);
                        // PostgreSQL sends the notices it holds for this connection
                        // before it says it is ready for the next query.
                        match sea_orm::sqlx::raw_sql(";").execute(&mut listener).await {
                            Ok(_) => {
                                while listener.next_buffered().is_some() {
                                    self.notices.fetch_add(1, Ordering::Relaxed);
                                    self.changed();
                                }
                                if !self.is_live() {
                                    // Late before, caught up now.
                                    self.set_live(true);
                                }
                                barrier.passed.send_replace(asked);
                            }
                            Err(e) => break e,
                        }
                    }
                }
            };
            self.interruptions.fetch_add(1, Ordering::Relaxed);
            self.lost(barrier);
            if pool.is_closed() {
                return;
            }
            tracing::warn!(error = %stopped, "change notices stopped; keeping no answers");
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    /// The notices may have been missed: everything kept is forgotten and nothing is
    /// kept until they are heard again, so the reads waiting for a barrier can go to
    /// the database at once.
    fn lost(&self, barrier: &Barrier) {
        self.set_live(false);
        barrier
            .passed
            .send_replace(barrier.asked.load(Ordering::Acquire));
    }
}

/// How other connections' commits are heard of.
#[derive(Debug)]
enum Changes {
    /// SQLite: asked before each kept answer is served.
    Sqlite(Mutex<SqliteWatch>),
    /// PostgreSQL: the listening task's notices, and its barriers.
    Postgres(Barrier),
}

#[derive(Debug)]
struct SqliteWatch {
    path: String,
    /// The connection that asks, and the count it last saw.
    open: Option<(rusqlite::Connection, i64)>,
    /// After a failure to open, not before this.
    reopen_at: Option<Instant>,
}

/// Barriers asked for and passed, numbered in order: a barrier that starts once
/// `asked` reached `n` passes every read that asked for `n` or less.
#[derive(Debug)]
struct Barrier {
    asked: AtomicU64,
    wake: tokio::sync::Notify,
    passed: tokio::sync::watch::Sender<u64>,
}

impl Default for Barrier {
    fn default() -> Self {
        Self {
            asked: AtomicU64::new(0),
            wake: tokio::sync::Notify::new(),
            passed: tokio::sync::watch::Sender::new(0),
        }
    }
}

fn open_watching(path: &str) -> rusqlite::Result<(rusqlite::Connection, i64)> {
    use rusqlite::OpenFlags;
    // Read-write for the same reason as the inline path's connections (a read-only
    // handle cannot always join a WAL database), refusing writes.
    let conn = rusqlite::Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::from_millis(100))?;
    conn.pragma_update(None, "query_only", true)?;
    let seen = data_version(&conn)?;
    Ok((conn, seen))
}

/// Changes whenever another connection has committed since this one last asked.
fn data_version(conn: &rusqlite::Connection) -> rusqlite::Result<i64> {
    conn.prepare_cached("PRAGMA data_version")?
        .query_row([], |row| row.get(0))
}

#[cfg(test)]
mod tests;
