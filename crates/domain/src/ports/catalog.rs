//! The catalog's ports: categories, products and their versions.

use async_trait::async_trait;

use crate::access::ProductFacts;
use crate::product::search::ProductFilter;
use crate::product::{
    Category, CategoryId, NewCategory, NewProduct, NewVersion, Product, ProductId, ProductUpdate,
    Version, VersionId, VersionsEdit,
};
use crate::{Page, PageRequest, Timestamp};

use super::RepoError;

/// Which products a listing may show, as the access rules decide it
/// ([`crate::access::listing_scope`]).
pub use crate::access::ProductScope;

#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait CategoryRepository: Send + Sync {
    /// # Errors
    /// [`RepoError::CategoryNameTaken`] when the name exists.
    async fn insert(&self, category: NewCategory) -> Result<Category, RepoError>;
    /// Ordered by name.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Corrupt`].
    async fn list(&self) -> Result<Vec<Category>, RepoError>;
    /// Every category, ordered by name, with how many of its products `scope` shows.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Corrupt`].
    async fn with_counts(&self, scope: ProductScope) -> Result<Vec<(Category, u64)>, RepoError>;
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Corrupt`].
    async fn find_by_id(&self, id: CategoryId) -> Result<Option<Category>, RepoError>;
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Corrupt`].
    async fn find_by_name(&self, name: &str) -> Result<Option<Category>, RepoError>;
    /// # Errors
    /// [`RepoError::CategoryInUse`] with the product count while products use it,
    /// [`RepoError::NotFound`] for an unknown id.
    async fn delete(&self, id: CategoryId) -> Result<(), RepoError>;
}

#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ProductRepository: Send + Sync {
    /// # Errors
    /// [`RepoError::MissingReference`] for an unknown category or owner.
    async fn insert(&self, product: NewProduct) -> Result<Product, RepoError>;
    /// Inserts in batches inside one transaction; returns how many were stored.
    ///
    /// # Errors
    /// [`RepoError::MissingReference`] for an unknown category or owner.
    async fn insert_many(&self, products: Vec<NewProduct>) -> Result<u64, RepoError>;
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Corrupt`].
    async fn find(&self, id: ProductId) -> Result<Option<Product>, RepoError>;
    /// The product with its versions (in creation order), in one read.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Corrupt`].
    async fn find_with_versions(
        &self,
        id: ProductId,
    ) -> Result<Option<(Product, Vec<Version>)>, RepoError>;
    /// What the access rules need to know about the product whose image is stored
    /// under `key`; `None` when no product has that image (any more).
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Corrupt`].
    async fn image_owner(&self, key: &str) -> Result<Option<ProductFacts>, RepoError>;
    /// Newest first (`created_at`, then id, descending).
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Corrupt`].
    async fn list(
        &self,
        scope: ProductScope,
        page: PageRequest,
    ) -> Result<Page<Product>, RepoError>;
    /// A page as [`ProductRepository::list`] reads it, each product with its versions
    /// (ordered by id), read together.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Corrupt`].
    async fn list_with_versions(
        &self,
        scope: ProductScope,
        page: PageRequest,
    ) -> Result<Page<(Product, Vec<Version>)>, RepoError>;
    /// A page of what `scope` shows narrowed by `filter` (a search by words when it has
    /// them), in the filter's order; ties are broken by id, so that every database
    /// gives the same page. A search counts and ranks a bounded number of matches.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Corrupt`].
    async fn search(
        &self,
        scope: ProductScope,
        filter: ProductFilter,
        page: PageRequest,
    ) -> Result<Page<Product>, RepoError>;
    /// As [`ProductRepository::search`], each product with its versions.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Corrupt`].
    async fn search_with_versions(
        &self,
        scope: ProductScope,
        filter: ProductFilter,
        page: PageRequest,
    ) -> Result<Page<(Product, Vec<Version>)>, RepoError>;
    /// How many products there are, visible or not.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Corrupt`].
    async fn count_all(&self) -> Result<u64, RepoError>;
    /// Writes the search documents of up to `batch` products after `after` (by id)
    /// again, in one transaction; returns the last id written and how many were.
    /// Past the last product it removes what is left of removed products and returns
    /// `None`.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Corrupt`].
    async fn reindex(
        &self,
        after: ProductId,
        batch: u64,
    ) -> Result<Option<(ProductId, u64)>, RepoError>;
    /// Writes the fields the update names (and no other), moving the product to its
    /// next revision, if the product is still at `update.revision`.
    ///
    /// # Errors
    /// [`RepoError::Conflict`] when the product was written since that revision (nothing
    /// is written then), [`RepoError::NotFound`] for an unknown product,
    /// [`RepoError::MissingReference`] for an unknown category.
    async fn update(&self, id: ProductId, update: ProductUpdate) -> Result<Product, RepoError>;
    /// The whole edit form in one transaction: the fields, a new image key (`None` keeps
    /// the image) and the versions, under the revision check of
    /// [`ProductRepository::update`]. Either all of it is stored or nothing.
    ///
    /// # Errors
    /// As [`ProductRepository::update`], and [`RepoError::NotFound`] for a version that
    /// does not belong to the product, [`RepoError::VersionNumberTaken`].
    async fn edit(
        &self,
        id: ProductId,
        update: ProductUpdate,
        image: Option<String>,
        versions: VersionsEdit,
    ) -> Result<Product, RepoError>;
    /// Replaces the image and moves the product to its next revision.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] for an unknown product.
    async fn set_image(
        &self,
        id: ProductId,
        image: Option<String>,
        at: Timestamp,
    ) -> Result<(), RepoError>;
    /// Deletes the product and its versions.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] for an unknown product.
    async fn delete(&self, id: ProductId) -> Result<(), RepoError>;
}

#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait VersionRepository: Send + Sync {
    /// Ordered by id.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Corrupt`].
    async fn list(&self, product: ProductId) -> Result<Vec<Version>, RepoError>;
    /// A current version demotes the previous current one in the same transaction.
    ///
    /// # Errors
    /// [`RepoError::VersionNumberTaken`], [`RepoError::MissingReference`].
    async fn insert(&self, product: ProductId, version: NewVersion) -> Result<Version, RepoError>;
    /// Replaces number, name and current flag; demotes as `insert` does.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] unless the version belongs to the product,
    /// [`RepoError::VersionNumberTaken`].
    async fn update(
        &self,
        product: ProductId,
        id: VersionId,
        version: NewVersion,
    ) -> Result<Version, RepoError>;
    /// # Errors
    /// [`RepoError::NotFound`] unless the version belongs to the product.
    async fn delete(&self, product: ProductId, id: VersionId) -> Result<(), RepoError>;
}
