//! Categories: unique names, never removed while a product uses one.

use async_trait::async_trait;
use catalog_domain::ports::{CategoryRepository, RepoError};
use catalog_domain::product::{Category, CategoryId, NewCategory};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
};

use crate::entities::{category, product};
use crate::error::{db, repo_err};
use crate::{Store, convert};

#[async_trait]
impl CategoryRepository for Store {
    async fn insert(&self, new: NewCategory) -> Result<Category, RepoError> {
        let row = category::ActiveModel {
            name: Set(new.name.as_str().to_owned()),
            description: Set(new.description.as_str().to_owned()),
            ..Default::default()
        }
        .insert(self.conn())
        .await
        .map_err(|e| repo_err(e, || RepoError::CategoryNameTaken))?;
        convert::category(row)
    }

    async fn list(&self) -> Result<Vec<Category>, RepoError> {
        category::Entity::find()
            .order_by_asc(category::Column::Name)
            .all(self.conn())
            .await
            .map_err(db)?
            .into_iter()
            .map(convert::category)
            .collect()
    }

    async fn find_by_id(&self, id: CategoryId) -> Result<Option<Category>, RepoError> {
        category::Entity::find_by_id(id.0)
            .one(self.conn())
            .await
            .map_err(db)?
            .map(convert::category)
            .transpose()
    }

    async fn find_by_name(&self, name: &str) -> Result<Option<Category>, RepoError> {
        category::Entity::find()
            .filter(category::Column::Name.eq(name))
            .one(self.conn())
            .await
            .map_err(db)?
            .map(convert::category)
            .transpose()
    }

    async fn delete(&self, id: CategoryId) -> Result<(), RepoError> {
        let in_use = || async {
            product::Entity::find()
                .filter(product::Column::CategoryId.eq(id.0))
                .count(self.conn())
                .await
                .map_err(db)
        };
        let count = in_use().await?;
        if count > 0 {
            return Err(RepoError::CategoryInUse(count));
        }
        match category::Entity::delete_by_id(id.0).exec(self.conn()).await {
            Ok(r) if r.rows_affected == 0 => Err(RepoError::NotFound),
            Ok(_) => Ok(()),
            // A product arrived between the count and the delete.
            Err(e) => match db(e) {
                RepoError::MissingReference => Err(RepoError::CategoryInUse(in_use().await?)),
                other => Err(other),
            },
        }
    }
}
