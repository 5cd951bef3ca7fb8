//! Kept answers (catalog-storage's `kept` module), on PostgreSQL and on a SQLite file:
//! kept while nothing changes, forgotten when anything they come from changes, wherever
//! the change is made.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use catalog_domain::PageRequest;
use catalog_domain::ports::*;
use catalog_domain::product::*;
use catalog_storage::testing::TestDatabase;
use catalog_storage::{Kept, KeptAnswers, Store, one_catch_up_per_request};

mod support;
use support::{new_user, t};

/// Kept answers may be at most this old whatever the notices say; every check that a
/// change shows through a notice must finish well within it.
const KEEP_FOR: Duration = Duration::from_secs(2);

const TRIGGER: &str = "catalog_change_notice";

async fn postgres() -> Option<TestDatabase> {
    let db = TestDatabase::postgres()
        .await
        .expect("PostgreSQL test database")?;
    assert!(db.kept.keep_answers().await, "the notices are heard");
    Some(db)
}

/// A published product with a category and an owner.
async fn product(store: &Kept, name: &str) -> Product {
    let owner = UserRepository::insert(store, new_user(&format!("{name}@example.com")))
        .await
        .unwrap();
    let category = CategoryRepository::insert(
        store,
        NewCategory {
            name: CategoryName::parse(&format!("Category of {name}")).unwrap(),
            description: Description::parse("").unwrap(),
        },
    )
    .await
    .unwrap();
    ProductRepository::insert(
        store,
        NewProduct {
            name: ProductName::parse(name).unwrap(),
            description: Description::parse("Desc").unwrap(),
            category_id: category.id,
            price: Money::parse("1.00").unwrap(),
            is_published: true,
            owner_id: owner.id,
            image: None,
            created_at: t(0),
        },
    )
    .await
    .unwrap()
}

async fn name_of(store: &Kept, id: ProductId) -> String {
    let (found, _) = ProductRepository::find_with_versions(store, id)
        .await
        .unwrap()
        .expect("the product");
    found.name.as_str().to_owned()
}

async fn first_listed(store: &Kept) -> String {
    let page = ProductRepository::list(
        store,
        ProductScope::Published,
        PageRequest::new(1, 20).unwrap(),
    )
    .await
    .unwrap();
    page.items[0].name.as_str().to_owned()
}

/// Another process: its own pool on the same database, not listening.
async fn elsewhere(db: &TestDatabase) -> Store {
    Store::connect(&db.url).await.unwrap()
}

/// Renames a product from `store` with the notices about products turned off.
async fn rename_unannounced(store: &Store, id: ProductId, name: &str) {
    store
        .execute_unprepared(&format!("ALTER TABLE products DISABLE TRIGGER {TRIGGER}"))
        .await
        .unwrap();
    store
        .execute_unprepared(&format!(
            "UPDATE products SET name = '{name}' WHERE id = {}",
            id.0
        ))
        .await
        .unwrap();
}

/// Renames a product from `other` (another process), several times, and checks that
/// the very next read through `store` shows each new name: nothing waits for the notice.
async fn renamed_elsewhere_shows(store: &Kept, other: &Store, id: ProductId, name: &str) {
    for round in 1..=3 {
        let name = format!("{name} {round}");
        other
            .execute_unprepared(&format!(
                "UPDATE products SET name = '{name}' WHERE id = {}",
                id.0
            ))
            .await
            .unwrap();
        assert_eq!(name_of(store, id).await, name);
        assert_eq!(first_listed(store).await, name);
        // Kept again, for the next round to replace.
        assert_eq!(name_of(store, id).await, name);
    }
}

fn catch_ups(store: &Kept) -> u64 {
    store.kept_answers().unwrap().catch_ups
}

/// A request's kept reads ask the database for news once between them, and the next
/// request asks again, so it sees what another process changed in between.
async fn one_request_asks_once(db: &TestDatabase) {
    let p = product(&db.kept, "Stool").await;
    assert_eq!(name_of(&db.kept, p.id).await, "Stool");
    assert_eq!(first_listed(&db.kept).await, "Stool");
    let before = catch_ups(&db.kept);
    let (named, listed) = one_catch_up_per_request(async {
        (name_of(&db.kept, p.id).await, first_listed(&db.kept).await)
    })
    .await;
    assert_eq!((named.as_str(), listed.as_str()), ("Stool", "Stool"));
    assert_eq!(catch_ups(&db.kept), before + 1, "one request, one catch-up");

    let other = elsewhere(db).await;
    other
        .execute_unprepared(&format!(
            "UPDATE products SET name = 'Stool 2' WHERE id = {}",
            p.id.0
        ))
        .await
        .unwrap();
    let (named, listed) = one_catch_up_per_request(async {
        (name_of(&db.kept, p.id).await, first_listed(&db.kept).await)
    })
    .await;
    assert_eq!((named.as_str(), listed.as_str()), ("Stool 2", "Stool 2"));
    assert_eq!(catch_ups(&db.kept), before + 2);

    // Outside a request every kept read asks.
    assert_eq!(name_of(&db.kept, p.id).await, "Stool 2");
    assert_eq!(first_listed(&db.kept).await, "Stool 2");
    assert_eq!(catch_ups(&db.kept), before + 4);
    other.close().await.unwrap();
}

/// Renames a product through `store` itself.
async fn rename_here(store: &Kept, p: &Product, name: &str) {
    let revision = ProductRepository::find(store, p.id)
        .await
        .unwrap()
        .unwrap()
        .revision;
    ProductRepository::update(
        store,
        p.id,
        ProductUpdate {
            revision,
            name: Some(ProductName::parse(name).unwrap()),
            description: None,
            category_id: None,
            price: None,
            is_published: None,
            moderation_locked: None,
            updated_at: t(60),
        },
    )
    .await
    .unwrap();
}

/// Waits (within `KEEP_FOR`) until the store's state satisfies `done`.
async fn until(store: &Kept, done: impl Fn(KeptAnswers) -> bool) -> KeptAnswers {
    let start = Instant::now();
    loop {
        let state = store.kept_answers().unwrap();
        if done(state) {
            return state;
        }
        assert!(start.elapsed() < KEEP_FOR / 2, "waited too long: {state:?}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_are_kept_until_the_database_announces_a_change() {
    let Some(db) = postgres().await else { return };
    let p = product(&db.kept, "Kettle").await;
    let other = elsewhere(&db).await;
    assert_eq!(name_of(&db.kept, p.id).await, "Kettle");
    assert_eq!(first_listed(&db.kept).await, "Kettle");
    let start = Instant::now();

    // A change that sends no notice is not seen: the answers were kept.
    rename_unannounced(&other, p.id, "Unannounced").await;
    assert_eq!(name_of(&db.kept, p.id).await, "Kettle");
    assert_eq!(first_listed(&db.kept).await, "Kettle");

    // An announced change by another process shows at the next read.
    other
        .execute_unprepared(&format!("ALTER TABLE products ENABLE TRIGGER {TRIGGER}"))
        .await
        .unwrap();
    renamed_elsewhere_shows(&db.kept, &other, p.id, "Announced").await;
    assert!(
        start.elapsed() < KEEP_FOR,
        "the notice, not the age limit, did it"
    );

    other.close().await.unwrap();
    db.drop_database().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_asks_postgresql_for_news_once() {
    let Some(db) = postgres().await else { return };
    one_request_asks_once(&db).await;
    db.drop_database().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn this_process_reads_its_own_writes_before_their_notices() {
    let Some(db) = postgres().await else { return };
    let p = product(&db.kept, "Lamp").await;
    assert_eq!(name_of(&db.kept, p.id).await, "Lamp");
    // No notice will come: only the write's own forgetting can show the change.
    db.store
        .execute_unprepared(&format!("ALTER TABLE products DISABLE TRIGGER {TRIGGER}"))
        .await
        .unwrap();
    assert_eq!(name_of(&db.kept, p.id).await, "Lamp", "kept again");
    rename_here(&db.kept, &p, "Lamp 2").await;
    assert_eq!(name_of(&db.kept, p.id).await, "Lamp 2");
    assert_eq!(first_listed(&db.kept).await, "Lamp 2");
    db.drop_database().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_table_a_kept_answer_comes_from_announces_its_changes() {
    let Some(db) = postgres().await else { return };
    let other = elsewhere(&db).await;
    for table in migration::ANNOUNCED_TABLES {
        let heard = db.kept.kept_answers().unwrap().notices;
        // A statement-level trigger fires even when no row matches.
        other
            .execute_unprepared(&format!("DELETE FROM {table} WHERE 1 = 0"))
            .await
            .unwrap();
        until(&db.kept, |s| s.notices > heard).await;
    }
    other.close().await.unwrap();
    db.drop_database().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_notice_connection_forgets_everything_kept() {
    let Some(db) = postgres().await else { return };
    let p = product(&db.kept, "Chair").await;
    let other = elsewhere(&db).await;
    assert_eq!(name_of(&db.kept, p.id).await, "Chair");
    let start = Instant::now();
    rename_unannounced(&other, p.id, "Missed").await;
    assert_eq!(name_of(&db.kept, p.id).await, "Chair");
    // The listening connection (last seen listening, or passing a barrier: `;`) is
    // cut; a notice may have been missed meanwhile.
    other
        .execute_unprepared(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() \
             AND (query LIKE 'LISTEN%' OR query = ';')",
        )
        .await
        .unwrap();
    let state = until(&db.kept, |s| s.interruptions > 0 && s.live).await;
    assert_eq!(state.interruptions, 1);
    assert_eq!(name_of(&db.kept, p.id).await, "Missed");
    assert!(
        start.elapsed() < KEEP_FOR,
        "the interruption, not the age limit, did it"
    );
    other.close().await.unwrap();
    db.drop_database().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_session_still_expires_and_a_kept_token_still_ends() {
    let Some(db) = postgres().await else { return };
    let ann = UserRepository::insert(&db.kept, new_user("ann@example.com"))
        .await
        .unwrap();
    SessionRepository::save(
        &db.kept,
        SessionRecord {
            key: "k1".into(),
            user_id: Some(ann.id),
            data: "{}".into(),
            expires_at: t(3600),
        },
    )
    .await
    .unwrap();
    let found = SessionRepository::find_with_user(&db.kept, "k1", t(0))
        .await
        .unwrap();
    assert_eq!(
        found.and_then(|(_, user)| user).map(|u| u.user.id),
        Some(ann.id)
    );
    assert!(
        SessionRepository::find_with_user(&db.kept, "k1", t(3600))
            .await
            .unwrap()
            .is_none(),
        "expired at its time although kept"
    );

    ApiTokenRepository::insert(&db.kept, ann.id, "digest".into(), t(0))
        .await
        .unwrap();
    assert!(
        ApiTokenRepository::find_holder(&db.kept, "digest")
            .await
            .unwrap()
            .is_some()
    );
    // Ended by another process: gone at the next read.
    let other = elsewhere(&db).await;
    ApiTokenRepository::delete(&other, "digest").await.unwrap();
    assert!(
        ApiTokenRepository::find_holder(&db.kept, "digest")
            .await
            .unwrap()
            .is_none()
    );
    other.close().await.unwrap();
    db.drop_database().await.unwrap();
}

async fn sqlite() -> TestDatabase {
    let db = TestDatabase::sqlite().await.unwrap();
    assert!(db.kept.keep_answers().await, "the file is watched");
    db
}

/// Reads that reached SQLite (a kept answer reaches nothing).
fn reads(store: &Kept) -> u64 {
    let reads = store.store().inline_reads().unwrap();
    reads.served + reads.stepped_aside
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_answers_are_kept_until_another_connection_commits() {
    let db = sqlite().await;
    let p = product(&db.kept, "Kettle").await;
    assert_eq!(name_of(&db.kept, p.id).await, "Kettle");
    assert_eq!(first_listed(&db.kept).await, "Kettle");
    let before = reads(&db.kept);
    assert_eq!(name_of(&db.kept, p.id).await, "Kettle");
    assert_eq!(first_listed(&db.kept).await, "Kettle");
    assert_eq!(reads(&db.kept), before, "answered from what was kept");

    // Another process's write (its own pool, not watching) shows at the next read.
    let other = elsewhere(&db).await;
    renamed_elsewhere_shows(&db.kept, &other, p.id, "Elsewhere").await;
    other.close().await.unwrap();
    db.drop_database().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_asks_sqlite_for_news_once() {
    let db = sqlite().await;
    one_request_asks_once(&db).await;
    db.drop_database().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_reads_its_own_writes_at_once() {
    let db = sqlite().await;
    let p = product(&db.kept, "Lamp").await;
    assert_eq!(name_of(&db.kept, p.id).await, "Lamp");
    assert_eq!(name_of(&db.kept, p.id).await, "Lamp");
    rename_here(&db.kept, &p, "Lamp 2").await;
    assert_eq!(name_of(&db.kept, p.id).await, "Lamp 2");
    assert_eq!(first_listed(&db.kept).await, "Lamp 2");
    db.drop_database().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_memory_sqlite_keeps_nothing() {
    let kept = Kept::new(Store::connect("sqlite::memory:").await.unwrap());
    assert!(!kept.keep_answers().await);
    assert_eq!(kept.kept_answers(), None);
}

async fn total(store: &Kept) -> u64 {
    ProductRepository::list(
        store,
        ProductScope::Published,
        PageRequest::new(1, 20).unwrap(),
    )
    .await
    .unwrap()
    .total
}

/// The listing's total under the rule `plans.rs` states: this process's writes show at
/// once, another process's within two seconds (and never need more than that).
async fn totals_follow_the_count_rule(db: &TestDatabase) {
    let first = product(&db.kept, "Anvil").await;
    assert_eq!(total(&db.kept).await, 1);
    assert_eq!(total(&db.kept).await, 1, "counted once, then remembered");
    product(&db.kept, "Bellows").await;
    assert_eq!(
        total(&db.kept).await,
        2,
        "this process's write shows at once"
    );

    let other = elsewhere(db).await;
    ProductRepository::insert(
        &other,
        NewProduct {
            name: ProductName::parse("Chisel").unwrap(),
            description: Description::parse("").unwrap(),
            category_id: first.category.id,
            price: Money::parse("1.00").unwrap(),
            is_published: true,
            owner_id: first.owner.id,
            image: None,
            created_at: t(5),
        },
    )
    .await
    .unwrap();
    let seen = total(&db.kept).await;
    assert!(
        (2..=3).contains(&seen),
        "at most the other write behind: {seen}"
    );
    tokio::time::sleep(KEEP_FOR + Duration::from_millis(100)).await;
    assert_eq!(
        total(&db.kept).await,
        3,
        "another process's write shows within 2 s"
    );
    other.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_totals_follow_the_count_rule_on_postgresql() {
    let Some(db) = postgres().await else { return };
    totals_follow_the_count_rule(&db).await;
    db.drop_database().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_totals_follow_the_count_rule_on_sqlite() {
    let db = TestDatabase::sqlite().await.unwrap();
    totals_follow_the_count_rule(&db).await;
    db.drop_database().await.unwrap();
}

/// The names a search finds through `store`.
async fn found(store: &Kept, words: &str) -> Vec<String> {
    let filter = catalog_domain::product::search::ProductFilter::parse(
        catalog_domain::product::search::FilterInput {
            q: Some(words),
            ..Default::default()
        },
        None,
    )
    .unwrap();
    ProductRepository::search(
        store,
        ProductScope::Published,
        filter,
        PageRequest::new(1, 20).unwrap(),
    )
    .await
    .unwrap()
    .items
    .into_iter()
    .map(|p| p.name.as_str().to_owned())
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kept_searches_follow_writes_here_and_elsewhere() {
    let db = sqlite().await;
    let p = product(&db.kept, "Kettle").await;
    assert_eq!(found(&db.kept, "kettles").await, ["Kettle"]);
    let before = reads(&db.kept);
    assert_eq!(found(&db.kept, "kettles").await, ["Kettle"]);
    assert_eq!(reads(&db.kept), before, "answered from what was kept");
    // This process's write: forgotten at once.
    rename_here(&db.kept, &p, "Samovar").await;
    assert!(found(&db.kept, "kettles").await.is_empty());
    assert_eq!(found(&db.kept, "samovar").await, ["Samovar"]);
    // Another process's write (unpublishing it, with its index in the same
    // transaction): shown at the next read.
    let other = elsewhere(&db).await;
    let current = ProductRepository::find(&other, p.id)
        .await
        .unwrap()
        .unwrap();
    ProductRepository::update(
        &other,
        p.id,
        ProductUpdate {
            revision: current.revision,
            name: None,
            description: None,
            category_id: None,
            price: None,
            is_published: Some(false),
            moderation_locked: None,
            updated_at: t(10),
        },
    )
    .await
    .unwrap();
    assert!(found(&db.kept, "samovar").await.is_empty());
    other.close().await.unwrap();
    db.drop_database().await.unwrap();
}
