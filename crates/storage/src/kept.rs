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
//! wrote. On a SQLite file a watcher thread asks SQLite every [`POLL`] whether any other
//! connection has committed since it last asked (`PRAGMA data_version`, which SQLite
//! keeps for exactly this), whichever process or tool it was. Each notice forgets every
//! kept answer. Answers are kept only while the notices are heard (a listening
//! connection that drops forgets everything and keeps nothing until it listens again),
//! each for at most [`KEEP_FOR`] (the bound for a connection that hangs without
//! closing), and a read that started before a notice arrived does not keep what it
//! read. Writes through this process forget at once, before their notices come back,
//! so a client always reads its own writes.
//!
//! The SQLite watcher only runs while answers are in use: after [`KEEP_FOR`] without
//! one it stops keeping, closes its connection and sleeps until a read wants answers
//! kept again, so an idle server does not wake up every [`POLL`].

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

use catalog_domain::Page;
use catalog_domain::ports::{SessionRecord, UserWithPermissions};
use catalog_domain::product::{Product, Version};
use sea_orm::sqlx::postgres::{PgListener, PgPool};

/// The channel the migration's trigger notifies.
pub(crate) const CHANNEL: &str = "catalog_changes";

/// The longest an answer is kept, whatever the notices say; the listings' product
/// counts are kept as long.
pub(crate) const KEEP_FOR: Duration = Duration::from_secs(2);

/// SQLite: how often the watcher asks whether another connection has committed, which
/// bounds how long a write by another process (the CLI, the `sqlite3` shell) may go
/// unseen. Writes through this process are seen at once.
pub(crate) const POLL: Duration = Duration::from_millis(2);

/// SQLite: how long the idle watcher sleeps between checks that its store still exists.
const IDLE_CHECK: Duration = Duration::from_secs(1);

/// A listing's key: the scope (kind and owner), the page and its size.
pub(crate) type PageKey = ((u8, i64), u64, u64);

/// The kept answers, each map bounded (see [`Answers`]).
#[derive(Debug, Default)]
pub(crate) struct Kept {
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
    /// Notices heard, and times the listening connection was lost (for the tests).
    notices: AtomicU64,
    interruptions: AtomicU64,
    /// SQLite's watcher: woken when a read would keep its answer but none are kept.
    watcher: OnceLock<std::thread::Thread>,
    /// A read wants answers kept (the SQLite watcher starts on it).
    wanted: AtomicBool,
    /// A kept answer was served or stored since the watcher last looked.
    touched: AtomicBool,
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
}

impl<K, V, const N: usize> Default for Answers<K, V, N> {
    fn default() -> Self {
        Self {
            map: Mutex::new(HashMap::new()),
        }
    }
}

impl Kept {
    /// Whether answers are kept now.
    pub(crate) fn is_live(&self) -> bool {
        self.live.load(Ordering::Acquire)
    }

    pub(crate) fn state(&self) -> crate::KeptAnswers {
        crate::KeptAnswers {
            live: self.is_live(),
            notices: self.notices.load(Ordering::Relaxed),
            interruptions: self.interruptions.load(Ordering::Relaxed),
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
            self.want();
            return Ticket(None);
        }
        Ticket(Some(self.generation.load(Ordering::Acquire)))
    }

    /// Asks the SQLite watcher, if there is one, to start keeping answers.
    pub(crate) fn want(&self) {
        if !self.wanted.swap(true, Ordering::AcqRel)
            && let Some(watcher) = self.watcher.get()
        {
            watcher.unpark();
        }
    }

    fn touch(&self) {
        if !self.touched.load(Ordering::Relaxed) {
            self.touched.store(true, Ordering::Relaxed);
        }
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
        fresh.then(|| {
            self.touch();
            value.clone()
        })
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
        self.touch();
    }

    /// Starts the thread that watches the SQLite file at `path` for other connections'
    /// commits. It ends soon after the last reference to `self` is dropped.
    pub(crate) fn watch_sqlite(self: &Arc<Self>, path: String) -> std::io::Result<()> {
        let kept = Arc::downgrade(self);
        let thread = std::thread::Builder::new()
            .name("catalog-changes".into())
            .spawn(move || watch(&kept, &path))?;
        // A read that wanted answers before this was set is seen at the watcher's next
        // idle check.
        let _ = self.watcher.set(thread.thread().clone());
        Ok(())
    }

    /// Listens for the trigger's notices until the pool closes, keeping answers only
    /// while it hears them. A failed connection is retried every second.
    pub(crate) async fn listen(&self, pool: PgPool) {
        loop {
            let mut listener = match PgListener::connect_with(&pool).await {
                Ok(listener) => listener,
                Err(e) if pool.is_closed() => {
                    tracing::debug!(error = %e, "change notices stop: the pool is closed");
                    self.set_live(false);
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
            loop {
                match listener.try_recv().await {
                    Ok(Some(_)) => {
                        self.notices.fetch_add(1, Ordering::Relaxed);
                        self.changed();
                    }
                    // The connection dropped and sqlx has listened again on a new one:
                    // whatever changed in between went unheard.
                    Ok(None) => {
                        self.interruptions.fetch_add(1, Ordering::Relaxed);
                        tracing::warn!("change notices were interrupted; forgetting kept answers");
                        self.set_live(false);
                        self.set_live(true);
                    }
                    Err(e) => {
                        self.interruptions.fetch_add(1, Ordering::Relaxed);
                        self.set_live(false);
                        if pool.is_closed() {
                            return;
                        }
                        tracing::warn!(error = %e, "change notices stopped; keeping no answers");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        break;
                    }
                }
            }
        }
    }
}

/// The SQLite watcher's loop: idle without a connection until answers are wanted, then
/// polling `PRAGMA data_version` until they go unused for [`KEEP_FOR`].
fn watch(kept: &Weak<Kept>, path: &str) {
    loop {
        match kept.upgrade() {
            None => return,
            Some(k) if !k.wanted.load(Ordering::Acquire) => {
                drop(k);
                std::thread::park_timeout(IDLE_CHECK);
                continue;
            }
            Some(_) => {}
        }
        let opened = open_watching(path).and_then(|conn| {
            let seen = data_version(&conn)?;
            Ok((conn, seen))
        });
        let (conn, mut seen) = match opened {
            Ok(opened) => opened,
            Err(e) => {
                tracing::warn!(error = %e, "cannot watch the database for changes; keeping no answers");
                std::thread::sleep(IDLE_CHECK);
                continue;
            }
        };
        let Some(k) = kept.upgrade() else { return };
        k.touched.store(true, Ordering::Relaxed);
        k.set_live(true);
        drop(k);
        let mut quiet = Duration::ZERO;
        loop {
            std::thread::sleep(POLL);
            let Some(k) = kept.upgrade() else { return };
            match data_version(&conn) {
                Ok(version) if version == seen => {}
                Ok(version) => {
                    seen = version;
                    k.notices.fetch_add(1, Ordering::Relaxed);
                    k.changed();
                }
                Err(e) => {
                    k.interruptions.fetch_add(1, Ordering::Relaxed);
                    k.set_live(false);
                    tracing::warn!(error = %e, "lost sight of the database's changes; forgetting kept answers");
                    break;
                }
            }
            quiet += POLL;
            if quiet >= KEEP_FOR {
                quiet = Duration::ZERO;
                if !k.touched.swap(false, Ordering::Relaxed) {
                    // Unused for as long as any answer lasts: nothing kept is lost.
                    k.wanted.store(false, Ordering::Release);
                    k.set_live(false);
                    break;
                }
            }
        }
    }
}

fn open_watching(path: &str) -> rusqlite::Result<rusqlite::Connection> {
    use rusqlite::OpenFlags;
    // Read-write for the same reason as the inline path's connections (a read-only
    // handle cannot always join a WAL database), refusing writes.
    let conn = rusqlite::Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::from_millis(100))?;
    conn.pragma_update(None, "query_only", true)?;
    Ok(conn)
}

/// Changes whenever another connection has committed since this one last asked.
fn data_version(conn: &rusqlite::Connection) -> rusqlite::Result<i64> {
    conn.prepare_cached("PRAGMA data_version")?
        .query_row([], |row| row.get(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAPACITY: usize = 16;

    fn live() -> Kept {
        let kept = Kept::default();
        kept.set_live(true);
        kept
    }

    #[test]
    fn an_answer_is_kept_until_something_changes() {
        let kept = live();
        let answers = Answers::<i64, &str, 8>::default();
        kept.put(&answers, kept.ticket(), 1, "one");
        assert_eq!(kept.get(&answers, &1), Some("one"));
        assert_eq!(kept.get(&answers, &2), None);
        kept.changed();
        assert_eq!(kept.get(&answers, &1), None);
        kept.put(&answers, kept.ticket(), 1, "one again");
        assert_eq!(kept.get(&answers, &1), Some("one again"));
    }

    #[test]
    fn a_read_that_began_before_a_change_keeps_nothing() {
        let kept = live();
        let answers = Answers::<i64, &str, 8>::default();
        let ticket = kept.ticket();
        kept.changed();
        kept.put(&answers, ticket, 1, "read before the change");
        assert_eq!(kept.get(&answers, &1), None);
    }

    #[test]
    fn nothing_is_kept_or_served_while_not_listening() {
        let kept = Kept::default();
        let answers = Answers::<i64, &str, 8>::default();
        kept.put(&answers, kept.ticket(), 1, "one");
        assert_eq!(kept.get(&answers, &1), None);

        let kept = live();
        kept.put(&answers, kept.ticket(), 1, "one");
        let ticket = kept.ticket();
        kept.set_live(false);
        assert_eq!(kept.get(&answers, &1), None);
        kept.put(&answers, ticket, 2, "two");
        kept.put(&answers, kept.ticket(), 3, "three");
        // Listening again does not bring back what was kept before the gap.
        kept.set_live(true);
        for key in 1..=3 {
            assert_eq!(kept.get(&answers, &key), None);
        }
    }

    #[test]
    fn answers_expire() {
        let kept = live();
        let answers = Answers::<i64, &str, 8>::default();
        kept.put(&answers, kept.ticket(), 1, "one");
        if let Ok(mut map) = answers.map.lock()
            && let Some(entry) = map.get_mut(&1)
            && let Some(then) = entry.1.checked_sub(KEEP_FOR)
        {
            entry.1 = then;
        }
        assert_eq!(kept.get(&answers, &1), None);
    }

    #[test]
    fn a_full_map_drops_what_it_cannot_serve_first() {
        let kept = live();
        let answers = Answers::<usize, usize, CAPACITY>::default();
        for key in 0..CAPACITY / 2 {
            kept.put(&answers, kept.ticket(), key, key);
        }
        kept.changed();
        for key in CAPACITY / 2..CAPACITY + 1 {
            kept.put(&answers, kept.ticket(), key, key);
        }
        assert_eq!(
            answers.map.lock().map(|m| m.len()).ok(),
            Some(CAPACITY / 2 + 1)
        );
        assert_eq!(kept.get(&answers, &(CAPACITY / 2)), Some(CAPACITY / 2));
    }

    #[test]
    fn a_full_map_starts_over() {
        let kept = live();
        let answers = Answers::<usize, usize, CAPACITY>::default();
        for key in 0..CAPACITY {
            kept.put(&answers, kept.ticket(), key, key);
        }
        assert_eq!(kept.get(&answers, &0), Some(0));
        kept.put(&answers, kept.ticket(), 0, 10);
        assert_eq!(
            kept.get(&answers, &1),
            Some(1),
            "a kept key is replaced in place"
        );
        kept.put(&answers, kept.ticket(), CAPACITY, CAPACITY);
        assert_eq!(kept.get(&answers, &1), None);
        assert_eq!(kept.get(&answers, &CAPACITY), Some(CAPACITY));
        assert_eq!(answers.map.lock().map(|m| m.len()).ok(), Some(1));
    }
}
