//! Listings: a page of the products a scope shows, newest first, read from whichever
//! end of the listing is nearer and from the nearest anchor (see [`crate::plans`]).

use std::sync::atomic::Ordering;
use std::time::Instant;

use catalog_domain::ports::{ProductScope, RepoError};
use catalog_domain::product::Version;
use catalog_domain::{Page, PageRequest};
use sea_orm::sea_query::Condition;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use super::rows::{
    JoinedRow, PRODUCT_JOINS, ProductRow, columns, joined_row, product_only, version_columns,
    with_their_versions,
};
use crate::Store;
use crate::entities::product;
use crate::error::db;
use crate::hot::{HotRead, SqlText};
use crate::plans::{ANCHOR_GAP, Anchor, CountsState, Plans};

/// A page whose rows lie within this many index entries of the nearer end is read
/// inline on SQLite (see [`crate::inline`]); deeper ones are read through sqlx. Merging
/// the two branches of a listing costs about 0.1 µs an entry here, so the deepest read
/// inline holds its thread for a quarter of a millisecond at most; the middle pages of a
/// large catalog (any page 2 500 rows from both ends) wait for sqlx instead.
const INLINE_REACH: u64 = 2500;

/// One of the disjoint parts a scope is made of, each served in order by one index.
/// The flags are written as constants: the planner then knows which side of the
/// published index a branch reads (bound, PostgreSQL's generic plan guessed half the
/// table and read a deep page through the wrong index).
#[derive(Debug, Clone, Copy)]
enum Branch {
    All,
    Published,
    DraftsOf(i64),
}

impl Branch {
    /// The scope's branches, in the order [`Store::count_visible`] counts them.
    fn of(scope: ProductScope) -> Vec<Branch> {
        match scope {
            ProductScope::All => vec![Branch::All],
            ProductScope::Published => vec![Branch::Published],
            ProductScope::PublishedOrOwnedBy(owner) => {
                vec![Branch::Published, Branch::DraftsOf(owner.0)]
            }
        }
    }

    fn condition(self, sql: &mut SqlText) {
        match self {
            Branch::All => sql.push("1 = 1"),
            Branch::Published => sql.push("is_published = TRUE"),
            Branch::DraftsOf(owner) => sql
                .push("owner_id = ")
                .bind(owner)
                .push(" AND is_published = FALSE"),
        };
    }
}

impl Store {
    async fn count_where(&self, condition: Condition) -> Result<u64, RepoError> {
        product::Entity::find()
            .filter(condition)
            .count(self.conn())
            .await
            .map_err(db)
    }

    /// How many products each of the scope's [`branches`] holds, as `plans` remembers
    /// them or counted now.
    async fn count_visible(
        &self,
        scope: ProductScope,
        plans: &Plans,
    ) -> Result<Vec<u64>, RepoError> {
        let (all, published) = match plans.state() {
            CountsState::Use(all, published) => (all, published),
            CountsState::Count(_refresh) => {
                let all = self.count_where(Condition::all()).await?;
                let published = self
                    .count_where(Condition::all().add(product::Column::IsPublished.eq(true)))
                    .await?;
                plans.put(all, published);
                (all, published)
            }
        };
        Ok(match scope {
            ProductScope::All => vec![all],
            ProductScope::Published => vec![published],
            ProductScope::PublishedOrOwnedBy(owner) => {
                let drafts = match plans.drafts_of(owner.0) {
                    Some(drafts) => drafts,
                    None => {
                        // An owner's drafts are few; counting them reads their index range.
                        let drafts = self
                            .count_where(
                                Condition::all()
                                    .add(product::Column::OwnerId.eq(owner.0))
                                    .add(product::Column::IsPublished.eq(false)),
                            )
                            .await?;
                        plans.put_drafts(owner.0, drafts);
                        drafts
                    }
                };
                vec![published, drafts]
            }
        })
    }

    /// The rows of one page, newest first, in one query. The page's ids come from a
    /// subquery that merges the scope's branches, each read in the order of its index
    /// and only as far as the page needs, from whichever end of the listing is nearer:
    /// a page near the end of a large catalog costs what one near its start does, and
    /// one read before (or just after one read before) starts from its [`Anchor`]. An
    /// empty branch (a user without drafts) is left out. Only the page's rows are
    /// joined to their category and owner, and with `versions` to their versions.
    /// One listing page from the database, each row made an item by `item`.
    /// `plans` is what the listing remembers between reads (a fresh, empty one for a
    /// read that should count and seek from scratch).
    pub(crate) async fn read_page<T>(
        &self,
        (scope, page): (ProductScope, PageRequest),
        versions: bool,
        plans: &Plans,
        item: impl Fn(ProductRow, Vec<Version>) -> Result<T, RepoError>,
    ) -> Result<Page<T>, RepoError> {
        let counts = self.count_visible(scope, plans).await?;
        let rows = self
            .page_rows(scope, page, &counts, versions, plans)
            .await?;
        Ok(Page {
            items: rows
                .into_iter()
                .map(|(row, versions)| item(row, versions))
                .collect::<Result<_, _>>()?,
            page: page.page(),
            per_page: page.per_page(),
            total: counts.iter().sum(),
        })
    }

    pub(crate) async fn page_rows(
        &self,
        scope: ProductScope,
        page: PageRequest,
        counts: &[u64],
        versions: bool,
        plans: &Plans,
    ) -> Result<Vec<(ProductRow, Vec<Version>)>, RepoError> {
        let total: u64 = counts.iter().sum();
        let offset = page.offset();
        if offset >= total {
            return Ok(Vec::new());
        }
        let end = (offset + page.per_page()).min(total);
        let from_start = offset <= total - end;
        // Where the page starts, counted from the nearer end.
        let skip = if from_start { offset } else { total - end };
        // From the nearest anchor, the page is `distance` entries past it.
        let anchor = plans.anchor(scope, from_start, skip, total);
        let distance = anchor.map_or(skip, |(position, _)| skip - position);
        // Both are below `total`, a count of rows: they fit the databases' integers.
        let limit = end - offset;
        plans.skipped.fetch_add(distance, Ordering::Relaxed);
        let shape = PageShape {
            scope,
            counts,
            from_start,
            anchor: anchor.map(|(_, anchor)| anchor),
            limit,
            distance,
            versions,
        };
        let read = page_read(self.conn().get_database_backend(), &shape);
        let rows = self.hot_rows(read).await?;
        let mut products = with_their_versions(rows);
        products.sort_by_key(|(r, _)| std::cmp::Reverse((r.created_at, r.id)));
        let first = if from_start {
            products.first()
        } else {
            products.last()
        };
        if distance >= ANCHOR_GAP
            && let Some((row, _)) = first
        {
            let anchor = Anchor {
                created_at: row.created_at,
                id: row.id,
                total,
                at: Instant::now(),
            };
            plans.put_anchor(scope, from_start, skip, anchor);
        }
        Ok(products)
    }
}

/// What a page's read depends on besides the backend.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PageShape<'a> {
    pub(crate) scope: ProductScope,
    /// Each branch's count ([`Branch::of`]); empty branches are left out.
    pub(crate) counts: &'a [u64],
    /// Read from the newest end (else from the oldest, in reverse).
    pub(crate) from_start: bool,
    /// Where the reading starts, if not at the end.
    pub(crate) anchor: Option<Anchor>,
    pub(crate) limit: u64,
    /// Entries stepped over past the anchor (or the end).
    pub(crate) distance: u64,
    pub(crate) versions: bool,
}

/// The read of one page: the rows of the page's ids, which come from a subquery that
/// merges the scope's branches, each read in the order of its index and only as far as
/// the page needs.
pub(crate) fn page_read(backend: sea_orm::DbBackend, shape: &PageShape<'_>) -> HotRead<JoinedRow> {
    let PageShape {
        scope,
        counts,
        from_start,
        anchor,
        limit,
        distance,
        versions,
    } = *shape;
    let order = if from_start { "DESC" } else { "ASC" };
    let reach = distance + limit;
    let merged = counts.iter().filter(|n| **n > 0).count() > 1;
    let mut sql = SqlText::new(backend);
    sql.push("SELECT ").push(columns::LIST);
    if versions {
        sql.push(", ").push(version_columns::LIST);
    }
    // The page's ids come from a subquery, joined to their rows rather than looked
    // up with `IN`, which made SQLite build a temporary index of them first (a tenth
    // of the read).
    sql.push(" FROM (");
    let mut first = true;
    for (branch, count) in Branch::of(scope).into_iter().zip(counts) {
        if *count == 0 {
            continue;
        }
        if !first {
            sql.push(" UNION ALL ");
        }
        first = false;
        // PostgreSQL merges the branches only as sorted inputs it may stop reading:
        // with a LIMIT of their own it reads each from its index, whatever its
        // statistics say (fresh from a bulk load, they said "scan the table", which
        // on a million rows took seconds). SQLite merges plain branches in index
        // order, but sorts a branch that is a subquery (a temporary B-tree each), so
        // they stay plain; so does a branch alone, which the outer LIMIT serves
        // from its index.
        let limited = merged && backend == sea_orm::DbBackend::Postgres;
        if limited {
            sql.push("(");
        }
        sql.push("SELECT id, created_at FROM products WHERE ");
        branch.condition(&mut sql);
        if let Some(anchor) = anchor {
            let from = if from_start { " <= " } else { " >= " };
            sql.push(" AND (created_at, id)")
                .push(from)
                .push("(")
                .bind(anchor.created_at)
                .push(", ")
                .bind(anchor.id)
                .push(")");
        }
        if limited {
            sql.push(&format!(
                " ORDER BY created_at {order}, id {order} LIMIT {reach})"
            ));
        }
    }
    // One ORDER BY over the whole UNION ALL: both databases then merge the ordered
    // index scans (SQLite's MERGE, PostgreSQL's Merge Append) and stop at the page.
    // The limits and the offset are numbers computed here, written into the SQL
    // rather than bound: bound, they left PostgreSQL unable to cost a generic plan,
    // so it planned the statement again at every execution (0.3 ms, three times
    // the query itself).
    sql.push(&format!(
        " ORDER BY created_at {order}, id {order} LIMIT {limit} OFFSET {distance}) AS k \
         JOIN products p ON p.id = k.id "
    ))
    .push(PRODUCT_JOINS);
    // With versions, each product's rows are grouped afterwards
    // ([`with_their_versions`]), with no ORDER BY for them.
    let read = if versions {
        sql.push(" LEFT JOIN versions v ON v.product_id = p.id");
        HotRead::new(sql.statement(), joined_row)
    } else {
        HotRead::new(sql.statement(), product_only)
    };
    read.bounded(reach <= INLINE_REACH)
}

#[cfg(test)]
mod tests {
    use super::*;
    use catalog_domain::Timestamp;

    /// What a hot read's future holds is copied as it is built and moved into its
    /// caller's: sqlx's acquire and fetch futures (kilobytes) stay boxed behind the pool
    /// path, or every page copies them several times over.
    #[tokio::test]
    async fn hot_read_futures_stay_small() -> Result<(), Box<dyn std::error::Error>> {
        let store = Store::connect("sqlite::memory:").await?;
        let page = PageRequest::new(1, 20).ok_or("no such page")?;
        let statement = sea_orm::Statement::from_string(sea_orm::DbBackend::Sqlite, "SELECT 1");
        let read = HotRead::new(statement, |_| Ok(()));
        let sizes = [
            std::mem::size_of_val(&store.hot_rows(read)),
            std::mem::size_of_val(&store.page_rows(
                ProductScope::All,
                page,
                &[1],
                true,
                &Plans::default(),
            )),
            std::mem::size_of_val(&store.session_with_user("key", Timestamp::default())),
            std::mem::size_of_val(&store.token_holder("digest")),
        ];
        assert!(sizes.iter().all(|&size| size < 1024), "{sizes:?}");
        Ok(())
    }
}
