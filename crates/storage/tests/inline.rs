//! SQLite's hot reads run inline, through the C library (see the storage crate's `inline`
//! module). This test shows that they do, and that they read exactly what sqlx reads.
//! (That a read which would wait for a lock steps aside instead is a unit test there.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

use catalog_domain::access::Permission;
use catalog_domain::ports::*;
use catalog_domain::product::*;
use catalog_domain::user::*;
use catalog_domain::{Page, PageRequest};
use catalog_storage::{Backend, Store, db_test};
use sea_orm::Database;

mod support;

use support::{new_user, t};

/// A user in the moderators group with a session, an API token and two products (one
/// with two versions, one a draft).
async fn fill(store: &Store) -> (UserId, ProductId) {
    let user = UserRepository::insert(
        store,
        NewUser {
            last_name: PersonName::parse("Müller").unwrap(),
            ..new_user("Ann.Élise@Example.com")
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
            data: r#"{"uid":1}"#.into(),
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
            description: Description::parse("Hand tools\nand more").unwrap(),
        },
    )
    .await
    .unwrap();
    let mut product = None;
    for (at, published) in [(10, true), (20, false)] {
        let inserted = ProductRepository::insert(
            store,
            NewProduct {
                name: ProductName::parse(&format!("Hammer {at}")).unwrap(),
                description: Description::parse("Steel, 300 g").unwrap(),
                category_id: category.id,
                price: Money::parse("12.50").unwrap(),
                is_published: published,
                owner_id: user.id,
                image: Some("products/hammer.png".into()),
                created_at: t(at),
            },
        )
        .await
        .unwrap();
        product.get_or_insert(inserted.id);
    }
    let product = product.unwrap();
    for (number, current) in [("1.0", false), ("2.0", true)] {
        VersionRepository::insert(
            store,
            product,
            NewVersion {
                number: VersionNumber::parse(number).unwrap(),
                name: VersionName::parse("Über").unwrap(),
                is_current: current,
            },
        )
        .await
        .unwrap();
    }
    (user.id, product)
}

/// Everything the hot reads return, through one store.
#[derive(Debug, PartialEq)]
struct Reads {
    session: Option<(SessionRecord, Option<UserWithPermissions>)>,
    expired: bool,
    holder: Option<UserWithPermissions>,
    user: Option<UserWithPermissions>,
    detail: Option<(Product, Vec<Version>)>,
    page: Page<Product>,
    detailed: Page<(Product, Vec<Version>)>,
}

async fn read_all(store: &Store, user: UserId, product: ProductId) -> Reads {
    let page = ProductRepository::list(
        store,
        ProductScope::PublishedOrOwnedBy(user),
        PageRequest::new(1, 20).unwrap(),
    )
    .await
    .unwrap();
    Reads {
        session: SessionRepository::find_with_user(store, "session-key", t(60))
            .await
            .unwrap(),
        expired: SessionRepository::find_with_user(store, "session-key", t(7200))
            .await
            .unwrap()
            .is_none(),
        holder: ApiTokenRepository::find_holder(store, "token-digest")
            .await
            .unwrap(),
        user: UserRepository::find_with_permissions(store, user)
            .await
            .unwrap(),
        detail: ProductRepository::find_with_versions(store, product)
            .await
            .unwrap(),
        page,
        detailed: ProductRepository::list_with_versions(
            store,
            ProductScope::PublishedOrOwnedBy(user),
            PageRequest::new(1, 20).unwrap(),
        )
        .await
        .unwrap(),
    }
}

db_test!(the_hot_reads_agree_with_sqlx, |db| {
    let (user, product) = fill(&db.store).await;
    let before = db.store.inline_reads();
    let reads = read_all(&db.store, user, product).await;

    // The same reads through a store that only has sqlx.
    let sqlx_only = Store::from_connection(Database::connect(db.url.as_str()).await.unwrap());
    assert_eq!(sqlx_only.inline_reads(), None);
    assert_eq!(read_all(&sqlx_only, user, product).await, reads);

    let (record, who) = reads.session.unwrap();
    assert_eq!(record.expires_at, t(3600));
    assert!(reads.expired);
    let who = who.unwrap();
    assert_eq!(who.user.email.as_str(), "Ann.Élise@example.com");
    assert_eq!(who.permissions, Permission::ALL.to_vec());
    assert_eq!(reads.holder.unwrap().user.id, user);
    let (detail, versions) = reads.detail.unwrap();
    assert_eq!(detail.price.cents(), 1250);
    assert_eq!(detail.created_at, t(10));
    assert_eq!(
        versions
            .iter()
            .map(|v| (v.number.as_str(), v.is_current))
            .collect::<Vec<_>>(),
        [("1.0", false), ("2.0", true)]
    );
    assert_eq!(reads.page.total, 2);
    let detailed: Vec<_> = reads
        .detailed
        .items
        .iter()
        .map(|(p, v)| (p.id, v.len()))
        .collect();
    assert_eq!(detailed, [(reads.page.items[0].id, 0), (product, 2)]);
    assert_eq!(reads.detailed.items[1].1, versions);

    match db.backend {
        // Every hot read above (seven statements) went around sqlx.
        Backend::Sqlite => {
            let after = db.store.inline_reads().unwrap();
            let before = before.unwrap();
            assert_eq!(after.served - before.served, 7, "{after:?}");
            assert_eq!(after.stepped_aside, 0, "{after:?}");
        }
        Backend::Postgres => assert_eq!(before, None),
    }
});

db_test!(only_pages_near_either_end_are_read_inline, |db| {
    let (user, _) = fill(&db.store).await;
    let category = CategoryRepository::list(&db.store).await.unwrap()[0].id;
    let many = (0..5200)
        .map(|i| NewProduct {
            name: ProductName::parse(&format!("Nail {i}")).unwrap(),
            description: Description::parse("").unwrap(),
            category_id: category,
            price: Money::parse("0.10").unwrap(),
            is_published: i % 7 != 0,
            owner_id: user,
            image: None,
            created_at: t(100 + i),
        })
        .collect();
    ProductRepository::insert_many(&db.store, many)
        .await
        .unwrap();
    let sqlx_only = Store::from_connection(Database::connect(db.url.as_str()).await.unwrap());
    let scope = ProductScope::PublishedOrOwnedBy(user);
    // Page 130 of 261 lies 2 580 rows from either end; pages 1 and 260 within 40.
    for (page, inline) in [(130, false), (1, true), (260, true)] {
        let before = db.store.inline_reads();
        let request = PageRequest::new(page, 20).unwrap();
        let listed = ProductRepository::list(&db.store, scope, request)
            .await
            .unwrap();
        assert_eq!(listed.total, 5202);
        assert_eq!(listed.items.len(), 20);
        let expected = ProductRepository::list(&sqlx_only, scope, request)
            .await
            .unwrap();
        assert_eq!(listed, expected, "page {page}");
        if db.backend == Backend::Sqlite {
            let served = db.store.inline_reads().unwrap().served - before.unwrap().served;
            assert_eq!(served, u64::from(inline), "page {page}");
        }
    }
});
