//! Finding products: listings narrowed by a filter or in another order than the plain
//! newest-first one ([`super::listing`]), and searches by words.
//!
//! Both databases run the same SQL on the same terms and break every tie by id, so a
//! query finds the same products in the same order on each; names are compared byte by
//! byte (PostgreSQL's `COLLATE "C"`, SQLite's default).
//!
//! No read's work grows without bound: a listing reads its branches through indexes
//! that hold its order; a search steps over at most [`SCAN_CAP`] index entries of its
//! rarest word and ranks at most [`MATCH_CAP`] matches.

use std::collections::HashMap;

use catalog_domain::ports::{ProductScope, RepoError};
use catalog_domain::product::Version;
use catalog_domain::product::search::{ProductFilter, ProductSort, SearchQuery, StatusFilter};
use catalog_domain::{Page, PageRequest};
use sea_orm::DbBackend;

use super::rows::{
    JoinedRow, PRODUCT_JOINS, ProductRow, columns, joined_row, product_only, version_columns,
    with_their_versions,
};
use super::search_index::postgres;
use crate::Store;
use crate::cells::{Cells, present};
use crate::hot::{HotRead, SqlText};
use crate::plans::Plans;

/// A search ranks at most this many matches (the newest ones of its rarest word); a
/// person refines a search long before.
pub const MATCH_CAP: u64 = 1000;
/// A search steps over at most this many entries of its rarest word's index, however
/// few of them its filters let through.
pub const SCAN_CAP: u64 = 5_000;
/// A word with at most this many entries is rare: its search visits so few rows that
/// SQLite reads it inline (see [`crate::inline`]), with no bound to compute.
const PROBE: u64 = 250;
/// Pages whose rows lie within this many index entries of the start are read inline on
/// SQLite (see [`crate::inline`]).
const INLINE_REACH: u64 = 2500;

/// One part of what a viewer sees with a filter, served in order by one index: the
/// published or the unpublished products, of one owner or of all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Branch {
    published: bool,
    owner: Option<i64>,
    locked: bool,
}

/// The branches of a scope narrowed by a filter: never more than the scope shows.
fn branches(scope: ProductScope, filter: &ProductFilter) -> Vec<Branch> {
    let all = |published| Branch {
        published,
        owner: None,
        locked: false,
    };
    let mut parts = match scope {
        ProductScope::All => vec![all(true), all(false)],
        ProductScope::Published => vec![all(true)],
        ProductScope::PublishedOrOwnedBy(owner) => vec![
            all(true),
            Branch {
                owner: Some(owner.0),
                ..all(false)
            },
        ],
    };
    if let Some(owner) = filter.owner {
        parts.retain_mut(|b| match b.owner {
            None => {
                b.owner = Some(owner.0);
                true
            }
            Some(own) => own == owner.0,
        });
    }
    match filter.status {
        None => {}
        Some(StatusFilter::Published) => parts.retain(|b| b.published),
        Some(StatusFilter::Unpublished) => parts.retain(|b| !b.published),
        Some(StatusFilter::Locked) => {
            parts.retain(|b| !b.published);
            for b in &mut parts {
                b.locked = true;
            }
        }
    }
    parts
}

/// The branch's condition and the filter's, on the products' columns (`p.` or none).
fn condition(sql: &mut SqlText, branch: Branch, filter: &ProductFilter, p: &str) {
    sql.push(p).push(if branch.published {
        "is_published = TRUE"
    } else {
        "is_published = FALSE"
    });
    if let Some(owner) = branch.owner {
        sql.push(" AND ").push(p).push("owner_id = ").bind(owner);
    }
    if branch.locked {
        sql.push(" AND ").push(p).push("moderation_locked = TRUE");
    }
    if let Some(category) = filter.category {
        sql.push(" AND ")
            .push(p)
            .push("category_id = ")
            .bind(category.0);
    }
    if let Some(min) = filter.min_price {
        sql.push(" AND ")
            .push(p)
            .push("price_cents >= ")
            .bind(min.cents());
    }
    if let Some(max) = filter.max_price {
        sql.push(" AND ")
            .push(p)
            .push("price_cents <= ")
            .bind(max.cents());
    }
}

/// The ORDER BY of `sort` over columns named `id`, `created_at`, `price_cents`, `name`
/// and `score`: every order ends with the id, so no two rows tie.
/// (A name is selected in byte order: see [`name_column`].)
fn order_by(sort: ProductSort) -> &'static str {
    match sort {
        ProductSort::New => "created_at DESC, id DESC",
        ProductSort::Relevance => "score DESC, id DESC",
        ProductSort::Price => "price_cents ASC, id ASC",
        ProductSort::PriceDescending => "price_cents DESC, id DESC",
        ProductSort::Name => "name ASC, id ASC",
    }
}

/// A product's name (column `name` of `p`, which is `p.` or empty) selected as `name`
/// in byte order: PostgreSQL's collation otherwise orders by the database's locale.
/// (A UNION's ORDER BY may name only its columns, so the collation goes here.)
fn name_column(backend: DbBackend, p: &str) -> String {
    if postgres(backend) {
        format!("{p}name COLLATE \"C\" AS name")
    } else {
        format!("{p}name AS name")
    }
}

/// The column a branch selects for `sort`, besides the id.
fn sort_column(sort: ProductSort, backend: DbBackend) -> String {
    match sort {
        ProductSort::New | ProductSort::Relevance => "created_at".to_owned(),
        ProductSort::Price | ProductSort::PriceDescending => "price_cents".to_owned(),
        ProductSort::Name => name_column(backend, ""),
    }
}

/// Orders found rows as the database did: the join to the page's rows forgets it.
fn sort_rows(
    rows: &mut [(ProductRow, Vec<Version>)],
    sort: ProductSort,
    scores: &HashMap<i64, i64>,
) {
    use std::cmp::Reverse;
    let score = |r: &ProductRow| scores.get(&r.id).copied().unwrap_or(0);
    match sort {
        ProductSort::New => rows.sort_by_key(|(r, _)| Reverse((r.created_at, r.id))),
        ProductSort::Relevance => rows.sort_by_key(|(r, _)| Reverse((score(r), r.id))),
        ProductSort::Price => rows.sort_by_key(|(r, _)| (r.price_cents, r.id)),
        ProductSort::PriceDescending => rows.sort_by_key(|(r, _)| Reverse((r.price_cents, r.id))),
        ProductSort::Name => {
            rows.sort_by(|(a, _), (b, _)| {
                (a.name.as_bytes(), a.id).cmp(&(b.name.as_bytes(), b.id))
            });
        }
    }
}

/// A found row: the product (with a version, when they are read), its score and the
/// count of everything found.
type FoundRow = (JoinedRow, i64, Option<i64>);

fn found_with_versions(c: &dyn Cells) -> Result<FoundRow, RepoError> {
    Ok((
        joined_row(c)?,
        c.int("score")?.unwrap_or(0),
        c.int("total")?,
    ))
}

fn found_only(c: &dyn Cells) -> Result<FoundRow, RepoError> {
    Ok((
        product_only(c)?,
        c.int("score")?.unwrap_or(0),
        c.int("total")?,
    ))
}

fn total(c: &dyn Cells) -> Result<i64, RepoError> {
    present(c.int("total")?, "total")
}

/// A term's index entries, counted up to a cap.
fn term_count(c: &dyn Cells) -> Result<(i64, i64), RepoError> {
    Ok((present(c.int("i")?, "i")?, present(c.int("n")?, "n")?))
}

/// The page's rows: the product columns (and versions) of the ids `k` holds.
fn page_columns(sql: &mut SqlText, versions: bool) {
    sql.push("SELECT ").push(columns::LIST);
    if versions {
        sql.push(", ").push(version_columns::LIST);
    }
}

fn page_joins(sql: &mut SqlText, versions: bool) {
    sql.push(" JOIN products p ON p.id = k.id ")
        .push(PRODUCT_JOINS);
    if versions {
        sql.push(" LEFT JOIN versions v ON v.product_id = p.id");
    }
}

impl Store {
    /// A page of what `scope` shows narrowed by `filter` (a search when it has words),
    /// in its order, each product with its versions when `versions` says so.
    pub(crate) async fn find_page(
        &self,
        (scope, filter, page): (ProductScope, &ProductFilter, PageRequest),
        versions: bool,
        plans: &Plans,
    ) -> Result<Page<(ProductRow, Vec<Version>)>, RepoError> {
        let (items, total) = match &filter.text {
            Some(query) => {
                self.search_rows(scope, filter, query, page, versions)
                    .await?
            }
            None => {
                self.filtered_rows(scope, filter, page, versions, plans)
                    .await?
            }
        };
        Ok(Page {
            items,
            page: page.page(),
            per_page: page.per_page(),
            total,
        })
    }

    async fn filtered_rows(
        &self,
        scope: ProductScope,
        filter: &ProductFilter,
        page: PageRequest,
        versions: bool,
        plans: &Plans,
    ) -> Result<(Vec<(ProductRow, Vec<Version>)>, u64), RepoError> {
        let backend = self.conn().get_database_backend();
        let parts = branches(scope, filter);
        if parts.is_empty() {
            return Ok((Vec::new(), 0));
        }
        let key = format!("{scope:?}{filter:?}");
        let total = match plans.filtered_count(&key) {
            Some(total) => total,
            None => {
                let mut sql = SqlText::new(backend);
                sql.push("SELECT ");
                for (i, branch) in parts.iter().enumerate() {
                    sql.push(if i == 0 { "(" } else { " + (" })
                        .push("SELECT COUNT(*) FROM products WHERE ");
                    condition(&mut sql, *branch, filter, "");
                    sql.push(")");
                }
                sql.push(" AS total");
                let read = HotRead::new(sql.statement(), total).bounded(false);
                let counted = self.hot_rows(read).await?.into_iter().next().unwrap_or(0);
                let counted = u64::try_from(counted).unwrap_or(0);
                plans.put_filtered_count(key, counted);
                counted
            }
        };
        let offset = page.offset();
        if offset >= total {
            return Ok((Vec::new(), total));
        }
        let limit = page.per_page();
        let reach = offset + limit;
        let order = order_by(filter.sort);
        let column = sort_column(filter.sort, backend);
        let mut sql = SqlText::new(backend);
        page_columns(&mut sql, versions);
        sql.push(" FROM (");
        // As in the plain listing: PostgreSQL merges sorted branches it may stop
        // reading only when each has its own LIMIT; SQLite merges plain branches in
        // index order under the one ORDER BY.
        let limited = parts.len() > 1 && postgres(backend);
        for (i, branch) in parts.iter().enumerate() {
            if i > 0 {
                sql.push(" UNION ALL ");
            }
            if limited {
                sql.push("(");
            }
            sql.push("SELECT id, ")
                .push(&column)
                .push(" FROM products WHERE ");
            condition(&mut sql, *branch, filter, "");
            if limited {
                sql.push(&format!(" ORDER BY {order} LIMIT {reach})"));
            }
        }
        sql.push(&format!(
            " ORDER BY {order} LIMIT {limit} OFFSET {offset}) AS k"
        ));
        page_joins(&mut sql, versions);
        let map = if versions { joined_row } else { product_only };
        let read = HotRead::new(sql.statement(), map).bounded(reach <= INLINE_REACH);
        let mut rows = with_their_versions(self.hot_rows(read).await?);
        sort_rows(&mut rows, filter.sort, &HashMap::new());
        Ok((rows, total))
    }

    async fn search_rows(
        &self,
        scope: ProductScope,
        filter: &ProductFilter,
        query: &SearchQuery,
        page: PageRequest,
        versions: bool,
    ) -> Result<(Vec<(ProductRow, Vec<Version>)>, u64), RepoError> {
        let backend = self.conn().get_database_backend();
        let parts = branches(scope, filter);
        if parts.is_empty() || query.finds_nothing() {
            return Ok((Vec::new(), 0));
        }
        let mut required = query.required.clone();
        // On PostgreSQL a lone word needs no probe: its scan stops where its entries end
        // (see `matches`), so bounded costs a rare word nothing, and a round trip is
        // saved.
        let rare = if postgres(backend) && required.len() == 1 {
            false
        } else {
            match self.probe(&mut required).await? {
                Some(rare) => rare,
                None => return Ok((Vec::new(), 0)),
            }
        };
        let shape = Shape {
            light: light(filter, &parts),
            bounded: !rare,
        };
        let offset = page.offset();
        let limit = page.per_page();
        let order = order_by(filter.sort);
        let mut total = None;
        let mut scores = HashMap::new();
        let mut rows: Vec<JoinedRow> = Vec::new();
        // No page starts past the matches a search ranks.
        if offset < MATCH_CAP {
            let mut sql = SqlText::new(backend);
            matches(&mut sql, (&parts, filter, query, &required), shape);
            page_columns(&mut sql, versions);
            sql.push(
                ", k.score AS score, (SELECT COUNT(*) FROM m) AS total FROM (SELECT id, score FROM m",
            )
            .push(&format!(
                " ORDER BY {order} LIMIT {limit} OFFSET {offset}) AS k"
            ));
            page_joins(&mut sql, versions);
            let map = if versions {
                found_with_versions
            } else {
                found_only
            };
            let read = HotRead::new(sql.statement(), map).bounded(rare);
            let found = self.hot_rows(read).await?;
            total = match found.first() {
                Some((_, _, total)) => *total,
                // The first page found nothing: nothing to count.
                None if offset == 0 => Some(0),
                None => None,
            };
            scores.reserve(found.len());
            rows = found
                .into_iter()
                .map(|(row, score, _)| {
                    scores.insert(row.0.id, score);
                    row
                })
                .collect();
        }
        if total.is_none() {
            // Past the last page: only the count is read.
            let mut sql = SqlText::new(backend);
            matches(&mut sql, (&parts, filter, query, &required), shape);
            sql.push("SELECT COUNT(*) AS total FROM m");
            let read = HotRead::new(sql.statement(), self::total).bounded(rare);
            total = self.hot_rows(read).await?.into_iter().next();
        }
        let mut rows = with_their_versions(rows);
        sort_rows(&mut rows, filter.sort, &scores);
        Ok((rows, total.and_then(|t| u64::try_from(t).ok()).unwrap_or(0)))
    }

    /// Moves the rarest word first, to drive the search, and says whether it is rare
    /// (its search is read inline on SQLite); `None` when a word is found nowhere. Each
    /// word's entries are counted up to [`PROBE`] only: enough to tell.
    async fn probe(&self, required: &mut Vec<String>) -> Result<Option<bool>, RepoError> {
        let mut sql = SqlText::new(self.conn().get_database_backend());
        for (i, term) in required.iter().enumerate() {
            if i > 0 {
                sql.push(" UNION ALL ");
            }
            sql.push(&format!(
                "SELECT CAST({i} AS BIGINT) AS i, COUNT(*) AS n FROM (SELECT 1 AS one FROM search_terms WHERE term = "
            ))
            .bind(term.as_str())
            .push(&format!(" LIMIT {}) AS t{i}", PROBE + 1));
        }
        let mut counts = self
            .hot_rows(HotRead::new(sql.statement(), term_count))
            .await?;
        counts.sort_by_key(|(i, n)| (*n, *i));
        Ok(match counts.first() {
            Some((_, 0)) | None => None,
            Some((rarest, n)) => {
                let rarest = usize::try_from(*rarest).unwrap_or(0);
                if rarest < required.len() {
                    let term = required.remove(rarest);
                    required.insert(0, term);
                }
                Some(u64::try_from(*n).unwrap_or(u64::MAX) <= PROBE)
            }
        })
    }
}

/// How a search's matches are read.
#[derive(Debug, Clone, Copy)]
struct Shape {
    /// From the terms alone (visibility from their `published` flag), without a product
    /// row each: nothing but visibility narrows, and relevance orders.
    light: bool,
    /// With the bound of [`SCAN_CAP`] entries (the driving word is not rare).
    bounded: bool,
}

/// Whether a search can be read from the terms alone (see [`Shape::light`]).
fn light(filter: &ProductFilter, parts: &[Branch]) -> bool {
    filter.sort == ProductSort::Relevance
        && filter.category.is_none()
        && filter.min_price.is_none()
        && filter.max_price.is_none()
        && filter.owner.is_none()
        && parts
            .iter()
            .all(|b| !b.locked && (b.owner.is_none() || !b.published))
}

/// `WITH m AS (…)`: the matches of a search, at most [`MATCH_CAP`], with what they are
/// ordered by. `required[0]` drives: its index entries are read newest first (at most
/// [`SCAN_CAP`] of them when it is not rare), and each is kept if the product has the
/// other words and phrases, none of the excluded words, passes the filter and is
/// visible.
fn matches(
    sql: &mut SqlText,
    (parts, filter, query, required): (&[Branch], &ProductFilter, &SearchQuery, &[String]),
    shape: Shape,
) {
    let driver = required.first().map_or("", String::as_str);
    // The scan's bound on PostgreSQL: the newest SCAN_CAP entries, read lazily in index
    // order, so that the scan stops as soon as the matches are found (a bound computed
    // first, as on SQLite, reads all SCAN_CAP entries every time, a third of a search's
    // work there). SQLite would sort what such a subquery returns.
    let scan_limited = shape.bounded && postgres(sql.backend());
    sql.push("WITH m AS (SELECT s.product_id AS id, CAST(s.weight");
    for i in 1..required.len() {
        sql.push(&format!(" + t{i}.weight"));
    }
    sql.push(" AS BIGINT) AS score");
    if !shape.light {
        let name = name_column(sql.backend(), "p.");
        sql.push(", p.created_at AS created_at, p.price_cents AS price_cents, ")
            .push(&name);
    }
    if scan_limited {
        sql.push(
            " FROM (SELECT term, product_id, weight, published FROM search_terms WHERE term = ",
        )
        .bind(driver)
        .push(&format!(" ORDER BY product_id DESC LIMIT {SCAN_CAP}) s"));
    } else {
        sql.push(" FROM search_terms s");
    }
    if !shape.light {
        sql.push(" JOIN products p ON p.id = s.product_id");
    }
    for (i, term) in required.iter().enumerate().skip(1) {
        sql.push(&format!(" JOIN search_terms t{i} ON t{i}.term = "))
            .bind(term.as_str())
            .push(&format!(" AND t{i}.product_id = s.product_id"));
    }
    if !query.phrases.is_empty() {
        sql.push(" JOIN product_search d ON d.product_id = s.product_id");
    }
    sql.push(" WHERE s.term = ").bind(driver);
    if shape.bounded && !scan_limited {
        // The scan's bound: the entry SCAN_CAP places from the newest (none when the
        // word has fewer).
        sql.push(
            " AND s.product_id >= COALESCE((SELECT b.product_id FROM search_terms b WHERE b.term = ",
        )
        .bind(driver)
        .push(&format!(
            " ORDER BY b.product_id DESC LIMIT 1 OFFSET {}), 0)",
            SCAN_CAP - 1
        ));
    }
    sql.push(" AND (");
    for (i, branch) in parts.iter().enumerate() {
        if i > 0 {
            sql.push(" OR ");
        }
        sql.push("(");
        if shape.light {
            sql.push(if branch.published {
                "s.published = TRUE"
            } else {
                "s.published = FALSE"
            });
            if let Some(owner) = branch.owner {
                // A lookup per entry, not `EXISTS`: PostgreSQL turns that into a hashed
                // set of all the owner's products, read whole for every search.
                sql.push(" AND (SELECT o.owner_id FROM products o WHERE o.id = s.product_id) = ")
                    .bind(owner);
            }
        } else {
            condition(sql, *branch, filter, "p.");
        }
        sql.push(")");
    }
    sql.push(")");
    for phrase in &query.phrases {
        sql.push(" AND d.document LIKE ")
            .bind(format!("%{phrase}%"));
    }
    for term in &query.excluded {
        sql.push(" AND NOT EXISTS (SELECT 1 FROM search_terms x WHERE x.term = ")
            .bind(term.as_str())
            .push(" AND x.product_id = s.product_id)");
    }
    sql.push(&format!(" ORDER BY s.product_id DESC LIMIT {MATCH_CAP}) "));
}

#[cfg(test)]
mod tests {
    use super::*;
    use catalog_domain::user::UserId;

    fn filter() -> ProductFilter {
        ProductFilter::default()
    }

    #[test]
    fn a_filter_never_widens_the_scope() {
        let me = UserId(7);
        let them = UserId(8);
        let scope = ProductScope::PublishedOrOwnedBy(me);
        // Another owner's products: only the published ones.
        let theirs = ProductFilter {
            owner: Some(them),
            ..filter()
        };
        assert_eq!(
            branches(scope, &theirs),
            vec![Branch {
                published: true,
                owner: Some(8),
                locked: false
            }]
        );
        // Unpublished ones of everybody: only mine.
        let drafts = ProductFilter {
            status: Some(StatusFilter::Unpublished),
            ..filter()
        };
        assert_eq!(
            branches(scope, &drafts),
            vec![Branch {
                published: false,
                owner: Some(7),
                locked: false
            }]
        );
        assert!(branches(ProductScope::Published, &drafts).is_empty());
        let locked = ProductFilter {
            status: Some(StatusFilter::Locked),
            ..filter()
        };
        assert_eq!(branches(ProductScope::All, &locked).len(), 1);
        assert!(branches(ProductScope::All, &locked)[0].locked);
    }
}
