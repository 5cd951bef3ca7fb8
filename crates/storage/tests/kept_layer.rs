//! The kept layer answers as the plain store does, whatever happens: random sequences of
//! every write of every port go through `Kept`, and after each one every hot read is
//! asked of the layer (served from what it keeps wherever it can) and of the store
//! underneath (which keeps nothing); the answers must be the same. A write that forgot
//! to forget would leave the layer serving what the store no longer says.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use catalog_domain::PageRequest;
use catalog_domain::mail::{MailKind, MailSecret, OutboxId, OutgoingMail};
use catalog_domain::ports::*;
use catalog_domain::product::*;
use catalog_domain::user::*;
use catalog_storage::testing::TestDatabase;
use catalog_storage::{Backend, Kept, Store, one_catch_up_per_request};
use proptest::prelude::*;

mod support;
use support::{new_user, t};

/// Every write the ports offer, with small numbers that pick among what exists.
#[derive(Debug, Clone)]
enum Op {
    InsertUser(u8),
    InsertUserWithMail(u8),
    ReleaseStaleAddress(u8),
    SetActive(u8, bool),
    SetPassword(u8, bool),
    UpdateProfile(u8, u8),
    SetAvatar(u8, bool),
    RecordLogin(u8),
    MarkVerified(u8),
    QueueThrottled(u8),
    SetPendingPassword(u8),
    AdoptPendingPassword(u8),
    ChangePassword(u8, u8),
    SetPendingEmail(u8, u8),
    AdoptPendingEmail(u8, u8),
    InsertManyUsers(u8),
    AddMember(u8),
    RemoveMember(u8),
    InsertCategory(u8),
    DeleteCategory(u8),
    InsertProduct(u8, u8, bool),
    InsertManyProducts(u8, u8),
    UpdateProduct(u8, u8),
    EditProduct(u8, u8),
    SetImage(u8, u8),
    DeleteProduct(u8),
    InsertVersion(u8, bool),
    UpdateVersion(u8, bool),
    DeleteVersion(u8),
    SaveSession(u8, u8, bool),
    UpdateSession(u8, u8),
    DeleteSession(u8),
    DeleteSessionsOf(u8, u8),
    PurgeExpiredSessions,
    InsertToken(u8, u8),
    DeleteToken(u8),
    DeleteTokensOf(u8),
    Enqueue,
    ClaimDue,
    MarkSent(u8),
    MarkFailed(u8),
}

fn op() -> impl Strategy<Value = Op> {
    let n = || any::<u8>();
    let b = || any::<bool>();
    prop_oneof![
        n().prop_map(Op::InsertUser),
        n().prop_map(Op::InsertUserWithMail),
        n().prop_map(Op::ReleaseStaleAddress),
        (n(), b()).prop_map(|(a, b)| Op::SetActive(a, b)),
        (n(), b()).prop_map(|(a, b)| Op::SetPassword(a, b)),
        (n(), n()).prop_map(|(a, b)| Op::UpdateProfile(a, b)),
        (n(), b()).prop_map(|(a, b)| Op::SetAvatar(a, b)),
        n().prop_map(Op::RecordLogin),
        n().prop_map(Op::MarkVerified),
        n().prop_map(Op::QueueThrottled),
        n().prop_map(Op::SetPendingPassword),
        n().prop_map(Op::AdoptPendingPassword),
        (n(), n()).prop_map(|(a, b)| Op::ChangePassword(a, b)),
        (n(), n()).prop_map(|(a, b)| Op::SetPendingEmail(a, b)),
        (n(), n()).prop_map(|(a, b)| Op::AdoptPendingEmail(a, b)),
        n().prop_map(Op::InsertManyUsers),
        n().prop_map(Op::AddMember),
        n().prop_map(Op::RemoveMember),
        n().prop_map(Op::InsertCategory),
        n().prop_map(Op::DeleteCategory),
        (n(), n(), b()).prop_map(|(a, c, p)| Op::InsertProduct(a, c, p)),
        (n(), n()).prop_map(|(a, c)| Op::InsertManyProducts(a, c)),
        (n(), n()).prop_map(|(a, c)| Op::UpdateProduct(a, c)),
        (n(), n()).prop_map(|(a, c)| Op::EditProduct(a, c)),
        (n(), n()).prop_map(|(a, c)| Op::SetImage(a, c)),
        n().prop_map(Op::DeleteProduct),
        (n(), b()).prop_map(|(a, c)| Op::InsertVersion(a, c)),
        (n(), b()).prop_map(|(a, c)| Op::UpdateVersion(a, c)),
        n().prop_map(Op::DeleteVersion),
        (n(), n(), b()).prop_map(|(k, u, live)| Op::SaveSession(k, u, live)),
        (n(), n()).prop_map(|(k, u)| Op::UpdateSession(k, u)),
        n().prop_map(Op::DeleteSession),
        (n(), n()).prop_map(|(u, k)| Op::DeleteSessionsOf(u, k)),
        Just(Op::PurgeExpiredSessions),
        (n(), n()).prop_map(|(d, u)| Op::InsertToken(d, u)),
        n().prop_map(Op::DeleteToken),
        n().prop_map(Op::DeleteTokensOf),
        Just(Op::Enqueue),
        Just(Op::ClaimDue),
        n().prop_map(Op::MarkSent),
        n().prop_map(Op::MarkFailed),
    ]
}

/// The instant reads ask about: sessions saved "live" expire after it, the others
/// before it.
const NOW: i64 = 1_000;
const KEYS: [&str; 3] = ["s0", "s1", "s2"];
const DIGESTS: [&str; 3] = ["d0", "d1", "d2"];
const IMAGES: [&str; 3] = ["products/a.png", "products/b.png", "products/c.png"];

fn pick<T: Clone>(from: &[T], n: u8) -> Option<T> {
    (!from.is_empty()).then(|| from[usize::from(n) % from.len()].clone())
}

fn phc(salt: &str) -> PasswordHash {
    PasswordHash::from_phc(format!("$argon2id$v=19$m=19456,t=2,p=1${salt}$aGFzaA")).unwrap()
}

fn mail(to: &Email) -> OutgoingMail {
    OutgoingMail {
        to: to.clone(),
        kind: MailKind::PasswordChanged,
        recipient_name: String::new(),
        link: Some(MailSecret::new("https://x.example/l".into())),
        secret: None,
        detail: None,
        language: None,
    }
}

/// What exists now, read from the plain store.
struct World {
    users: Vec<User>,
    categories: Vec<Category>,
    products: Vec<Product>,
    versions: Vec<Version>,
}

async fn world(store: &Store) -> World {
    let users: Vec<User> = UserRepository::list(store)
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.user)
        .collect();
    let categories = CategoryRepository::list(store).await.unwrap();
    let products =
        ProductRepository::list(store, ProductScope::All, PageRequest::new(1, 100).unwrap())
            .await
            .unwrap()
            .items;
    let mut versions = Vec::new();
    for p in &products {
        versions.extend(VersionRepository::list(store, p.id).await.unwrap());
    }
    World {
        users,
        categories,
        products,
        versions,
    }
}

fn new_product(
    owner: UserId,
    category: CategoryId,
    name: &str,
    published: bool,
    at: i64,
) -> NewProduct {
    NewProduct {
        name: ProductName::parse(name).unwrap(),
        description: Description::parse("d").unwrap(),
        category_id: category,
        price: Money::parse("1.00").unwrap(),
        is_published: published,
        owner_id: owner,
        image: None,
        created_at: t(at),
    }
}

fn change(product: &Product, how: u8) -> ProductUpdate {
    ProductUpdate {
        revision: product.revision,
        name: how
            .is_multiple_of(2)
            .then(|| ProductName::parse(&format!("Renamed {how}")).unwrap()),
        description: None,
        category_id: None,
        price: how
            .is_multiple_of(3)
            .then(|| Money::from_cents(i64::from(how)).unwrap()),
        is_published: (how % 4 == 1).then_some(!product.is_published),
        moderation_locked: (how % 5 == 1).then_some(!product.moderation_locked),
        updated_at: t(NOW + i64::from(how)),
    }
}

/// Runs one write through the layer. Refusals (a taken address, a conflict, a row
/// gone) are answers too: only the reads after it are judged.
#[allow(clippy::too_many_lines)]
async fn apply(kept: &Kept, store: &Store, op: &Op, step: i64, outbox: &mut Vec<OutboxId>) {
    let w = world(store).await;
    let user = |n| pick(&w.users, n);
    let product = |n| pick(&w.products, n);
    let email = |n: u8| Email::parse(&format!("u{}@example.com", n % 6)).unwrap();
    match op.clone() {
        Op::InsertUser(n) => {
            let mut new = new_user(email(n).as_str());
            new.is_verified = n % 2 == 0;
            let _ = UserRepository::insert(kept, new).await;
        }
        Op::InsertUserWithMail(n) => {
            let _ = kept
                .insert_with_mail(new_user(email(n).as_str()), Box::new(|u| mail(&u.email)))
                .await;
        }
        Op::ReleaseStaleAddress(n) => {
            let _ = kept.release_stale_address(&email(n), t(NOW * 10)).await;
        }
        Op::SetActive(n, on) => {
            if let Some(u) = user(n) {
                let _ = kept.set_active(u.id, on).await;
            }
        }
        Op::SetPassword(n, required) => {
            if let Some(u) = user(n) {
                let _ = kept.set_password(u.id, phc("bmV3"), required).await;
            }
        }
        Op::UpdateProfile(n, name) => {
            if let Some(u) = user(n) {
                let profile = ProfileUpdate {
                    first_name: PersonName::parse(&format!("First {name}")).unwrap(),
                    last_name: PersonName::parse("Last").unwrap(),
                    phone: None,
                    country: None,
                };
                let _ = kept.update_profile(u.id, profile).await;
            }
        }
        Op::SetAvatar(n, some) => {
            if let Some(u) = user(n) {
                let _ = kept
                    .set_avatar(u.id, some.then(|| "avatars/x.png".into()))
                    .await;
            }
        }
        Op::RecordLogin(n) => {
            if let Some(u) = user(n) {
                let _ = kept.record_login(u.id, t(step)).await;
            }
        }
        Op::MarkVerified(n) => {
            if let Some(u) = user(n) {
                let _ = kept.mark_verified(u.id).await;
            }
        }
        Op::QueueThrottled(n) => {
            if let Some(u) = user(n) {
                let _ = kept
                    .queue_throttled(
                        u.id,
                        MailThrottle::Verification,
                        t(step),
                        Duration::from_secs(1),
                        mail(&u.email),
                    )
                    .await;
            }
        }
        Op::SetPendingPassword(n) => {
            if let Some(u) = user(n) {
                let pending = PendingPassword {
                    hash: phc("cGVu"),
                    expires_at: t(NOW * 10),
                };
                let _ = kept
                    .set_pending_password(u.id, pending, mail(&u.email))
                    .await;
            }
        }
        Op::AdoptPendingPassword(n) => {
            if let Some(u) = user(n) {
                let _ = kept
                    .adopt_pending_password(u.id, phc("cGVu"), mail(&u.email))
                    .await;
            }
        }
        Op::ChangePassword(n, keep) => {
            if let Some(u) = user(n) {
                let keep = pick(&KEYS, keep).map(str::to_owned);
                let _ = kept
                    .change_password(u.id, phc("Y2hn"), keep, mail(&u.email))
                    .await;
            }
        }
        Op::SetPendingEmail(n, to) => {
            if let Some(u) = user(n) {
                let _ = kept.set_pending_email(u.id, Some(email(to)), vec![]).await;
            }
        }
        Op::AdoptPendingEmail(n, keep) => {
            if let Some(u) = user(n)
                && let Some(pending) = &u.pending_email
            {
                let keep = pick(&KEYS, keep).map(str::to_owned);
                let _ = kept.adopt_pending_email(u.id, pending, keep).await;
            }
        }
        Op::InsertManyUsers(n) => {
            let users = (0..2)
                .map(|i| {
                    new_user(&format!(
                        "many{}-{i}@example.com",
                        step * 256 + i64::from(n)
                    ))
                })
                .collect();
            let _ = UserRepository::insert_many(kept, users).await;
        }
        Op::AddMember(n) => {
            let group =
                GroupRepository::find_by_name(store, catalog_domain::access::Group::MODERATORS)
                    .await
                    .unwrap()
                    .unwrap();
            if let Some(u) = user(n) {
                let _ = kept.add_member(group.id, u.id).await;
            }
        }
        Op::RemoveMember(n) => {
            let group =
                GroupRepository::find_by_name(store, catalog_domain::access::Group::MODERATORS)
                    .await
                    .unwrap()
                    .unwrap();
            if let Some(u) = user(n) {
                let _ = kept.remove_member(group.id, u.id).await;
            }
        }
        Op::InsertCategory(n) => {
            let new = NewCategory {
                name: CategoryName::parse(&format!("Category {}", n % 4)).unwrap(),
                description: Description::parse("").unwrap(),
            };
            let _ = CategoryRepository::insert(kept, new).await;
        }
        Op::DeleteCategory(n) => {
            if let Some(c) = pick(&w.categories, n) {
                let _ = CategoryRepository::delete(kept, c.id).await;
            }
        }
        Op::InsertProduct(n, c, published) => {
            if let (Some(u), Some(c)) = (user(n), pick(&w.categories, c)) {
                let new = new_product(u.id, c.id, &format!("P{step}"), published, step);
                let _ = ProductRepository::insert(kept, new).await;
            }
        }
        Op::InsertManyProducts(n, c) => {
            if let (Some(u), Some(c)) = (user(n), pick(&w.categories, c)) {
                let batch = (0..3)
                    .map(|i| new_product(u.id, c.id, &format!("B{step}-{i}"), i != 1, step))
                    .collect();
                let _ = ProductRepository::insert_many(kept, batch).await;
            }
        }
        Op::UpdateProduct(n, how) => {
            if let Some(p) = product(n) {
                let _ = ProductRepository::update(kept, p.id, change(&p, how)).await;
            }
        }
        Op::EditProduct(n, how) => {
            if let Some(p) = product(n) {
                let versions = VersionsEdit {
                    insert: vec![NewVersion {
                        number: VersionNumber::parse(&format!("e{step}")).unwrap(),
                        name: VersionName::parse("").unwrap(),
                        is_current: how % 2 == 0,
                    }],
                    ..VersionsEdit::default()
                };
                let image = pick(&IMAGES, how).map(str::to_owned);
                let _ = kept.edit(p.id, change(&p, how), image, versions).await;
            }
        }
        Op::SetImage(n, which) => {
            if let Some(p) = product(n) {
                let image = pick(&IMAGES, which)
                    .filter(|_| which % 4 != 0)
                    .map(str::to_owned);
                let _ = kept.set_image(p.id, image, t(step)).await;
            }
        }
        Op::DeleteProduct(n) => {
            if let Some(p) = product(n) {
                let _ = ProductRepository::delete(kept, p.id).await;
            }
        }
        Op::InsertVersion(n, current) => {
            if let Some(p) = product(n) {
                let new = NewVersion {
                    number: VersionNumber::parse(&format!("v{step}")).unwrap(),
                    name: VersionName::parse("").unwrap(),
                    is_current: current,
                };
                let _ = VersionRepository::insert(kept, p.id, new).await;
            }
        }
        Op::UpdateVersion(n, current) => {
            if let Some(v) = pick(&w.versions, n) {
                let new = NewVersion {
                    number: v.number.clone(),
                    name: VersionName::parse(&format!("n{step}")).unwrap(),
                    is_current: current,
                };
                let _ = VersionRepository::update(kept, v.product_id, v.id, new).await;
            }
        }
        Op::DeleteVersion(n) => {
            if let Some(v) = pick(&w.versions, n) {
                let _ = VersionRepository::delete(kept, v.product_id, v.id).await;
            }
        }
        Op::SaveSession(k, u, live) => {
            let session = SessionRecord {
                key: pick(&KEYS, k).unwrap().to_owned(),
                user_id: user(u).map(|u| u.id),
                data: format!("{{\"n\":{step}}}"),
                expires_at: t(if live { NOW * 2 } else { NOW / 2 }),
            };
            let _ = kept.save(session).await;
        }
        Op::UpdateSession(k, u) => {
            let session = SessionRecord {
                key: pick(&KEYS, k).unwrap().to_owned(),
                user_id: user(u).map(|u| u.id),
                data: format!("{{\"m\":{step}}}"),
                expires_at: t(NOW * 2),
            };
            let _ = SessionRepository::update(kept, session).await;
        }
        Op::DeleteSession(k) => {
            let _ = SessionRepository::delete(kept, pick(&KEYS, k).unwrap()).await;
        }
        Op::DeleteSessionsOf(u, keep) => {
            if let Some(u) = user(u) {
                let keep = pick(&KEYS, keep).map(str::to_owned);
                let _ = SessionRepository::delete_for_user(kept, u.id, keep).await;
            }
        }
        Op::PurgeExpiredSessions => {
            let _ = kept.purge_expired(t(NOW)).await;
        }
        Op::InsertToken(d, u) => {
            if let Some(u) = user(u) {
                let digest = pick(&DIGESTS, d).unwrap().to_owned();
                let _ = ApiTokenRepository::insert(kept, u.id, digest, t(step)).await;
            }
        }
        Op::DeleteToken(d) => {
            let _ = ApiTokenRepository::delete(kept, pick(&DIGESTS, d).unwrap()).await;
        }
        Op::DeleteTokensOf(u) => {
            if let Some(u) = user(u) {
                let _ = ApiTokenRepository::delete_for_user(kept, u.id).await;
            }
        }
        Op::Enqueue => {
            if let Ok(id) = kept.enqueue(mail(&email(0)), t(0)).await {
                outbox.push(id);
            }
        }
        Op::ClaimDue => {
            let _ = kept.claim_due(t(NOW), 5, Duration::from_secs(60)).await;
        }
        Op::MarkSent(n) => {
            if let Some(id) = pick(outbox, n) {
                let _ = kept.mark_sent(id, t(step)).await;
            }
        }
        Op::MarkFailed(n) => {
            if let Some(id) = pick(outbox, n) {
                let _ = kept.mark_failed(id, "refused".into(), t(step)).await;
            }
        }
    }
}

/// Every hot read, asked of the layer and of the store, within the request that wrote:
/// the request has caught up with the database already, so only the write's own
/// forgetting can keep the layer from answering what was kept before it.
async fn same_answers(kept: &Kept, store: &Store, after: &Op) {
    let w = world(store).await;
    let now = t(NOW);
    for key in KEYS {
        let layer = kept.find_with_user(key, now).await.unwrap();
        assert_eq!(
            layer,
            store.find_with_user(key, now).await.unwrap(),
            "session {key} after {after:?}"
        );
    }
    for digest in DIGESTS {
        let layer = kept.find_holder(digest).await.unwrap();
        assert_eq!(
            layer,
            store.find_holder(digest).await.unwrap(),
            "token {digest} after {after:?}"
        );
    }
    for key in IMAGES {
        let layer = kept.image_owner(key).await.unwrap();
        assert_eq!(
            layer,
            store.image_owner(key).await.unwrap(),
            "image {key} after {after:?}"
        );
    }
    let mut ids: Vec<ProductId> = w.products.iter().map(|p| p.id).collect();
    ids.push(ProductId(999_999));
    for id in ids {
        let layer = kept.find_with_versions(id).await.unwrap();
        assert_eq!(
            layer,
            store.find_with_versions(id).await.unwrap(),
            "product {id} after {after:?}"
        );
    }
    let mut scopes = vec![ProductScope::All, ProductScope::Published];
    scopes.extend(
        w.users
            .iter()
            .map(|u| ProductScope::PublishedOrOwnedBy(u.id)),
    );
    for scope in scopes {
        for (page, per_page) in [(1, 2), (2, 2), (1, 20)] {
            let request = PageRequest::new(page, per_page).unwrap();
            let layer = ProductRepository::list(kept, scope, request).await.unwrap();
            let plain = ProductRepository::list(store, scope, request)
                .await
                .unwrap();
            assert_eq!(
                layer, plain,
                "{scope:?} page {page}/{per_page} after {after:?}"
            );
            let layer = kept.list_with_versions(scope, request).await.unwrap();
            let plain = store.list_with_versions(scope, request).await.unwrap();
            assert_eq!(
                layer, plain,
                "{scope:?} page {page}/{per_page} with versions after {after:?}"
            );
        }
    }
}

async fn run(db: &TestDatabase, ops: &[Op]) {
    let (kept, store) = (&db.kept, &db.store);
    // Two users, two categories and a product to begin with.
    for email in ["ann@example.com", "bob@example.com"] {
        UserRepository::insert(store, new_user(email))
            .await
            .unwrap();
    }
    for name in ["Lamps", "Chairs"] {
        let new = NewCategory {
            name: CategoryName::parse(name).unwrap(),
            description: Description::parse("").unwrap(),
        };
        CategoryRepository::insert(store, new).await.unwrap();
    }
    let w = world(store).await;
    ProductRepository::insert(
        store,
        new_product(w.users[0].id, w.categories[0].id, "First", true, 0),
    )
    .await
    .unwrap();
    let mut outbox = Vec::new();
    // Every read kept once before anything happens, so that a write that does not
    // forget has something to leave stale.
    same_answers(kept, store, &Op::Enqueue).await;
    for (step, op) in ops.iter().enumerate() {
        let step = i64::try_from(step).unwrap() + 1;
        // One request: its first kept read catches up (a page reads its viewer first),
        // then it writes, then it reads again.
        one_catch_up_per_request(async {
            kept.find_with_user("s0", t(NOW)).await.unwrap();
            apply(kept, store, op, step, &mut outbox).await;
            same_answers(kept, store, op).await;
        })
        .await;
    }
}

fn check(backend: Backend) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let config = ProptestConfig {
        cases: 6,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest!(config, |(ops in proptest::collection::vec(op(), 10..40))| {
        runtime.block_on(async {
            let db = match backend {
                Backend::Sqlite => Some(TestDatabase::sqlite().await.unwrap()),
                Backend::Postgres => TestDatabase::postgres().await.unwrap(),
            };
            let Some(db) = db else {
                eprintln!("skipped on PostgreSQL: TEST_DATABASE_URL is not set");
                return;
            };
            assert!(db.kept.keep_answers().await, "answers are kept");
            run(&db, &ops).await;
            db.drop_database().await.unwrap();
        });
    });
}

mod the_kept_layer_answers_as_the_store_does {
    use super::*;

    #[test]
    fn sqlite() {
        check(Backend::Sqlite);
    }

    #[test]
    fn postgres() {
        check(Backend::Postgres);
    }
}
