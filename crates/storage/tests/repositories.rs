//! Every repository against a real database: each `db_test!` runs once on SQLite and
//! once on PostgreSQL (when `TEST_DATABASE_URL` is set).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::time::Duration;

use catalog_domain::PageRequest;
use catalog_domain::access::Permission;
use catalog_domain::mail::{MailKind, MailSecret, OutgoingMail};
use catalog_domain::ports::*;
use catalog_domain::product::*;
use catalog_domain::user::*;
use catalog_storage::db_test;

mod support;

use support::{new_user, t};

fn mail(to: &str) -> OutgoingMail {
    OutgoingMail {
        to: Email::parse(to).unwrap(),
        kind: MailKind::Verification,
        recipient_name: "Ann".into(),
        link: Some(MailSecret::new(
            "https://catalog.example/users/verify/abc".into(),
        )),
        secret: Some(MailSecret::new("generated-secret".into())),
        detail: None,
        language: None,
    }
}

async fn category(store: &catalog_storage::Store, name: &str) -> Category {
    CategoryRepository::insert(
        store,
        NewCategory {
            name: CategoryName::parse(name).unwrap(),
            description: Description::parse("").unwrap(),
        },
    )
    .await
    .unwrap()
}

fn new_product(
    owner: UserId,
    category: CategoryId,
    name: &str,
    price: &str,
    at: i64,
) -> NewProduct {
    NewProduct {
        name: ProductName::parse(name).unwrap(),
        description: Description::parse("Desc").unwrap(),
        category_id: category,
        price: Money::parse(price).unwrap(),
        is_published: true,
        owner_id: owner,
        image: None,
        created_at: t(at),
    }
}

db_test!(
    the_moderators_group_holds_exactly_the_three_permissions,
    |db| {
        let groups = GroupRepository::list(&db.store).await.unwrap();
        let moderators = groups
            .iter()
            .find(|g| g.group.name == "moderators")
            .unwrap();
        assert_eq!(
            moderators
                .group
                .permissions
                .iter()
                .copied()
                .collect::<Vec<_>>(),
            Permission::ALL.to_vec()
        );
        assert_eq!(moderators.member_count, 0);
        for (codename, _) in migration::SEEDED_PERMISSIONS {
            assert!(Permission::from_codename(codename).is_some(), "{codename}");
        }
    }
);

db_test!(migrations_go_down_and_up_again, |db| {
    let status = db.store.migration_status().await.unwrap();
    assert!(status.iter().all(|m| m.applied), "{status:?}");
    db.store.migrate_down(status.len() as u32).await.unwrap();
    let status = db.store.migration_status().await.unwrap();
    assert!(status.iter().all(|m| !m.applied), "{status:?}");
    assert_eq!(db.store.migrate_up().await.unwrap(), status.len());
    assert!(
        GroupRepository::find_by_name(&db.store, "moderators")
            .await
            .unwrap()
            .is_some()
    );
    db.store.migrate_fresh().await.unwrap();
    assert!(!db.store.has_pending_migrations().await.unwrap());
});

db_test!(an_email_is_registered_once_whatever_its_case, |db| {
    let ann = UserRepository::insert(&db.store, new_user("Ann@Example.com"))
        .await
        .unwrap();
    assert_eq!(ann.email.as_str(), "Ann@example.com");
    let again = UserRepository::insert(&db.store, new_user("ann@EXAMPLE.com")).await;
    assert!(matches!(again, Err(RepoError::EmailTaken)), "{again:?}");
    let found = db
        .store
        .find_by_email(&Email::parse("ANN@example.COM").unwrap())
        .await
        .unwrap();
    assert_eq!(found.map(|u| u.id), Some(ann.id));
    assert_eq!(UserRepository::list(&db.store).await.unwrap().len(), 1);
});

db_test!(
    a_user_and_their_mail_are_stored_together_or_not_at_all,
    |db| {
        db.store
            .insert_with_mail(
                new_user("bob@example.com"),
                Box::new(|_| mail("bob@example.com")),
            )
            .await
            .unwrap();
        assert_eq!(OutboxRepository::pending_count(&db.store).await.unwrap(), 1);
        let dup = db
            .store
            .insert_with_mail(
                new_user("BOB@example.com"),
                Box::new(|_| mail("bob@example.com")),
            )
            .await;
        assert!(matches!(dup, Err(RepoError::EmailTaken)));
        assert_eq!(
            OutboxRepository::pending_count(&db.store).await.unwrap(),
            1,
            "no mail for the refused user"
        );
    }
);

db_test!(a_profile_round_trips_with_phone_and_country, |db| {
    let user = UserRepository::insert(&db.store, new_user("cy@example.com"))
        .await
        .unwrap();
    let de = Country::parse("DE").unwrap();
    let updated = db
        .store
        .update_profile(
            user.id,
            ProfileUpdate {
                first_name: PersonName::parse("Cy").unwrap(),
                last_name: PersonName::parse("Weiß").unwrap(),
                phone: Some(Phone::parse("030 1234567", Some(de)).unwrap()),
                country: Some(de),
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.phone.unwrap().e164(), "+49301234567");
    assert_eq!(updated.country, Some(de));
    assert_eq!(updated.last_name.as_str(), "Weiß");
    assert_eq!(
        updated.date_joined,
        t(0),
        "timestamps keep their microseconds"
    );
    let missing = db
        .store
        .update_profile(
            UserId(9999),
            ProfileUpdate {
                first_name: PersonName::default(),
                last_name: PersonName::default(),
                phone: None,
                country: None,
            },
        )
        .await;
    assert!(matches!(missing, Err(RepoError::NotFound)));
});

db_test!(deactivating_a_user_ends_their_sessions_and_tokens, |db| {
    let user = UserRepository::insert(&db.store, new_user("dee@example.com"))
        .await
        .unwrap();
    let other = UserRepository::insert(&db.store, new_user("eve@example.com"))
        .await
        .unwrap();
    for (key, owner) in [("s1", user.id), ("s2", user.id), ("s3", other.id)] {
        db.store
            .save(SessionRecord {
                key: key.into(),
                user_id: Some(owner),
                data: "{}".into(),
                expires_at: t(3600),
            })
            .await
            .unwrap();
    }
    ApiTokenRepository::insert(&db.store, user.id, "digest-1".into(), t(0))
        .await
        .unwrap();
    db.store.set_active(user.id, false).await.unwrap();
    assert!(
        SessionRepository::find(&db.store, "s1", t(1))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        SessionRepository::find(&db.store, "s2", t(1))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        SessionRepository::find(&db.store, "s3", t(1))
            .await
            .unwrap()
            .is_some()
    );
    assert!(db.store.find_holder("digest-1").await.unwrap().is_none());
    assert!(
        !UserRepository::find_by_id(&db.store, user.id)
            .await
            .unwrap()
            .unwrap()
            .is_active
    );
    db.store.set_active(user.id, true).await.unwrap();
    assert!(
        UserRepository::find_by_id(&db.store, user.id)
            .await
            .unwrap()
            .unwrap()
            .is_active
    );
    assert!(matches!(
        db.store.set_active(UserId(424242), true).await,
        Err(RepoError::NotFound)
    ));
});

db_test!(sessions_expire_and_can_be_ended_except_one, |db| {
    let user = UserRepository::insert(&db.store, new_user("fay@example.com"))
        .await
        .unwrap();
    let record = |key: &str, exp| SessionRecord {
        key: key.into(),
        user_id: Some(user.id),
        data: "{\"csrf\":1}".into(),
        expires_at: t(exp),
    };
    db.store.save(record("a", 100)).await.unwrap();
    db.store.save(record("b", 100)).await.unwrap();
    db.store.save(record("old", 10)).await.unwrap();
    // Saving again replaces the data.
    db.store
        .save(SessionRecord {
            data: "{\"csrf\":2}".into(),
            ..record("a", 200)
        })
        .await
        .unwrap();
    let a = SessionRepository::find(&db.store, "a", t(150))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(a.data, "{\"csrf\":2}");
    assert!(
        SessionRepository::find(&db.store, "old", t(11))
            .await
            .unwrap()
            .is_none(),
        "expired"
    );
    assert_eq!(db.store.purge_expired(t(11)).await.unwrap(), 1);
    assert_eq!(
        SessionRepository::delete_for_user(&db.store, user.id, Some("a".into()))
            .await
            .unwrap(),
        1
    );
    assert!(
        SessionRepository::find(&db.store, "a", t(12))
            .await
            .unwrap()
            .is_some()
    );
    SessionRepository::delete(&db.store, "a").await.unwrap();
    assert!(
        SessionRepository::find(&db.store, "a", t(12))
            .await
            .unwrap()
            .is_none()
    );
});

db_test!(
    a_deleted_session_is_not_brought_back_by_a_late_update,
    |db| {
        let user = UserRepository::insert(&db.store, new_user("gil@example.com"))
            .await
            .unwrap();
        let record = |data: &str| SessionRecord {
            key: "k".into(),
            user_id: Some(user.id),
            data: data.into(),
            expires_at: t(100),
        };
        db.store.save(record("{\"v\":1}")).await.unwrap();
        assert!(
            SessionRepository::update(&db.store, record("{\"v\":2}"))
                .await
                .unwrap()
        );
        let found = SessionRepository::find(&db.store, "k", t(1)).await.unwrap();
        assert_eq!(found.unwrap().data, "{\"v\":2}");
        // Signed out (or ended by a password change) while a slow request was running:
        // that request's write-back must not revive the session.
        SessionRepository::delete_for_user(&db.store, user.id, None)
            .await
            .unwrap();
        assert!(
            !SessionRepository::update(&db.store, record("{\"v\":3}"))
                .await
                .unwrap()
        );
        assert!(
            SessionRepository::find(&db.store, "k", t(1))
                .await
                .unwrap()
                .is_none()
        );
    }
);

db_test!(api_tokens_are_found_by_digest_and_revocable, |db| {
    let user = UserRepository::insert(&db.store, new_user("gus@example.com"))
        .await
        .unwrap();
    ApiTokenRepository::insert(&db.store, user.id, "d1".into(), t(0))
        .await
        .unwrap();
    ApiTokenRepository::insert(&db.store, user.id, "d2".into(), t(0))
        .await
        .unwrap();
    assert_eq!(
        db.store.find_holder("d1").await.unwrap().map(|h| h.user.id),
        Some(user.id)
    );
    assert!(ApiTokenRepository::delete(&db.store, "d1").await.unwrap());
    assert!(!ApiTokenRepository::delete(&db.store, "d1").await.unwrap());
    assert_eq!(
        ApiTokenRepository::delete_for_user(&db.store, user.id)
            .await
            .unwrap(),
        1
    );
    let unknown = ApiTokenRepository::insert(&db.store, UserId(777), "d3".into(), t(0)).await;
    assert!(
        matches!(unknown, Err(RepoError::MissingReference)),
        "{unknown:?}"
    );
});

db_test!(
    a_session_or_a_token_is_read_with_its_user_and_permissions,
    |db| {
        let user = UserRepository::insert(&db.store, new_user("ivy@example.com"))
            .await
            .unwrap();
        let plain = db
            .store
            .find_with_permissions(user.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(plain.user, user);
        assert!(plain.permissions.is_empty());
        assert!(
            db.store
                .find_with_permissions(UserId(31337))
                .await
                .unwrap()
                .is_none()
        );

        let moderators = GroupRepository::find_by_name(&db.store, "moderators")
            .await
            .unwrap()
            .unwrap();
        db.store.add_member(moderators.id, user.id).await.unwrap();
        let signed_in = SessionRecord {
            key: "k-user".into(),
            user_id: Some(user.id),
            data: r#"{"uid":1}"#.into(),
            expires_at: t(1000),
        };
        let anonymous = SessionRecord {
            key: "k-anon".into(),
            user_id: None,
            data: "{}".into(),
            expires_at: t(1000),
        };
        db.store.save(signed_in.clone()).await.unwrap();
        db.store.save(anonymous.clone()).await.unwrap();
        ApiTokenRepository::insert(&db.store, user.id, "d-ivy".into(), t(0))
            .await
            .unwrap();

        let (record, found) = db
            .store
            .find_with_user("k-user", t(10))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(record, signed_in);
        let found = found.expect("the session's user comes with it");
        assert_eq!(found.user, user);
        assert_eq!(found.permissions, Permission::ALL.to_vec());
        let holder = db.store.find_holder("d-ivy").await.unwrap().unwrap();
        assert_eq!(holder, found);
        assert_eq!(
            db.store.find_with_permissions(user.id).await.unwrap(),
            Some(found)
        );

        let (record, nobody) = db
            .store
            .find_with_user("k-anon", t(10))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(record, anonymous);
        assert!(nobody.is_none());
        assert!(
            db.store
                .find_with_user("k-user", t(2000))
                .await
                .unwrap()
                .is_none(),
            "expired"
        );
        assert!(
            db.store
                .find_with_user("k-none", t(10))
                .await
                .unwrap()
                .is_none()
        );
        assert!(db.store.find_holder("d-none").await.unwrap().is_none());

        // Losing the group shows in the very next read.
        db.store
            .remove_member(moderators.id, user.id)
            .await
            .unwrap();
        let (_, found) = db
            .store
            .find_with_user("k-user", t(10))
            .await
            .unwrap()
            .unwrap();
        assert!(found.unwrap().permissions.is_empty());
        assert!(
            db.store
                .find_holder("d-ivy")
                .await
                .unwrap()
                .unwrap()
                .permissions
                .is_empty()
        );
    }
);

db_test!(group_membership_grants_and_revokes_permissions, |db| {
    let user = UserRepository::insert(&db.store, new_user("hal@example.com"))
        .await
        .unwrap();
    let moderators = GroupRepository::find_by_name(&db.store, "moderators")
        .await
        .unwrap()
        .unwrap();
    assert!(db.store.permissions_of(user.id).await.unwrap().is_empty());
    assert!(db.store.add_member(moderators.id, user.id).await.unwrap());
    assert!(
        !db.store.add_member(moderators.id, user.id).await.unwrap(),
        "second add is a no-op"
    );
    assert_eq!(
        db.store.permissions_of(user.id).await.unwrap(),
        Permission::ALL.to_vec()
    );
    assert_eq!(
        db.store.groups_of(user.id).await.unwrap()[0].name,
        "moderators"
    );
    let listed = UserRepository::list(&db.store).await.unwrap();
    assert_eq!(listed[0].groups.len(), 1);
    let summary = GroupRepository::list(&db.store).await.unwrap();
    assert_eq!(summary[0].member_count, 1);
    assert!(
        db.store
            .remove_member(moderators.id, user.id)
            .await
            .unwrap()
    );
    assert!(
        !db.store
            .remove_member(moderators.id, user.id)
            .await
            .unwrap()
    );
    assert!(db.store.permissions_of(user.id).await.unwrap().is_empty());
    let ghost = db.store.add_member(moderators.id, UserId(31337)).await;
    assert!(
        matches!(ghost, Err(RepoError::MissingReference)),
        "{ghost:?}"
    );
});

db_test!(categories_are_unique_and_not_removed_while_used, |db| {
    let owner = UserRepository::insert(&db.store, new_user("ida@example.com"))
        .await
        .unwrap();
    let lamps = category(&db.store, "Lamps").await;
    let dup = CategoryRepository::insert(
        &db.store,
        NewCategory {
            name: CategoryName::parse("Lamps").unwrap(),
            description: Description::parse("").unwrap(),
        },
    )
    .await;
    assert!(matches!(dup, Err(RepoError::CategoryNameTaken)));
    ProductRepository::insert(
        &db.store,
        new_product(owner.id, lamps.id, "Desk lamp", "10", 0),
    )
    .await
    .unwrap();
    ProductRepository::insert(
        &db.store,
        new_product(owner.id, lamps.id, "Floor lamp", "20", 1),
    )
    .await
    .unwrap();
    let busy = CategoryRepository::delete(&db.store, lamps.id).await;
    assert!(matches!(busy, Err(RepoError::CategoryInUse(2))), "{busy:?}");
    let empty = category(&db.store, "Empty").await;
    CategoryRepository::delete(&db.store, empty.id)
        .await
        .unwrap();
    assert!(
        CategoryRepository::find_by_id(&db.store, empty.id)
            .await
            .unwrap()
            .is_none()
    );
    assert!(matches!(
        CategoryRepository::delete(&db.store, empty.id).await,
        Err(RepoError::NotFound)
    ));
    let names: Vec<String> = CategoryRepository::list(&db.store)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.name.to_string())
        .collect();
    assert_eq!(names, vec!["Lamps"]);
});

db_test!(prices_are_stored_exactly, |db| {
    let owner = UserRepository::insert(&db.store, new_user("jo@example.com"))
        .await
        .unwrap();
    let cat = category(&db.store, "Misc").await;
    for price in ["199.99", "0.10", "0.00", "999999999999.99", "1234567.89"] {
        let p =
            ProductRepository::insert(&db.store, new_product(owner.id, cat.id, "Thing", price, 0))
                .await
                .unwrap();
        let back = ProductRepository::find(&db.store, p.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            back.price.to_string(),
            Money::parse(price).unwrap().to_string()
        );
        assert_eq!(back.owner.email.as_str(), "jo@example.com");
        assert_eq!(back.category.name.as_str(), "Misc");
    }
});

db_test!(listings_are_newest_first_paginated_and_scoped, |db| {
    let ann = UserRepository::insert(&db.store, new_user("ann@example.com"))
        .await
        .unwrap();
    let bob = UserRepository::insert(&db.store, new_user("bob@example.com"))
        .await
        .unwrap();
    let cat = category(&db.store, "Misc").await;
    let mut batch = Vec::new();
    for i in 0..45 {
        let mut p = new_product(
            if i % 2 == 0 { ann.id } else { bob.id },
            cat.id,
            &format!("P{i}"),
            "1.00",
            i,
        );
        // Every third of Bob's products is a draft.
        p.is_published = !(i % 2 == 1 && i % 3 == 0);
        batch.push(p);
    }
    assert_eq!(
        ProductRepository::insert_many(&db.store, batch)
            .await
            .unwrap(),
        45
    );
    let page1 = ProductRepository::list(
        &db.store,
        ProductScope::All,
        PageRequest::new(1, 20).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(page1.total, 45);
    assert_eq!(page1.items.len(), 20);
    assert_eq!(page1.items[0].name.as_str(), "P44", "newest first");
    assert!(
        page1
            .items
            .windows(2)
            .all(|w| w[0].created_at > w[1].created_at)
    );
    let page3 = ProductRepository::list(
        &db.store,
        ProductScope::All,
        PageRequest::new(3, 20).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(page3.items.len(), 5);
    assert_eq!(page3.items[4].name.as_str(), "P0");
    let beyond = ProductRepository::list(
        &db.store,
        ProductScope::All,
        PageRequest::new(9, 20).unwrap(),
    )
    .await
    .unwrap();
    assert!(beyond.items.is_empty());
    let drafts = 45 - (0..45).filter(|i| !(i % 2 == 1 && i % 3 == 0)).count() as u64;
    let published = ProductRepository::list(
        &db.store,
        ProductScope::Published,
        PageRequest::new(1, 100).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(published.total, 45 - drafts);
    assert!(published.items.iter().all(|p| p.is_published));
    let for_ann = ProductRepository::list(
        &db.store,
        ProductScope::PublishedOrOwnedBy(ann.id),
        PageRequest::new(1, 100).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(for_ann.total, 45 - drafts, "Ann sees none of Bob's drafts");
    let for_bob = ProductRepository::list(
        &db.store,
        ProductScope::PublishedOrOwnedBy(bob.id),
        PageRequest::new(1, 100).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(for_bob.total, 45, "Bob sees his own drafts");
    // Every page size, read from either end of the listing, gives the same order as
    // one full listing, for every scope.
    for scope in [
        ProductScope::All,
        ProductScope::Published,
        ProductScope::PublishedOrOwnedBy(bob.id),
        ProductScope::PublishedOrOwnedBy(ann.id),
    ] {
        let full = ProductRepository::list(&db.store, scope, PageRequest::new(1, 100).unwrap())
            .await
            .unwrap();
        let expected: Vec<ProductId> = full.items.iter().map(|p| p.id).collect();
        assert!(
            full.items
                .windows(2)
                .all(|w| (w[0].created_at, w[0].id) > (w[1].created_at, w[1].id))
        );
        for per_page in [1, 4, 7, 20] {
            let mut seen = Vec::new();
            for n in 1.. {
                let page = ProductRepository::list(
                    &db.store,
                    scope,
                    PageRequest::new(n, per_page).unwrap(),
                )
                .await
                .unwrap();
                assert_eq!(page.total, full.total);
                if page.items.is_empty() {
                    break;
                }
                seen.extend(page.items.iter().map(|p| p.id));
            }
            assert_eq!(seen, expected, "{scope:?} by {per_page}");
        }
    }
    // Counts follow this process's writes at once.
    let gone = for_bob.items[0].id;
    ProductRepository::delete(&db.store, gone).await.unwrap();
    let after = ProductRepository::list(
        &db.store,
        ProductScope::All,
        PageRequest::new(1, 1).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(after.total, 44);
    // So do an owner's drafts: Ann had none (her listings skip the drafts branch and
    // her count of 0 is cached); her first draft shows in her very next listing.
    let ann_scope = ProductScope::PublishedOrOwnedBy(ann.id);
    let before = ProductRepository::list(&db.store, ann_scope, PageRequest::new(1, 5).unwrap())
        .await
        .unwrap()
        .total;
    let draft = ProductRepository::insert(
        &db.store,
        NewProduct {
            is_published: false,
            ..new_product(ann.id, cat.id, "Ann's draft", "1.00", 100)
        },
    )
    .await
    .unwrap();
    let mine = ProductRepository::list(&db.store, ann_scope, PageRequest::new(1, 5).unwrap())
        .await
        .unwrap();
    assert_eq!(mine.total, before + 1);
    assert_eq!(mine.items[0].id, draft.id, "newest first, drafts included");
});

db_test!(products_update_image_and_delete, |db| {
    let owner = UserRepository::insert(&db.store, new_user("kim@example.com"))
        .await
        .unwrap();
    let a = category(&db.store, "A").await;
    let b = category(&db.store, "B").await;
    let p = ProductRepository::insert(&db.store, new_product(owner.id, a.id, "Kettle", "5.50", 0))
        .await
        .unwrap();
    let updated = ProductRepository::update(
        &db.store,
        p.id,
        ProductUpdate {
            revision: p.revision,
            name: Some(ProductName::parse("Kettle 2").unwrap()),
            description: Some(Description::parse("New").unwrap()),
            category_id: Some(b.id),
            price: Some(Money::parse("6.75").unwrap()),
            is_published: Some(false),
            moderation_locked: Some(true),
            updated_at: t(60),
        },
    )
    .await
    .unwrap();
    assert_eq!(
        (
            updated.name.as_str(),
            updated.category.id,
            updated.price.to_string().as_str()
        ),
        ("Kettle 2", b.id, "6.75")
    );
    assert!(!updated.is_published && updated.moderation_locked);
    assert_eq!(updated.updated_at, t(60));
    let bad_cat = ProductRepository::update(
        &db.store,
        p.id,
        ProductUpdate {
            revision: updated.revision,
            name: None,
            description: None,
            category_id: Some(CategoryId(999)),
            price: None,
            is_published: None,
            moderation_locked: None,
            updated_at: t(61),
        },
    )
    .await;
    assert!(
        matches!(bad_cat, Err(RepoError::MissingReference)),
        "{bad_cat:?}"
    );
    db.store
        .set_image(p.id, Some("products/abc.png".into()), t(70))
        .await
        .unwrap();
    assert_eq!(
        ProductRepository::find(&db.store, p.id)
            .await
            .unwrap()
            .unwrap()
            .image
            .as_deref(),
        Some("products/abc.png")
    );
    let unknown_cat = ProductRepository::insert(
        &db.store,
        new_product(owner.id, CategoryId(999), "X", "1", 0),
    )
    .await;
    assert!(
        matches!(unknown_cat, Err(RepoError::MissingReference)),
        "{unknown_cat:?}"
    );
    VersionRepository::insert(
        &db.store,
        p.id,
        NewVersion {
            number: VersionNumber::parse("1.0").unwrap(),
            name: VersionName::parse("").unwrap(),
            is_current: true,
        },
    )
    .await
    .unwrap();
    ProductRepository::delete(&db.store, p.id).await.unwrap();
    assert!(
        ProductRepository::find(&db.store, p.id)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        VersionRepository::list(&db.store, p.id)
            .await
            .unwrap()
            .is_empty(),
        "versions go too"
    );
    assert!(matches!(
        ProductRepository::delete(&db.store, p.id).await,
        Err(RepoError::NotFound)
    ));
});

db_test!(a_product_is_read_with_its_versions_at_once, |db| {
    let owner = UserRepository::insert(&db.store, new_user("vi@example.com"))
        .await
        .unwrap();
    let cat = category(&db.store, "Lamps").await;
    let bare = ProductRepository::insert(&db.store, new_product(owner.id, cat.id, "Bare", "1", 0))
        .await
        .unwrap();
    let p = ProductRepository::insert(&db.store, new_product(owner.id, cat.id, "Lamp", "2", 1))
        .await
        .unwrap();
    let mut stored = Vec::new();
    for (number, current) in [("1.0", false), ("2.0", true), ("1.5", false)] {
        stored.push(
            VersionRepository::insert(
                &db.store,
                p.id,
                NewVersion {
                    number: VersionNumber::parse(number).unwrap(),
                    name: VersionName::parse("Named").unwrap(),
                    is_current: current,
                },
            )
            .await
            .unwrap(),
        );
    }
    let (found, versions) = db.store.find_with_versions(p.id).await.unwrap().unwrap();
    assert_eq!(
        Some(found),
        ProductRepository::find(&db.store, p.id).await.unwrap()
    );
    assert_eq!(versions, stored, "all of them, in creation order");
    assert_eq!(
        versions,
        VersionRepository::list(&db.store, p.id).await.unwrap()
    );
    let (found, versions) = db.store.find_with_versions(bare.id).await.unwrap().unwrap();
    assert_eq!(found, bare);
    assert!(versions.is_empty());
    assert!(
        db.store
            .find_with_versions(ProductId(31337))
            .await
            .unwrap()
            .is_none()
    );
});

db_test!(a_product_never_has_two_current_versions, |db| {
    let owner = UserRepository::insert(&db.store, new_user("lu@example.com"))
        .await
        .unwrap();
    let cat = category(&db.store, "Software").await;
    let p = ProductRepository::insert(&db.store, new_product(owner.id, cat.id, "App", "0", 0))
        .await
        .unwrap();
    let v = |n: &str, current| NewVersion {
        number: VersionNumber::parse(n).unwrap(),
        name: VersionName::parse("rel").unwrap(),
        is_current: current,
    };
    let v1 = VersionRepository::insert(&db.store, p.id, v("1.0.0", true))
        .await
        .unwrap();
    let v2 = VersionRepository::insert(&db.store, p.id, v("1.1.0", true))
        .await
        .unwrap();
    let current = |list: Vec<Version>| {
        list.into_iter()
            .filter(|x| x.is_current)
            .map(|x| x.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        current(VersionRepository::list(&db.store, p.id).await.unwrap()),
        vec![v2.id],
        "v2 demoted v1"
    );
    VersionRepository::update(&db.store, p.id, v1.id, v("1.0.1", true))
        .await
        .unwrap();
    assert_eq!(
        current(VersionRepository::list(&db.store, p.id).await.unwrap()),
        vec![v1.id]
    );
    let dup = VersionRepository::insert(&db.store, p.id, v("1.1.0", false)).await;
    assert!(matches!(dup, Err(RepoError::VersionNumberTaken)), "{dup:?}");
    // The database itself refuses a second current version, whatever the code does.
    let raw = db
        .store
        .execute_unprepared(&format!(
            "UPDATE versions SET is_current = TRUE WHERE id = {}",
            v2.id.0
        ))
        .await;
    assert!(raw.is_err(), "partial unique index must hold");
    let other =
        ProductRepository::insert(&db.store, new_product(owner.id, cat.id, "Other", "0", 1))
            .await
            .unwrap();
    let foreign = VersionRepository::update(&db.store, other.id, v1.id, v("9", false)).await;
    assert!(
        matches!(foreign, Err(RepoError::NotFound)),
        "a version is reached only through its product"
    );
    assert!(matches!(
        VersionRepository::delete(&db.store, other.id, v1.id).await,
        Err(RepoError::NotFound)
    ));
    VersionRepository::delete(&db.store, p.id, v1.id)
        .await
        .unwrap();
    assert_eq!(
        VersionRepository::list(&db.store, p.id)
            .await
            .unwrap()
            .len(),
        1
    );
});

db_test!(an_edit_is_stored_whole_or_not_at_all, |db| {
    let owner = UserRepository::insert(&db.store, new_user("edit@example.com"))
        .await
        .unwrap();
    let cat = category(&db.store, "Tools").await;
    let p = ProductRepository::insert(&db.store, new_product(owner.id, cat.id, "Saw", "1.00", 0))
        .await
        .unwrap();
    let v = |n: &str, current| NewVersion {
        number: VersionNumber::parse(n).unwrap(),
        name: VersionName::parse("").unwrap(),
        is_current: current,
    };
    let v1 = VersionRepository::insert(&db.store, p.id, v("1.0", true))
        .await
        .unwrap();
    let v2 = VersionRepository::insert(&db.store, p.id, v("2.0", false))
        .await
        .unwrap();
    let update = |name: &str, at, revision| ProductUpdate {
        revision,
        name: Some(ProductName::parse(name).unwrap()),
        description: None,
        category_id: Some(cat.id),
        price: Some(Money::parse("2.50").unwrap()),
        is_published: None,
        moderation_locked: None,
        updated_at: t(at),
    };
    // Swap the two numbers, make the second current, add a third: one transaction.
    let saved = ProductRepository::edit(
        &db.store,
        p.id,
        update("Saw II", 10, p.revision),
        Some("products/saw.png".into()),
        VersionsEdit {
            delete: vec![],
            update: vec![(v1.id, v("2.0", false)), (v2.id, v("1.0", true))],
            insert: vec![v("3.0", false)],
        },
    )
    .await
    .unwrap();
    assert_eq!(saved.name.as_str(), "Saw II");
    assert_eq!(saved.image.as_deref(), Some("products/saw.png"));
    let list = VersionRepository::list(&db.store, p.id).await.unwrap();
    let shown: Vec<(i64, &str, bool)> = list
        .iter()
        .map(|x| (x.id.0, x.number.as_str(), x.is_current))
        .collect();
    assert_eq!(
        shown[..2],
        [(v1.id.0, "2.0", false), (v2.id.0, "1.0", true)]
    );
    assert_eq!((shown[2].1, shown[2].2), ("3.0", false));

    // A version of another product makes the whole edit fail, the fields included.
    let other =
        ProductRepository::insert(&db.store, new_product(owner.id, cat.id, "Drill", "1", 1))
            .await
            .unwrap();
    let foreign = VersionRepository::insert(&db.store, other.id, v("9.0", false))
        .await
        .unwrap();
    let failed = ProductRepository::edit(
        &db.store,
        p.id,
        update("Saw III", 20, saved.revision),
        None,
        VersionsEdit {
            delete: vec![foreign.id],
            ..VersionsEdit::default()
        },
    )
    .await;
    assert!(matches!(failed, Err(RepoError::NotFound)), "{failed:?}");
    // A duplicate number rolls back everything too.
    let dup = ProductRepository::edit(
        &db.store,
        p.id,
        update("Saw IV", 30, saved.revision),
        None,
        VersionsEdit {
            insert: vec![v("2.0", false)],
            ..VersionsEdit::default()
        },
    )
    .await;
    assert!(matches!(dup, Err(RepoError::VersionNumberTaken)), "{dup:?}");
    let after = ProductRepository::find(&db.store, p.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after.name.as_str(), "Saw II");
    assert_eq!(after.updated_at, t(10));
    assert_eq!(
        VersionRepository::list(&db.store, p.id)
            .await
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        VersionRepository::list(&db.store, other.id)
            .await
            .unwrap()
            .len(),
        1
    );
});

db_test!(a_write_decided_on_an_older_revision_changes_nothing, |db| {
    let owner = UserRepository::insert(&db.store, new_user("rev@example.com"))
        .await
        .unwrap();
    let cat = category(&db.store, "Tools").await;
    let p = ProductRepository::insert(&db.store, new_product(owner.id, cat.id, "Saw", "2", 0))
        .await
        .unwrap();
    let nothing = |revision| ProductUpdate {
        revision,
        name: None,
        description: None,
        category_id: None,
        price: None,
        is_published: None,
        moderation_locked: None,
        updated_at: t(5),
    };
    // A moderator unpublishes what they read at the first revision.
    let unpublished = ProductRepository::update(
        &db.store,
        p.id,
        ProductUpdate {
            is_published: Some(false),
            moderation_locked: Some(true),
            ..nothing(p.revision)
        },
    )
    .await
    .unwrap();
    assert_eq!(unpublished.revision, p.revision + 1);
    // The owner's edit, decided on the same first revision, is refused whole.
    let stale = ProductUpdate {
        name: Some(ProductName::parse("Saw 2").unwrap()),
        is_published: Some(true),
        ..nothing(p.revision)
    };
    let refused = ProductRepository::update(&db.store, p.id, stale.clone()).await;
    assert!(matches!(refused, Err(RepoError::Conflict)), "{refused:?}");
    let refused = ProductRepository::edit(
        &db.store,
        p.id,
        stale,
        Some("products/x.png".into()),
        VersionsEdit {
            insert: vec![NewVersion {
                number: VersionNumber::parse("1.0").unwrap(),
                name: VersionName::parse("").unwrap(),
                is_current: true,
            }],
            ..VersionsEdit::default()
        },
    )
    .await;
    assert!(matches!(refused, Err(RepoError::Conflict)), "{refused:?}");
    let now = ProductRepository::find(&db.store, p.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(now, unpublished, "nothing of either stale write was stored");
    assert!(
        VersionRepository::list(&db.store, p.id)
            .await
            .unwrap()
            .is_empty()
    );
    // A new image moves the revision on too.
    db.store.set_image(p.id, None, t(6)).await.unwrap();
    let imaged = ProductRepository::find(&db.store, p.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(imaged.revision, unpublished.revision + 1);
    // A write on the current revision changes its fields and no other.
    let renamed = ProductRepository::update(
        &db.store,
        p.id,
        ProductUpdate {
            name: Some(ProductName::parse("Saw 3").unwrap()),
            ..nothing(imaged.revision)
        },
    )
    .await
    .unwrap();
    assert_eq!(renamed.name.as_str(), "Saw 3");
    assert!(!renamed.is_published && renamed.moderation_locked);
    let gone = ProductRepository::update(&db.store, ProductId(9999), nothing(1)).await;
    assert!(matches!(gone, Err(RepoError::NotFound)), "{gone:?}");
});

db_test!(
    outbox_claims_are_exclusive_and_delivery_wipes_secrets,
    |db| {
        for i in 0..30 {
            db.store
                .enqueue(mail(&format!("u{i}@example.com")), t(0))
                .await
                .unwrap();
        }
        let lease = Duration::from_secs(60);
        // Two dispatchers claiming at the same moment never get the same message.
        let (a, b) = tokio::join!(
            db.store.claim_due(t(1), 20, lease),
            db.store.claim_due(t(1), 20, lease)
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        let ids: HashSet<_> = a.iter().chain(&b).map(|m| m.id).collect();
        assert_eq!(ids.len(), a.len() + b.len(), "no message claimed twice");
        assert_eq!(ids.len(), 30);
        assert!(
            db.store
                .claim_due(t(2), 50, lease)
                .await
                .unwrap()
                .is_empty(),
            "leased"
        );
        let first = a.first().or(b.first()).unwrap().clone();
        assert_eq!(first.mail.kind, MailKind::Verification);
        assert_eq!(
            first.mail.secret.as_ref().unwrap().expose(),
            "generated-secret"
        );
        db.store.mark_sent(first.id, t(3)).await.unwrap();
        db.store.execute_unprepared(&format!(
        "DELETE FROM mail_outbox WHERE id = {} AND link IS NULL AND secret IS NULL AND sent_at IS NOT NULL", first.id.0)).await.unwrap();
        assert_eq!(
            OutboxRepository::pending_count(&db.store).await.unwrap(),
            29
        );
        // A failed message comes back when its retry time and lease have passed.
        let second = ids.iter().find(|id| **id != first.id).copied().unwrap();
        db.store
            .mark_failed(second, "smtp down".into(), t(30))
            .await
            .unwrap();
        assert!(
            db.store
                .claim_due(t(20), 50, lease)
                .await
                .unwrap()
                .is_empty()
        );
        let again = db.store.claim_due(t(31), 50, lease).await.unwrap();
        assert_eq!(again.iter().map(|m| m.id).collect::<Vec<_>>(), vec![second]);
        assert_eq!(again[0].attempts, 1);
        // Expired leases are claimable again.
        assert_eq!(
            db.store.claim_due(t(200), 50, lease).await.unwrap().len(),
            29
        );
    }
);

db_test!(many_users_are_inserted_in_batches, |db| {
    let users: Vec<NewUser> = (0..1200)
        .map(|i| new_user(&format!("bulk{i}@example.com")))
        .collect();
    let ids = UserRepository::insert_many(&db.store, users).await.unwrap();
    assert_eq!(ids.len(), 1200);
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 1200);
    let clash = UserRepository::insert_many(
        &db.store,
        vec![new_user("fresh@example.com"), new_user("BULK7@example.com")],
    )
    .await;
    assert!(matches!(clash, Err(RepoError::EmailTaken)));
    assert!(
        db.store
            .find_by_email(&Email::parse("fresh@example.com").unwrap())
            .await
            .unwrap()
            .is_none(),
        "all or nothing"
    );
});

db_test!(deep_pages_start_from_anchors_that_writes_move, |db| {
    let ann = UserRepository::insert(&db.store, new_user("ann@example.com"))
        .await
        .unwrap();
    let bob = UserRepository::insert(&db.store, new_user("bob@example.com"))
        .await
        .unwrap();
    let cat = category(&db.store, "Misc").await;
    let batch = (0..400)
        .map(|i| NewProduct {
            // Some of Bob's are drafts, so that his listing merges two branches.
            is_published: i % 7 != 0,
            ..new_product(
                if i % 2 == 0 { ann.id } else { bob.id },
                cat.id,
                &format!("P{i}"),
                "1.00",
                i,
            )
        })
        .collect();
    ProductRepository::insert_many(&db.store, batch)
        .await
        .unwrap();
    // Listings plan with anchors in the kept layer, which every server reads through.
    let kept = catalog_storage::Kept::new(db.store.clone());
    let store = &kept;
    let page = |scope: ProductScope, n: u64| async move {
        ProductRepository::list(store, scope, PageRequest::new(n, 20).unwrap())
            .await
            .unwrap()
    };
    let ids = |p: &catalog_domain::Page<Product>| p.items.iter().map(|p| p.id).collect::<Vec<_>>();
    // The whole listing, as a store of its own reads it (leaving this one's anchors be).
    let reader = catalog_storage::Store::connect(&db.url).await.unwrap();
    let reader = &reader;
    let full = |scope| async move {
        let mut all = Vec::new();
        for n in 1..=5 {
            all.extend(
                ProductRepository::list(reader, scope, PageRequest::new(n, 100).unwrap())
                    .await
                    .unwrap()
                    .items
                    .into_iter()
                    .map(|p| p.id),
            );
        }
        all
    };
    for scope in [ProductScope::All, ProductScope::PublishedOrOwnedBy(bob.id)] {
        let expected = full(scope).await;
        let total = expected.len();
        // Page 8 starts 140 entries from the newest end, page 12 (of 20 or fewer)
        // 220 entries from the newest, which is nearer the oldest end.
        for (n, from, direction_skip) in [(8, 140, 140), (12, 220, total - 240)] {
            let skipped = kept.listing_entries_skipped();
            let first = page(scope, n).await;
            assert_eq!(ids(&first), expected[from..from + 20], "{scope:?} page {n}");
            assert_eq!(
                kept.listing_entries_skipped() - skipped,
                direction_skip as u64
            );
            // Read again, the page starts at its anchor and steps over nothing.
            let skipped = kept.listing_entries_skipped();
            assert_eq!(ids(&page(scope, n).await), ids(&first));
            assert_eq!(
                kept.listing_entries_skipped(),
                skipped,
                "{scope:?} page {n}"
            );
        }
        // The page after one read steps over that page only, not everything before it.
        let skipped = kept.listing_entries_skipped();
        assert_eq!(ids(&page(scope, 9).await), expected[160..180]);
        assert_eq!(kept.listing_entries_skipped() - skipped, 20);
    }
    // A new product moves every page by one: the anchors of this process go with it.
    let before = ids(&page(ProductScope::All, 8).await);
    let newest =
        ProductRepository::insert(&kept, new_product(ann.id, cat.id, "Newest", "1.00", 1_000))
            .await
            .unwrap();
    let after = ids(&page(ProductScope::All, 8).await);
    assert_eq!(after[1..], before[..19], "one place later");
    assert_eq!(full(ProductScope::All).await[0], newest.id);
    // Another process's writes move them too, once the counts are trusted no more, even
    // when they leave the total as it was (a product in, the oldest out).
    let oldest = *full(ProductScope::All).await.last().unwrap();
    let other = catalog_storage::Store::connect(&db.url).await.unwrap();
    let elsewhere = ProductRepository::insert(
        &other,
        new_product(bob.id, cat.id, "From elsewhere", "1.00", 2_000),
    )
    .await
    .unwrap();
    ProductRepository::delete(&other, oldest).await.unwrap();
    other.close().await.unwrap();
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    let later = ids(&page(ProductScope::All, 8).await);
    assert_eq!(later[1..], after[..19], "one more place later");
    assert_eq!(
        full(ProductScope::All).await[..2],
        [elsewhere.id, newest.id]
    );
});
