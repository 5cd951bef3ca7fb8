//! The table of SPEC §6, cell by cell. Each row is one actor and one ownership; each
//! column group is one product state. A changed rule changes a cell and fails the test.

use super::*;
use crate::product::{
    CategoryId, CategoryName, CategoryRef, Description, Money, OwnerRef, ProductId, ProductName,
};
use crate::user::Email;

const OWNER: UserId = UserId(1);
const ACTOR: UserId = UserId(2);

#[derive(Debug, Clone, Copy)]
enum Who {
    Plain,
    Unpublisher,
    Describer,
    Categorizer,
    Moderator,
    Superuser,
}

fn actor(who: Who, own: bool) -> Actor {
    let id = if own { OWNER } else { ACTOR };
    let perms: Vec<Permission> = match who {
        Who::Plain | Who::Superuser => vec![],
        Who::Unpublisher => vec![Permission::UnpublishProduct],
        Who::Describer => vec![Permission::ChangeProductDescription],
        Who::Categorizer => vec![Permission::ChangeProductCategory],
        Who::Moderator => Permission::ALL.to_vec(),
    };
    Actor::new(id, matches!(who, Who::Superuser), perms)
}

const PUBLISHED: ProductFacts = ProductFacts {
    owner: OWNER,
    is_published: true,
    moderation_locked: false,
};
const DRAFT: ProductFacts = ProductFacts {
    owner: OWNER,
    is_published: false,
    moderation_locked: false,
};
const LOCKED: ProductFacts = ProductFacts {
    owner: OWNER,
    is_published: false,
    moderation_locked: true,
};

/// One cell string: see, listed, name, description, category, price, image, versions, publish,
/// unpublish, delete. `Y` allowed, `.` refused, `=` not a change (the flag already has
/// that value), which is always allowed.
fn cells(actor: &Actor, p: &ProductFacts) -> String {
    let yes = |b: bool| if b { 'Y' } else { '.' };
    let flag = |to: bool| {
        if to == p.is_published {
            '='
        } else {
            yes(publish_transition(actor, p, to).is_ok())
        }
    };
    let mut s = String::new();
    s.push(yes(can_see(Some(actor), p, false)));
    s.push(yes(
        listing_scope(Some(actor), false).is_some_and(|scope| scope.includes(p))
    ));
    for f in [
        Field::Name,
        Field::Description,
        Field::Category,
        Field::Price,
        Field::Image,
        Field::Versions,
    ] {
        s.push(yes(can_change(actor, p, f)));
    }
    s.push(flag(true));
    s.push(flag(false));
    s.push(yes(can_delete(actor, p)));
    s
}

#[test]
fn every_actor_field_and_ownership_matches_the_specification_table() {
    #[rustfmt::skip]
    let expected: &[(Who, bool, [&str; 3])] = &[
        //                            published       draft           locked
        (Who::Plain,       true,  ["YYYYYYYY=YY", "YYYYYYYYY=Y", "YYYYYYYY.=Y"]),
        (Who::Plain,       false, ["YY......=..", ".........=.", ".........=."]),
        (Who::Unpublisher, true,  ["YYYYYYYY=YY", "YYYYYYYYY=Y", "YYYYYYYYY=Y"]),
        (Who::Unpublisher, false, ["YY......=Y.", "YY.......=.", "YY......Y=."]),
        (Who::Describer,   true,  ["YYYYYYYY=YY", "YYYYYYYYY=Y", "YYYYYYYY.=Y"]),
        (Who::Describer,   false, ["YY.Y....=..", "...Y.....=.", "...Y.....=."]),
        (Who::Categorizer, true,  ["YYYYYYYY=YY", "YYYYYYYYY=Y", "YYYYYYYY.=Y"]),
        (Who::Categorizer, false, ["YY..Y...=..", "....Y....=.", "....Y....=."]),
        (Who::Moderator,   true,  ["YYYYYYYY=YY", "YYYYYYYYY=Y", "YYYYYYYYY=Y"]),
        (Who::Moderator,   false, ["YY.YY...=Y.", "YY.YY....=.", "YY.YY...Y=."]),
        (Who::Superuser,   true,  ["YYYYYYYY=YY", "YYYYYYYYY=Y", "YYYYYYYYY=Y"]),
        (Who::Superuser,   false, ["YYYYYYYY=YY", "YYYYYYYYY=Y", "YYYYYYYYY=Y"]),
    ];
    let mut mismatches = Vec::new();
    for (who, own, row) in expected {
        let a = actor(*who, *own);
        for (state, want) in [PUBLISHED, DRAFT, LOCKED].iter().zip(row) {
            let got = cells(&a, state);
            if got != *want {
                mismatches.push(format!(
                    "{who:?} own={own} {state:?}: want {want}, got {got}"
                ));
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn anonymous_visitors_see_published_products_only_with_public_browsing() {
    for (state, public, want) in [
        (PUBLISHED, false, false),
        (DRAFT, false, false),
        (LOCKED, false, false),
        (PUBLISHED, true, true),
        (DRAFT, true, false),
        (LOCKED, true, false),
    ] {
        assert_eq!(
            can_see(None, &state, public),
            want,
            "{state:?} public={public}"
        );
        let listed = listing_scope(None, public).is_some_and(|scope| scope.includes(&state));
        assert_eq!(listed, want, "listed: {state:?} public={public}");
    }
}

#[test]
fn unpublishing_by_someone_else_locks_and_republishing_by_a_moderator_unlocks() {
    let moderator = actor(Who::Moderator, false);
    let superuser = actor(Who::Superuser, false);
    let owner = actor(Who::Plain, true);
    assert_eq!(publish_transition(&moderator, &PUBLISHED, false), Ok(true));
    assert_eq!(publish_transition(&superuser, &PUBLISHED, false), Ok(true));
    assert_eq!(publish_transition(&owner, &PUBLISHED, false), Ok(false));
    assert_eq!(publish_transition(&moderator, &LOCKED, true), Ok(false));
    assert_eq!(publish_transition(&superuser, &LOCKED, true), Ok(false));
    assert_eq!(
        publish_transition(&owner, &LOCKED, true),
        Err(PublishDenied::ModerationLocked)
    );
    assert_eq!(
        publish_transition(&moderator, &DRAFT, true),
        Err(PublishDenied::NotPermitted)
    );
    // Setting the value it already has keeps the lock as it is.
    assert_eq!(publish_transition(&owner, &LOCKED, false), Ok(true));
}

#[test]
fn edit_forms_offer_a_moderator_only_what_they_may_change() {
    let moderator = actor(Who::Moderator, false);
    assert_eq!(
        editable_fields(&moderator, &PUBLISHED),
        vec![Field::Description, Field::Category, Field::IsPublished]
    );
    assert_eq!(
        editable_fields(&actor(Who::Plain, true), &PUBLISHED),
        Field::ALL.to_vec()
    );
    assert!(editable_fields(&actor(Who::Plain, false), &PUBLISHED).is_empty());
}

pub(super) fn product(facts: ProductFacts) -> Product {
    let t = chrono::DateTime::UNIX_EPOCH;
    Product {
        id: ProductId(10),
        name: ProductName::parse("Lamp").unwrap(),
        description: Description::parse("Bright").unwrap(),
        image: None,
        category: CategoryRef {
            id: CategoryId(1),
            name: CategoryName::parse("Home").unwrap(),
        },
        price: Money::parse("19.99").unwrap(),
        is_published: facts.is_published,
        moderation_locked: facts.moderation_locked,
        owner: OwnerRef {
            id: facts.owner,
            email: Email::parse("owner@example.com").unwrap(),
            first_name: crate::user::PersonName::default(),
            last_name: crate::user::PersonName::default(),
        },
        created_at: t,
        updated_at: t,
        revision: 3,
    }
}

fn full_patch(p: &Product) -> ProductPatch {
    ProductPatch {
        name: Some(p.name.clone()),
        description: Some(p.description.clone()),
        category_id: Some(p.category.id),
        price: Some(p.price),
        is_published: Some(p.is_published),
    }
}

#[test]
fn sending_the_current_values_back_is_not_a_change() {
    let p = product(PUBLISHED);
    let plain = actor(Who::Plain, false);
    let update = apply_patch(&plain, &p, &full_patch(&p), p.updated_at).unwrap();
    assert!(update.is_empty(), "{update:?}");
    assert_eq!(update.revision, p.revision);
}

#[test]
fn a_moderator_patch_touching_forbidden_fields_lists_them_all() {
    let p = product(PUBLISHED);
    let moderator = actor(Who::Moderator, false);
    let mut patch = full_patch(&p);
    patch.name = Some(ProductName::parse("Renamed").unwrap());
    patch.price = Some(Money::parse("1.00").unwrap());
    patch.description = Some(Description::parse("allowed").unwrap());
    let denied = apply_patch(&moderator, &p, &patch, p.updated_at).unwrap_err();
    assert_eq!(denied.fields, vec![Field::Name, Field::Price]);
    assert_eq!(denied.to_string(), "You may not change: name, price");
}

#[test]
fn a_moderator_patch_within_the_rules_locks_what_it_unpublishes() {
    let p = product(PUBLISHED);
    let moderator = actor(Who::Moderator, false);
    let patch = ProductPatch {
        description: Some(Description::parse("Tidied up").unwrap()),
        category_id: Some(CategoryId(2)),
        is_published: Some(false),
        ..ProductPatch::default()
    };
    let update = apply_patch(&moderator, &p, &patch, p.updated_at).unwrap();
    assert_eq!(
        update.description.as_ref().map(Description::as_str),
        Some("Tidied up")
    );
    assert_eq!(update.category_id, Some(CategoryId(2)));
    assert_eq!(update.is_published, Some(false));
    assert_eq!(update.moderation_locked, Some(true));
    assert_eq!(
        update.name, None,
        "what the patch leaves alone is not written"
    );
    assert_eq!(update.price, None);
}

#[test]
fn an_owner_cannot_republish_a_locked_product_and_is_told_why() {
    let p = product(LOCKED);
    let owner = actor(Who::Plain, true);
    let patch = ProductPatch {
        is_published: Some(true),
        name: Some(ProductName::parse("New name").unwrap()),
        ..ProductPatch::default()
    };
    let denied = apply_patch(&owner, &p, &patch, p.updated_at).unwrap_err();
    assert_eq!(denied.fields, vec![Field::IsPublished]);
    assert_eq!(denied.publish_denied, Some(PublishDenied::ModerationLocked));
}

#[test]
fn only_the_owner_moderators_and_superusers_see_the_owners_address() {
    for (viewer, sees) in [
        (None, false),
        (Some(actor(Who::Plain, false)), false),
        (Some(actor(Who::Plain, true)), true),
        (Some(actor(Who::Moderator, false)), true),
        (Some(actor(Who::Superuser, false)), true),
    ] {
        for facts in [PUBLISHED, DRAFT, LOCKED] {
            assert_eq!(
                sees_owner_email(viewer.as_ref(), &facts),
                sees,
                "{viewer:?}"
            );
        }
    }
}

#[test]
fn an_owner_without_a_name_is_shown_by_a_neutral_label() {
    let mut owner = product(PUBLISHED).owner;
    assert_eq!(owner.display_name(), "Member #1");
    owner.first_name = crate::user::PersonName::parse("Ann").unwrap();
    assert_eq!(owner.display_name(), "Ann");
    owner.last_name = crate::user::PersonName::parse("Lee").unwrap();
    assert_eq!(owner.display_name(), "Ann Lee");
}
