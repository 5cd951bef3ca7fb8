use std::sync::Arc;

use mockall::predicate::eq;

use super::*;
use crate::access::{Permission, PublishDenied};
use crate::fields::Input;
use crate::ports::*;
use crate::product::{Category, CategoryName, CategoryRef, OwnerRef};
use crate::user::{Email, UserId};

const OWNER: UserId = UserId(1);
const OTHER: UserId = UserId(2);

fn t0() -> crate::Timestamp {
    chrono::DateTime::UNIX_EPOCH + chrono::Duration::days(20_000)
}

fn category(id: i64) -> Category {
    Category {
        id: CategoryId(id),
        name: CategoryName::parse("Lamps").unwrap(),
        description: Description::empty(),
    }
}

fn product(published: bool, locked: bool) -> Product {
    Product {
        id: ProductId(10),
        name: ProductName::parse("Desk lamp").unwrap(),
        description: Description::parse("Bright").unwrap(),
        image: None,
        category: CategoryRef {
            id: CategoryId(1),
            name: CategoryName::parse("Lamps").unwrap(),
        },
        price: Money::parse("19.99").unwrap(),
        is_published: published,
        moderation_locked: locked,
        owner: OwnerRef {
            id: OWNER,
            email: Email::parse("owner@example.com").unwrap(),
            first_name: crate::user::PersonName::default(),
            last_name: crate::user::PersonName::default(),
        },
        created_at: t0(),
        updated_at: t0(),
        revision: 4,
    }
}

fn owner() -> Actor {
    Actor::new(OWNER, false, [])
}

fn stranger() -> Actor {
    Actor::new(OTHER, false, [])
}

fn moderator() -> Actor {
    Actor::new(OTHER, false, Permission::ALL)
}

struct Mocks {
    products: MockProductRepository,
    categories: MockCategoryRepository,
    versions: MockVersionRepository,
    media: MockMediaStore,
}

impl Mocks {
    fn new() -> Self {
        Self {
            products: MockProductRepository::new(),
            categories: MockCategoryRepository::new(),
            versions: MockVersionRepository::new(),
            media: MockMediaStore::new(),
        }
    }

    fn finding(mut self, found: Product) -> Self {
        self.products
            .expect_find()
            .returning(move |_| Ok(Some(found.clone())));
        self
    }

    fn service(self, public_browsing: bool) -> ProductsService {
        let mut clock = MockClock::new();
        clock.expect_now().return_const(t0());
        ProductsService::new(
            super::super::ProductsPorts {
                categories: Arc::new(self.categories),
                products: Arc::new(self.products),
                versions: Arc::new(self.versions),
                media: Arc::new(self.media),
                clock: Arc::new(clock),
            },
            public_browsing,
        )
    }
}

fn page() -> PageRequest {
    PageRequest::new(1, 20).unwrap()
}

fn empty_page() -> Page<Product> {
    Page {
        items: vec![],
        page: 1,
        per_page: 20,
        total: 0,
    }
}

#[tokio::test]
async fn listings_are_scoped_by_who_is_looking() {
    for (viewer, public, scope) in [
        (
            Some(owner()),
            false,
            ProductScope::PublishedOrOwnedBy(OWNER),
        ),
        (Some(moderator()), false, ProductScope::All),
        (Some(Actor::new(OTHER, true, [])), false, ProductScope::All),
        (None, true, ProductScope::Published),
    ] {
        let mut m = Mocks::new();
        m.products
            .expect_list()
            .with(eq(scope), eq(page()))
            .times(1)
            .returning(|_, _| Ok(empty_page()));
        m.service(public)
            .list(viewer.as_ref(), page())
            .await
            .unwrap();
    }
    let mut m = Mocks::new();
    m.products.expect_list().times(0);
    let err = m.service(false).list(None, page()).await.unwrap_err();
    assert!(matches!(err, ListError::LoginRequired));
}

#[tokio::test]
async fn an_invisible_product_is_not_found_rather_than_forbidden() {
    let err = Mocks::new()
        .finding(product(false, false))
        .service(false)
        .get(Some(&stranger()), ProductId(10))
        .await
        .unwrap_err();
    assert!(matches!(err, ViewError::NotFound));
    let seen = Mocks::new()
        .finding(product(false, false))
        .service(false)
        .get(Some(&moderator()), ProductId(10))
        .await;
    assert!(seen.is_ok(), "moderators see unpublished products");
}

#[tokio::test]
async fn a_created_product_belongs_to_the_acting_user() {
    let mut m = Mocks::new();
    m.categories
        .expect_find_by_id()
        .returning(|id| Ok(Some(category(id.0))));
    m.products
        .expect_insert()
        .withf(|p| p.owner_id == OTHER && p.price.to_string() == "199.99" && p.created_at == t0())
        .times(1)
        .returning(|_| Ok(product(true, false)));
    let input = ProductInput {
        name: Some("Lamp"),
        price: Some("199.99"),
        category_id: Some(1),
        ..Default::default()
    };
    m.service(false)
        .create(&stranger(), input, None)
        .await
        .unwrap();
}

#[tokio::test]
async fn invalid_or_incomplete_products_store_nothing() {
    let mut m = Mocks::new();
    m.categories.expect_find_by_id().returning(|_| Ok(None));
    m.products.expect_insert().times(0);
    m.media.expect_save_image().times(0);
    let input = ProductInput {
        name: Some(""),
        price: Some("-1"),
        category_id: Some(99),
        ..Default::default()
    };
    let err = m
        .service(false)
        .create(&owner(), input, Some(vec![1, 2, 3]))
        .await
        .unwrap_err();
    let CreateError::Invalid(errors) = err else {
        panic!("{err:?}")
    };
    for field in [Input::Name, Input::Price, Input::Category] {
        assert!(!errors.of(field).is_empty(), "{field:?}: {errors}");
    }
}

#[tokio::test]
async fn a_forbidden_patch_never_reaches_the_repository() {
    let mut m = Mocks::new().finding(product(true, false));
    m.products.expect_update().times(0);
    let input = ProductInput {
        name: Some("Renamed"),
        price: Some("1.00"),
        description: Some("ok"),
        ..Default::default()
    };
    let err = m
        .service(false)
        .update(&moderator(), ProductId(10), input)
        .await
        .unwrap_err();
    let ChangeError::Forbidden { fields, .. } = err else {
        panic!("{err:?}")
    };
    assert_eq!(fields, vec![Field::Name, Field::Price]);
}

#[tokio::test]
async fn an_unparseable_forbidden_value_is_forbidden_not_invalid() {
    let mut m = Mocks::new().finding(product(true, false));
    m.products.expect_update().times(0);
    let input = ProductInput {
        price: Some("-5"),
        ..Default::default()
    };
    let err = m
        .service(false)
        .update(&moderator(), ProductId(10), input)
        .await
        .unwrap_err();
    assert!(
        matches!(err, ChangeError::Forbidden { ref fields, .. } if *fields == vec![Field::Price]),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_moderator_unpublishes_and_the_lock_is_stored() {
    let mut m = Mocks::new().finding(product(true, false));
    m.products
        .expect_update()
        .withf(|id, u| {
            *id == ProductId(10)
                && u.is_published == Some(false)
                && u.moderation_locked == Some(true)
                && u.revision == 4
                && u.name.is_none()
                && u.description.is_none()
        })
        .times(1)
        .returning(|_, _| Ok(product(false, true)));
    let input = ProductInput {
        is_published: Some(false),
        ..Default::default()
    };
    let updated = m
        .service(false)
        .update(&moderator(), ProductId(10), input)
        .await
        .unwrap();
    assert!(updated.moderation_locked);
}

#[tokio::test]
async fn an_owner_cannot_republish_a_locked_product() {
    let mut m = Mocks::new().finding(product(false, true));
    m.products.expect_update().times(0);
    let input = ProductInput {
        is_published: Some(true),
        ..Default::default()
    };
    let err = m
        .service(false)
        .update(&owner(), ProductId(10), input)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ChangeError::Forbidden {
                publish_denied: Some(PublishDenied::ModerationLocked),
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn only_owners_and_superusers_delete() {
    let mut m = Mocks::new().finding(product(true, false));
    m.products.expect_delete().times(0);
    assert!(matches!(
        m.service(false).delete(&moderator(), ProductId(10)).await,
        Err(DeleteError::Forbidden)
    ));
    let mut m = Mocks::new().finding(product(true, false));
    m.products
        .expect_delete()
        .with(eq(ProductId(10)))
        .times(1)
        .returning(|_| Ok(()));
    m.service(false)
        .delete(&owner(), ProductId(10))
        .await
        .unwrap();
}

#[tokio::test]
async fn versions_and_images_are_the_owners_business() {
    let mut m = Mocks::new().finding(product(true, false));
    m.versions.expect_insert().times(0);
    m.media.expect_save_image().times(0);
    let service = m.service(false);
    let input = VersionInput {
        number: "1.0",
        name: "",
        is_current: true,
    };
    assert!(matches!(
        service
            .add_version(&moderator(), ProductId(10), input)
            .await,
        Err(ChangeError::Forbidden { .. })
    ));
    assert!(matches!(
        service
            .set_image(&moderator(), ProductId(10), vec![1])
            .await,
        Err(ChangeError::Forbidden { .. })
    ));
}

#[tokio::test]
async fn a_duplicate_version_number_is_a_field_error() {
    let mut m = Mocks::new().finding(product(true, false));
    m.versions
        .expect_insert()
        .times(1)
        .returning(|_, _| Err(RepoError::VersionNumberTaken));
    let input = VersionInput {
        number: "1.0",
        name: "first",
        is_current: false,
    };
    let err = m
        .service(false)
        .add_version(&owner(), ProductId(10), input)
        .await
        .unwrap_err();
    let ChangeError::Invalid(errors) = err else {
        panic!("{err:?}")
    };
    assert!(!errors.of(Input::VersionNumber).is_empty());
}

#[tokio::test]
async fn a_moderator_sending_an_image_or_versions_through_the_edit_form_changes_nothing() {
    let rows = || {
        Some(vec![VersionRow {
            number: "9.9",
            is_current: true,
            ..Default::default()
        }])
    };
    for (image, versions) in [(Some(vec![1, 2, 3]), None), (None, rows())] {
        let mut m = Mocks::new().finding(product(true, false));
        m.products.expect_edit().times(0);
        m.versions.expect_list().times(0);
        m.media.expect_save_image().times(0);
        let input = ProductInput {
            description: Some("Moderated"),
            ..Default::default()
        };
        let err = m
            .service(false)
            .edit(
                &moderator(),
                ProductId(10),
                input,
                image.clone(),
                versions,
                None,
            )
            .await
            .unwrap_err();
        let ChangeError::Forbidden { fields, .. } = err else {
            panic!("expected Forbidden, got {err:?}");
        };
        let expected = if image.is_some() {
            Field::Image
        } else {
            Field::Versions
        };
        assert_eq!(fields, vec![expected]);
    }
}

#[tokio::test]
async fn an_owner_edit_stores_fields_and_versions_in_one_call() {
    let mut m = Mocks::new().finding(product(true, false));
    m.versions.expect_list().times(1).returning(|_| Ok(vec![]));
    m.products
        .expect_edit()
        .withf(|id, update, image, versions| {
            *id == ProductId(10)
                && update.price.map(|p| p.to_string()).as_deref() == Some("5.00")
                && update.revision == 4
                && image.is_none()
                && versions.insert.len() == 1
                && versions.names_current()
        })
        .times(1)
        .returning(|_, _, _, _| Ok(product(true, false)));
    let input = ProductInput {
        price: Some("5.00"),
        ..Default::default()
    };
    let rows = vec![
        VersionRow {
            number: "1.0",
            name: "First",
            is_current: true,
            ..Default::default()
        },
        VersionRow::default(),
    ];
    m.service(false)
        .edit(&owner(), ProductId(10), input, None, Some(rows), Some(4))
        .await
        .unwrap();
}

#[tokio::test]
async fn an_edit_with_a_bad_version_row_stores_nothing() {
    let mut m = Mocks::new().finding(product(true, false));
    m.versions.expect_list().returning(|_| Ok(vec![]));
    m.products.expect_edit().times(0);
    let long = "x".repeat(21);
    let rows = vec![VersionRow {
        number: &long,
        ..Default::default()
    }];
    let err = m
        .service(false)
        .edit(
            &owner(),
            ProductId(10),
            ProductInput::default(),
            None,
            Some(rows),
            None,
        )
        .await
        .unwrap_err();
    let ChangeError::InvalidEdit(errors) = err else {
        panic!("expected InvalidEdit, got {err:?}");
    };
    assert_eq!(errors.rows[0].of(Input::VersionNumber).len(), 1);
}

#[tokio::test]
async fn a_form_filled_in_on_an_older_revision_is_refused_before_anything_is_stored() {
    let mut m = Mocks::new().finding(product(false, true));
    m.products.expect_edit().times(0);
    m.media.expect_save_image().times(0);
    // The owner's form showed revision 3 (published); a moderator has unpublished it.
    let input = ProductInput {
        name: Some("Desk lamp"),
        is_published: Some(true),
        ..Default::default()
    };
    let err = m
        .service(false)
        .edit(&owner(), ProductId(10), input, Some(vec![1]), None, Some(3))
        .await
        .unwrap_err();
    assert!(matches!(err, ChangeError::Conflict), "{err:?}");
}

#[tokio::test]
async fn a_write_that_finds_the_product_changed_is_a_conflict() {
    let mut m = Mocks::new().finding(product(true, false));
    m.products
        .expect_update()
        .times(1)
        .returning(|_, _| Err(RepoError::Conflict));
    let input = ProductInput {
        is_published: Some(false),
        ..Default::default()
    };
    let err = m
        .service(false)
        .update(&moderator(), ProductId(10), input)
        .await
        .unwrap_err();
    assert!(matches!(err, ChangeError::Conflict), "{err:?}");
}

#[tokio::test]
async fn sending_the_stored_values_back_writes_nothing() {
    let mut m = Mocks::new().finding(product(true, false));
    m.products.expect_update().times(0);
    let input = ProductInput {
        name: Some("Desk lamp"),
        price: Some("19.99"),
        is_published: Some(true),
        ..Default::default()
    };
    let same = m
        .service(false)
        .update(&owner(), ProductId(10), input)
        .await
        .unwrap();
    assert_eq!(same, product(true, false));
}

/// A lost race reported by any repository call stays a conflict (or a vanished
/// product), whichever way the call's error reaches the caller.
#[tokio::test]
async fn a_repository_conflict_never_becomes_unexpected() {
    for (reported, conflict) in [(RepoError::Conflict, true), (RepoError::NotFound, false)] {
        let mut m = Mocks::new().finding(product(true, false));
        let reported = std::sync::Mutex::new(Some(reported));
        m.products
            .expect_delete()
            .times(1)
            .returning(move |_| Err(reported.lock().unwrap().take().unwrap()));
        let err = m
            .service(false)
            .delete(&owner(), ProductId(10))
            .await
            .unwrap_err();
        if conflict {
            assert!(matches!(err, DeleteError::Conflict), "{err:?}");
        } else {
            assert!(matches!(err, DeleteError::NotFound), "{err:?}");
        }
    }
}
