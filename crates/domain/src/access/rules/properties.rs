//! Random patches by random actors against products in every state: whatever
//! `apply_patch` accepts changes only what SPEC §6 lets that actor change, and whatever
//! it refuses names exactly the forbidden changes. The oracle below is written from the
//! specification's table, not from the rules it checks.

use proptest::prelude::*;

use super::tests::product;
use super::*;
use crate::product::{CategoryId, Description, Money, ProductName};

const OWNER: UserId = UserId(1);

#[derive(Debug, Clone)]
struct Case {
    owns: bool,
    superuser: bool,
    perms: Vec<Permission>,
    published: bool,
    locked: bool,
    patch: ProductPatch,
}

/// What an update should name for a field: the value sent, when it is not the stored one.
fn changed<T: PartialEq>(sent: Option<T>, stored: T) -> Option<T> {
    sent.filter(|v| *v != stored)
}

/// `None`, the current value, or another one.
fn maybe<T: Clone + std::fmt::Debug + 'static>(
    current: T,
    other: T,
) -> impl Strategy<Value = Option<T>> {
    prop_oneof![Just(None), Just(Some(current)), Just(Some(other))]
}

fn case() -> impl Strategy<Value = Case> {
    let p = product(ProductFacts {
        owner: OWNER,
        is_published: true,
        moderation_locked: false,
    });
    (
        any::<bool>(),
        any::<bool>(),
        proptest::sample::subsequence(Permission::ALL.to_vec(), 0..=3),
        // Only an unpublished product can carry the moderation lock.
        prop_oneof![
            Just((true, false)),
            Just((false, false)),
            Just((false, true))
        ],
        maybe(p.name.clone(), ProductName::parse("Renamed").unwrap()),
        maybe(
            p.description.clone(),
            Description::parse("Reworded").unwrap(),
        ),
        maybe(p.category.id, CategoryId(7)),
        maybe(p.price, Money::parse("5.00").unwrap()),
        prop_oneof![Just(None), Just(Some(true)), Just(Some(false))],
    )
        .prop_map(
            |(
                owns,
                superuser,
                perms,
                (published, locked),
                name,
                description,
                category_id,
                price,
                is_published,
            )| Case {
                owns,
                superuser,
                perms,
                published,
                locked,
                patch: ProductPatch {
                    name,
                    description,
                    category_id,
                    price,
                    is_published,
                },
            },
        )
}

/// SPEC §6, "who may do what", read directly.
fn spec_allows(c: &Case, field: Field, publish_to: bool) -> bool {
    let has = |p: Permission| c.superuser || c.perms.contains(&p);
    let owner_or_super = c.owns || c.superuser;
    match field {
        Field::Name | Field::Price | Field::Image | Field::Versions => owner_or_super,
        Field::Description => owner_or_super || has(Permission::ChangeProductDescription),
        Field::Category => owner_or_super || has(Permission::ChangeProductCategory),
        Field::IsPublished => {
            if publish_to {
                // Only a moderator lifts a moderator's lock; otherwise owners (and
                // superusers) publish, and nobody else publishes someone's draft.
                if c.locked {
                    has(Permission::UnpublishProduct)
                } else {
                    owner_or_super
                }
            } else {
                c.owns || has(Permission::UnpublishProduct)
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn no_patch_changes_what_the_actor_may_not_change(c in case()) {
        let actor_id = if c.owns { OWNER } else { UserId(2) };
        let actor = Actor::new(actor_id, c.superuser, c.perms.clone());
        let p = product(ProductFacts {
            owner: OWNER,
            is_published: c.published,
            moderation_locked: c.locked,
        });
        let patch = &c.patch;
        let attempted: Vec<(Field, bool)> = [
            (Field::Name, patch.name.as_ref().is_some_and(|v| *v != p.name)),
            (Field::Description, patch.description.as_ref().is_some_and(|v| *v != p.description)),
            (Field::Category, patch.category_id.is_some_and(|v| v != p.category.id)),
            (Field::Price, patch.price.is_some_and(|v| v != p.price)),
            (Field::IsPublished, patch.is_published.is_some_and(|v| v != p.is_published)),
        ]
        .into_iter()
        .collect();
        let publish_to = patch.is_published.unwrap_or(p.is_published);
        let forbidden: Vec<Field> = attempted
            .iter()
            .filter(|(f, changed)| *changed && !spec_allows(&c, *f, publish_to))
            .map(|(f, _)| *f)
            .collect();

        match apply_patch(&actor, &p, patch, p.updated_at) {
            Ok(update) => {
                prop_assert!(forbidden.is_empty(), "accepted forbidden changes {forbidden:?}");
                // Exactly the patch's changed values, and nothing where it changes
                // nothing (a field not written is never written over).
                prop_assert_eq!(&update.name, &changed(patch.name.clone(), p.name.clone()));
                prop_assert_eq!(&update.description, &changed(patch.description.clone(), p.description.clone()));
                prop_assert_eq!(update.category_id, changed(patch.category_id, p.category.id));
                prop_assert_eq!(update.price, changed(patch.price, p.price));
                prop_assert_eq!(update.is_published, changed(Some(publish_to), p.is_published));
                prop_assert_eq!(update.revision, p.revision);
                // The lock: set when someone else unpublishes, lifted when a moderator
                // publishes, untouched otherwise.
                let expected_lock = if publish_to == p.is_published {
                    p.moderation_locked
                } else {
                    !publish_to && !c.owns
                };
                prop_assert_eq!(update.moderation_locked, changed(Some(expected_lock), p.moderation_locked));
            }
            Err(denied) => {
                prop_assert!(!denied.fields.is_empty());
                let mut expected = forbidden.clone();
                expected.sort();
                let mut got = denied.fields.clone();
                got.sort();
                prop_assert_eq!(got, expected);
                prop_assert_eq!(
                    denied.publish_denied == Some(PublishDenied::ModerationLocked),
                    forbidden.contains(&Field::IsPublished) && c.locked && c.owns && !c.superuser
                        && !c.perms.contains(&Permission::UnpublishProduct)
                );
            }
        }
    }

    /// A listing shows a viewer exactly the products they may see: the scope storage
    /// reads and the rule for one product never disagree.
    #[test]
    fn a_listing_shows_exactly_what_its_viewer_may_see(
        signed_in in any::<bool>(),
        owns in any::<bool>(),
        superuser in any::<bool>(),
        perms in proptest::sample::subsequence(Permission::ALL.to_vec(), 0..=3),
        (published, locked) in prop_oneof![Just((true, false)), Just((false, false)), Just((false, true))],
        public_browsing in any::<bool>(),
    ) {
        let facts = ProductFacts { owner: OWNER, is_published: published, moderation_locked: locked };
        let actor = Actor::new(if owns { OWNER } else { UserId(2) }, superuser, perms);
        let viewer = signed_in.then_some(&actor);
        let listed = listing_scope(viewer, public_browsing).is_some_and(|scope| scope.includes(&facts));
        prop_assert_eq!(listed, can_see(viewer, &facts, public_browsing));
    }
}
