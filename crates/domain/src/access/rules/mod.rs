use std::fmt;

use super::{Actor, Permission};
use crate::Timestamp;
use crate::product::{Product, ProductPatch, ProductUpdate};
use crate::user::UserId;

/// What the rules need to know about a product.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProductFacts {
    pub owner: UserId,
    pub is_published: bool,
    pub moderation_locked: bool,
}

impl From<&Product> for ProductFacts {
    fn from(p: &Product) -> Self {
        Self {
            owner: p.owner.id,
            is_published: p.is_published,
            moderation_locked: p.moderation_locked,
        }
    }
}

/// The parts of a product someone may try to change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    Name,
    Description,
    Category,
    Price,
    Image,
    IsPublished,
    Versions,
}

impl Field {
    pub const ALL: [Field; 7] = [
        Field::Name,
        Field::Description,
        Field::Category,
        Field::Price,
        Field::Image,
        Field::IsPublished,
        Field::Versions,
    ];

    /// The name clients use for the field in forms and JSON.
    pub fn api_name(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::Description => "description",
            Self::Category => "category_id",
            Self::Price => "price",
            Self::Image => "image",
            Self::IsPublished => "is_published",
            Self::Versions => "versions",
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.api_name())
    }
}

fn owns(actor: &Actor, product: &ProductFacts) -> bool {
    actor.user_id() == product.owner
}

/// Who sees a product: anybody signed in sees published products; owners see their own;
/// holders of `unpublish_product` (and superusers) see everything. Anonymous visitors see
/// published products only when public browsing is on.
pub fn can_see(viewer: Option<&Actor>, product: &ProductFacts, public_browsing: bool) -> bool {
    match viewer {
        None => public_browsing && product.is_published,
        Some(actor) => {
            product.is_published || owns(actor, product) || actor.has(Permission::UnpublishProduct)
        }
    }
}

/// Which products a listing shows, as a storage adapter reads them (each kind through
/// its own index).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProductScope {
    All,
    Published,
    PublishedOrOwnedBy(UserId),
}

impl ProductScope {
    /// Whether a product with these facts is in the scope.
    pub fn includes(self, product: &ProductFacts) -> bool {
        match self {
            Self::All => true,
            Self::Published => product.is_published,
            Self::PublishedOrOwnedBy(owner) => product.is_published || product.owner == owner,
        }
    }
}

/// The listing `viewer` gets: exactly the products [`can_see`] shows them, as a scope;
/// `None` for an anonymous visitor while public browsing is off (they must sign in).
pub fn listing_scope(viewer: Option<&Actor>, public_browsing: bool) -> Option<ProductScope> {
    match viewer {
        None => public_browsing.then_some(ProductScope::Published),
        Some(actor) if actor.has(Permission::UnpublishProduct) => Some(ProductScope::All),
        Some(actor) => Some(ProductScope::PublishedOrOwnedBy(actor.user_id())),
    }
}

/// Whether `actor` may change `field` of a product at all. For [`Field::IsPublished`]
/// this says whether *some* change of the flag is open to the actor; the direction is
/// decided by [`publish_transition`].
pub fn can_change(actor: &Actor, product: &ProductFacts, field: Field) -> bool {
    if actor.is_superuser() || owns(actor, product) {
        return match field {
            Field::IsPublished => publish_transition(actor, product, !product.is_published).is_ok(),
            _ => true,
        };
    }
    match field {
        Field::Description => actor.has(Permission::ChangeProductDescription),
        Field::Category => actor.has(Permission::ChangeProductCategory),
        Field::IsPublished => publish_transition(actor, product, !product.is_published).is_ok(),
        Field::Name | Field::Price | Field::Image | Field::Versions => false,
    }
}

/// Why a change of the published flag was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PublishDenied {
    #[error("A moderator unpublished this product; only a moderator can publish it again.")]
    ModerationLocked,
    #[error("You may not change whether this product is published.")]
    NotPermitted,
}

/// Decides a change of `is_published` to `to` and returns the moderation lock the product
/// has afterwards.
///
/// - Setting the current value is not a change and keeps the lock as it is.
/// - A moderator (holder of `unpublish_product`) or superuser who does not own the product
///   may unpublish it; that sets the lock.
/// - A locked product can be published again only by a moderator or superuser, which
///   clears the lock; its owner cannot.
/// - A draft its owner never published stays the owner's business: a moderator who does
///   not own it cannot publish it (a superuser can).
///
/// # Errors
/// [`PublishDenied`] saying why the change is refused.
pub fn publish_transition(
    actor: &Actor,
    product: &ProductFacts,
    to: bool,
) -> Result<bool, PublishDenied> {
    if to == product.is_published {
        return Ok(product.moderation_locked);
    }
    let owner = owns(actor, product);
    let moderator = actor.has(Permission::UnpublishProduct);
    if !to {
        // Unpublishing a published product.
        return match (owner, moderator) {
            (true, _) => Ok(false),
            (false, true) => Ok(true),
            (false, false) => Err(PublishDenied::NotPermitted),
        };
    }
    if product.moderation_locked {
        return if moderator {
            Ok(false)
        } else if owner {
            Err(PublishDenied::ModerationLocked)
        } else {
            Err(PublishDenied::NotPermitted)
        };
    }
    if owner || actor.is_superuser() {
        Ok(false)
    } else {
        Err(PublishDenied::NotPermitted)
    }
}

/// Who sees the owner's email address next to a product: the owner, superusers and
/// moderators (holders of any moderation permission, who may need to reach the owner).
/// Everyone else, anonymous visitors included, sees only the owner's display name.
pub fn sees_owner_email(viewer: Option<&Actor>, product: &ProductFacts) -> bool {
    viewer.is_some_and(|actor| {
        owns(actor, product) || Permission::ALL.into_iter().any(|p| actor.has(p))
    })
}

/// Owners and superusers may delete a product; nobody else.
pub fn can_delete(actor: &Actor, product: &ProductFacts) -> bool {
    actor.is_superuser() || owns(actor, product)
}

/// The fields an edit form offers the actor, in form order.
pub fn editable_fields(actor: &Actor, product: &ProductFacts) -> Vec<Field> {
    Field::ALL
        .into_iter()
        .filter(|f| can_change(actor, product, *f))
        .collect()
}

/// A patch that tried to change fields the actor may not change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("You may not change: {}", .fields.iter().map(|f| f.api_name()).collect::<Vec<_>>().join(", "))]
pub struct PatchDenied {
    /// Every forbidden field the patch would have changed, in a stable order.
    pub fields: Vec<Field>,
    /// Set when the refusal is a moderation lock, so the page can say why.
    pub publish_denied: Option<PublishDenied>,
}

/// Checks a patch field by field against the rules and returns the changes to store.
/// Only values that differ from the stored ones count as changes, so a client may send the
/// whole representation back; the update names only those, and the product's revision.
///
/// # Errors
/// [`PatchDenied`] listing every forbidden field; then nothing may be saved.
pub fn apply_patch(
    actor: &Actor,
    product: &Product,
    patch: &ProductPatch,
    now: Timestamp,
) -> Result<ProductUpdate, PatchDenied> {
    let facts = ProductFacts::from(product);
    let mut denied = Vec::new();
    let mut check = |field: Field, changed: bool| {
        if changed && !can_change(actor, &facts, field) {
            denied.push(field);
        }
    };
    check(
        Field::Name,
        patch.name.as_ref().is_some_and(|v| *v != product.name),
    );
    check(
        Field::Description,
        patch
            .description
            .as_ref()
            .is_some_and(|v| *v != product.description),
    );
    check(
        Field::Category,
        patch.category_id.is_some_and(|v| v != product.category.id),
    );
    check(
        Field::Price,
        patch.price.is_some_and(|v| v != product.price),
    );

    let to = patch.is_published.unwrap_or(product.is_published);
    let publish = publish_transition(actor, &facts, to);
    let mut publish_denied = None;
    let moderation_locked = match publish {
        Ok(lock) => lock,
        Err(why) => {
            denied.push(Field::IsPublished);
            publish_denied = Some(why);
            product.moderation_locked
        }
    };
    if !denied.is_empty() {
        denied.sort();
        return Err(PatchDenied {
            fields: denied,
            publish_denied,
        });
    }
    Ok(ProductUpdate {
        revision: product.revision,
        name: patch.name.clone().filter(|v| *v != product.name),
        description: patch
            .description
            .clone()
            .filter(|v| *v != product.description),
        category_id: patch.category_id.filter(|v| *v != product.category.id),
        price: patch.price.filter(|v| *v != product.price),
        is_published: (to != product.is_published).then_some(to),
        moderation_locked: (moderation_locked != product.moderation_locked)
            .then_some(moderation_locked),
        updated_at: now,
    })
}

#[cfg(test)]
mod properties;
#[cfg(test)]
mod tests;
