//! Product images: stored through the media pipeline, replaced, forgotten, and served
//! only to those who may see their product.

use super::errors::ImageRefused;
use super::{ChangeError, ProductsService, ViewError, forbidden};
use crate::access::{Actor, Field, ProductFacts, can_change, can_see};
use crate::fields::{FieldErrors, Input};
use crate::media::Variant;
use crate::ports::{MediaError, StoredMedia};
use crate::product::{Product, ProductId};

/// Who may see a product image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageAudience {
    /// Anybody, anonymous visitors included: a published product with public browsing.
    Everybody,
    /// Only some viewers (signed-in users, or the owner and moderators of a draft).
    Some,
}

impl ProductsService {
    /// Removing an image nobody refers to any more is housekeeping: its failure must not
    /// fail the request.
    pub(super) async fn forget_image(&self, key: &str) {
        let _ = self.ports.media.delete(key).await;
    }

    pub(super) async fn store_image(&self, bytes: Vec<u8>) -> Result<String, ImageRefused> {
        match self.ports.media.save_image("products", bytes).await {
            Ok(key) => Ok(key),
            Err(e) if e.refuses_the_file() => {
                let mut errors = FieldErrors::new();
                errors.add(Input::Image, e);
                Err(ImageRefused::Invalid(errors))
            }
            Err(e) => Err(ImageRefused::Failed(e)),
        }
    }

    /// The product image stored under `key`, for a viewer who may see its product, and
    /// whether anybody may (then shared caches may keep it too).
    ///
    /// # Errors
    /// [`ViewError::NotFound`] when no product has the image or the viewer may not
    /// see the one that has: a draft's image is as private as the draft.
    pub async fn image(
        &self,
        viewer: Option<&Actor>,
        key: &str,
    ) -> Result<(ImageAudience, StoredMedia), ViewError> {
        // A variant is as visible as its original; an original stored before variants
        // existed stands in for its missing ones.
        let variant = Variant::of_key(key);
        let mut original = None;
        let mut facts = None;
        match &variant {
            None => facts = self.ports.products.image_owner(key).await?,
            Some((_, candidates)) => {
                for candidate in candidates {
                    if let Some(found) = self.ports.products.image_owner(candidate).await? {
                        facts = Some(found);
                        original = Some(candidate.as_str());
                        break;
                    }
                }
            }
        }
        let facts = facts.ok_or(ViewError::NotFound)?;
        if !can_see(viewer, &facts, self.public_browsing) {
            return Err(ViewError::NotFound);
        }
        let audience = if can_see(None, &facts, self.public_browsing) {
            ImageAudience::Everybody
        } else {
            ImageAudience::Some
        };
        let file = match (self.ports.media.open(key).await, original) {
            (Err(MediaError::NotFound), Some(original)) => self.ports.media.open(original).await,
            (opened, _) => opened,
        };
        match file {
            Ok(file) => Ok((audience, file)),
            Err(MediaError::NotFound) => Err(ViewError::NotFound),
            Err(e) => Err(ViewError::Media(e)),
        }
    }

    /// Replaces the image.
    ///
    /// # Errors
    /// [`ChangeError::NotFound`], [`ChangeError::Forbidden`] or an image field error.
    pub async fn set_image(
        &self,
        actor: &Actor,
        id: ProductId,
        bytes: Vec<u8>,
    ) -> Result<Product, ChangeError> {
        let product = self
            .visible_to(actor, id)
            .await?
            .ok_or(ChangeError::NotFound)?;
        if !can_change(actor, &ProductFacts::from(&product), Field::Image) {
            return Err(forbidden(Field::Image));
        }
        let key = self.store_image(bytes).await?;
        if let Err(e) = self
            .ports
            .products
            .set_image(id, Some(key.clone()), self.ports.clock.now())
            .await
        {
            self.forget_image(&key).await;
            return Err(e.into());
        }
        if let Some(old) = &product.image {
            self.forget_image(old).await;
        }
        Ok(Product {
            image: Some(key),
            ..product
        })
    }
}
