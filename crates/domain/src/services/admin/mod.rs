//! Administration: what the `catalog` command line does to accounts, groups and
//! categories.

use crate::access::GroupSummary;
use crate::ports::{HashError, MediaError, RepoError};
use crate::product::{Category, CategoryName, Description, NewCategory, TextError};
use crate::user::{
    Email, EmailError, NewUser, Password, PasswordContext, PasswordError, PersonName, User,
    UserWithGroups,
};

use super::AdminPorts;

#[derive(Debug, thiserror::Error)]
pub enum CreateSuperuserError {
    #[error("invalid email: {0}")]
    InvalidEmail(#[from] EmailError),
    #[error("weak password: {0}")]
    WeakPassword(#[from] PasswordError),
    #[error("an account with this email already exists")]
    EmailTaken,
    #[error(transparent)]
    Hash(#[from] HashError),
    #[error(transparent)]
    Unexpected(RepoError),
}

#[derive(Debug, thiserror::Error)]
pub enum MembershipError {
    #[error("invalid email: {0}")]
    InvalidEmail(#[from] EmailError),
    #[error("no group named {0:?}")]
    UnknownGroup(String),
    #[error("no user with email {0}")]
    UnknownUser(String),
    #[error(transparent)]
    Unexpected(#[from] RepoError),
}

#[derive(Debug, thiserror::Error)]
pub enum SetActiveError {
    #[error("invalid email: {0}")]
    InvalidEmail(#[from] EmailError),
    #[error("no user with email {0}")]
    UnknownUser(String),
    #[error(transparent)]
    Unexpected(#[from] RepoError),
}

#[derive(Debug, thiserror::Error)]
pub enum AddCategoryError {
    #[error("invalid name: {0}")]
    InvalidName(TextError),
    #[error("invalid description: {0}")]
    InvalidDescription(TextError),
    #[error("a category named {0:?} already exists")]
    NameTaken(String),
    #[error(transparent)]
    Unexpected(RepoError),
}

#[derive(Debug, thiserror::Error)]
pub enum RemoveCategoryError {
    #[error("no category named {0:?}")]
    Unknown(String),
    #[error("category {name:?} still has {count} products; move or delete them first")]
    InUse { name: String, count: u64 },
    #[error(transparent)]
    Unexpected(RepoError),
}

/// Listing errors carry nothing the caller can act on.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct ListError(#[from] pub RepoError);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Membership {
    Changed,
    Unchanged,
}

/// The administrative use cases.
#[derive(Debug, Clone)]
pub struct AdminService {
    ports: AdminPorts,
}

impl AdminService {
    pub fn new(ports: AdminPorts) -> Self {
        Self { ports }
    }

    /// Creates an active, verified superuser.
    ///
    /// # Errors
    /// [`CreateSuperuserError`] for a bad email, a weak password or a taken address.
    pub async fn create_superuser(
        &self,
        email: &str,
        password: &str,
    ) -> Result<User, CreateSuperuserError> {
        let email = Email::parse(email)?;
        let password = Password::parse(
            password,
            PasswordContext {
                email: Some(email.as_str()),
                ..PasswordContext::default()
            },
        )?;
        if self
            .ports
            .users
            .find_by_email(&email)
            .await
            .map_err(CreateSuperuserError::Unexpected)?
            .is_some()
        {
            return Err(CreateSuperuserError::EmailTaken);
        }
        let password_hash = self.ports.hasher.hash(&password).await?;
        let user = NewUser {
            email,
            password_hash,
            is_active: true,
            is_verified: true,
            is_superuser: true,
            first_name: PersonName::default(),
            last_name: PersonName::default(),
            date_joined: self.ports.clock.now(),
            language: None,
        };
        self.ports.users.insert(user).await.map_err(|e| match e {
            RepoError::EmailTaken => CreateSuperuserError::EmailTaken,
            other => CreateSuperuserError::Unexpected(other),
        })
    }

    /// # Errors
    /// [`ListError`] when the database fails.
    pub async fn list_groups(&self) -> Result<Vec<GroupSummary>, ListError> {
        Ok(self.ports.groups.list().await?)
    }

    /// # Errors
    /// [`MembershipError`] for an unknown group or user.
    pub async fn add_member(
        &self,
        group: &str,
        email: &str,
    ) -> Result<Membership, MembershipError> {
        self.change_membership(group, email, true).await
    }

    /// # Errors
    /// [`MembershipError`] for an unknown group or user.
    pub async fn remove_member(
        &self,
        group: &str,
        email: &str,
    ) -> Result<Membership, MembershipError> {
        self.change_membership(group, email, false).await
    }

    async fn change_membership(
        &self,
        group_name: &str,
        email: &str,
        add: bool,
    ) -> Result<Membership, MembershipError> {
        let email = Email::parse(email)?;
        let group = self
            .ports
            .groups
            .find_by_name(group_name)
            .await?
            .ok_or_else(|| MembershipError::UnknownGroup(group_name.to_owned()))?;
        let user = self
            .ports
            .users
            .find_by_email(&email)
            .await?
            .ok_or_else(|| MembershipError::UnknownUser(email.to_string()))?;
        let changed = if add {
            self.ports.groups.add_member(group.id, user.id).await?
        } else {
            self.ports.groups.remove_member(group.id, user.id).await?
        };
        Ok(if changed {
            Membership::Changed
        } else {
            Membership::Unchanged
        })
    }

    /// # Errors
    /// [`ListError`] when the database fails.
    pub async fn list_users(&self) -> Result<Vec<UserWithGroups>, ListError> {
        Ok(self.ports.users.list().await?)
    }

    /// Activates or deactivates an account; deactivation ends its sessions and tokens.
    ///
    /// # Errors
    /// [`SetActiveError`] for an unknown user.
    pub async fn set_active(&self, email: &str, active: bool) -> Result<(), SetActiveError> {
        let email = Email::parse(email)?;
        let user = self
            .ports
            .users
            .find_by_email(&email)
            .await?
            .ok_or_else(|| SetActiveError::UnknownUser(email.to_string()))?;
        self.ports.users.set_active(user.id, active).await?;
        Ok(())
    }

    /// # Errors
    /// [`AddCategoryError`] for invalid input or a taken name.
    pub async fn add_category(
        &self,
        name: &str,
        description: &str,
    ) -> Result<Category, AddCategoryError> {
        let name = CategoryName::parse(name).map_err(AddCategoryError::InvalidName)?;
        let description =
            Description::parse(description).map_err(AddCategoryError::InvalidDescription)?;
        let shown = name.to_string();
        self.ports
            .categories
            .insert(NewCategory { name, description })
            .await
            .map_err(|e| match e {
                RepoError::CategoryNameTaken => AddCategoryError::NameTaken(shown),
                other => AddCategoryError::Unexpected(other),
            })
    }

    /// # Errors
    /// [`ListError`] when the database fails.
    pub async fn list_categories(&self) -> Result<Vec<Category>, ListError> {
        Ok(self.ports.categories.list().await?)
    }

    /// # Errors
    /// [`RemoveCategoryError::InUse`] with the product count while products use it.
    pub async fn remove_category(&self, name: &str) -> Result<(), RemoveCategoryError> {
        let category = self
            .ports
            .categories
            .find_by_name(name.trim())
            .await
            .map_err(RemoveCategoryError::Unexpected)?
            .ok_or_else(|| RemoveCategoryError::Unknown(name.to_owned()))?;
        self.ports
            .categories
            .delete(category.id)
            .await
            .map_err(|e| match e {
                RepoError::CategoryInUse(count) => RemoveCategoryError::InUse {
                    name: name.to_owned(),
                    count,
                },
                RepoError::NotFound => RemoveCategoryError::Unknown(name.to_owned()),
                other => RemoveCategoryError::Unexpected(other),
            })
    }
}

/// What `catalog media thumbnails` did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ThumbnailsSummary {
    /// Images that got their variants now.
    pub made: u64,
    /// Images that had them already.
    pub present: u64,
    /// Stored files that are not acceptable images any more (left as they are).
    pub refused: u64,
}

impl AdminService {
    /// Makes the resized variants of every stored image that lacks them (images stored
    /// before variants existed), telling `progress` how many of how many are done.
    ///
    /// # Errors
    /// [`MediaError`] when the store fails (what was made stays made).
    pub async fn make_thumbnails(
        &self,
        progress: &mut (dyn FnMut(u64, u64) + Send),
    ) -> Result<ThumbnailsSummary, MediaError> {
        let originals = self.ports.media.originals().await?;
        let total = originals.len() as u64;
        let mut summary = ThumbnailsSummary::default();
        progress(0, total);
        for (done, key) in originals.iter().enumerate() {
            match self.ports.media.make_variants(key).await {
                Ok(true) => summary.made += 1,
                Ok(false) => summary.present += 1,
                Err(e) if e.refuses_the_file() => summary.refused += 1,
                // Removed meanwhile (its product was deleted).
                Err(MediaError::NotFound) => {}
                Err(e) => return Err(e),
            }
            progress(done as u64 + 1, total);
        }
        Ok(summary)
    }
}

#[cfg(test)]
mod tests;
