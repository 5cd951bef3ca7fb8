//! A hook between a product service's read and its write: the product repository seen
//! by the services, with a step to run just before the next write reaches the real one.
//! Races that depend on timing (a moderator's change landing while an owner's edit is on
//! its way) become a fixed order: read, the other change, write.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use catalog_domain::access::ProductFacts;
use catalog_domain::ports::{ProductRepository, ProductScope, RepoError};
use catalog_domain::product::search::ProductFilter;
use catalog_domain::product::{
    NewProduct, Product, ProductId, ProductUpdate, Version, VersionsEdit,
};
use catalog_domain::{Page, PageRequest, Timestamp};

type Step = Box<dyn FnOnce() -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

/// Where a test arms the step; shared with the repository the app was given.
#[derive(Clone, Default)]
pub struct Hook(Arc<Mutex<Option<Step>>>);

impl Hook {
    /// Runs `step` (to its end) before the next product write, once.
    pub fn before_next_write<F, Fut>(&self, step: F)
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        *self.0.lock().unwrap() = Some(Box::new(move || Box::pin(step())));
    }

    pub fn is_armed(&self) -> bool {
        self.0.lock().unwrap().is_some()
    }

    async fn fire(&self) {
        let step = self.0.lock().unwrap().take();
        if let Some(step) = step {
            step().await;
        }
    }

    /// Wraps the app's product repository.
    pub fn around(&self, inner: Arc<dyn ProductRepository>) -> Arc<dyn ProductRepository> {
        Arc::new(Interleaved {
            inner,
            hook: self.clone(),
        })
    }
}

struct Interleaved {
    inner: Arc<dyn ProductRepository>,
    hook: Hook,
}

#[async_trait]
impl ProductRepository for Interleaved {
    async fn insert(&self, product: NewProduct) -> Result<Product, RepoError> {
        self.inner.insert(product).await
    }

    async fn insert_many(&self, products: Vec<NewProduct>) -> Result<u64, RepoError> {
        self.inner.insert_many(products).await
    }

    async fn image_owner(&self, key: &str) -> Result<Option<ProductFacts>, RepoError> {
        self.inner.image_owner(key).await
    }

    async fn find(&self, id: ProductId) -> Result<Option<Product>, RepoError> {
        self.inner.find(id).await
    }

    async fn find_with_versions(
        &self,
        id: ProductId,
    ) -> Result<Option<(Product, Vec<Version>)>, RepoError> {
        self.inner.find_with_versions(id).await
    }

    async fn list(
        &self,
        scope: ProductScope,
        page: PageRequest,
    ) -> Result<Page<Product>, RepoError> {
        self.inner.list(scope, page).await
    }

    async fn list_with_versions(
        &self,
        scope: ProductScope,
        page: PageRequest,
    ) -> Result<Page<(Product, Vec<Version>)>, RepoError> {
        self.inner.list_with_versions(scope, page).await
    }

    async fn search(
        &self,
        scope: ProductScope,
        filter: ProductFilter,
        page: PageRequest,
    ) -> Result<Page<Product>, RepoError> {
        self.inner.search(scope, filter, page).await
    }

    async fn search_with_versions(
        &self,
        scope: ProductScope,
        filter: ProductFilter,
        page: PageRequest,
    ) -> Result<Page<(Product, Vec<Version>)>, RepoError> {
        self.inner.search_with_versions(scope, filter, page).await
    }

    async fn count_all(&self) -> Result<u64, RepoError> {
        self.inner.count_all().await
    }

    async fn reindex(
        &self,
        after: ProductId,
        batch: u64,
    ) -> Result<Option<(ProductId, u64)>, RepoError> {
        self.inner.reindex(after, batch).await
    }

    async fn update(&self, id: ProductId, update: ProductUpdate) -> Result<Product, RepoError> {
        self.hook.fire().await;
        self.inner.update(id, update).await
    }

    async fn edit(
        &self,
        id: ProductId,
        update: ProductUpdate,
        image: Option<String>,
        versions: VersionsEdit,
    ) -> Result<Product, RepoError> {
        self.hook.fire().await;
        self.inner.edit(id, update, image, versions).await
    }

    async fn set_image(
        &self,
        id: ProductId,
        image: Option<String>,
        at: Timestamp,
    ) -> Result<(), RepoError> {
        self.hook.fire().await;
        self.inner.set_image(id, image, at).await
    }

    async fn delete(&self, id: ProductId) -> Result<(), RepoError> {
        self.inner.delete(id).await
    }
}
