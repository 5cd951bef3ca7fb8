//! A product row with its category and owner, read in one query the same way by every
//! read of products, and the versions joined to it.

use catalog_domain::Timestamp;
use catalog_domain::ports::RepoError;
use catalog_domain::product::{Product, ProductId, Version};
use sea_orm::{ConnectionTrait, DbBackend};

use crate::cells::{Cells, present};
use crate::convert;
use crate::entities::{product, version};
use crate::error::db;
use crate::hot::{HotRead, SqlText, select_list};

select_list! {
    /// What a [`ProductRow`] reads, from [`PRODUCT_TABLES`].
    pub(crate) mod columns {
        ID = "p.id" as "id",
        NAME = "p.name" as "name",
        DESCRIPTION = "p.description" as "description",
        IMAGE = "p.image" as "image",
        CATEGORY_ID = "p.category_id" as "category_id",
        PRICE_CENTS = "p.price_cents" as "price_cents",
        IS_PUBLISHED = "p.is_published" as "is_published",
        MODERATION_LOCKED = "p.moderation_locked" as "moderation_locked",
        OWNER_ID = "p.owner_id" as "owner_id",
        CREATED_AT = "p.created_at" as "created_at",
        UPDATED_AT = "p.updated_at" as "updated_at",
        REVISION = "p.revision" as "revision",
        CATEGORY_NAME = "c.name" as "category_name",
        OWNER_EMAIL = "u.email" as "owner_email",
        OWNER_FIRST_NAME = "u.first_name" as "owner_first_name",
        OWNER_LAST_NAME = "u.last_name" as "owner_last_name",
    }
}

select_list! {
    /// What [`version_row`] reads, from `versions v`.
    pub(crate) mod version_columns {
        ID = "v.id" as "v_id",
        PRODUCT_ID = "v.product_id" as "v_product_id",
        NUMBER = "v.number" as "v_number",
        NAME = "v.name" as "v_name",
        IS_CURRENT = "v.is_current" as "v_is_current",
    }
}

/// A product row with what every page shows next to it, fetched in one query.
#[derive(Debug)]
pub(crate) struct ProductRow {
    pub(crate) id: i64,
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) image: Option<String>,
    pub(crate) category_id: i64,
    pub(crate) price_cents: i64,
    pub(crate) is_published: bool,
    pub(crate) moderation_locked: bool,
    pub(crate) owner_id: i64,
    pub(crate) created_at: Timestamp,
    pub(crate) updated_at: Timestamp,
    pub(crate) revision: i64,
    pub(crate) category_name: String,
    pub(crate) owner_email: String,
    pub(crate) owner_first_name: String,
    pub(crate) owner_last_name: String,
}

impl ProductRow {
    /// Reads the [`columns`].
    pub(crate) fn read(c: &dyn Cells) -> Result<Self, RepoError> {
        use columns as p;
        Ok(Self {
            id: present(c.int(p::ID)?, p::ID)?,
            name: present(c.text(p::NAME)?, p::NAME)?,
            description: present(c.text(p::DESCRIPTION)?, p::DESCRIPTION)?,
            image: c.text(p::IMAGE)?,
            category_id: present(c.int(p::CATEGORY_ID)?, p::CATEGORY_ID)?,
            price_cents: present(c.int(p::PRICE_CENTS)?, p::PRICE_CENTS)?,
            is_published: present(c.flag(p::IS_PUBLISHED)?, p::IS_PUBLISHED)?,
            moderation_locked: present(c.flag(p::MODERATION_LOCKED)?, p::MODERATION_LOCKED)?,
            owner_id: present(c.int(p::OWNER_ID)?, p::OWNER_ID)?,
            created_at: present(c.time(p::CREATED_AT)?, p::CREATED_AT)?,
            updated_at: present(c.time(p::UPDATED_AT)?, p::UPDATED_AT)?,
            revision: present(c.int(p::REVISION)?, p::REVISION)?,
            category_name: present(c.text(p::CATEGORY_NAME)?, p::CATEGORY_NAME)?,
            owner_email: present(c.text(p::OWNER_EMAIL)?, p::OWNER_EMAIL)?,
            owner_first_name: present(c.text(p::OWNER_FIRST_NAME)?, p::OWNER_FIRST_NAME)?,
            owner_last_name: present(c.text(p::OWNER_LAST_NAME)?, p::OWNER_LAST_NAME)?,
        })
    }

    pub(crate) fn into_product(self) -> Result<Product, RepoError> {
        let model = product::Model {
            id: self.id,
            name: self.name,
            description: self.description,
            image: self.image,
            category_id: self.category_id,
            price_cents: self.price_cents,
            is_published: self.is_published,
            moderation_locked: self.moderation_locked,
            owner_id: self.owner_id,
            created_at: self.created_at,
            updated_at: self.updated_at,
            revision: self.revision,
        };
        let owner = convert::Owner {
            email: self.owner_email,
            first_name: self.owner_first_name,
            last_name: self.owner_last_name,
        };
        convert::product(model, self.category_name, owner)
    }
}

macro_rules! product_joins {
    () => {
        "JOIN categories c ON c.id = p.category_id JOIN users u ON u.id = p.owner_id"
    };
}

pub(crate) const PRODUCT_TABLES: &str = concat!("products p ", product_joins!());
/// The category and owner of a product `p` (which may itself be joined to something).
pub(crate) const PRODUCT_JOINS: &str = product_joins!();

/// The version of a [`version_columns`] row; `None` where a LEFT JOIN found none.
pub(crate) fn version_row(c: &dyn Cells) -> Result<Option<Version>, RepoError> {
    use version_columns as v;
    let Some(id) = c.int(v::ID)? else {
        return Ok(None);
    };
    convert::version(version::Model {
        id,
        product_id: present(c.int(v::PRODUCT_ID)?, v::PRODUCT_ID)?,
        number: present(c.text(v::NUMBER)?, v::NUMBER)?,
        name: present(c.text(v::NAME)?, v::NAME)?,
        is_current: present(c.flag(v::IS_CURRENT)?, v::IS_CURRENT)?,
    })
    .map(Some)
}

/// Groups rows of products joined to their versions: each product once (its columns
/// from its first row), in the order of its first row, with its versions in the order of
/// their ids. The rows may come in any order: grouping a page's few rows here costs far
/// less than an ORDER BY, which made SQLite copy every wide row into a sorter. A product's
/// rows come together in practice, so the search for its group ends at the first look.
pub(crate) fn with_their_versions(
    rows: Vec<(ProductRow, Option<Version>)>,
) -> Vec<(ProductRow, Vec<Version>)> {
    let mut products: Vec<(ProductRow, Vec<Version>)> = Vec::with_capacity(rows.len());
    for (row, version) in rows {
        match products
            .iter_mut()
            .rev()
            .find(|(seen, _)| seen.id == row.id)
        {
            Some((_, versions)) => versions.extend(version),
            None => products.push((row, version.into_iter().collect())),
        }
    }
    for (_, versions) in &mut products {
        versions.sort_unstable_by_key(|v| v.id);
    }
    products
}

/// A product and, with versions joined, one of them: a row of a listing or of
/// [`product_with_versions`].
pub(crate) type JoinedRow = (ProductRow, Option<Version>);

/// Reads a [`JoinedRow`] of a statement that selects the versions too.
pub(crate) fn joined_row(c: &dyn Cells) -> Result<JoinedRow, RepoError> {
    Ok((ProductRow::read(c)?, version_row(c)?))
}

/// Reads a [`JoinedRow`] of a statement that selects no versions.
pub(crate) fn product_only(c: &dyn Cells) -> Result<JoinedRow, RepoError> {
    Ok((ProductRow::read(c)?, None))
}

/// One product by id.
pub(crate) fn product_by_id(backend: DbBackend, id: ProductId) -> HotRead<ProductRow> {
    let mut sql = SqlText::new(backend);
    sql.push("SELECT ")
        .push(columns::LIST)
        .push(" FROM ")
        .push(PRODUCT_TABLES)
        .push(" WHERE p.id = ")
        .bind(id.0);
    HotRead::new(sql.statement(), ProductRow::read)
}

/// One product by id, a row for each of its versions (a product has a few at most).
pub(crate) fn product_with_versions(backend: DbBackend, id: ProductId) -> HotRead<JoinedRow> {
    let mut sql = SqlText::new(backend);
    sql.push("SELECT ")
        .push(columns::LIST)
        .push(", ")
        .push(version_columns::LIST)
        .push(" FROM ")
        .push(PRODUCT_TABLES)
        .push(" LEFT JOIN versions v ON v.product_id = p.id WHERE p.id = ")
        .bind(id.0);
    HotRead::new(sql.statement(), joined_row)
}

pub(crate) async fn find_product<C: ConnectionTrait>(
    conn: &C,
    id: ProductId,
) -> Result<Option<Product>, RepoError> {
    let read = product_by_id(conn.get_database_backend(), id);
    conn.query_one_raw(read.statement)
        .await
        .map_err(db)?
        .map(|row| (read.map)(&row)?.into_product())
        .transpose()
}

#[cfg(test)]
mod tests {
    use catalog_domain::product::{VersionId, VersionName, VersionNumber};

    use super::*;

    fn row(id: i64) -> ProductRow {
        ProductRow {
            id,
            name: format!("Product {id}"),
            description: String::new(),
            image: None,
            category_id: 1,
            price_cents: 100,
            is_published: true,
            moderation_locked: false,
            owner_id: 1,
            created_at: Timestamp::default(),
            updated_at: Timestamp::default(),
            revision: 1,
            category_name: "Tools".into(),
            owner_email: "ann@example.com".into(),
            owner_first_name: String::new(),
            owner_last_name: String::new(),
        }
    }

    fn version(id: i64, product: i64) -> Option<Version> {
        Some(Version {
            id: VersionId(id),
            product_id: ProductId(product),
            number: VersionNumber::parse(&format!("1.{id}")).ok()?,
            name: VersionName::parse("").ok()?,
            is_current: false,
        })
    }

    /// The listing's SQL has no ORDER BY for the joined versions: however the database
    /// hands the rows over, each product comes once (where its first row came) with its
    /// versions in id order.
    #[test]
    fn rows_in_any_order_group_into_products_with_their_versions_in_order() {
        let rows = vec![
            (row(2), version(7, 2)),
            (row(1), None),
            (row(2), version(5, 2)),
            (row(3), version(9, 3)),
            (row(2), version(6, 2)),
        ];
        let grouped: Vec<(i64, Vec<i64>)> = with_their_versions(rows)
            .into_iter()
            .map(|(p, versions)| (p.id, versions.iter().map(|v| v.id.0).collect()))
            .collect();
        assert_eq!(grouped, vec![(2, vec![5, 6, 7]), (1, vec![]), (3, vec![9])]);
    }
}
