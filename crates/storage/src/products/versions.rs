//! Versions of a product: at most one current, numbers unique within the product.

use async_trait::async_trait;
use catalog_domain::ports::{RepoError, VersionRepository};
use catalog_domain::product::{NewVersion, ProductId, Version, VersionId, VersionsEdit};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
    TransactionTrait,
};

use crate::entities::version;
use crate::error::{db, repo_err};
use crate::{Store, convert};

/// Applies a versions edit. Rewritten rows first take a placeholder number that no real
/// number can have (real ones have no control characters), so that numbers can be
/// swapped between rows without tripping the unique index half-way.
pub(super) async fn write_versions<C: ConnectionTrait>(
    conn: &C,
    product: ProductId,
    edit: VersionsEdit,
) -> Result<(), RepoError> {
    let mine = |q: sea_orm::UpdateMany<version::Entity>, id: VersionId| {
        q.filter(version::Column::Id.eq(id.0))
            .filter(version::Column::ProductId.eq(product.0))
    };
    for id in &edit.delete {
        let result = version::Entity::delete_many()
            .filter(version::Column::Id.eq(id.0))
            .filter(version::Column::ProductId.eq(product.0))
            .exec(conn)
            .await
            .map_err(db)?;
        if result.rows_affected == 0 {
            return Err(RepoError::NotFound);
        }
    }
    if edit.names_current() {
        demote_others(conn, product, None).await?;
    }
    for (id, _) in &edit.update {
        let placeholder = format!("\u{1}{}", id.0);
        let result = mine(version::Entity::update_many(), *id)
            .col_expr(version::Column::Number, Expr::value(placeholder))
            .col_expr(version::Column::IsCurrent, Expr::value(false))
            .exec(conn)
            .await
            .map_err(db)?;
        if result.rows_affected == 0 {
            return Err(RepoError::NotFound);
        }
    }
    for (id, v) in &edit.update {
        mine(version::Entity::update_many(), *id)
            .col_expr(version::Column::Number, Expr::value(v.number.as_str()))
            .col_expr(version::Column::Name, Expr::value(v.name.as_str()))
            .col_expr(version::Column::IsCurrent, Expr::value(v.is_current))
            .exec(conn)
            .await
            .map_err(|e| repo_err(e, version_taken))?;
    }
    for v in &edit.insert {
        version::ActiveModel {
            product_id: Set(product.0),
            number: Set(v.number.as_str().to_owned()),
            name: Set(v.name.as_str().to_owned()),
            is_current: Set(v.is_current),
            ..Default::default()
        }
        .insert(conn)
        .await
        .map_err(|e| repo_err(e, version_taken))?;
    }
    Ok(())
}

/// Clears the current flag of every version of a product but `except`.
async fn demote_others<C: ConnectionTrait>(
    conn: &C,
    product: ProductId,
    except: Option<VersionId>,
) -> Result<(), RepoError> {
    let mut update = version::Entity::update_many()
        .col_expr(version::Column::IsCurrent, Expr::value(false))
        .filter(version::Column::ProductId.eq(product.0))
        .filter(version::Column::IsCurrent.eq(true));
    if let Some(id) = except {
        update = update.filter(version::Column::Id.ne(id.0));
    }
    update.exec(conn).await.map_err(db)?;
    Ok(())
}

fn version_taken() -> RepoError {
    RepoError::VersionNumberTaken
}

#[async_trait]
impl VersionRepository for Store {
    async fn list(&self, product: ProductId) -> Result<Vec<Version>, RepoError> {
        version::Entity::find()
            .filter(version::Column::ProductId.eq(product.0))
            .order_by_asc(version::Column::Id)
            .all(self.conn())
            .await
            .map_err(db)?
            .into_iter()
            .map(convert::version)
            .collect()
    }

    async fn insert(&self, product: ProductId, v: NewVersion) -> Result<Version, RepoError> {
        let txn = self.conn().begin().await.map_err(db)?;
        if v.is_current {
            demote_others(&txn, product, None).await?;
        }
        let row = version::ActiveModel {
            product_id: Set(product.0),
            number: Set(v.number.as_str().to_owned()),
            name: Set(v.name.as_str().to_owned()),
            is_current: Set(v.is_current),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map_err(|e| repo_err(e, version_taken))?;
        txn.commit().await.map_err(db)?;
        convert::version(row)
    }

    async fn update(
        &self,
        product: ProductId,
        id: VersionId,
        v: NewVersion,
    ) -> Result<Version, RepoError> {
        let txn = self.conn().begin().await.map_err(db)?;
        if v.is_current {
            demote_others(&txn, product, Some(id)).await?;
        }
        let result = version::Entity::update_many()
            .col_expr(version::Column::Number, Expr::value(v.number.as_str()))
            .col_expr(version::Column::Name, Expr::value(v.name.as_str()))
            .col_expr(version::Column::IsCurrent, Expr::value(v.is_current))
            .filter(version::Column::Id.eq(id.0))
            .filter(version::Column::ProductId.eq(product.0))
            .exec(&txn)
            .await
            .map_err(|e| repo_err(e, version_taken))?;
        if result.rows_affected == 0 {
            return Err(RepoError::NotFound);
        }
        let row = version::Entity::find_by_id(id.0)
            .one(&txn)
            .await
            .map_err(db)?
            .ok_or(RepoError::NotFound)?;
        txn.commit().await.map_err(db)?;
        convert::version(row)
    }

    async fn delete(&self, product: ProductId, id: VersionId) -> Result<(), RepoError> {
        let result = version::Entity::delete_many()
            .filter(version::Column::Id.eq(id.0))
            .filter(version::Column::ProductId.eq(product.0))
            .exec(self.conn())
            .await
            .map_err(db)?;
        if result.rows_affected == 0 {
            return Err(RepoError::NotFound);
        }
        Ok(())
    }
}
