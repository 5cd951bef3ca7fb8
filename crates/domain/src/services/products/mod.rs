//! Products: listing and reading under the visibility rules, creating (the owner is
//! always the acting user), changing field by field under the access rules, deleting,
//! images and versions.

use crate::access::{
    Actor, Field, PatchDenied, ProductFacts, PublishDenied, apply_patch, can_change, can_delete,
    can_see, listing_scope,
};
use crate::fields::{FieldErrors, Input};
use crate::ports::{MediaError, ProductScope, RepoError};
use crate::product::{
    CategoryId, Description, Money, NewProduct, Product, ProductId, ProductName, ProductPatch,
    ProductUpdate, Version,
};
use crate::{Page, PageRequest};

use super::ProductsPorts;

mod edit;
mod images;
mod versions;

pub use edit::{EditErrors, VersionRow};
pub use images::ImageAudience;

#[cfg(test)]
mod tests;

/// A product with its versions, as the detail page and document show it.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductDetail {
    pub product: Product,
    pub versions: Vec<Version>,
}

#[derive(Debug, thiserror::Error)]
pub enum ProductError {
    /// Anonymous visitor while public browsing is off.
    #[error("sign in to see products")]
    LoginRequired,
    /// Unknown, or invisible to this viewer (never 403 for what one may not see).
    #[error("no such product")]
    NotFound,
    /// The actor may not change these fields; nothing was saved.
    #[error("forbidden: {}", .fields.iter().map(|f| f.api_name()).collect::<Vec<_>>().join(", "))]
    Forbidden {
        fields: Vec<Field>,
        publish_denied: Option<PublishDenied>,
    },
    #[error("invalid input: {0}")]
    Invalid(FieldErrors),
    /// The edit form: errors of the product's fields and of each submitted version row.
    #[error("invalid input")]
    InvalidEdit(EditErrors),
    /// Someone else changed the product after this change was decided on (a moderator
    /// unpublished it while its owner's edit was on its way, say); nothing was saved.
    #[error("the product changed meanwhile")]
    Conflict,
    #[error(transparent)]
    Media(MediaError),
    /// The database failed; never a conflict or a vanished row, which have their own
    /// variants (see the `From` below).
    #[error(transparent)]
    Unexpected(RepoError),
}

/// Written out rather than derived, so that `?` on a repository call cannot turn a
/// lost race into "unexpected": a write that found the product changed is a
/// [`ProductError::Conflict`], one that found it gone is [`ProductError::NotFound`].
impl From<RepoError> for ProductError {
    fn from(e: RepoError) -> Self {
        match e {
            RepoError::Conflict => Self::Conflict,
            RepoError::NotFound => Self::NotFound,
            other => Self::Unexpected(other),
        }
    }
}

impl From<PatchDenied> for ProductError {
    fn from(d: PatchDenied) -> Self {
        Self::Forbidden {
            fields: d.fields,
            publish_denied: d.publish_denied,
        }
    }
}

fn forbidden(field: Field) -> ProductError {
    ProductError::Forbidden {
        fields: vec![field],
        publish_denied: None,
    }
}

/// The raw product form or JSON body. `None` means "not sent".
#[derive(Debug, Clone, Default)]
pub struct ProductInput<'a> {
    pub name: Option<&'a str>,
    pub description: Option<&'a str>,
    pub category_id: Option<i64>,
    pub price: Option<&'a str>,
    pub is_published: Option<bool>,
}

/// The raw version form.
#[derive(Debug, Clone, Default)]
pub struct VersionInput<'a> {
    pub number: &'a str,
    pub name: &'a str,
    pub is_current: bool,
}

/// A patch the rules allow, as the row to store, with the validation errors of its values.
struct Checked {
    update: ProductUpdate,
    errors: FieldErrors,
}

fn invalid_category() -> FieldErrors {
    let mut errors = FieldErrors::new();
    errors.add(Input::Category, "Select a valid category.");
    errors
}

/// Parsed fields of a [`ProductInput`], and the names of those that failed to parse.
struct Parsed {
    patch: ProductPatch,
    errors: FieldErrors,
    unparsed: Vec<Field>,
}

fn parse(input: &ProductInput<'_>) -> Parsed {
    let mut errors = FieldErrors::new();
    let mut unparsed = Vec::new();
    let mut patch = ProductPatch::default();
    if let Some(name) = input.name {
        match ProductName::parse(name) {
            Ok(v) => patch.name = Some(v),
            Err(e) => {
                errors.add(Input::Name, e);
                unparsed.push(Field::Name);
            }
        }
    }
    if let Some(description) = input.description {
        match Description::parse(description) {
            Ok(v) => patch.description = Some(v),
            Err(e) => {
                errors.add(Input::Description, e);
                unparsed.push(Field::Description);
            }
        }
    }
    if let Some(price) = input.price {
        match Money::parse(price) {
            Ok(v) => patch.price = Some(v),
            Err(e) => {
                errors.add(Input::Price, e);
                unparsed.push(Field::Price);
            }
        }
    }
    patch.category_id = input.category_id.map(CategoryId);
    patch.is_published = input.is_published;
    Parsed {
        patch,
        errors,
        unparsed,
    }
}

#[derive(Debug, Clone)]
pub struct ProductsService {
    ports: ProductsPorts,
    public_browsing: bool,
}

impl ProductsService {
    pub fn new(ports: ProductsPorts, public_browsing: bool) -> Self {
        Self {
            ports,
            public_browsing,
        }
    }

    fn scope(&self, viewer: Option<&Actor>) -> Result<ProductScope, ProductError> {
        listing_scope(viewer, self.public_browsing).ok_or(ProductError::LoginRequired)
    }

    /// The products the viewer may see, newest first.
    ///
    /// # Errors
    /// [`ProductError::LoginRequired`] for anonymous visitors without public browsing.
    pub async fn list(
        &self,
        viewer: Option<&Actor>,
        page: PageRequest,
    ) -> Result<Page<Product>, ProductError> {
        let scope = self.scope(viewer)?;
        Ok(self.ports.products.list(scope, page).await?)
    }

    /// A page of products with their versions, read together.
    ///
    /// # Errors
    /// As [`ProductsService::list`].
    pub async fn list_detailed(
        &self,
        viewer: Option<&Actor>,
        page: PageRequest,
    ) -> Result<Page<ProductDetail>, ProductError> {
        let scope = self.scope(viewer)?;
        let products = self.ports.products.list_with_versions(scope, page).await?;
        Ok(Page {
            items: products
                .items
                .into_iter()
                .map(|(product, versions)| ProductDetail { product, versions })
                .collect(),
            page: products.page,
            per_page: products.per_page,
            total: products.total,
        })
    }

    /// A product the viewer may see.
    ///
    /// # Errors
    /// [`ProductError::NotFound`] when it does not exist or is not visible.
    pub async fn get(
        &self,
        viewer: Option<&Actor>,
        id: ProductId,
    ) -> Result<Product, ProductError> {
        self.scope(viewer)?;
        let product = self
            .ports
            .products
            .find(id)
            .await?
            .ok_or(ProductError::NotFound)?;
        self.shown_to(viewer, product)
    }

    /// A product with its versions.
    ///
    /// # Errors
    /// As [`ProductsService::get`].
    pub async fn detail(
        &self,
        viewer: Option<&Actor>,
        id: ProductId,
    ) -> Result<ProductDetail, ProductError> {
        self.scope(viewer)?;
        let (product, versions) = self
            .ports
            .products
            .find_with_versions(id)
            .await?
            .ok_or(ProductError::NotFound)?;
        let product = self.shown_to(viewer, product)?;
        Ok(ProductDetail { product, versions })
    }

    /// A product someone may not see is not found, rather than forbidden.
    fn shown_to(&self, viewer: Option<&Actor>, product: Product) -> Result<Product, ProductError> {
        if can_see(viewer, &ProductFacts::from(&product), self.public_browsing) {
            Ok(product)
        } else {
            Err(ProductError::NotFound)
        }
    }

    async fn check_category(
        &self,
        id: Option<CategoryId>,
        errors: &mut FieldErrors,
    ) -> Result<(), RepoError> {
        if let Some(id) = id
            && self.ports.categories.find_by_id(id).await?.is_none()
        {
            errors.add(Input::Category, "Select a valid category.");
        }
        Ok(())
    }

    /// Creates a product owned by `actor` (never by anyone named in the input), with an
    /// optional image that goes through the media pipeline first.
    ///
    /// # Errors
    /// [`ProductError::Invalid`] with field errors; then nothing is stored.
    pub async fn create(
        &self,
        actor: &Actor,
        input: ProductInput<'_>,
        image: Option<Vec<u8>>,
    ) -> Result<Product, ProductError> {
        let Parsed {
            patch, mut errors, ..
        } = parse(&input);
        if input.name.is_none() {
            errors.add(Input::Name, "This field is required.");
        }
        if input.price.is_none() {
            errors.add(Input::Price, "This field is required.");
        }
        if input.category_id.is_none() {
            errors.add(Input::Category, "This field is required.");
        }
        self.check_category(patch.category_id, &mut errors).await?;
        let (Some(name), Some(price), Some(category_id)) =
            (patch.name, patch.price, patch.category_id)
        else {
            return Err(ProductError::Invalid(errors));
        };
        if !errors.is_empty() {
            return Err(ProductError::Invalid(errors));
        }
        let image = match image {
            Some(bytes) => Some(self.store_image(bytes).await?),
            None => None,
        };
        let new = NewProduct {
            name,
            description: patch.description.unwrap_or_else(Description::empty),
            category_id,
            price,
            is_published: patch.is_published.unwrap_or(false),
            owner_id: actor.user_id(),
            image: image.clone(),
            created_at: self.ports.clock.now(),
        };
        match self.ports.products.insert(new).await {
            Ok(product) => Ok(product),
            Err(e) => {
                if let Some(key) = image {
                    self.forget_image(&key).await;
                }
                Err(e.into())
            }
        }
    }

    /// Changes the fields the input carries. Fields the actor may not change make the
    /// whole request fail with [`ProductError::Forbidden`] before anything is checked
    /// further; sending a field's current value is not a change.
    ///
    /// # Errors
    /// [`ProductError::NotFound`], [`ProductError::Forbidden`] or [`ProductError::Invalid`];
    /// nothing is saved then.
    pub async fn update(
        &self,
        actor: &Actor,
        id: ProductId,
        input: ProductInput<'_>,
    ) -> Result<Product, ProductError> {
        let product = self.get(Some(actor), id).await?;
        let Checked { update, mut errors } = self.check(actor, &product, &input, &[])?;
        self.check_category(update.category_id, &mut errors).await?;
        if !errors.is_empty() {
            return Err(ProductError::Invalid(errors));
        }
        if update.is_empty() {
            return Ok(product);
        }
        // Written only if nobody wrote the product since it was read and judged above.
        match self.ports.products.update(id, update).await {
            Ok(product) => Ok(product),
            Err(RepoError::MissingReference) => Err(ProductError::Invalid(invalid_category())),
            Err(RepoError::Conflict) => Err(ProductError::Conflict),
            Err(e) => Err(e.into()),
        }
    }

    /// Checks the input against the access rules first: any field the actor may not
    /// change (including `also` — image or versions sent alongside) fails the whole
    /// request, whatever else is wrong with it. Then returns the row to store and the
    /// validation errors found so far.
    fn check(
        &self,
        actor: &Actor,
        product: &Product,
        input: &ProductInput<'_>,
        also: &[Field],
    ) -> Result<Checked, ProductError> {
        let facts = ProductFacts::from(product);
        let Parsed {
            patch,
            errors,
            unparsed,
        } = parse(input);
        // A value that does not even parse is certainly a change of its field.
        let mut denied: Vec<Field> = unparsed
            .into_iter()
            .chain(also.iter().copied())
            .filter(|f| !can_change(actor, &facts, *f))
            .collect();
        let checked = apply_patch(actor, product, &patch, self.ports.clock.now());
        let publish_denied = match &checked {
            Err(d) => {
                denied.extend(d.fields.iter().copied());
                d.publish_denied
            }
            Ok(_) => None,
        };
        if !denied.is_empty() {
            denied.sort();
            denied.dedup();
            return Err(ProductError::Forbidden {
                fields: denied,
                publish_denied,
            });
        }
        let update = checked.map_err(ProductError::from)?;
        Ok(Checked { update, errors })
    }

    /// Every category, by name: what a product form offers.
    ///
    /// # Errors
    /// [`ProductError::Unexpected`] when the database fails.
    pub async fn categories(&self) -> Result<Vec<crate::product::Category>, ProductError> {
        Ok(self.ports.categories.list().await?)
    }

    /// Whether `actor` may change `field` of the product (any field, for `None`): what a
    /// request is refused on before its body is read, so that who may act is decided
    /// before what they sent is looked at.
    ///
    /// # Errors
    /// [`ProductError::NotFound`] for a product the actor may not see,
    /// [`ProductError::Forbidden`] when they may change nothing (or not `field`).
    pub async fn may_change(
        &self,
        actor: &Actor,
        id: ProductId,
        field: Option<Field>,
    ) -> Result<(), ProductError> {
        let product = self.get(Some(actor), id).await?;
        let facts = ProductFacts::from(&product);
        let allowed = match field {
            Some(field) => can_change(actor, &facts, field),
            None => !crate::access::editable_fields(actor, &facts).is_empty(),
        };
        if allowed {
            Ok(())
        } else {
            Err(ProductError::Forbidden {
                fields: field.into_iter().collect(),
                publish_denied: None,
            })
        }
    }

    /// Deletes a product (owner or superuser) and its image.
    ///
    /// # Errors
    /// [`ProductError::NotFound`] or [`ProductError::Forbidden`].
    pub async fn delete(&self, actor: &Actor, id: ProductId) -> Result<(), ProductError> {
        let product = self.get(Some(actor), id).await?;
        if !can_delete(actor, &ProductFacts::from(&product)) {
            return Err(ProductError::Forbidden {
                fields: Vec::new(),
                publish_denied: None,
            });
        }
        self.ports.products.delete(id).await?;
        if let Some(key) = &product.image {
            self.forget_image(key).await;
        }
        Ok(())
    }
}
