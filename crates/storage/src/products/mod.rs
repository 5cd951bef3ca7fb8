//! Products: the repository port on the database, one module per concept (rows, the
//! listing, versions, categories); what a listing remembers between reads is
//! [`crate::plans`], kept by the kept layer.

mod categories;
pub(crate) mod finding;
pub(crate) mod listing;
pub(crate) mod rows;
pub(crate) mod search_index;
mod versions;

use async_trait::async_trait;
use catalog_domain::access::ProductFacts;
use catalog_domain::ports::{ProductRepository, ProductScope, RepoError};
use catalog_domain::product::search::{ProductFilter, SearchDocument};
use catalog_domain::product::{
    NewProduct, Product, ProductId, ProductUpdate, Version, VersionsEdit,
};
use catalog_domain::user::UserId;
use catalog_domain::{Page, PageRequest, Timestamp};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set,
    TransactionTrait,
};

use crate::cells::{Cells, present};
use crate::entities::product;
use crate::error::db;
use crate::hot::{HotRead, SqlText, select_list};
use crate::plans::Plans;
use crate::{Store, convert};
use rows::{find_product, product_with_versions, with_their_versions};
use versions::write_versions;

impl Store {
    /// A page of a listing, planned with what `plans` remembers (see [`crate::plans`]).
    pub(crate) async fn list_planned(
        &self,
        scope: ProductScope,
        page: PageRequest,
        plans: &Plans,
    ) -> Result<Page<Product>, RepoError> {
        self.read_page((scope, page), false, plans, |row, _| row.into_product())
            .await
    }

    /// As [`Store::list_planned`], each product with its versions.
    pub(crate) async fn list_with_versions_planned(
        &self,
        scope: ProductScope,
        page: PageRequest,
        plans: &Plans,
    ) -> Result<Page<(Product, Vec<Version>)>, RepoError> {
        self.read_page((scope, page), true, plans, |row, versions| {
            Ok((row.into_product()?, versions))
        })
        .await
    }

    /// A page of a filtered listing or a search, planned with what `plans` remembers.
    pub(crate) async fn search_planned(
        &self,
        (scope, filter, page): (ProductScope, &ProductFilter, PageRequest),
        versions: bool,
        plans: &Plans,
    ) -> Result<Page<(Product, Vec<Version>)>, RepoError> {
        let found = self
            .find_page((scope, filter, page), versions, plans)
            .await?;
        Ok(Page {
            items: found
                .items
                .into_iter()
                .map(|(row, versions)| Ok((row.into_product()?, versions)))
                .collect::<Result<_, RepoError>>()?,
            page: found.page,
            per_page: found.per_page,
            total: found.total,
        })
    }
}

/// Drops the versions of a page read without them.
pub(crate) fn without_versions(page: Page<(Product, Vec<Version>)>) -> Page<Product> {
    page.map(|(product, _)| product)
}

fn active(p: &NewProduct) -> product::ActiveModel {
    let at = convert::micros(p.created_at);
    product::ActiveModel {
        name: Set(p.name.as_str().to_owned()),
        description: Set(p.description.as_str().to_owned()),
        image: Set(p.image.clone()),
        category_id: Set(p.category_id.0),
        price_cents: Set(p.price.cents()),
        is_published: Set(p.is_published),
        moderation_locked: Set(false),
        owner_id: Set(p.owner_id.0),
        created_at: Set(at),
        updated_at: Set(at),
        // Set, not left to the column's default: see `users::active`.
        revision: Set(1),
        ..Default::default()
    }
}

#[async_trait]
impl ProductRepository for Store {
    async fn insert(&self, new: NewProduct) -> Result<Product, RepoError> {
        let document = SearchDocument::of(new.name.as_str(), new.description.as_str());
        let txn = self.conn().begin().await.map_err(db)?;
        let row = active(&new).insert(&txn).await.map_err(db)?;
        search_index::write_documents(&txn, &[(row.id, document, new.is_published)]).await?;
        let product = find_product(&txn, ProductId(row.id))
            .await?
            .ok_or(RepoError::NotFound)?;
        txn.commit().await.map_err(db)?;
        Ok(product)
    }

    async fn insert_many(&self, products: Vec<NewProduct>) -> Result<u64, RepoError> {
        let txn = self.conn().begin().await.map_err(db)?;
        let mut count = 0;
        // 10 columns a row: 1 000 rows stay well under SQLite's parameter limit.
        for chunk in products.chunks(1000) {
            let mut ids = product::Entity::insert_many(chunk.iter().map(active))
                .exec_with_returning_keys(&txn)
                .await
                .map_err(db)?;
            // One statement numbers its rows in the order of its values (whatever
            // order RETURNING lists them in), on both databases.
            ids.sort_unstable();
            if ids.len() != chunk.len() {
                return Err(RepoError::Corrupt(format!(
                    "{} ids returned for {} products",
                    ids.len(),
                    chunk.len()
                )));
            }
            let documents: Vec<search_index::Indexed> = ids
                .into_iter()
                .zip(chunk)
                .map(|(id, p)| {
                    let document = SearchDocument::of(p.name.as_str(), p.description.as_str());
                    (id, document, p.is_published)
                })
                .collect();
            search_index::write_documents(&txn, &documents).await?;
            count += chunk.len() as u64;
        }
        txn.commit().await.map_err(db)?;
        Ok(count)
    }

    async fn search(
        &self,
        scope: ProductScope,
        filter: ProductFilter,
        page: PageRequest,
    ) -> Result<Page<Product>, RepoError> {
        let found = self
            .search_planned((scope, &filter, page), false, &Plans::default())
            .await?;
        Ok(without_versions(found))
    }

    async fn search_with_versions(
        &self,
        scope: ProductScope,
        filter: ProductFilter,
        page: PageRequest,
    ) -> Result<Page<(Product, Vec<Version>)>, RepoError> {
        self.search_planned((scope, &filter, page), true, &Plans::default())
            .await
    }

    async fn count_all(&self) -> Result<u64, RepoError> {
        product::Entity::find().count(self.conn()).await.map_err(db)
    }

    async fn reindex(
        &self,
        after: ProductId,
        batch: u64,
    ) -> Result<Option<(ProductId, u64)>, RepoError> {
        match self.reindex_after(after.0, batch).await? {
            Some((last, written)) => Ok(Some((ProductId(last), written))),
            None => {
                self.sweep_search_terms().await?;
                Ok(None)
            }
        }
    }

    async fn image_owner(&self, key: &str) -> Result<Option<ProductFacts>, RepoError> {
        let read = image_owner(self.conn().get_database_backend(), key);
        Ok(self.hot_rows(read).await?.into_iter().next())
    }

    async fn find(&self, id: ProductId) -> Result<Option<Product>, RepoError> {
        find_product(self.conn(), id).await
    }

    async fn find_with_versions(
        &self,
        id: ProductId,
    ) -> Result<Option<(Product, Vec<Version>)>, RepoError> {
        let read = product_with_versions(self.conn().get_database_backend(), id);
        with_their_versions(self.hot_rows(read).await?)
            .into_iter()
            .next()
            .map(|(row, versions)| Ok((row.into_product()?, versions)))
            .transpose()
    }

    async fn list(
        &self,
        scope: ProductScope,
        page: PageRequest,
    ) -> Result<Page<Product>, RepoError> {
        // Counted and sought from scratch: remembering plans is the kept layer's.
        self.list_planned(scope, page, &Plans::default()).await
    }

    async fn list_with_versions(
        &self,
        scope: ProductScope,
        page: PageRequest,
    ) -> Result<Page<(Product, Vec<Version>)>, RepoError> {
        self.list_with_versions_planned(scope, page, &Plans::default())
            .await
    }

    async fn update(&self, id: ProductId, u: ProductUpdate) -> Result<Product, RepoError> {
        let txn = self.conn().begin().await.map_err(db)?;
        write_product(&txn, id, u, None).await?;
        let product = find_product(&txn, id).await?.ok_or(RepoError::NotFound)?;
        txn.commit().await.map_err(db)?;
        Ok(product)
    }

    async fn edit(
        &self,
        id: ProductId,
        u: ProductUpdate,
        image: Option<String>,
        versions: VersionsEdit,
    ) -> Result<Product, RepoError> {
        let txn = self.conn().begin().await.map_err(db)?;
        write_product(&txn, id, u, image).await?;
        write_versions(&txn, id, versions).await?;
        let product = find_product(&txn, id).await?.ok_or(RepoError::NotFound)?;
        txn.commit().await.map_err(db)?;
        Ok(product)
    }

    async fn set_image(
        &self,
        id: ProductId,
        image: Option<String>,
        at: Timestamp,
    ) -> Result<(), RepoError> {
        let result = product::Entity::update_many()
            .col_expr(product::Column::Image, Expr::value(image))
            .col_expr(product::Column::UpdatedAt, Expr::value(convert::micros(at)))
            .col_expr(product::Column::Revision, next_revision())
            .filter(product::Column::Id.eq(id.0))
            .exec(self.conn())
            .await
            .map_err(db)?;
        if result.rows_affected == 0 {
            return Err(RepoError::NotFound);
        }
        Ok(())
    }

    async fn delete(&self, id: ProductId) -> Result<(), RepoError> {
        let txn = self.conn().begin().await.map_err(db)?;
        search_index::forget_documents(&txn, &[id.0]).await?;
        // Versions go with the product (ON DELETE CASCADE).
        let result = product::Entity::delete_by_id(id.0)
            .exec(&txn)
            .await
            .map_err(db)?;
        if result.rows_affected == 0 {
            return Err(RepoError::NotFound);
        }
        txn.commit().await.map_err(db)?;
        Ok(())
    }
}

/// The revision a write moves a product to.
fn next_revision() -> Expr {
    sea_orm::sea_query::ExprTrait::add(Expr::col(product::Column::Revision), 1)
}

/// Writes the fields `u` changes (and no other) if the product is still at the revision
/// they were decided on, moving it to the next one.
async fn write_product<C: ConnectionTrait>(
    conn: &C,
    id: ProductId,
    u: ProductUpdate,
    image: Option<String>,
) -> Result<(), RepoError> {
    let mut update = product::Entity::update_many()
        .col_expr(
            product::Column::UpdatedAt,
            Expr::value(convert::micros(u.updated_at)),
        )
        .col_expr(product::Column::Revision, next_revision());
    if let Some(name) = &u.name {
        update = update.col_expr(product::Column::Name, Expr::value(name.as_str()));
    }
    if let Some(description) = &u.description {
        update = update.col_expr(
            product::Column::Description,
            Expr::value(description.as_str()),
        );
    }
    if let Some(category) = u.category_id {
        update = update.col_expr(product::Column::CategoryId, Expr::value(category.0));
    }
    if let Some(price) = u.price {
        update = update.col_expr(product::Column::PriceCents, Expr::value(price.cents()));
    }
    if let Some(published) = u.is_published {
        update = update.col_expr(product::Column::IsPublished, Expr::value(published));
    }
    if let Some(locked) = u.moderation_locked {
        update = update.col_expr(product::Column::ModerationLocked, Expr::value(locked));
    }
    if let Some(key) = image {
        update = update.col_expr(product::Column::Image, Expr::value(key));
    }
    let result = update
        .filter(product::Column::Id.eq(id.0))
        .filter(product::Column::Revision.eq(u.revision))
        .exec(conn)
        .await
        .map_err(db)?;
    if result.rows_affected == 0 {
        let exists = product::Entity::find_by_id(id.0)
            .count(conn)
            .await
            .map_err(db)?;
        return Err(if exists > 0 {
            RepoError::Conflict
        } else {
            RepoError::NotFound
        });
    }
    // The words a product is found by change with its name and description, and its
    // entries say whether it is published: in the same transaction.
    if u.name.is_some() || u.description.is_some() || u.is_published.is_some() {
        search_index::rewrite_documents(conn, &[id.0]).await?;
    }
    Ok(())
}

select_list! {
    /// What [`facts`] reads.
    mod facts_columns {
        OWNER_ID = "owner_id" as "owner_id",
        IS_PUBLISHED = "is_published" as "is_published",
        MODERATION_LOCKED = "moderation_locked" as "moderation_locked",
    }
}

fn facts(c: &dyn Cells) -> Result<ProductFacts, RepoError> {
    use facts_columns as f;
    Ok(ProductFacts {
        owner: UserId(present(c.int(f::OWNER_ID)?, f::OWNER_ID)?),
        is_published: present(c.flag(f::IS_PUBLISHED)?, f::IS_PUBLISHED)?,
        moderation_locked: present(c.flag(f::MODERATION_LOCKED)?, f::MODERATION_LOCKED)?,
    })
}

/// Who may see the product whose image is stored under `key`.
pub(crate) fn image_owner(backend: sea_orm::DbBackend, key: &str) -> HotRead<ProductFacts> {
    let mut sql = SqlText::new(backend);
    sql.push("SELECT ")
        .push(facts_columns::LIST)
        .push(" FROM products WHERE image = ")
        .bind(key);
    HotRead::new(sql.statement(), facts)
}
