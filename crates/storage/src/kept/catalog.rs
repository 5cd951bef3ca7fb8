//! The catalog ports through the kept layer: a product with its versions, listing pages
//! and whose image a key is are kept, and listings plan with what the layer remembers;
//! every write forgets.

use async_trait::async_trait;
use catalog_domain::Timestamp;
use catalog_domain::access::ProductFacts;
use catalog_domain::ports::{
    CategoryRepository, ProductRepository, ProductScope, RepoError, VersionRepository,
};
use catalog_domain::product::search::ProductFilter;
use catalog_domain::product::{
    Category, CategoryId, NewCategory, NewProduct, NewVersion, Product, ProductId, ProductUpdate,
    Version, VersionId, VersionsEdit,
};
use catalog_domain::{Page, PageRequest};

use super::{Kept, always};
use crate::plans::scope_key;

#[async_trait]
impl CategoryRepository for Kept {
    async fn insert(&self, category: NewCategory) -> Result<Category, RepoError> {
        self.write(CategoryRepository::insert(&self.store, category))
            .await
    }

    /// Kept: every list page's filter reads it.
    async fn list(&self) -> Result<Vec<Category>, RepoError> {
        self.read(
            |m| &m.categories,
            (),
            (always, always),
            || CategoryRepository::list(&self.store),
        )
        .await
    }

    /// Kept: the categories page and the list's filter read it.
    async fn with_counts(&self, scope: ProductScope) -> Result<Vec<(Category, u64)>, RepoError> {
        self.read(
            |m| &m.category_counts,
            scope_key(scope),
            (always, always),
            || self.store.with_counts(scope),
        )
        .await
    }

    async fn find_by_id(&self, id: CategoryId) -> Result<Option<Category>, RepoError> {
        CategoryRepository::find_by_id(&self.store, id).await
    }

    async fn find_by_name(&self, name: &str) -> Result<Option<Category>, RepoError> {
        CategoryRepository::find_by_name(&self.store, name).await
    }

    async fn delete(&self, id: CategoryId) -> Result<(), RepoError> {
        self.write(CategoryRepository::delete(&self.store, id))
            .await
    }
}

#[async_trait]
impl ProductRepository for Kept {
    async fn insert(&self, product: NewProduct) -> Result<Product, RepoError> {
        self.write(ProductRepository::insert(&self.store, product))
            .await
    }

    async fn insert_many(&self, products: Vec<NewProduct>) -> Result<u64, RepoError> {
        self.write(ProductRepository::insert_many(&self.store, products))
            .await
    }

    /// Kept: every image of a page asks it.
    async fn image_owner(&self, key: &str) -> Result<Option<ProductFacts>, RepoError> {
        self.read(
            |m| &m.images,
            key.to_owned(),
            (always, always),
            || self.store.image_owner(key),
        )
        .await
    }

    async fn find(&self, id: ProductId) -> Result<Option<Product>, RepoError> {
        ProductRepository::find(&self.store, id).await
    }

    /// Kept: every product page reads it.
    async fn find_with_versions(
        &self,
        id: ProductId,
    ) -> Result<Option<(Product, Vec<Version>)>, RepoError> {
        self.read(
            |m| &m.products,
            id.0,
            (always, Option::is_some),
            || self.store.find_with_versions(id),
        )
        .await
    }

    /// Kept, and planned with the counts and anchors this layer remembers.
    async fn list(
        &self,
        scope: ProductScope,
        page: PageRequest,
    ) -> Result<Page<Product>, RepoError> {
        let key = (scope_key(scope), page.page(), page.per_page());
        self.read(
            |m| &m.pages,
            key,
            (always, always),
            || self.store.list_planned(scope, page, &self.plans),
        )
        .await
    }

    /// As [`ProductRepository::list`].
    async fn list_with_versions(
        &self,
        scope: ProductScope,
        page: PageRequest,
    ) -> Result<Page<(Product, Vec<Version>)>, RepoError> {
        let key = (scope_key(scope), page.page(), page.per_page());
        self.read(
            |m| &m.pages_with_versions,
            key,
            (always, always),
            || {
                self.store
                    .list_with_versions_planned(scope, page, &self.plans)
            },
        )
        .await
    }

    /// Kept, searches by words included (the last few dozen pages of all kinds: the
    /// searches many people make are served from memory, the rest read), and planned
    /// with the counts this layer remembers.
    async fn search(
        &self,
        scope: ProductScope,
        filter: ProductFilter,
        page: PageRequest,
    ) -> Result<Page<Product>, RepoError> {
        let read = || async {
            let found = self
                .store
                .search_planned((scope, &filter, page), false, &self.plans)
                .await?;
            Ok(crate::products::without_versions(found))
        };
        let key = (
            scope_key(scope),
            filter.clone(),
            page.page(),
            page.per_page(),
        );
        self.read(|m| &m.filtered, key, (always, always), read)
            .await
    }

    /// As [`ProductRepository::search`].
    async fn search_with_versions(
        &self,
        scope: ProductScope,
        filter: ProductFilter,
        page: PageRequest,
    ) -> Result<Page<(Product, Vec<Version>)>, RepoError> {
        let read = || {
            self.store
                .search_planned((scope, &filter, page), true, &self.plans)
        };
        let key = (
            scope_key(scope),
            filter.clone(),
            page.page(),
            page.per_page(),
        );
        self.read(|m| &m.filtered_with_versions, key, (always, always), read)
            .await
    }

    async fn count_all(&self) -> Result<u64, RepoError> {
        self.store.count_all().await
    }

    async fn reindex(
        &self,
        after: ProductId,
        batch: u64,
    ) -> Result<Option<(ProductId, u64)>, RepoError> {
        self.write(self.store.reindex(after, batch)).await
    }

    async fn update(&self, id: ProductId, update: ProductUpdate) -> Result<Product, RepoError> {
        self.write(ProductRepository::update(&self.store, id, update))
            .await
    }

    async fn edit(
        &self,
        id: ProductId,
        update: ProductUpdate,
        image: Option<String>,
        versions: VersionsEdit,
    ) -> Result<Product, RepoError> {
        self.write(self.store.edit(id, update, image, versions))
            .await
    }

    async fn set_image(
        &self,
        id: ProductId,
        image: Option<String>,
        at: Timestamp,
    ) -> Result<(), RepoError> {
        self.write(self.store.set_image(id, image, at)).await
    }

    async fn delete(&self, id: ProductId) -> Result<(), RepoError> {
        self.write(ProductRepository::delete(&self.store, id)).await
    }
}

#[async_trait]
impl VersionRepository for Kept {
    async fn list(&self, product: ProductId) -> Result<Vec<Version>, RepoError> {
        VersionRepository::list(&self.store, product).await
    }

    async fn insert(&self, product: ProductId, version: NewVersion) -> Result<Version, RepoError> {
        self.write(VersionRepository::insert(&self.store, product, version))
            .await
    }

    async fn update(
        &self,
        product: ProductId,
        id: VersionId,
        version: NewVersion,
    ) -> Result<Version, RepoError> {
        self.write(VersionRepository::update(&self.store, product, id, version))
            .await
    }

    async fn delete(&self, product: ProductId, id: VersionId) -> Result<(), RepoError> {
        self.write(VersionRepository::delete(&self.store, product, id))
            .await
    }
}
