//! Finding products on both databases: words in Russian and English, phrases,
//! exclusions, ranking, filters and orders, the index following every write, and the
//! same answers from SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use catalog_domain::ports::*;
use catalog_domain::product::search::{FilterInput, ProductFilter};
use catalog_domain::product::*;
use catalog_domain::user::*;
use catalog_domain::{Page, PageRequest};
use catalog_storage::testing::TestDatabase;
use catalog_storage::{Store, db_test};

mod support;

use support::{new_user, t};

struct Corpus {
    owner: UserId,
    other: UserId,
    lamps: CategoryId,
    books: CategoryId,
}

/// (name, description, category is lamps, price, published, owned by `other`)
const PRODUCTS: [(&str, &str, bool, &str, bool, bool); 10] = [
    (
        "Лампа настольная",
        "Тёплый свет для чтения",
        true,
        "25.00",
        true,
        false,
    ),
    (
        "Desk lamp",
        "A warm light for reading",
        true,
        "19.99",
        true,
        false,
    ),
    (
        "Reading chair",
        "Pairs well with a desk lamp",
        false,
        "120.00",
        true,
        false,
    ),
    (
        "Ёлочная гирлянда",
        "Огни для ёлки и лампы",
        true,
        "9.50",
        true,
        false,
    ),
    ("Floor lamp", "Tall brass lamp", true, "75.00", true, false),
    (
        "Secret prototype lamp",
        "Not yet public",
        true,
        "5.00",
        false,
        true,
    ),
    (
        "Book about lamps",
        "History of lighting",
        false,
        "12.00",
        true,
        true,
    ),
    (
        "Brass kettle",
        "Whistling kettle",
        false,
        "30.00",
        true,
        false,
    ),
    (
        "Lamp shade",
        "Linen shade for a floor lamp",
        true,
        "15.00",
        true,
        true,
    ),
    (
        "Unpublished lamp",
        "The owner's draft",
        true,
        "7.00",
        false,
        false,
    ),
];

async fn corpus(store: &Store) -> Corpus {
    let owner = UserRepository::insert(store, new_user("owner@example.com"))
        .await
        .unwrap()
        .id;
    let other = UserRepository::insert(store, new_user("other@example.com"))
        .await
        .unwrap()
        .id;
    let mut categories = Vec::new();
    for name in ["Lamps", "Books"] {
        let c = CategoryRepository::insert(
            store,
            NewCategory {
                name: CategoryName::parse(name).unwrap(),
                description: Description::parse("").unwrap(),
            },
        )
        .await
        .unwrap();
        categories.push(c.id);
    }
    for (i, (name, description, lamps, price, published, others)) in
        PRODUCTS.into_iter().enumerate()
    {
        ProductRepository::insert(
            store,
            NewProduct {
                name: ProductName::parse(name).unwrap(),
                description: Description::parse(description).unwrap(),
                category_id: if lamps { categories[0] } else { categories[1] },
                price: Money::parse(price).unwrap(),
                is_published: published,
                owner_id: if others { other } else { owner },
                image: None,
                created_at: t(i as i64 * 60),
            },
        )
        .await
        .unwrap();
    }
    Corpus {
        owner,
        other,
        lamps: categories[0],
        books: categories[1],
    }
}

fn filter(input: FilterInput<'_>, viewer: Option<UserId>) -> ProductFilter {
    ProductFilter::parse(input, viewer).unwrap()
}

fn q(text: &str) -> ProductFilter {
    filter(
        FilterInput {
            q: Some(text),
            ..FilterInput::default()
        },
        None,
    )
}

async fn names(
    repo: &dyn ProductRepository,
    scope: ProductScope,
    filter: ProductFilter,
) -> Vec<String> {
    let page = PageRequest::new(1, 100).unwrap();
    let found = repo.search(scope, filter.clone(), page).await.unwrap();
    let with_versions = repo
        .search_with_versions(scope, filter, page)
        .await
        .unwrap();
    let names: Vec<String> = found
        .items
        .iter()
        .map(|p| p.name.as_str().to_owned())
        .collect();
    assert_eq!(found.total, names.len() as u64, "{names:?}");
    assert_eq!(
        with_versions
            .items
            .iter()
            .map(|(p, _)| p.name.as_str().to_owned())
            .collect::<Vec<_>>(),
        names
    );
    names
}

const PUBLIC: ProductScope = ProductScope::Published;

db_test!(words_are_found_by_their_stems_in_both_languages, |db| {
    corpus(&db.store).await;
    for repo in [&db.store as &dyn ProductRepository, &db.kept] {
        // Name matches first, then description matches; newest first among equals.
        assert_eq!(
            names(repo, PUBLIC, q("лампы")).await,
            ["Лампа настольная", "Ёлочная гирлянда"]
        );
        assert_eq!(
            names(repo, PUBLIC, q("lamps")).await,
            [
                "Lamp shade",
                "Book about lamps",
                "Floor lamp",
                "Desk lamp",
                "Reading chair"
            ]
        );
        assert_eq!(names(repo, PUBLIC, q("ЁЛКИ")).await, ["Ёлочная гирлянда"]);
        assert_eq!(names(repo, PUBLIC, q("елки")).await, ["Ёлочная гирлянда"]);
        assert_eq!(names(repo, PUBLIC, q("ТЁПЛЫЙ")).await, ["Лампа настольная"]);
        assert_eq!(names(repo, PUBLIC, q("nothing-like-it")).await.len(), 0);
    }
});

db_test!(several_words_phrases_and_exclusions, |db| {
    corpus(&db.store).await;
    let repo = &db.kept;
    assert_eq!(
        names(repo, PUBLIC, q("desk lamp")).await,
        ["Desk lamp", "Reading chair"]
    );
    assert_eq!(
        names(repo, PUBLIC, q("\"floor lamp\"")).await,
        ["Floor lamp", "Lamp shade"]
    );
    assert_eq!(
        names(repo, PUBLIC, q("\"lamp floor\"")).await,
        Vec::<String>::new()
    );
    assert_eq!(
        names(repo, PUBLIC, q("lamp -brass -shade")).await,
        ["Book about lamps", "Desk lamp", "Reading chair"]
    );
    // A phrase never spans the name and the description.
    assert_eq!(names(repo, PUBLIC, q("\"chair pairs\"")).await.len(), 0);
    // What is not a word is no error: it finds what its words find.
    for odd in ["\"", "-", "lamp' OR 1=1 --", "%", "lamp*", "((", "\u{0}"] {
        let found = names(repo, PUBLIC, q(odd)).await;
        assert!(found.len() <= 5, "{odd}: {found:?}");
    }
    assert_eq!(names(repo, PUBLIC, q("-lamp")).await.len(), 0);
});

db_test!(a_search_never_shows_what_its_viewer_may_not_see, |db| {
    let c = corpus(&db.store).await;
    let repo = &db.kept;
    let secret = q("Secret prototype lamp");
    assert!(names(repo, PUBLIC, secret.clone()).await.is_empty());
    let mine = ProductScope::PublishedOrOwnedBy(c.owner);
    assert!(names(repo, mine, secret.clone()).await.is_empty());
    assert_eq!(
        names(
            repo,
            ProductScope::PublishedOrOwnedBy(c.other),
            secret.clone()
        )
        .await,
        ["Secret prototype lamp"]
    );
    assert_eq!(
        names(repo, ProductScope::All, secret).await,
        ["Secret prototype lamp"]
    );
    // Filters narrow; they never reach another owner's drafts.
    let others_drafts = filter(
        FilterInput {
            q: Some("lamp"),
            status: Some("unpublished"),
            ..FilterInput::default()
        },
        Some(c.owner),
    );
    assert_eq!(
        names(repo, mine, others_drafts.clone()).await,
        ["Unpublished lamp"]
    );
    assert!(names(repo, PUBLIC, others_drafts).await.is_empty());
    let theirs = ProductFilter {
        owner: Some(c.other),
        ..q("lamp")
    };
    assert_eq!(
        names(repo, mine, theirs).await,
        ["Lamp shade", "Book about lamps"]
    );
});

db_test!(filters_and_orders_alone_and_together, |db| {
    let c = corpus(&db.store).await;
    let repo = &db.kept;
    let viewer = Some(c.owner);
    let mine = ProductScope::PublishedOrOwnedBy(c.owner);
    let with = |input: FilterInput<'static>| filter(input, viewer);
    let category = c.lamps.0.to_string();
    let category: &'static str = Box::leak(category.into_boxed_str());
    assert_eq!(
        names(
            repo,
            mine,
            with(FilterInput {
                category: Some(category),
                sort: Some("price"),
                ..FilterInput::default()
            })
        )
        .await,
        [
            "Unpublished lamp",
            "Ёлочная гирлянда",
            "Lamp shade",
            "Desk lamp",
            "Лампа настольная",
            "Floor lamp"
        ]
    );
    assert_eq!(
        names(
            repo,
            mine,
            with(FilterInput {
                min_price: Some("10"),
                max_price: Some("30.00"),
                sort: Some("-price"),
                ..FilterInput::default()
            })
        )
        .await,
        [
            "Brass kettle",
            "Лампа настольная",
            "Desk lamp",
            "Lamp shade",
            "Book about lamps"
        ]
    );
    // Names in the order of their characters' code points: Latin before Cyrillic.
    assert_eq!(
        names(
            repo,
            PUBLIC,
            with(FilterInput {
                sort: Some("name"),
                ..FilterInput::default()
            })
        )
        .await,
        [
            "Book about lamps",
            "Brass kettle",
            "Desk lamp",
            "Floor lamp",
            "Lamp shade",
            "Reading chair",
            "Ёлочная гирлянда",
            "Лампа настольная"
        ]
    );
    assert_eq!(
        names(
            repo,
            mine,
            with(FilterInput {
                mine: Some("1"),
                ..FilterInput::default()
            })
        )
        .await,
        [
            "Unpublished lamp",
            "Brass kettle",
            "Floor lamp",
            "Ёлочная гирлянда",
            "Reading chair",
            "Desk lamp",
            "Лампа настольная"
        ]
    );
    let books = c.books.0.to_string();
    let books: &'static str = Box::leak(books.into_boxed_str());
    assert_eq!(
        names(
            repo,
            mine,
            with(FilterInput {
                q: Some("lamp"),
                category: Some(books),
                max_price: Some("100"),
                sort: Some("price"),
                ..FilterInput::default()
            })
        )
        .await,
        ["Book about lamps"]
    );
    assert_eq!(
        names(
            repo,
            ProductScope::All,
            filter(
                FilterInput {
                    status: Some("locked"),
                    ..FilterInput::default()
                },
                None
            )
        )
        .await,
        Vec::<String>::new()
    );
    // Paging a filtered listing: the same rows, page by page.
    let all = with(FilterInput {
        sort: Some("price"),
        ..FilterInput::default()
    });
    let whole = names(repo, mine, all.clone()).await;
    let mut paged = Vec::new();
    for n in 1..=4 {
        let page = repo
            .search(mine, all.clone(), PageRequest::new(n, 3).unwrap())
            .await
            .unwrap();
        assert_eq!(page.total, whole.len() as u64);
        paged.extend(page.items.into_iter().map(|p| p.name.as_str().to_owned()));
    }
    assert_eq!(paged, whole);
    let past = repo
        .search(mine, q("lamp"), PageRequest::new(9, 20).unwrap())
        .await
        .unwrap();
    assert!(past.items.is_empty());
    assert_eq!(past.total, 6);
});

db_test!(the_index_follows_every_write_in_its_transaction, |db| {
    let c = corpus(&db.store).await;
    let repo = &db.kept;
    let kettle = repo
        .search(PUBLIC, q("kettle"), PageRequest::new(1, 5).unwrap())
        .await
        .unwrap()
        .items
        .remove(0);
    let change = |revision: i64| ProductUpdate {
        revision,
        name: None,
        description: None,
        category_id: None,
        price: None,
        is_published: None,
        moderation_locked: None,
        updated_at: t(5000),
    };
    let rename = |revision: i64| ProductUpdate {
        name: Some(ProductName::parse("Copper samovar").unwrap()),
        description: Some(Description::parse("Самовар для чая").unwrap()),
        ..change(revision)
    };
    // An edit that fails leaves the index as it was.
    let taken = VersionsEdit {
        insert: vec![
            NewVersion {
                number: VersionNumber::parse("1").unwrap(),
                name: VersionName::parse("").unwrap(),
                is_current: false,
            },
            NewVersion {
                number: VersionNumber::parse("1").unwrap(),
                name: VersionName::parse("").unwrap(),
                is_current: false,
            },
        ],
        ..VersionsEdit::default()
    };
    assert!(
        repo.edit(kettle.id, rename(kettle.revision), None, taken)
            .await
            .is_err()
    );
    assert_eq!(names(repo, PUBLIC, q("kettle")).await, ["Brass kettle"]);
    assert!(names(repo, PUBLIC, q("samovar")).await.is_empty());
    // A stale revision writes nothing, index included.
    assert!(
        ProductRepository::update(repo, kettle.id, rename(kettle.revision - 1))
            .await
            .is_err()
    );
    assert!(names(repo, PUBLIC, q("samovar")).await.is_empty());
    let renamed = ProductRepository::update(repo, kettle.id, rename(kettle.revision))
        .await
        .unwrap();
    assert!(names(repo, PUBLIC, q("kettle")).await.is_empty());
    assert_eq!(names(repo, PUBLIC, q("samovars")).await, ["Copper samovar"]);
    assert_eq!(names(repo, PUBLIC, q("чай")).await, ["Copper samovar"]);
    // A change of price alone keeps the words.
    ProductRepository::update(
        repo,
        kettle.id,
        ProductUpdate {
            price: Some(Money::parse("31").unwrap()),
            ..change(renamed.revision)
        },
    )
    .await
    .unwrap();
    assert_eq!(names(repo, PUBLIC, q("samovar")).await, ["Copper samovar"]);
    // Unpublished, it is no longer found by those who see published products only.
    let unpublished = ProductRepository::update(
        repo,
        kettle.id,
        ProductUpdate {
            is_published: Some(false),
            ..change(renamed.revision + 1)
        },
    )
    .await
    .unwrap();
    assert!(names(repo, PUBLIC, q("samovar")).await.is_empty());
    let owners = ProductScope::PublishedOrOwnedBy(unpublished.owner.id);
    assert_eq!(names(repo, owners, q("samovar")).await, ["Copper samovar"]);
    assert_eq!(
        names(repo, ProductScope::All, q("samovar")).await,
        ["Copper samovar"]
    );
    ProductRepository::update(
        repo,
        kettle.id,
        ProductUpdate {
            is_published: Some(true),
            ..change(unpublished.revision)
        },
    )
    .await
    .unwrap();
    assert_eq!(names(repo, PUBLIC, q("samovar")).await, ["Copper samovar"]);
    ProductRepository::delete(repo, kettle.id).await.unwrap();
    assert!(names(repo, PUBLIC, q("samovar")).await.is_empty());
    assert_eq!(db.store.search_entries().await.unwrap().0, 9);
    let _ = c;
});

db_test!(reindexing_rebuilds_the_index, |db| {
    corpus(&db.store).await;
    let before = db.store.search_entries().await.unwrap();
    db.store
        .execute_unprepared("DELETE FROM search_terms WHERE term = 'lamp'")
        .await
        .unwrap();
    db.store
        .execute_unprepared(
            "INSERT INTO search_terms (term, product_id, weight, published) VALUES ('ghost', 999999, 2, TRUE)",
        )
        .await
        .unwrap();
    assert!(names(&db.store, PUBLIC, q("lamp")).await.len() < 5);
    let mut after = ProductId(0);
    let mut written = 0;
    while let Some((last, n)) = ProductRepository::reindex(&db.kept, after, 3)
        .await
        .unwrap()
    {
        assert!(last > after);
        after = last;
        written += n;
    }
    assert_eq!(written, 10);
    assert_eq!(db.store.search_entries().await.unwrap(), before);
    assert_eq!(names(&db.kept, PUBLIC, q("lamp")).await.len(), 5);
});

db_test!(bulk_inserts_are_indexed_too, |db| {
    let c = corpus(&db.store).await;
    let many: Vec<NewProduct> = (0..1200)
        .map(|i| NewProduct {
            name: ProductName::parse(&format!("Bulk widget {i}")).unwrap(),
            description: Description::parse(if i % 2 == 0 { "even" } else { "odd" }).unwrap(),
            category_id: c.books,
            price: Money::from_cents(i).unwrap(),
            is_published: true,
            owner_id: c.owner,
            image: None,
            created_at: t(10_000 + i),
        })
        .collect();
    assert_eq!(
        ProductRepository::insert_many(&db.store, many)
            .await
            .unwrap(),
        1200
    );
    assert_eq!(
        names(&db.kept, PUBLIC, q("widget 1199")).await,
        ["Bulk widget 1199"]
    );
    assert_eq!(names(&db.kept, PUBLIC, q("odd 7")).await, ["Bulk widget 7"]);
    let odd = db
        .kept
        .search(PUBLIC, q("odd widgets"), PageRequest::new(1, 20).unwrap())
        .await
        .unwrap();
    assert_eq!(odd.total, 600);
    assert_eq!(odd.items[0].name.as_str(), "Bulk widget 1199");
});

// A search steps over at most the newest 5 000 entries of its word and ranks at most
// 1 000 matches, on both databases, whichever way it is read (from the terms alone,
// with a draft's owner looked up, or with the product rows for a filter).
db_test!(a_search_reads_a_bounded_part_of_a_common_word, |db| {
    let c = corpus(&db.store).await;
    let count = 5200;
    let many: Vec<NewProduct> = (0..count)
        .map(|i| NewProduct {
            name: ProductName::parse(&format!("Common gadget {i}")).unwrap(),
            description: Description::parse("plain").unwrap(),
            // The oldest 300 are lamps; only the newest 100 of them are among the
            // newest 5 000 gadgets.
            category_id: if i < 300 { c.lamps } else { c.books },
            price: Money::from_cents(i).unwrap(),
            is_published: i % 10 != 0,
            owner_id: if i % 10 == 0 { c.other } else { c.owner },
            image: None,
            created_at: t(10_000 + i),
        })
        .collect();
    ProductRepository::insert_many(&db.store, many)
        .await
        .unwrap();
    let first = |page: Page<Product>| -> (u64, Vec<String>) {
        (
            page.total,
            page.items
                .iter()
                .take(3)
                .map(|p| p.name.as_str().to_owned())
                .collect(),
        )
    };
    let page = PageRequest::new(1, 20).unwrap();
    let search = |scope, filter| db.kept.search(scope, filter, page);
    // Drafts (every tenth) are seen by their owner only; ties go to the newest.
    assert_eq!(
        first(search(PUBLIC, q("gadget")).await.unwrap()),
        (
            1000,
            vec![
                "Common gadget 5199".to_owned(),
                "Common gadget 5198".to_owned(),
                "Common gadget 5197".to_owned()
            ]
        )
    );
    let theirs = ProductScope::PublishedOrOwnedBy(c.other);
    assert_eq!(
        first(search(theirs, q("gadget")).await.unwrap()),
        (
            1000,
            vec![
                "Common gadget 5199".to_owned(),
                "Common gadget 5198".to_owned(),
                "Common gadget 5197".to_owned()
            ]
        )
    );
    let mine = search(ProductScope::PublishedOrOwnedBy(c.owner), q("gadget"))
        .await
        .unwrap();
    assert_eq!(mine.items[0].name.as_str(), "Common gadget 5199");
    assert!(
        mine.items
            .iter()
            .all(|p| p.is_published || p.owner.id == c.owner)
    );
    let all = search(ProductScope::All, q("gadget")).await.unwrap();
    assert_eq!(all.items[0].name.as_str(), "Common gadget 5199");
    assert_eq!(all.items.len(), 20);
    // Lamps among the scanned gadgets only: numbers 200 to 299, the published ones.
    let lamps = filter(
        FilterInput {
            q: Some("gadget"),
            category: Some(&c.lamps.0.to_string()),
            ..FilterInput::default()
        },
        None,
    );
    assert_eq!(
        first(search(PUBLIC, lamps).await.unwrap()),
        (
            90,
            vec![
                "Common gadget 299".to_owned(),
                "Common gadget 298".to_owned(),
                "Common gadget 297".to_owned()
            ]
        )
    );
    // No page starts past the ranked matches.
    let past = db
        .kept
        .search(PUBLIC, q("gadget"), PageRequest::new(51, 20).unwrap())
        .await
        .unwrap();
    assert_eq!((past.total, past.items.len()), (1000, 0));
});

/// One corpus, both databases, the same answers in the same order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_and_postgresql_give_the_same_answers() {
    let Some(pg) = TestDatabase::postgres().await.unwrap() else {
        return;
    };
    let lite = TestDatabase::sqlite().await.unwrap();
    let a = corpus(&lite.store).await;
    let b = corpus(&pg.store).await;
    let queries = [
        "lamp",
        "лампа",
        "lamps reading",
        "\"desk lamp\"",
        "lamp -floor",
        "floor lamp",
        "\"floor lamp\" -linen",
        "brass",
        "свет",
        "ёлка огни",
        "",
    ];
    for sort in [
        None,
        Some("new"),
        Some("price"),
        Some("-price"),
        Some("name"),
    ] {
        for text in queries {
            for (scope_a, scope_b) in [
                (ProductScope::Published, ProductScope::Published),
                (ProductScope::All, ProductScope::All),
                (
                    ProductScope::PublishedOrOwnedBy(a.other),
                    ProductScope::PublishedOrOwnedBy(b.other),
                ),
            ] {
                let input = FilterInput {
                    q: Some(text),
                    sort,
                    ..FilterInput::default()
                };
                let on_sqlite = names(&lite.kept, scope_a, filter(input, None)).await;
                let on_postgres = names(&pg.kept, scope_b, filter(input, None)).await;
                assert_eq!(on_sqlite, on_postgres, "{text:?} sorted {sort:?}");
            }
        }
    }
    pg.drop_database().await.unwrap();
}
