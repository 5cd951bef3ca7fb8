use async_trait::async_trait;
use catalog_domain::access::ProductFacts;
use catalog_domain::ports::{
    CategoryRepository, ProductRepository, ProductScope, RepoError, VersionRepository,
};
use catalog_domain::product::{
    Category, CategoryId, NewCategory, NewProduct, NewVersion, Product, ProductId, ProductUpdate,
    Version, VersionId, VersionsEdit,
};
use catalog_domain::user::UserId;
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use catalog_domain::{Page, PageRequest, Timestamp};
use sea_orm::sea_query::{Condition, Expr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set, TransactionTrait,
};

use crate::cells::{Cells, present};
use crate::entities::{category, product, version};
use crate::error::{db, repo_err};
use crate::{Store, convert};

#[async_trait]
impl CategoryRepository for Store {
    async fn insert(&self, new: NewCategory) -> Result<Category, RepoError> {
        let _writing = self.writing();
        let row = category::ActiveModel {
            name: Set(new.name.as_str().to_owned()),
            description: Set(new.description.as_str().to_owned()),
            ..Default::default()
        }
        .insert(self.conn())
        .await
        .map_err(|e| repo_err(e, || RepoError::CategoryNameTaken))?;
        convert::category(row)
    }

    async fn list(&self) -> Result<Vec<Category>, RepoError> {
        category::Entity::find()
            .order_by_asc(category::Column::Name)
            .all(self.conn())
            .await
            .map_err(db)?
            .into_iter()
            .map(convert::category)
            .collect()
    }

    async fn find_by_id(&self, id: CategoryId) -> Result<Option<Category>, RepoError> {
        category::Entity::find_by_id(id.0)
            .one(self.conn())
            .await
            .map_err(db)?
            .map(convert::category)
            .transpose()
    }

    async fn find_by_name(&self, name: &str) -> Result<Option<Category>, RepoError> {
        category::Entity::find()
            .filter(category::Column::Name.eq(name))
            .one(self.conn())
            .await
            .map_err(db)?
            .map(convert::category)
            .transpose()
    }

    async fn delete(&self, id: CategoryId) -> Result<(), RepoError> {
        let _writing = self.writing();
        let in_use = || async {
            product::Entity::find()
                .filter(product::Column::CategoryId.eq(id.0))
                .count(self.conn())
                .await
                .map_err(db)
        };
        let count = in_use().await?;
        if count > 0 {
            return Err(RepoError::CategoryInUse(count));
        }
        match category::Entity::delete_by_id(id.0).exec(self.conn()).await {
            Ok(r) if r.rows_affected == 0 => Err(RepoError::NotFound),
            Ok(_) => Ok(()),
            // A product arrived between the count and the delete.
            Err(e) => match db(e) {
                RepoError::MissingReference => Err(RepoError::CategoryInUse(in_use().await?)),
                other => Err(other),
            },
        }
    }
}

/// A product row with what every page shows next to it, fetched in one query.
#[derive(Debug)]
struct ProductRow {
    id: i64,
    name: String,
    description: String,
    image: Option<String>,
    category_id: i64,
    price_cents: i64,
    is_published: bool,
    moderation_locked: bool,
    owner_id: i64,
    created_at: Timestamp,
    updated_at: Timestamp,
    revision: i64,
    category_name: String,
    owner_email: String,
    owner_first_name: String,
    owner_last_name: String,
}

impl ProductRow {
    /// Reads the [`PRODUCT_COLUMNS`].
    fn read(c: &dyn Cells) -> Result<Self, RepoError> {
        Ok(Self {
            id: present(c.int("id")?, "products.id")?,
            name: present(c.text("name")?, "products.name")?,
            description: present(c.text("description")?, "products.description")?,
            image: c.text("image")?,
            category_id: present(c.int("category_id")?, "products.category_id")?,
            price_cents: present(c.int("price_cents")?, "products.price_cents")?,
            is_published: present(c.flag("is_published")?, "products.is_published")?,
            moderation_locked: present(c.flag("moderation_locked")?, "products.moderation_locked")?,
            owner_id: present(c.int("owner_id")?, "products.owner_id")?,
            created_at: present(c.time("created_at")?, "products.created_at")?,
            updated_at: present(c.time("updated_at")?, "products.updated_at")?,
            revision: present(c.int("revision")?, "products.revision")?,
            category_name: present(c.text("category_name")?, "categories.name")?,
            owner_email: present(c.text("owner_email")?, "users.email")?,
            owner_first_name: present(c.text("owner_first_name")?, "users.first_name")?,
            owner_last_name: present(c.text("owner_last_name")?, "users.last_name")?,
        })
    }

    fn into_product(self) -> Result<Product, RepoError> {
        let model = product::Model {
            id: self.id,
            name: self.name,
            description: self.description,
            image: self.image,
            category_id: self.category_id,
            price_cents: self.price_cents,
            is_published: self.is_published,
            moderation_locked: self.moderation_locked,
            owner_id: self.owner_id,
            created_at: self.created_at,
            updated_at: self.updated_at,
            revision: self.revision,
        };
        let owner = convert::Owner {
            email: self.owner_email,
            first_name: self.owner_first_name,
            last_name: self.owner_last_name,
        };
        convert::product(model, self.category_name, owner)
    }
}

macro_rules! product_joins {
    () => {
        "JOIN categories c ON c.id = p.category_id JOIN users u ON u.id = p.owner_id"
    };
}

/// What a [`ProductRow`] reads, from [`PRODUCT_TABLES`].
const PRODUCT_COLUMNS: &str = "p.id, p.name, p.description, p.image, p.category_id, \
    p.price_cents, p.is_published, p.moderation_locked, p.owner_id, p.created_at, \
    p.updated_at, p.revision, c.name AS category_name, \
    u.email AS owner_email, u.first_name AS owner_first_name, u.last_name AS owner_last_name";
const PRODUCT_TABLES: &str = concat!("products p ", product_joins!());
/// The category and owner of a product `p` (which may itself be joined to something).
const PRODUCT_JOINS: &str = product_joins!();

/// What [`version_row`] reads, from `versions v`.
const VERSION_COLUMNS: &str = "v.id AS v_id, v.product_id AS v_product_id, \
    v.number AS v_number, v.name AS v_name, v.is_current AS v_is_current";

/// The version of a [`VERSION_COLUMNS`] row; `None` where a LEFT JOIN found none.
fn version_row(c: &dyn Cells) -> Result<Option<Version>, RepoError> {
    let Some(id) = c.int("v_id")? else {
        return Ok(None);
    };
    convert::version(version::Model {
        id,
        product_id: present(c.int("v_product_id")?, "versions.product_id")?,
        number: present(c.text("v_number")?, "versions.number")?,
        name: present(c.text("v_name")?, "versions.name")?,
        is_current: present(c.flag("v_is_current")?, "versions.is_current")?,
    })
    .map(Some)
}

/// Groups rows of products joined to their versions: each product once (its columns
/// from its first row), in the order of its first row, with its versions in the order of
/// their ids. The rows may come in any order: grouping a page's few rows here costs far
/// less than an ORDER BY, which made SQLite copy every wide row into a sorter. A product's
/// rows come together in practice, so the search for its group ends at the first look.
fn with_their_versions(
    rows: Vec<(ProductRow, Option<Version>)>,
) -> Vec<(ProductRow, Vec<Version>)> {
    let mut products: Vec<(ProductRow, Vec<Version>)> = Vec::with_capacity(rows.len());
    for (row, version) in rows {
        match products
            .iter_mut()
            .rev()
            .find(|(seen, _)| seen.id == row.id)
        {
            Some((_, versions)) => versions.extend(version),
            None => products.push((row, version.into_iter().collect())),
        }
    }
    for (_, versions) in &mut products {
        versions.sort_unstable_by_key(|v| v.id);
    }
    products
}

/// Reads a listing's row: the product, and with versions joined one of them.
type RowReader = fn(&dyn Cells) -> Result<(ProductRow, Option<Version>), RepoError>;

/// A page whose rows lie within this many index entries of the nearer end is read
/// inline on SQLite (see [`crate::inline`]); deeper ones are read through sqlx. Merging
/// the two branches of a listing costs about 0.1 µs an entry here, so the deepest read
/// inline holds its thread for a quarter of a millisecond at most; the middle pages of a
/// large catalog (any page 2 500 rows from both ends) wait for sqlx instead.
const INLINE_REACH: u64 = 2500;

/// The `n`th (from 1) bound parameter of a raw statement.
fn placeholder(backend: sea_orm::DbBackend, n: usize) -> String {
    match backend {
        sea_orm::DbBackend::Postgres => format!("${n}"),
        _ => "?".to_owned(),
    }
}

/// How long a listing may show a product count another process has changed. Writes
/// through this process forget the counts at once; other processes' writes show within
/// this time. Counting a large catalog on every page view would cost more than the page.
const COUNT_TTL: Duration = Duration::from_secs(2);

/// Cached counts of all and of published products. When they go stale, one request
/// recounts while the others keep using the stale figures, so that a large catalog is
/// not counted by every request at once.
#[derive(Debug, Default)]
pub(crate) struct Counts {
    value: Mutex<Option<(Instant, u64, u64)>>,
    refreshing: AtomicBool,
    /// Each recently listing owner's count of drafts, under the same rule.
    drafts: Mutex<HashMap<i64, (Instant, u64)>>,
    /// Where deep pages start, under the same rule (see [`Anchor`]).
    anchors: Mutex<BTreeMap<AnchorAt, Anchor>>,
    /// Index entries the listings have stepped over to reach their pages.
    skipped: AtomicU64,
}

/// A scope (its kind and owner), a direction (from the newest end) and a position in it.
type AnchorAt = (u8, i64, bool, u64);

/// The sort key of the row at a position of a listing, as last read. A page past it
/// is read from there, through the index, rather than by stepping over every entry
/// before it: page 400 of the benchmark's 10 000 products stepped over a thousand
/// entries on each view (counted from the nearer end), which made it cost twice what
/// the first page did, and a middle page of a million products half a million. An anchor holds while the listing has the
/// total it was read with, for as long as the counts are trusted; this process's writes
/// forget every anchor, as they forget the counts, so only another process's write can
/// shift a page, and by no more or for no longer than it shifts the counts.
#[derive(Debug, Clone, Copy)]
struct Anchor {
    created_at: Timestamp,
    id: i64,
    total: u64,
    at: Instant,
}

/// Anchors are kept this far apart at least: closer, a page steps over fewer entries
/// (about 0.1 µs each) than an anchor saves.
const ANCHOR_GAP: u64 = 100;

/// Anchors kept at most; past that the map starts afresh, as the draft counts do.
const ANCHORS_KEPT: usize = 4096;

fn scope_key(scope: ProductScope) -> (u8, i64) {
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
enum CountsState<'a> {
    Use(u64, u64),
    /// Count now; with a guard when this request took the refresh on itself (released
    /// however the request ends, even if it is dropped half-way).
    Count(Option<RefreshGuard<'a>>),
}

struct RefreshGuard<'a>(&'a AtomicBool);

impl Drop for RefreshGuard<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

impl Counts {
    fn state(&self) -> CountsState<'_> {
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

    fn put(&self, all: u64, published: u64) {
        if let Ok(mut guard) = self.value.lock() {
            *guard = Some((Instant::now(), all, published));
        }
    }

    fn drafts_of(&self, owner: i64) -> Option<u64> {
        let guard = self.drafts.lock().ok()?;
        guard
            .get(&owner)
            .filter(|(at, _)| at.elapsed() < COUNT_TTL)
            .map(|(_, n)| *n)
    }

    fn put_drafts(&self, owner: i64, drafts: u64) {
        if let Ok(mut guard) = self.drafts.lock() {
            if guard.len() >= DRAFT_COUNTS_KEPT {
                guard.clear();
            }
            guard.insert(owner, (Instant::now(), drafts));
        }
    }

    /// The nearest anchor at or before `position` that still holds, with its position.
    fn anchor(
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

    fn put_anchor(&self, scope: ProductScope, from_start: bool, position: u64, anchor: Anchor) {
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

    fn forget(&self) {
        if let Ok(mut guard) = self.drafts.lock() {
            guard.clear();
        }
        if let Ok(mut guard) = self.anchors.lock() {
            guard.clear();
        }
        if let Ok(mut guard) = self.value.lock() {
            *guard = None;
        }
    }
}

/// The parts a scope is made of: disjoint conditions (SQL with `{}` for each bound value),
/// each served in order by one index. The flags are written as constants: the planner
/// then knows which side of the published index a branch reads (bound, PostgreSQL's
/// generic plan guessed half the table and read a deep page through the wrong index).
fn branches(scope: ProductScope) -> Vec<(&'static str, Vec<sea_orm::Value>)> {
    match scope {
        ProductScope::All => vec![("1 = 1", vec![])],
        ProductScope::Published => vec![("is_published = TRUE", vec![])],
        ProductScope::PublishedOrOwnedBy(owner) => vec![
            ("is_published = TRUE", vec![]),
            (
                "owner_id = {} AND is_published = FALSE",
                vec![owner.0.into()],
            ),
        ],
    }
}

impl Store {
    /// A product write through this process: counts, anchors and kept answers go.
    fn forget(&self) {
        self.counts.forget();
        self.changed();
    }

    async fn count_where(&self, condition: Condition) -> Result<u64, RepoError> {
        product::Entity::find()
            .filter(condition)
            .count(self.conn())
            .await
            .map_err(db)
    }

    /// How many products each of the scope's [`branches`] holds.
    async fn count_visible(&self, scope: ProductScope) -> Result<Vec<u64>, RepoError> {
        let (all, published) = match self.counts.state() {
            CountsState::Use(all, published) => (all, published),
            CountsState::Count(_refresh) => {
                let all = self.count_where(Condition::all()).await?;
                let published = self
                    .count_where(Condition::all().add(product::Column::IsPublished.eq(true)))
                    .await?;
                self.counts.put(all, published);
                (all, published)
            }
        };
        Ok(match scope {
            ProductScope::All => vec![all],
            ProductScope::Published => vec![published],
            ProductScope::PublishedOrOwnedBy(owner) => {
                let drafts = match self.counts.drafts_of(owner.0) {
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
                        self.counts.put_drafts(owner.0, drafts);
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
    async fn read_page<T>(
        &self,
        scope: ProductScope,
        page: PageRequest,
        versions: bool,
        item: impl Fn(ProductRow, Vec<Version>) -> Result<T, RepoError>,
    ) -> Result<Page<T>, RepoError> {
        let counts = self.count_visible(scope).await?;
        let rows = self.page_rows(scope, page, &counts, versions).await?;
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

    async fn page_rows(
        &self,
        scope: ProductScope,
        page: PageRequest,
        counts: &[u64],
        versions: bool,
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
        let order = if from_start { "DESC" } else { "ASC" };
        // From the nearest anchor, the page is `distance` entries past it.
        let anchor = self.counts.anchor(scope, from_start, skip, total);
        let distance = anchor.map_or(skip, |(position, _)| skip - position);
        // Both are below `total`, a count of rows: they fit the databases' integers.
        let limit = end - offset;
        let reach = distance + limit;
        self.counts.skipped.fetch_add(distance, Ordering::Relaxed);
        let backend = self.conn().get_database_backend();
        let mut values: Vec<sea_orm::Value> = Vec::new();
        let mut bind = |value: sea_orm::Value| {
            values.push(value);
            placeholder(backend, values.len())
        };
        let merged = counts.iter().filter(|n| **n > 0).count() > 1;
        let mut parts = Vec::new();
        for ((condition, bound), count) in branches(scope).into_iter().zip(counts) {
            if *count == 0 {
                continue;
            }
            let mut sql = String::new();
            let mut bound = bound.into_iter();
            for (i, piece) in condition.split("{}").enumerate() {
                if i > 0
                    && let Some(value) = bound.next()
                {
                    sql.push_str(&bind(value));
                }
                sql.push_str(piece);
            }
            if let Some((_, anchor)) = anchor {
                let created_at = bind(anchor.created_at.into());
                let id = bind(anchor.id.into());
                let from = if from_start { "<=" } else { ">=" };
                sql.push_str(&format!(
                    " AND (created_at, id) {from} ({created_at}, {id})"
                ));
            }
            let branch = format!("SELECT id, created_at FROM products WHERE {sql}");
            parts.push(match backend {
                // PostgreSQL merges the branches only as sorted inputs it may stop
                // reading: with a LIMIT of their own it reads each from its index,
                // whatever its statistics say (fresh from a bulk load, they said
                // "scan the table", which on a million rows took seconds).
                sea_orm::DbBackend::Postgres if merged => {
                    format!("({branch} ORDER BY created_at {order}, id {order} LIMIT {reach})")
                }
                // SQLite merges plain branches in index order, but sorts a branch that
                // is a subquery (a temporary B-tree each), so they stay plain; so does
                // a branch alone, which the outer LIMIT serves from its index.
                _ => branch,
            });
        }
        // One ORDER BY over the whole UNION ALL: both databases then merge the ordered
        // index scans (SQLite's MERGE, PostgreSQL's Merge Append) and stop at the page.
        // The limits and the offset are numbers computed here, written into the SQL
        // rather than bound: bound, they left PostgreSQL unable to cost a generic plan,
        // so it planned the statement again at every execution (0.3 ms, three times
        // the query itself).
        // With versions, each product's rows are grouped afterwards ([`with_their_versions`]).
        let (columns, join) = if versions {
            (
                format!("{PRODUCT_COLUMNS}, {VERSION_COLUMNS}"),
                " LEFT JOIN versions v ON v.product_id = p.id",
            )
        } else {
            (PRODUCT_COLUMNS.to_owned(), "")
        };
        // The page's ids are joined to their rows rather than looked up with `IN`, which
        // made SQLite build a temporary index of them first (a tenth of the read).
        let sql = format!(
            "SELECT {columns} FROM ({} ORDER BY created_at {order}, id {order} \
             LIMIT {limit} OFFSET {distance}) AS k JOIN products p ON p.id = k.id \
             {PRODUCT_JOINS}{join}",
            parts.join(" UNION ALL ")
        );
        let statement = sea_orm::Statement::from_sql_and_values(backend, sql, values);
        let read: RowReader = if versions {
            |c| Ok((ProductRow::read(c)?, version_row(c)?))
        } else {
            |c| Ok((ProductRow::read(c)?, None))
        };
        let rows = self
            .hot_rows(statement, reach <= INLINE_REACH, read)
            .await?;
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
            self.counts.put_anchor(scope, from_start, skip, anchor);
        }
        Ok(products)
    }
}

fn product_by_id(backend: sea_orm::DbBackend, id: ProductId) -> sea_orm::Statement {
    let sql = format!(
        "SELECT {PRODUCT_COLUMNS} FROM {PRODUCT_TABLES} WHERE p.id = {}",
        placeholder(backend, 1)
    );
    sea_orm::Statement::from_sql_and_values(backend, sql, [id.0.into()])
}

async fn find_product<C: ConnectionTrait>(
    conn: &C,
    id: ProductId,
) -> Result<Option<Product>, RepoError> {
    conn.query_one_raw(product_by_id(conn.get_database_backend(), id))
        .await
        .map_err(db)?
        .map(|row| ProductRow::read(&row)?.into_product())
        .transpose()
}

fn active(p: &NewProduct) -> product::ActiveModel {
    let at = convert::micros(p.created_at);
    product::ActiveModel {
        name: Set(p.name.as_str().to_owned()),
        description: Set(p.description.as_str().to_owned()),
        image: Set(p.image.clone()),
        category_id: Set(p.category_id.0),
        price_cents: Set(p.price.cents()),
        is_published: Set(p.is_published),
        moderation_locked: Set(false),
        owner_id: Set(p.owner_id.0),
        created_at: Set(at),
        updated_at: Set(at),
        // Set, not left to the column's default: see `users::active`.
        revision: Set(1),
        ..Default::default()
    }
}

#[async_trait]
impl ProductRepository for Store {
    async fn insert(&self, new: NewProduct) -> Result<Product, RepoError> {
        let row = active(&new).insert(self.conn()).await.map_err(db)?;
        self.forget();
        find_product(self.conn(), ProductId(row.id))
            .await?
            .ok_or(RepoError::NotFound)
    }

    async fn insert_many(&self, products: Vec<NewProduct>) -> Result<u64, RepoError> {
        let txn = self.conn().begin().await.map_err(db)?;
        let mut count = 0;
        // 10 columns a row: 1 000 rows stay well under SQLite's parameter limit.
        for chunk in products.chunks(1000) {
            product::Entity::insert_many(chunk.iter().map(active))
                .exec_without_returning(&txn)
                .await
                .map_err(db)?;
            count += chunk.len() as u64;
        }
        txn.commit().await.map_err(db)?;
        self.forget();
        Ok(count)
    }

    async fn image_owner(&self, key: &str) -> Result<Option<ProductFacts>, RepoError> {
        let read = async {
            let backend = self.conn().get_database_backend();
            let sql = format!(
                "SELECT owner_id, is_published, moderation_locked FROM products WHERE image = {}",
                placeholder(backend, 1)
            );
            let statement = sea_orm::Statement::from_sql_and_values(backend, sql, [key.into()]);
            let rows = self
                .hot_rows(statement, true, |c| {
                    Ok(ProductFacts {
                        owner: UserId(present(c.int("owner_id")?, "products.owner_id")?),
                        is_published: present(c.flag("is_published")?, "products.is_published")?,
                        moderation_locked: present(
                            c.flag("moderation_locked")?,
                            "products.moderation_locked",
                        )?,
                    })
                })
                .await?;
            Ok(rows.into_iter().next())
        };
        self.kept_or_read(|k| &k.images, key.to_owned(), |_| true, |_| true, read)
            .await
    }

    async fn find(&self, id: ProductId) -> Result<Option<Product>, RepoError> {
        find_product(self.conn(), id).await
    }

    async fn find_with_versions(
        &self,
        id: ProductId,
    ) -> Result<Option<(Product, Vec<Version>)>, RepoError> {
        let read = async {
            let backend = self.conn().get_database_backend();
            let sql = format!(
                "SELECT {PRODUCT_COLUMNS}, {VERSION_COLUMNS} \
                 FROM {PRODUCT_TABLES} LEFT JOIN versions v ON v.product_id = p.id \
                 WHERE p.id = {}",
                placeholder(backend, 1)
            );
            let statement = sea_orm::Statement::from_sql_and_values(backend, sql, [id.0.into()]);
            // Each row repeats the product (a product has a few versions at most).
            let rows = self
                .hot_rows(statement, true, |c| {
                    Ok((ProductRow::read(c)?, version_row(c)?))
                })
                .await?;
            with_their_versions(rows)
                .into_iter()
                .next()
                .map(|(row, versions)| Ok((row.into_product()?, versions)))
                .transpose()
        };
        self.kept_or_read(|k| &k.products, id.0, |_| true, Option::is_some, read)
            .await
    }

    async fn list(
        &self,
        scope: ProductScope,
        page: PageRequest,
    ) -> Result<Page<Product>, RepoError> {
        let read = self.read_page(scope, page, false, |row, _| row.into_product());
        let key = (scope_key(scope), page.page(), page.per_page());
        self.kept_or_read(|k| &k.pages, key, |_| true, |_| true, read)
            .await
    }

    async fn list_with_versions(
        &self,
        scope: ProductScope,
        page: PageRequest,
    ) -> Result<Page<(Product, Vec<Version>)>, RepoError> {
        let read = self.read_page(scope, page, true, |row, versions| {
            Ok((row.into_product()?, versions))
        });
        let key = (scope_key(scope), page.page(), page.per_page());
        self.kept_or_read(|k| &k.pages_with_versions, key, |_| true, |_| true, read)
            .await
    }

    async fn update(&self, id: ProductId, u: ProductUpdate) -> Result<Product, RepoError> {
        write_product(self.conn(), id, u, None).await?;
        self.forget();
        find_product(self.conn(), id)
            .await?
            .ok_or(RepoError::NotFound)
    }

    async fn edit(
        &self,
        id: ProductId,
        u: ProductUpdate,
        image: Option<String>,
        versions: VersionsEdit,
    ) -> Result<Product, RepoError> {
        let txn = self.conn().begin().await.map_err(db)?;
        write_product(&txn, id, u, image).await?;
        write_versions(&txn, id, versions).await?;
        let product = find_product(&txn, id).await?.ok_or(RepoError::NotFound)?;
        txn.commit().await.map_err(db)?;
        self.forget();
        Ok(product)
    }

    async fn set_image(
        &self,
        id: ProductId,
        image: Option<String>,
        at: Timestamp,
    ) -> Result<(), RepoError> {
        let _writing = self.writing();
        let result = product::Entity::update_many()
            .col_expr(product::Column::Image, Expr::value(image))
            .col_expr(product::Column::UpdatedAt, Expr::value(convert::micros(at)))
            .col_expr(product::Column::Revision, next_revision())
            .filter(product::Column::Id.eq(id.0))
            .exec(self.conn())
            .await
            .map_err(db)?;
        if result.rows_affected == 0 {
            return Err(RepoError::NotFound);
        }
        Ok(())
    }

    async fn delete(&self, id: ProductId) -> Result<(), RepoError> {
        // Versions go with the product (ON DELETE CASCADE).
        let result = product::Entity::delete_by_id(id.0)
            .exec(self.conn())
            .await
            .map_err(db)?;
        if result.rows_affected == 0 {
            return Err(RepoError::NotFound);
        }
        self.forget();
        Ok(())
    }
}

/// The revision a write moves a product to.
fn next_revision() -> Expr {
    sea_orm::sea_query::ExprTrait::add(Expr::col(product::Column::Revision), 1)
}

/// Writes the fields `u` changes (and no other) if the product is still at the revision
/// they were decided on, moving it to the next one.
async fn write_product<C: ConnectionTrait>(
    conn: &C,
    id: ProductId,
    u: ProductUpdate,
    image: Option<String>,
) -> Result<(), RepoError> {
    let mut update = product::Entity::update_many()
        .col_expr(
            product::Column::UpdatedAt,
            Expr::value(convert::micros(u.updated_at)),
        )
        .col_expr(product::Column::Revision, next_revision());
    if let Some(name) = &u.name {
        update = update.col_expr(product::Column::Name, Expr::value(name.as_str()));
    }
    if let Some(description) = &u.description {
        update = update.col_expr(
            product::Column::Description,
            Expr::value(description.as_str()),
        );
    }
    if let Some(category) = u.category_id {
        update = update.col_expr(product::Column::CategoryId, Expr::value(category.0));
    }
    if let Some(price) = u.price {
        update = update.col_expr(product::Column::PriceCents, Expr::value(price.cents()));
    }
    if let Some(published) = u.is_published {
        update = update.col_expr(product::Column::IsPublished, Expr::value(published));
    }
    if let Some(locked) = u.moderation_locked {
        update = update.col_expr(product::Column::ModerationLocked, Expr::value(locked));
    }
    if let Some(key) = image {
        update = update.col_expr(product::Column::Image, Expr::value(key));
    }
    let result = update
        .filter(product::Column::Id.eq(id.0))
        .filter(product::Column::Revision.eq(u.revision))
        .exec(conn)
        .await
        .map_err(db)?;
    if result.rows_affected == 0 {
        let exists = product::Entity::find_by_id(id.0)
            .count(conn)
            .await
            .map_err(db)?;
        return Err(if exists > 0 {
            RepoError::Conflict
        } else {
            RepoError::NotFound
        });
    }
    Ok(())
}

/// Applies a versions edit. Rewritten rows first take a placeholder number that no real
/// number can have (real ones have no control characters), so that numbers can be
/// swapped between rows without tripping the unique index half-way.
async fn write_versions<C: ConnectionTrait>(
    conn: &C,
    product: ProductId,
    edit: VersionsEdit,
) -> Result<(), RepoError> {
    let mine = |q: sea_orm::UpdateMany<version::Entity>, id: VersionId| {
        q.filter(version::Column::Id.eq(id.0))
            .filter(version::Column::ProductId.eq(product.0))
    };
    for id in &edit.delete {
        let result = version::Entity::delete_many()
            .filter(version::Column::Id.eq(id.0))
            .filter(version::Column::ProductId.eq(product.0))
            .exec(conn)
            .await
            .map_err(db)?;
        if result.rows_affected == 0 {
            return Err(RepoError::NotFound);
        }
    }
    if edit.names_current() {
        demote_others(conn, product, None).await?;
    }
    for (id, _) in &edit.update {
        let placeholder = format!("\u{1}{}", id.0);
        let result = mine(version::Entity::update_many(), *id)
            .col_expr(version::Column::Number, Expr::value(placeholder))
            .col_expr(version::Column::IsCurrent, Expr::value(false))
            .exec(conn)
            .await
            .map_err(db)?;
        if result.rows_affected == 0 {
            return Err(RepoError::NotFound);
        }
    }
    for (id, v) in &edit.update {
        mine(version::Entity::update_many(), *id)
            .col_expr(version::Column::Number, Expr::value(v.number.as_str()))
            .col_expr(version::Column::Name, Expr::value(v.name.as_str()))
            .col_expr(version::Column::IsCurrent, Expr::value(v.is_current))
            .exec(conn)
            .await
            .map_err(|e| repo_err(e, version_taken))?;
    }
    for v in &edit.insert {
        version::ActiveModel {
            product_id: Set(product.0),
            number: Set(v.number.as_str().to_owned()),
            name: Set(v.name.as_str().to_owned()),
            is_current: Set(v.is_current),
            ..Default::default()
        }
        .insert(conn)
        .await
        .map_err(|e| repo_err(e, version_taken))?;
    }
    Ok(())
}

async fn demote_others<C: ConnectionTrait>(
    conn: &C,
    product: ProductId,
    except: Option<VersionId>,
) -> Result<(), RepoError> {
    let mut update = version::Entity::update_many()
        .col_expr(version::Column::IsCurrent, Expr::value(false))
        .filter(version::Column::ProductId.eq(product.0))
        .filter(version::Column::IsCurrent.eq(true));
    if let Some(id) = except {
        update = update.filter(version::Column::Id.ne(id.0));
    }
    update.exec(conn).await.map_err(db)?;
    Ok(())
}

fn version_taken() -> RepoError {
    RepoError::VersionNumberTaken
}

#[async_trait]
impl VersionRepository for Store {
    async fn list(&self, product: ProductId) -> Result<Vec<Version>, RepoError> {
        version::Entity::find()
            .filter(version::Column::ProductId.eq(product.0))
            .order_by_asc(version::Column::Id)
            .all(self.conn())
            .await
            .map_err(db)?
            .into_iter()
            .map(convert::version)
            .collect()
    }

    async fn insert(&self, product: ProductId, v: NewVersion) -> Result<Version, RepoError> {
        let _writing = self.writing();
        let txn = self.conn().begin().await.map_err(db)?;
        if v.is_current {
            demote_others(&txn, product, None).await?;
        }
        let row = version::ActiveModel {
            product_id: Set(product.0),
            number: Set(v.number.as_str().to_owned()),
            name: Set(v.name.as_str().to_owned()),
            is_current: Set(v.is_current),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map_err(|e| repo_err(e, version_taken))?;
        txn.commit().await.map_err(db)?;
        convert::version(row)
    }

    async fn update(
        &self,
        product: ProductId,
        id: VersionId,
        v: NewVersion,
    ) -> Result<Version, RepoError> {
        let _writing = self.writing();
        let txn = self.conn().begin().await.map_err(db)?;
        if v.is_current {
            demote_others(&txn, product, Some(id)).await?;
        }
        let result = version::Entity::update_many()
            .col_expr(version::Column::Number, Expr::value(v.number.as_str()))
            .col_expr(version::Column::Name, Expr::value(v.name.as_str()))
            .col_expr(version::Column::IsCurrent, Expr::value(v.is_current))
            .filter(version::Column::Id.eq(id.0))
            .filter(version::Column::ProductId.eq(product.0))
            .exec(&txn)
            .await
            .map_err(|e| repo_err(e, version_taken))?;
        if result.rows_affected == 0 {
            return Err(RepoError::NotFound);
        }
        let row = version::Entity::find_by_id(id.0)
            .one(&txn)
            .await
            .map_err(db)?
            .ok_or(RepoError::NotFound)?;
        txn.commit().await.map_err(db)?;
        convert::version(row)
    }

    async fn delete(&self, product: ProductId, id: VersionId) -> Result<(), RepoError> {
        let _writing = self.writing();
        let result = version::Entity::delete_many()
            .filter(version::Column::Id.eq(id.0))
            .filter(version::Column::ProductId.eq(product.0))
            .exec(self.conn())
            .await
            .map_err(db)?;
        if result.rows_affected == 0 {
            return Err(RepoError::NotFound);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use catalog_domain::product::{VersionName, VersionNumber};

    use super::*;

    fn row(id: i64) -> ProductRow {
        ProductRow {
            id,
            name: format!("Product {id}"),
            description: String::new(),
            image: None,
            category_id: 1,
            price_cents: 100,
            is_published: true,
            moderation_locked: false,
            owner_id: 1,
            created_at: Timestamp::default(),
            updated_at: Timestamp::default(),
            revision: 1,
            category_name: "Tools".into(),
            owner_email: "ann@example.com".into(),
            owner_first_name: String::new(),
            owner_last_name: String::new(),
        }
    }

    fn version(id: i64, product: i64) -> Option<Version> {
        Some(Version {
            id: VersionId(id),
            product_id: ProductId(product),
            number: VersionNumber::parse(&format!("1.{id}")).ok()?,
            name: VersionName::parse("").ok()?,
            is_current: false,
        })
    }

    /// The listing's SQL has no ORDER BY for the joined versions: however the database
    /// hands the rows over, each product comes once (where its first row came) with its
    /// versions in id order.
    #[test]
    fn rows_in_any_order_group_into_products_with_their_versions_in_order() {
        let rows = vec![
            (row(2), version(7, 2)),
            (row(1), None),
            (row(2), version(5, 2)),
            (row(3), version(9, 3)),
            (row(2), version(6, 2)),
        ];
        let grouped: Vec<(i64, Vec<i64>)> = with_their_versions(rows)
            .into_iter()
            .map(|(p, versions)| (p.id, versions.iter().map(|v| v.id.0).collect()))
            .collect();
        assert_eq!(grouped, vec![(2, vec![5, 6, 7]), (1, vec![]), (3, vec![9])]);
    }

    /// What a hot read's future holds is copied as it is built and moved into its
    /// caller's: sqlx's acquire and fetch futures (kilobytes) stay boxed behind the pool
    /// path, or every page copies them several times over.
    #[tokio::test]
    async fn hot_read_futures_stay_small() -> Result<(), Box<dyn std::error::Error>> {
        let store = Store::connect("sqlite::memory:").await?;
        let page = PageRequest::new(1, 20).ok_or("no such page")?;
        let statement = sea_orm::Statement::from_string(sea_orm::DbBackend::Sqlite, "SELECT 1");
        let sizes = [
            std::mem::size_of_val(&store.hot_rows(statement, true, |_| Ok(()))),
            std::mem::size_of_val(&store.page_rows(ProductScope::All, page, &[1], true)),
            std::mem::size_of_val(&store.session_with_user("key", Timestamp::default())),
            std::mem::size_of_val(&store.token_holder("digest")),
        ];
        assert!(sizes.iter().all(|&size| size < 1024), "{sizes:?}");
        Ok(())
    }
}
