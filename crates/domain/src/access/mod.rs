//! Who may see and change what: permissions, groups, the acting user, and the rules of
//! the catalog as pure functions of those values.

mod rules;

use std::collections::BTreeSet;
use std::fmt;

pub use rules::{
    Field, PatchDenied, ProductFacts, ProductScope, PublishDenied, apply_patch, can_change,
    can_delete, can_see, editable_fields, listing_scope, publish_transition, sees_owner_email,
};

use crate::user::UserId;

/// A permission the rules know about, stored by its Django-style codename.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Permission {
    UnpublishProduct,
    ChangeProductDescription,
    ChangeProductCategory,
}

impl Permission {
    pub const ALL: [Permission; 3] = [
        Permission::UnpublishProduct,
        Permission::ChangeProductDescription,
        Permission::ChangeProductCategory,
    ];

    pub fn codename(self) -> &'static str {
        match self {
            Self::UnpublishProduct => "catalog.unpublish_product",
            Self::ChangeProductDescription => "catalog.change_product_description",
            Self::ChangeProductCategory => "catalog.change_product_category",
        }
    }

    pub fn from_codename(codename: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.codename() == codename)
    }

    pub fn description(self) -> &'static str {
        match self {
            Self::UnpublishProduct => "Can unpublish any product",
            Self::ChangeProductDescription => "Can change the description of any product",
            Self::ChangeProductCategory => "Can change the category of any product",
        }
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.codename())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupId(pub i64);

/// A named set of permissions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub id: GroupId,
    pub name: String,
    pub permissions: BTreeSet<Permission>,
}

impl Group {
    /// The group every database has, created by a migration.
    pub const MODERATORS: &'static str = "moderators";
}

/// A group as administrative listings show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupSummary {
    pub group: Group,
    pub member_count: u64,
}

/// The signed-in user as the rules see them: identity, superuser flag and the union of
/// the permissions of their groups, read afresh for every request so that a revoked
/// membership takes effect at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    user_id: UserId,
    is_superuser: bool,
    permissions: BTreeSet<Permission>,
}

impl Actor {
    pub fn new(
        user_id: UserId,
        is_superuser: bool,
        permissions: impl IntoIterator<Item = Permission>,
    ) -> Self {
        Self {
            user_id,
            is_superuser,
            permissions: permissions.into_iter().collect(),
        }
    }

    pub fn user_id(&self) -> UserId {
        self.user_id
    }

    pub fn is_superuser(&self) -> bool {
        self.is_superuser
    }

    /// Superusers hold every permission implicitly.
    pub fn has(&self, permission: Permission) -> bool {
        self.is_superuser || self.permissions.contains(&permission)
    }

    pub fn permissions(&self) -> impl Iterator<Item = Permission> + '_ {
        self.permissions.iter().copied()
    }
}
