//! Every hot read, run on both databases, reads exactly the columns it selects: a
//! column misspelt in a SELECT list fails its statement here, one selected but not read
//! (or read but not selected) fails the comparison. The inline path runs the same values
//! (see `tests/inline.rs` for its rows compared with sqlx's).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::cell::RefCell;
use std::collections::BTreeSet;

use catalog_domain::Timestamp;
use catalog_domain::ports::*;
use catalog_domain::product::*;
use catalog_domain::user::*;
use chrono::{TimeZone, Utc};
use sea_orm::{ConnectionTrait, QueryResult};

use crate::cells::Cells;
use crate::hot::HotRead;
use crate::plans::Anchor;
use crate::products::image_owner;
use crate::products::listing::{PageShape, page_read};
use crate::products::rows::{product_by_id, product_with_versions};
use crate::testing::with_database;
use crate::viewers::{session_read, token_read, user_read};
use crate::{Backend, Store};

fn t(secs: i64) -> Timestamp {
    Utc.timestamp_opt(1_800_000_000 + secs, 0).single().unwrap()
}

/// Hands out a row's cells, writing down the name of every column asked for.
struct Recording<'a> {
    row: &'a QueryResult,
    asked: RefCell<BTreeSet<String>>,
}

impl Recording<'_> {
    fn note(&self, column: &str) {
        self.asked.borrow_mut().insert(column.to_owned());
    }
}

impl Cells for Recording<'_> {
    fn int(&self, column: &str) -> Result<Option<i64>, RepoError> {
        self.note(column);
        self.row.int(column)
    }
    fn text(&self, column: &str) -> Result<Option<String>, RepoError> {
        self.note(column);
        self.row.text(column)
    }
    fn flag(&self, column: &str) -> Result<Option<bool>, RepoError> {
        self.note(column);
        self.row.flag(column)
    }
    fn time(&self, column: &str) -> Result<Option<Timestamp>, RepoError> {
        self.note(column);
        self.row.time(column)
    }
}

/// Runs `read` through sqlx and checks each row against its mapper; the rows it read.
async fn check<T>(store: &Store, name: &str, read: HotRead<T>) -> usize {
    let rows = store
        .conn()
        .query_all_raw(read.statement.clone())
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    assert!(!rows.is_empty(), "{name} found no row to check");
    let mut asked = BTreeSet::new();
    let mut selected = BTreeSet::new();
    for row in &rows {
        let recording = Recording {
            row,
            asked: RefCell::new(BTreeSet::new()),
        };
        if let Err(e) = (read.map)(&recording) {
            panic!("{name}: {e}");
        }
        asked.append(&mut recording.asked.into_inner());
        selected.extend(row.column_names());
    }
    // Over all rows: a LEFT JOIN that found nothing leaves the rest of its columns
    // unread in that row, and the data gives each read a row where it finds something.
    assert_eq!(asked, selected, "{name}: columns read, columns selected");
    rows.len()
}

async fn fill(store: &Store) -> (UserId, ProductId) {
    let user = UserRepository::insert(
        store,
        NewUser {
            email: Email::parse("ann@example.com").unwrap(),
            password_hash: PasswordHash::from_phc(
                "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
            )
            .unwrap(),
            is_active: true,
            is_verified: true,
            is_superuser: false,
            first_name: PersonName::parse("Ann").unwrap(),
            last_name: PersonName::default(),
            date_joined: t(0),
            language: None,
        },
    )
    .await
    .unwrap();
    let moderators = GroupRepository::find_by_name(store, "moderators")
        .await
        .unwrap()
        .unwrap();
    GroupRepository::add_member(store, moderators.id, user.id)
        .await
        .unwrap();
    SessionRepository::save(
        store,
        SessionRecord {
            key: "session-key".into(),
            user_id: Some(user.id),
            data: "{}".into(),
            expires_at: t(3600),
        },
    )
    .await
    .unwrap();
    ApiTokenRepository::insert(store, user.id, "token-digest".into(), t(1))
        .await
        .unwrap();
    let category = CategoryRepository::insert(
        store,
        NewCategory {
            name: CategoryName::parse("Tools").unwrap(),
            description: Description::parse("").unwrap(),
        },
    )
    .await
    .unwrap();
    let mut first = None;
    for (at, published) in [(10, true), (20, false), (30, true)] {
        let product = ProductRepository::insert(
            store,
            NewProduct {
                name: ProductName::parse(&format!("Hammer {at}")).unwrap(),
                description: Description::parse("Steel").unwrap(),
                category_id: category.id,
                price: Money::parse("12.50").unwrap(),
                is_published: published,
                owner_id: user.id,
                image: Some(format!("products/{at}.png")),
                created_at: t(at),
            },
        )
        .await
        .unwrap();
        first.get_or_insert(product.id);
    }
    let product = first.unwrap();
    VersionRepository::insert(
        store,
        product,
        NewVersion {
            number: VersionNumber::parse("1.0").unwrap(),
            name: VersionName::parse("First").unwrap(),
            is_current: true,
        },
    )
    .await
    .unwrap();
    (user.id, product)
}

async fn every_read(store: &Store) {
    let (user, product) = fill(store).await;
    let backend = store.conn().get_database_backend();
    check(store, "product_by_id", product_by_id(backend, product)).await;
    check(
        store,
        "product_with_versions",
        product_with_versions(backend, product),
    )
    .await;
    check(
        store,
        "image_owner",
        image_owner(backend, "products/10.png"),
    )
    .await;
    check(store, "user_read", user_read(backend, user).unwrap()).await;
    check(
        store,
        "token_read",
        token_read(backend, "token-digest").unwrap(),
    )
    .await;
    check(
        store,
        "session_read",
        session_read(backend, "session-key", t(0)).unwrap(),
    )
    .await;
    let anchor = Anchor {
        created_at: t(30),
        id: 3,
        total: 3,
        at: std::time::Instant::now(),
    };
    let scopes = [
        (ProductScope::All, &[3][..]),
        (ProductScope::Published, &[2][..]),
        (ProductScope::PublishedOrOwnedBy(user), &[2, 1][..]),
    ];
    for (scope, counts) in scopes {
        for versions in [false, true] {
            for from_start in [true, false] {
                for anchor in [None, Some(anchor)] {
                    let shape = PageShape {
                        scope,
                        counts,
                        from_start,
                        anchor: anchor.filter(|_| from_start),
                        limit: 3,
                        distance: 0,
                        versions,
                    };
                    let name = format!("page_read {shape:?}");
                    let rows = check(store, &name, page_read(backend, &shape)).await;
                    // The products of the scope, the first with its one version.
                    let expected = counts.iter().sum::<u64>() as usize;
                    assert_eq!(rows, expected, "{name}");
                }
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hot_reads_read_exactly_what_they_select_on_sqlite() {
    with_database(Backend::Sqlite, |db| async move {
        every_read(&db.store).await;
        db
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hot_reads_read_exactly_what_they_select_on_postgres() {
    with_database(Backend::Postgres, |db| async move {
        every_read(&db.store).await;
        db
    })
    .await;
}
