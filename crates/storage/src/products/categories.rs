//! Categories: unique names, never removed while a product uses one.

use async_trait::async_trait;
use catalog_domain::ports::{CategoryRepository, ProductScope, RepoError};
use catalog_domain::product::{Category, CategoryId, NewCategory};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};

use std::collections::HashMap;

use crate::cells::{Cells, present};
use crate::entities::{category, product};
use crate::error::{db, repo_err};
use crate::hot::SqlText;
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

    async fn with_counts(&self, scope: ProductScope) -> Result<Vec<(Category, u64)>, RepoError> {
        let categories = CategoryRepository::list(self).await?;
        let mut sql = SqlText::new(self.conn().get_database_backend());
        // Each count reads one range of the category's index (two for a signed-in
        // user: the published products and their own drafts).
        sql.push("SELECT c.id AS id, (");
        match scope {
            ProductScope::All => {
                sql.push("SELECT COUNT(*) FROM products p WHERE p.category_id = c.id");
            }
            ProductScope::Published => {
                sql.push(
                    "SELECT COUNT(*) FROM products p WHERE p.category_id = c.id \
                     AND p.is_published = TRUE",
                );
            }
            ProductScope::PublishedOrOwnedBy(owner) => {
                sql.push(
                    "SELECT COUNT(*) FROM products p WHERE p.category_id = c.id \
                     AND p.is_published = TRUE) + (SELECT COUNT(*) FROM products p \
                     WHERE p.category_id = c.id AND p.is_published = FALSE AND p.owner_id = ",
                )
                .bind(owner.0);
            }
        }
        sql.push(") AS n FROM categories c");
        let counts: HashMap<i64, i64> = self
            .conn()
            .query_all_raw(sql.statement())
            .await
            .map_err(db)?
            .iter()
            .map(|row| Ok((present(row.int("id")?, "id")?, present(row.int("n")?, "n")?)))
            .collect::<Result<_, RepoError>>()?;
        Ok(categories
            .into_iter()
            .map(|c| {
                let n = counts.get(&c.id.0).copied().unwrap_or(0);
                (c, u64::try_from(n).unwrap_or(0))
            })
            .collect())
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
