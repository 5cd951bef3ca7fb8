//! Products: listing and reading under the visibility rules, creating (the owner is
//! always the acting user), changing field by field under the access rules, deleting,
//! images and versions.

use crate::access::{
    Actor, Field, ProductFacts, apply_patch, can_change, can_delete, can_see, listing_scope,
};
use crate::fields::{FieldErrors, Input, Message};
use crate::ports::{ProductScope, RepoError};
use crate::product::search::ProductFilter;
use crate::product::{
    Category, CategoryId, Description, Money, NewProduct, Product, ProductId, ProductName,
    ProductPatch, ProductUpdate, Version,
};
use crate::{Page, PageRequest};

use super::ProductsPorts;

mod edit;
mod errors;
mod images;
mod versions;

pub use edit::{EditErrors, VersionRow};
pub use errors::{ChangeError, CreateError, DeleteError, ListError, ProductError, ViewError};
pub use images::ImageAudience;

#[cfg(test)]
mod tests;

/// A product with its versions, as the detail page and document show it.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductDetail {
    pub product: Product,
    pub versions: Vec<Version>,
}

fn forbidden(field: Field) -> ChangeError {
    ChangeError::Forbidden {
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
    errors.add(Input::Category, Message::new("category-invalid"));
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

    fn scope(&self, viewer: Option<&Actor>) -> Option<ProductScope> {
        listing_scope(viewer, self.public_browsing)
    }

    /// The product, if `actor` may see it: what every change starts from (a product
    /// someone may not see is not found, rather than forbidden).
    async fn visible_to(&self, actor: &Actor, id: ProductId) -> Result<Option<Product>, RepoError> {
        Ok(self.ports.products.find(id).await?.filter(|product| {
            can_see(
                Some(actor),
                &ProductFacts::from(product),
                self.public_browsing,
            )
        }))
    }

    /// The products the viewer may see, newest first.
    ///
    /// # Errors
    /// [`ListError::LoginRequired`] for anonymous visitors without public browsing.
    pub async fn list(
        &self,
        viewer: Option<&Actor>,
        page: PageRequest,
    ) -> Result<Page<Product>, ListError> {
        let scope = self.scope(viewer).ok_or(ListError::LoginRequired)?;
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
    ) -> Result<Page<ProductDetail>, ListError> {
        self.find_detailed(viewer, ProductFilter::default(), page)
            .await
    }

    /// A page of the products the viewer may see narrowed by `filter` (and searched by
    /// its words), in its order. The plain filter reads the plain listing.
    ///
    /// # Errors
    /// [`ListError::LoginRequired`] for anonymous visitors without public browsing.
    pub async fn find(
        &self,
        viewer: Option<&Actor>,
        filter: ProductFilter,
        page: PageRequest,
    ) -> Result<Page<Product>, ListError> {
        let scope = self.scope(viewer).ok_or(ListError::LoginRequired)?;
        if filter.is_plain() {
            return Ok(self.ports.products.list(scope, page).await?);
        }
        Ok(self.ports.products.search(scope, filter, page).await?)
    }

    /// As [`ProductsService::find`], each product with its versions.
    ///
    /// # Errors
    /// As [`ProductsService::list`].
    pub async fn find_detailed(
        &self,
        viewer: Option<&Actor>,
        filter: ProductFilter,
        page: PageRequest,
    ) -> Result<Page<ProductDetail>, ListError> {
        let scope = self.scope(viewer).ok_or(ListError::LoginRequired)?;
        let products = if filter.is_plain() {
            self.ports.products.list_with_versions(scope, page).await?
        } else {
            self.ports
                .products
                .search_with_versions(scope, filter, page)
                .await?
        };
        Ok(products.map(|(product, versions)| ProductDetail { product, versions }))
    }

    /// Every category with the number of its products the viewer may see.
    ///
    /// # Errors
    /// As [`ProductsService::list`].
    pub async fn categories_with_counts(
        &self,
        viewer: Option<&Actor>,
    ) -> Result<Vec<(Category, u64)>, ListError> {
        let scope = self.scope(viewer).ok_or(ListError::LoginRequired)?;
        Ok(self.ports.categories.with_counts(scope).await?)
    }

    /// Writes every product's search document again, `batch` products a transaction,
    /// telling `progress` how many of how many are done; returns how many were written.
    ///
    /// # Errors
    /// [`RepoError`] when the database fails (what was written stays written).
    pub async fn reindex_search(
        &self,
        batch: u64,
        progress: &mut (dyn FnMut(u64, u64) + Send),
    ) -> Result<u64, RepoError> {
        let total = self.ports.products.count_all().await?;
        let mut after = ProductId(0);
        let mut done = 0;
        progress(0, total);
        while let Some((last, written)) = self.ports.products.reindex(after, batch).await? {
            after = last;
            done += written;
            progress(done, total.max(done));
        }
        Ok(done)
    }

    /// A product the viewer may see.
    ///
    /// # Errors
    /// [`ViewError::NotFound`] when it does not exist or is not visible.
    pub async fn get(&self, viewer: Option<&Actor>, id: ProductId) -> Result<Product, ViewError> {
        self.scope(viewer).ok_or(ViewError::LoginRequired)?;
        let product = self
            .ports
            .products
            .find(id)
            .await?
            .ok_or(ViewError::NotFound)?;
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
    ) -> Result<ProductDetail, ViewError> {
        self.scope(viewer).ok_or(ViewError::LoginRequired)?;
        let (product, versions) = self
            .ports
            .products
            .find_with_versions(id)
            .await?
            .ok_or(ViewError::NotFound)?;
        let product = self.shown_to(viewer, product)?;
        Ok(ProductDetail { product, versions })
    }

    /// A product someone may not see is not found, rather than forbidden.
    fn shown_to(&self, viewer: Option<&Actor>, product: Product) -> Result<Product, ViewError> {
        if can_see(viewer, &ProductFacts::from(&product), self.public_browsing) {
            Ok(product)
        } else {
            Err(ViewError::NotFound)
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
            errors.add(Input::Category, Message::new("category-invalid"));
        }
        Ok(())
    }

    /// Creates a product owned by `actor` (never by anyone named in the input), with an
    /// optional image that goes through the media pipeline first.
    ///
    /// # Errors
    /// [`CreateError::Invalid`] with field errors; then nothing is stored.
    pub async fn create(
        &self,
        actor: &Actor,
        input: ProductInput<'_>,
        image: Option<Vec<u8>>,
    ) -> Result<Product, CreateError> {
        let Parsed {
            patch, mut errors, ..
        } = parse(&input);
        if input.name.is_none() {
            errors.add(Input::Name, Message::new("field-required"));
        }
        if input.price.is_none() {
            errors.add(Input::Price, Message::new("field-required"));
        }
        if input.category_id.is_none() {
            errors.add(Input::Category, Message::new("field-required"));
        }
        self.check_category(patch.category_id, &mut errors).await?;
        let (Some(name), Some(price), Some(category_id)) =
            (patch.name, patch.price, patch.category_id)
        else {
            return Err(CreateError::Invalid(errors));
        };
        if !errors.is_empty() {
            return Err(CreateError::Invalid(errors));
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
    /// [`ChangeError::NotFound`], [`ChangeError::Forbidden`], [`ChangeError::Invalid`] or
    /// [`ChangeError::Conflict`]; nothing is saved then.
    pub async fn update(
        &self,
        actor: &Actor,
        id: ProductId,
        input: ProductInput<'_>,
    ) -> Result<Product, ChangeError> {
        let product = self
            .visible_to(actor, id)
            .await?
            .ok_or(ChangeError::NotFound)?;
        let Checked { update, mut errors } = self.check(actor, &product, &input, &[])?;
        self.check_category(update.category_id, &mut errors).await?;
        if !errors.is_empty() {
            return Err(ChangeError::Invalid(errors));
        }
        if update.is_empty() {
            return Ok(product);
        }
        // Written only if nobody wrote the product since it was read and judged above.
        match self.ports.products.update(id, update).await {
            Ok(product) => Ok(product),
            Err(RepoError::MissingReference) => Err(ChangeError::Invalid(invalid_category())),
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
    ) -> Result<Checked, ChangeError> {
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
            return Err(ChangeError::Forbidden {
                fields: denied,
                publish_denied,
            });
        }
        let update = checked.map_err(ChangeError::from)?;
        Ok(Checked { update, errors })
    }

    /// Every category, by name: what a product form offers.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn categories(&self) -> Result<Vec<crate::product::Category>, RepoError> {
        self.ports.categories.list().await
    }

    /// Whether `actor` may change `field` of the product (any field, for `None`): what a
    /// request is refused on before its body is read, so that who may act is decided
    /// before what they sent is looked at.
    ///
    /// # Errors
    /// [`ChangeError::NotFound`] for a product the actor may not see,
    /// [`ChangeError::Forbidden`] when they may change nothing (or not `field`).
    pub async fn may_change(
        &self,
        actor: &Actor,
        id: ProductId,
        field: Option<Field>,
    ) -> Result<(), ChangeError> {
        let product = self
            .visible_to(actor, id)
            .await?
            .ok_or(ChangeError::NotFound)?;
        let facts = ProductFacts::from(&product);
        let allowed = match field {
            Some(field) => can_change(actor, &facts, field),
            None => !crate::access::editable_fields(actor, &facts).is_empty(),
        };
        if allowed {
            Ok(())
        } else {
            Err(ChangeError::Forbidden {
                fields: field.into_iter().collect(),
                publish_denied: None,
            })
        }
    }

    /// Deletes a product (owner or superuser) and its image.
    ///
    /// # Errors
    /// [`DeleteError::NotFound`] or [`DeleteError::Forbidden`].
    pub async fn delete(&self, actor: &Actor, id: ProductId) -> Result<(), DeleteError> {
        let product = self
            .visible_to(actor, id)
            .await?
            .ok_or(DeleteError::NotFound)?;
        if !can_delete(actor, &ProductFacts::from(&product)) {
            return Err(DeleteError::Forbidden);
        }
        self.ports.products.delete(id).await?;
        if let Some(key) = &product.image {
            self.forget_image(key).await;
        }
        Ok(())
    }
}
