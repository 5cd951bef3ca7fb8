//! What a listing remembers between reads to plan the next one: the products' counts
//! (a page needs its listing's total to know which end is nearer) and anchors (where
//! deep pages start). They belong to the kept layer ([`crate::Kept`]), which forgets
//! them after every write through it; a plain [`crate::Store`] counts every time.
//!
//! The invariant, looser than the kept answers' own and stated here only: a total or an
//! anchor reflects every write made through this process, and lags another process's
//! writes by at most [`COUNT_TTL`]. Counting a large catalog at every notice of any
//! change (a sign-in writes a session) would cost more than the pages it serves; a
//! page read with a stale total is still a correct page of rows, at most a few rows
//! off where another process has just inserted or deleted.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use catalog_domain::Timestamp;
use catalog_domain::ports::ProductScope;

/// How long a listing may show a product count another process has changed. Writes
/// through this process forget the counts at once; other processes' writes show within
/// this time. Counting a large catalog on every page view would cost more than the page.
pub(crate) const COUNT_TTL: Duration = Duration::from_secs(2);

/// Cached counts of all and of published products, owners' drafts and anchors. When the
/// counts go stale, one request recounts while the others keep using the stale figures,
/// so that a large catalog is not counted by every request at once.
#[derive(Debug, Default)]
pub(crate) struct Plans {
    value: Mutex<Option<(Instant, u64, u64)>>,
    refreshing: AtomicBool,
    /// Each recently listing owner's count of drafts, under the same rule.
    drafts: Mutex<HashMap<i64, (Instant, u64)>>,
    /// Each recently read filtered listing's count (by its scope and filter), under the
    /// same rule: its pages then count it once, not once each; and when it goes stale,
    /// one request recounts (since the instant held) while the others use it.
    filtered: Mutex<HashMap<String, FilteredCount>>,
    /// Where deep pages start, under the same rule (see [`Anchor`]).
    anchors: Mutex<BTreeMap<AnchorAt, Anchor>>,
    /// Index entries the listings have stepped over to reach their pages.
    pub(crate) skipped: AtomicU64,
}

/// A filtered listing's count: when it was counted, the count, and since when a
/// request has been recounting it.
type FilteredCount = (Instant, u64, Option<Instant>);

/// A scope (its kind and owner), a direction (from the newest end) and a position in it.
pub(crate) type AnchorAt = (u8, i64, bool, u64);

/// The sort key of the row at a position of a listing, as last read. A page past it
/// is read from there, through the index, rather than by stepping over every entry
/// before it: page 400 of the benchmark's 10 000 products stepped over a thousand
/// entries on each view (counted from the nearer end), which made it cost twice what
/// the first page did, and a middle page of a million products half a million. An anchor holds while the listing has the
/// total it was read with, for as long as the counts are trusted; this process's writes
/// forget every anchor, as they forget the counts, so only another process's write can
/// shift a page, and by no more or for no longer than it shifts the counts.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Anchor {
    pub(crate) created_at: Timestamp,
    pub(crate) id: i64,
    pub(crate) total: u64,
    pub(crate) at: Instant,
}

/// Anchors are kept this far apart at least: closer, a page steps over fewer entries
/// (about 0.1 µs each) than an anchor saves.
pub(crate) const ANCHOR_GAP: u64 = 100;

/// Anchors kept at most; past that the map starts afresh, as the draft counts do.
const ANCHORS_KEPT: usize = 4096;

pub(crate) fn scope_key(scope: ProductScope) -> (u8, i64) {
    match scope {
        ProductScope::All => (0, 0),
        ProductScope::Published => (1, 0),
        ProductScope::PublishedOrOwnedBy(owner) => (2, owner.0),
    }
}

/// Owners whose draft counts are kept at most; past that the map starts afresh (a
/// listing then counts once more), so memory stays bounded however many users list.
const DRAFT_COUNTS_KEPT: usize = 4096;

/// What a listing should do about the counts.
pub(crate) enum CountsState<'a> {
    Use(u64, u64),
    /// Count now; with a guard when this request took the refresh on itself (released
    /// however the request ends, even if it is dropped half-way).
    Count(Option<RefreshGuard<'a>>),
}

pub(crate) struct RefreshGuard<'a>(&'a AtomicBool);

impl Drop for RefreshGuard<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

impl Plans {
    pub(crate) fn state(&self) -> CountsState<'_> {
        let Ok(guard) = self.value.lock() else {
            return CountsState::Count(None);
        };
        match *guard {
            Some((at, all, published)) if at.elapsed() < COUNT_TTL => {
                CountsState::Use(all, published)
            }
            Some((_, all, published)) => {
                if self.refreshing.swap(true, Ordering::AcqRel) {
                    CountsState::Use(all, published)
                } else {
                    CountsState::Count(Some(RefreshGuard(&self.refreshing)))
                }
            }
            None => CountsState::Count(None),
        }
    }

    pub(crate) fn put(&self, all: u64, published: u64) {
        if let Ok(mut guard) = self.value.lock() {
            *guard = Some((Instant::now(), all, published));
        }
    }

    pub(crate) fn drafts_of(&self, owner: i64) -> Option<u64> {
        let guard = self.drafts.lock().ok()?;
        guard
            .get(&owner)
            .filter(|(at, _)| at.elapsed() < COUNT_TTL)
            .map(|(_, n)| *n)
    }

    pub(crate) fn put_drafts(&self, owner: i64, drafts: u64) {
        if let Ok(mut guard) = self.drafts.lock() {
            if guard.len() >= DRAFT_COUNTS_KEPT {
                guard.clear();
            }
            guard.insert(owner, (Instant::now(), drafts));
        }
    }

    /// The count of a filtered listing to use, or `None` when this request is to count
    /// it (and then [`Plans::put_filtered_count`] it).
    pub(crate) fn filtered_count(&self, key: &str) -> Option<u64> {
        let mut guard = self.filtered.lock().ok()?;
        let (at, count, recounting) = guard.get_mut(key)?;
        if at.elapsed() < COUNT_TTL {
            return Some(*count);
        }
        // A recount that has not come back in this long was dropped: another may start.
        match recounting {
            Some(since) if since.elapsed() < COUNT_TTL => Some(*count),
            _ => {
                *recounting = Some(Instant::now());
                None
            }
        }
    }

    pub(crate) fn put_filtered_count(&self, key: String, count: u64) {
        if let Ok(mut guard) = self.filtered.lock() {
            if guard.len() >= DRAFT_COUNTS_KEPT {
                guard.clear();
            }
            guard.insert(key, (Instant::now(), count, None));
        }
    }

    /// The nearest anchor at or before `position` that still holds, with its position.
    pub(crate) fn anchor(
        &self,
        scope: ProductScope,
        from_start: bool,
        position: u64,
        total: u64,
    ) -> Option<(u64, Anchor)> {
        let (kind, owner) = scope_key(scope);
        let guard = self.anchors.lock().ok()?;
        let (at, anchor) = guard
            .range((kind, owner, from_start, 0)..=(kind, owner, from_start, position))
            .next_back()?;
        (anchor.total == total && anchor.at.elapsed() < COUNT_TTL).then_some((at.3, *anchor))
    }

    pub(crate) fn put_anchor(
        &self,
        scope: ProductScope,
        from_start: bool,
        position: u64,
        anchor: Anchor,
    ) {
        let (kind, owner) = scope_key(scope);
        if let Ok(mut guard) = self.anchors.lock() {
            if guard.len() >= ANCHORS_KEPT {
                guard.clear();
            }
            guard.insert((kind, owner, from_start, position), anchor);
        }
    }

    pub(crate) fn skipped(&self) -> u64 {
        self.skipped.load(Ordering::Relaxed)
    }

    pub(crate) fn forget(&self) {
        if let Ok(mut guard) = self.drafts.lock() {
            guard.clear();
        }
        if let Ok(mut guard) = self.anchors.lock() {
            guard.clear();
        }
        if let Ok(mut guard) = self.filtered.lock() {
            guard.clear();
        }
        if let Ok(mut guard) = self.value.lock() {
            *guard = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_request_recounts_a_stale_filtered_count_while_the_others_use_it() {
        let plans = Plans::default();
        assert_eq!(plans.filtered_count("k"), None);
        plans.put_filtered_count("k".into(), 7);
        assert_eq!(plans.filtered_count("k"), Some(7));
        let Some(long_ago) = Instant::now().checked_sub(COUNT_TTL * 2) else {
            return;
        };
        if let Ok(mut counts) = plans.filtered.lock()
            && let Some(entry) = counts.get_mut("k")
        {
            entry.0 = long_ago;
        }
        assert_eq!(plans.filtered_count("k"), None, "the first recounts");
        assert_eq!(
            plans.filtered_count("k"),
            Some(7),
            "the others use the stale count meanwhile"
        );
        plans.put_filtered_count("k".into(), 8);
        assert_eq!(plans.filtered_count("k"), Some(8));
        plans.forget();
        assert_eq!(plans.filtered_count("k"), None);
    }
}
