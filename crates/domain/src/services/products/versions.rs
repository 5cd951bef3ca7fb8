//! Versions of a product: only its owner (and superusers) manage them.

use super::{ChangeError, ProductsService, VersionInput};
use crate::access::{Actor, Field, ProductFacts, can_change};
use crate::fields::{FieldErrors, Input, Message};
use crate::ports::RepoError;
use crate::product::{NewVersion, ProductId, Version, VersionId, VersionName, VersionNumber};

fn version_of(input: &VersionInput<'_>) -> Result<NewVersion, ChangeError> {
    let mut errors = FieldErrors::new();
    let number = VersionNumber::parse(input.number)
        .map_err(|e| errors.add(Input::VersionNumber, e))
        .ok();
    let name = VersionName::parse(input.name)
        .map_err(|e| errors.add(Input::Name, e))
        .ok();
    match (number, name) {
        (Some(number), Some(name)) => Ok(NewVersion {
            number,
            name,
            is_current: input.is_current,
        }),
        _ => Err(ChangeError::Invalid(errors)),
    }
}

fn version_error(e: RepoError) -> ChangeError {
    match e {
        RepoError::VersionNumberTaken => {
            let mut errors = FieldErrors::new();
            errors.add(Input::VersionNumber, Message::new("version-number-taken"));
            ChangeError::Invalid(errors)
        }
        other => other.into(),
    }
}

impl ProductsService {
    async fn versions_allowed(&self, actor: &Actor, id: ProductId) -> Result<(), ChangeError> {
        let product = self
            .visible_to(actor, id)
            .await?
            .ok_or(ChangeError::NotFound)?;
        if can_change(actor, &ProductFacts::from(&product), Field::Versions) {
            Ok(())
        } else {
            Err(super::forbidden(Field::Versions))
        }
    }

    /// Adds a version; a current one demotes the previous current version.
    ///
    /// # Errors
    /// [`ChangeError::Forbidden`] for anyone but the owner (and superusers),
    /// [`ChangeError::Invalid`] for bad or duplicate numbers.
    pub async fn add_version(
        &self,
        actor: &Actor,
        id: ProductId,
        input: VersionInput<'_>,
    ) -> Result<Version, ChangeError> {
        self.versions_allowed(actor, id).await?;
        let version = version_of(&input)?;
        self.ports
            .versions
            .insert(id, version)
            .await
            .map_err(version_error)
    }

    /// Replaces a version's number, name and current flag.
    ///
    /// # Errors
    /// As [`ProductsService::add_version`], and [`ChangeError::NotFound`] for a version
    /// of another product.
    pub async fn update_version(
        &self,
        actor: &Actor,
        id: ProductId,
        version: VersionId,
        input: VersionInput<'_>,
    ) -> Result<Version, ChangeError> {
        self.versions_allowed(actor, id).await?;
        let new = version_of(&input)?;
        self.ports
            .versions
            .update(id, version, new)
            .await
            .map_err(version_error)
    }

    /// # Errors
    /// As [`ProductsService::update_version`].
    pub async fn delete_version(
        &self,
        actor: &Actor,
        id: ProductId,
        version: VersionId,
    ) -> Result<(), ChangeError> {
        self.versions_allowed(actor, id).await?;
        self.ports
            .versions
            .delete(id, version)
            .await
            .map_err(version_error)
    }
}
