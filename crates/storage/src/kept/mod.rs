//! The kept layer: every repository port of [`Store`], with the answers of the reads
//! every page makes kept in this process while the database reports no change (see
//! [`memory`] for when an answer may be served) and what a listing plans with
//! ([`crate::plans`]).
//!
//! It is a decorator, not a habit: [`Kept`] implements each port by delegating to the
//! store, and each of its methods says which it is. A read the pages make on every
//! request goes through [`Kept::read`]; any other read is passed through; a write is
//! passed through and then, however it ended, forgets what it may have changed
//! ([`Kept::write`]), kept answers and plans alike. A method added to a port does not
//! compile here until someone has decided which of the three it is.

mod accounts;
mod catalog;
mod memory;

use std::sync::Arc;
use std::time::Duration;

use catalog_domain::ports::RepoError;

pub use memory::one_catch_up_per_request;

use crate::plans::Plans;
use crate::{Backend, Store};
use memory::{Answers, Flight, Memory};

/// The store with the answers of its hot reads kept. Cloning shares what is kept.
#[derive(Debug, Clone)]
pub struct Kept {
    store: Store,
    /// `None` where nothing can tell this process of other connections' commits (an
    /// in-memory SQLite database): then nothing is kept.
    memory: Option<Arc<Memory>>,
    plans: Arc<Plans>,
}

/// See [`Kept::kept_answers`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeptAnswers {
    /// Answers are kept: the change notices are heard.
    pub live: bool,
    /// Change notices heard so far.
    pub notices: u64,
    /// Times the listening connection was lost (every kept answer forgotten each time).
    pub interruptions: u64,
    /// Times the database was asked for news before serving a kept answer.
    pub catch_ups: u64,
}

impl Kept {
    /// The layer over `store`. Nothing is kept until [`Kept::keep_answers`] has started
    /// hearing of the database's changes.
    pub fn new(store: Store) -> Self {
        let watchable = match store.backend() {
            Backend::Postgres => true,
            // Only a file can be watched for other connections' commits.
            Backend::Sqlite => store.sqlite_file().is_some(),
        };
        Self {
            store,
            memory: watchable.then(Arc::default),
            plans: Arc::default(),
        }
    }

    /// The plain store underneath.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Starts keeping the answers of the hot reads, for a server; tools that run a
    /// command and exit need not. Waits up to a second for the notices to be heard and
    /// returns whether they are: until then nothing is kept. Needs the migrations
    /// applied (on PostgreSQL they create the triggers that send the notices).
    pub async fn keep_answers(&self) -> bool {
        let Some(memory) = self.memory.clone() else {
            return false;
        };
        match self.store.backend() {
            Backend::Postgres => {
                let pool = self.store.conn().get_postgres_connection_pool().clone();
                let listening = memory.clone();
                tokio::spawn(async move { listening.listen(pool).await });
            }
            Backend::Sqlite => {
                let Some(file) = self.store.sqlite_file() else {
                    return false;
                };
                return memory.watch_sqlite(file.to_owned());
            }
        }
        for _ in 0..100 {
            if memory.is_live() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        memory.is_live()
    }

    /// Whether answers are kept now, and what the notices have done; `None` where no
    /// answers are ever kept (an in-memory SQLite database).
    pub fn kept_answers(&self) -> Option<KeptAnswers> {
        self.memory.as_ref().map(|m| m.state())
    }

    /// How many index entries the product listings have stepped over to reach their
    /// pages since the layer was made (see [`crate::plans`]).
    pub fn listing_entries_skipped(&self) -> u64 {
        self.plans.skipped()
    }

    /// The answer kept for `key` if there is one that `usable` accepts, else what
    /// `read` reads, kept for the next time when `keep` says so. `read` is called only
    /// when nothing kept will do.
    async fn read<K, V, const N: usize, F>(
        &self,
        answers: fn(&Memory) -> &Answers<K, V, N>,
        key: K,
        (usable, keep): (impl Fn(&V) -> bool, fn(&V) -> bool),
        read: impl FnOnce() -> F,
    ) -> Result<V, RepoError>
    where
        K: Eq + std::hash::Hash + Clone,
        V: Clone,
        F: Future<Output = Result<V, RepoError>>,
    {
        let Some(memory) = self.memory.as_deref() else {
            return read().await;
        };
        let kept = answers(memory);
        if !memory.catch_up().await {
            return read().await;
        }
        if let Some(value) = memory.get(kept, &key)
            && usable(&value)
        {
            return Ok(value);
        }
        // Many requests miss the same answer at once when it expires (a listing's first
        // page under load): one reads it while the others wait for it, instead of all
        // reading it together (64 at once made a deep page's p99 a second). They wait a
        // little only: a read that recounts a large catalog is not worth waiting for.
        let leading = match memory.flight(kept, &key) {
            Some(Flight::Lead(leading)) => Some(leading),
            Some(follow) => {
                follow.landed(memory.follow_for()).await;
                if let Some(value) = memory.get(kept, &key)
                    && usable(&value)
                {
                    return Ok(value);
                }
                None
            }
            None => None,
        };
        let ticket = memory.ticket();
        let value = read().await?;
        if ticket.may_keep() && keep(&value) {
            memory.put(kept, ticket, key, value.clone());
        }
        drop(leading);
        Ok(value)
    }

    /// Runs a write through this process. When it ends, however it ends (dropped
    /// half-way included), what it may have changed is forgotten at once (its notice
    /// comes back later), and what listings plan with too.
    async fn write<T>(
        &self,
        write: impl Future<Output = Result<T, RepoError>>,
    ) -> Result<T, RepoError> {
        let _forget = Forgets(self);
        write.await
    }

    fn forget(&self) {
        if let Some(memory) = &self.memory {
            memory.changed();
        }
        self.plans.forget();
    }
}

/// Held by a write while it runs: see [`Kept::write`].
struct Forgets<'a>(&'a Kept);

impl Drop for Forgets<'_> {
    fn drop(&mut self) {
        self.0.forget();
    }
}

/// Every kept read is served as read and kept whatever it found.
fn always<V>(_: &V) -> bool {
    true
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::atomic::{AtomicUsize, Ordering};

    use catalog_domain::product::{Category, CategoryId, CategoryName, Description};

    use super::*;
    use crate::testing::TestDatabase;

    /// Requests that miss the same answer together read it once; when that read fails,
    /// those that waited for it read for themselves (and get their own answer, not its
    /// error), and the next miss reads again.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn those_who_miss_an_answer_together_read_it_once() {
        let db = TestDatabase::sqlite().await.unwrap();
        assert!(db.kept.keep_answers().await);
        let memory = db.kept.memory.clone().unwrap();
        // However slowly this machine runs the reads, the followers wait for them.
        memory.set_follow_for(Duration::from_secs(60));
        let reads = AtomicUsize::new(0);
        let read = || async {
            reads.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(100)).await;
            let lamps = Category {
                id: CategoryId(1),
                name: CategoryName::parse("Lamps").unwrap(),
                description: Description::parse("").unwrap(),
            };
            Ok(vec![(lamps, 7_u64)])
        };
        let fail = || async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            Err(RepoError::NotFound)
        };
        let ask = |key: (u8, i64)| {
            db.kept
                .read(|m| &m.category_counts, key, (always, always), read)
        };
        let (a, b, c, d) = tokio::join!(ask((1, 0)), ask((1, 0)), ask((1, 0)), ask((1, 0)));
        for answer in [a, b, c, d] {
            assert_eq!(answer.unwrap()[0].1, 7);
        }
        assert_eq!(reads.load(Ordering::SeqCst), 1, "one read for four");

        let failing = db
            .kept
            .read(|m| &m.category_counts, (2, 0), (always, always), fail);
        let (failed, b, c) = tokio::join!(failing, ask((2, 0)), ask((2, 0)));
        assert!(matches!(failed, Err(RepoError::NotFound)));
        assert_eq!(b.unwrap()[0].1, 7);
        assert_eq!(c.unwrap()[0].1, 7);
        assert_eq!(
            reads.load(Ordering::SeqCst),
            3,
            "each follower read for itself"
        );

        // Another key is another read; a kept answer needs none.
        ask((3, 0)).await.unwrap();
        ask((1, 0)).await.unwrap();
        assert_eq!(reads.load(Ordering::SeqCst), 4);

        // A read slower than the bound is not waited for to its end.
        memory.set_follow_for(Duration::from_millis(1));
        let slow = || async {
            tokio::time::sleep(Duration::from_secs(1)).await;
            Ok(Vec::new())
        };
        let slow = db
            .kept
            .read(|m| &m.category_counts, (4, 0), (always, always), slow);
        let started = std::time::Instant::now();
        let (slowly, b) = tokio::join!(slow, async {
            let answer = ask((4, 0)).await;
            (answer, started.elapsed())
        });
        assert!(slowly.unwrap().is_empty());
        assert_eq!(b.0.unwrap()[0].1, 7, "the follower read its own answer");
        assert!(b.1 < Duration::from_millis(900), "{:?}", b.1);
        assert_eq!(reads.load(Ordering::SeqCst), 5);
    }
}
