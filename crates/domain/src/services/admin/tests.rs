use std::sync::Arc;

use mockall::predicate::eq;

use super::*;
use crate::access::{Group, GroupId};
use crate::ports::*;
use crate::user::{PasswordHash, UserId};

/// Mocks with no expectations: any call a test did not ask for fails it.
struct Mocks {
    users: MockUserRepository,
    groups: MockGroupRepository,
    categories: MockCategoryRepository,
    hasher: MockPasswordHasher,
    media: MockMediaStore,
}

impl Mocks {
    fn new() -> Self {
        Self {
            users: MockUserRepository::new(),
            groups: MockGroupRepository::new(),
            categories: MockCategoryRepository::new(),
            hasher: MockPasswordHasher::new(),
            media: MockMediaStore::new(),
        }
    }

    fn service(self) -> AdminService {
        let mut clock = MockClock::new();
        clock
            .expect_now()
            .return_const(chrono::DateTime::UNIX_EPOCH);
        AdminService::new(AdminPorts {
            users: Arc::new(self.users),
            groups: Arc::new(self.groups),
            categories: Arc::new(self.categories),
            hasher: Arc::new(self.hasher),
            media: Arc::new(self.media),
            clock: Arc::new(clock),
        })
    }
}

fn stored(new: NewUser) -> User {
    User {
        id: UserId(7),
        email: new.email,
        password_hash: Some(new.password_hash),
        first_name: new.first_name,
        last_name: new.last_name,
        avatar: None,
        phone: None,
        country: None,
        is_active: new.is_active,
        is_verified: new.is_verified,
        is_superuser: new.is_superuser,
        deactivated: false,
        password_change_required: false,
        pending_password: None,
        pending_email: None,
        date_joined: new.date_joined,
        language: None,
        last_login: None,
    }
}

fn hash() -> PasswordHash {
    PasswordHash::from_phc("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()).unwrap()
}

#[tokio::test]
async fn createsuperuser_with_a_weak_password_hashes_and_stores_nothing() {
    let mut m = Mocks::new();
    m.hasher.expect_hash().times(0);
    m.users.expect_insert().times(0);
    m.users.expect_find_by_email().times(0);
    let err = m
        .service()
        .create_superuser("root@example.com", "password")
        .await
        .unwrap_err();
    assert!(
        matches!(err, CreateSuperuserError::WeakPassword(_)),
        "{err:?}"
    );
}

#[tokio::test]
async fn createsuperuser_stores_one_active_verified_superuser() {
    let mut m = Mocks::new();
    m.users
        .expect_find_by_email()
        .times(1)
        .returning(|_| Ok(None));
    m.hasher.expect_hash().times(1).returning(|_| Ok(hash()));
    m.users
        .expect_insert()
        .times(1)
        .withf(|u| {
            u.is_superuser && u.is_active && u.is_verified && u.email.as_str() == "root@example.com"
        })
        .returning(|u| Ok(stored(u)));
    let user = m
        .service()
        .create_superuser("root@EXAMPLE.com", "a sturdy passphrase")
        .await
        .unwrap();
    assert!(user.is_superuser);
}

#[tokio::test]
async fn createsuperuser_for_a_taken_address_says_so_without_hashing() {
    let mut m = Mocks::new();
    m.users.expect_find_by_email().times(1).returning(|e| {
        Ok(Some(stored(NewUser {
            email: e.clone(),
            password_hash: hash(),
            is_active: true,
            is_verified: true,
            is_superuser: false,
            first_name: Default::default(),
            last_name: Default::default(),
            date_joined: chrono::DateTime::UNIX_EPOCH,
            language: None,
        })))
    });
    m.hasher.expect_hash().times(0);
    m.users.expect_insert().times(0);
    let err = m
        .service()
        .create_superuser("root@example.com", "a sturdy passphrase")
        .await;
    assert!(matches!(err, Err(CreateSuperuserError::EmailTaken)));
}

#[tokio::test]
async fn adding_to_an_unknown_group_changes_no_membership() {
    let mut m = Mocks::new();
    m.groups
        .expect_find_by_name()
        .with(eq("nobody"))
        .times(1)
        .returning(|_| Ok(None));
    m.groups.expect_add_member().times(0);
    let err = m
        .service()
        .add_member("nobody", "ann@example.com")
        .await
        .unwrap_err();
    assert!(matches!(err, MembershipError::UnknownGroup(g) if g == "nobody"));
}

#[tokio::test]
async fn adding_an_unknown_user_changes_no_membership() {
    let mut m = Mocks::new();
    m.groups.expect_find_by_name().returning(|_| {
        Ok(Some(Group {
            id: GroupId(1),
            name: "moderators".into(),
            permissions: Default::default(),
        }))
    });
    m.users
        .expect_find_by_email()
        .times(1)
        .returning(|_| Ok(None));
    m.groups.expect_add_member().times(0);
    let err = m
        .service()
        .add_member("moderators", "ghost@example.com")
        .await
        .unwrap_err();
    assert!(matches!(err, MembershipError::UnknownUser(_)));
}

#[tokio::test]
async fn removing_a_category_in_use_reports_the_product_count() {
    let mut m = Mocks::new();
    m.categories.expect_find_by_name().returning(|_| {
        Ok(Some(Category {
            id: crate::product::CategoryId(3),
            name: CategoryName::parse("Lamps").unwrap(),
            description: Description::parse("").unwrap(),
        }))
    });
    m.categories
        .expect_delete()
        .times(1)
        .returning(|_| Err(RepoError::CategoryInUse(4)));
    let err = m.service().remove_category("Lamps").await.unwrap_err();
    assert!(matches!(err, RemoveCategoryError::InUse { count: 4, .. }));
}

#[tokio::test]
async fn an_invalid_category_name_reaches_no_repository() {
    let mut m = Mocks::new();
    m.categories.expect_insert().times(0);
    let err = m.service().add_category("  ", "").await.unwrap_err();
    assert!(matches!(
        err,
        AddCategoryError::InvalidName(TextError::Required)
    ));
}

#[tokio::test]
async fn thumbnails_are_made_where_missing_and_bad_files_are_counted_not_fatal() {
    let mut m = Mocks::new();
    m.media.expect_originals().times(1).returning(|| {
        Ok(vec![
            "products/aa.png".into(),
            "products/bb.jpg".into(),
            "avatars/cc.png".into(),
            "products/dd.png".into(),
        ])
    });
    m.media
        .expect_make_variants()
        .times(4)
        .returning(|key| match key {
            "products/aa.png" => Ok(true),
            "products/bb.jpg" => Ok(false),
            "avatars/cc.png" => Err(MediaError::NotAnImage),
            _ => Err(MediaError::NotFound),
        });
    let mut seen = Vec::new();
    let summary = m
        .service()
        .make_thumbnails(&mut |done, total| seen.push((done, total)))
        .await
        .unwrap();
    assert_eq!(
        summary,
        ThumbnailsSummary {
            made: 1,
            present: 1,
            refused: 1
        }
    );
    assert_eq!(seen, [(0, 4), (1, 4), (2, 4), (3, 4), (4, 4)]);
}

#[tokio::test]
async fn a_failing_store_stops_the_thumbnails() {
    let mut m = Mocks::new();
    m.media
        .expect_originals()
        .returning(|| Ok(vec!["products/aa.png".into(), "products/bb.png".into()]));
    m.media
        .expect_make_variants()
        .times(1)
        .returning(|_| Err(MediaError::Io(Box::new(std::io::Error::other("disk full")))));
    let result = m.service().make_thumbnails(&mut |_, _| {}).await;
    assert!(matches!(result, Err(MediaError::Io(_))));
}
