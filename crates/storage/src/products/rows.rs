//! A product row with its category and owner, read in one query the same way by every
//! read of products, and the versions joined to it.

use catalog_domain::Timestamp;
use catalog_domain::ports::RepoError;
use catalog_domain::product::{Product, ProductId, Version};
use sea_orm::ConnectionTrait;

use crate::cells::{Cells, present};
use crate::convert;
use crate::entities::{product, version};
use crate::error::db;

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
    /// Reads the [`PRODUCT_COLUMNS`].
    pub(crate) fn read(c: &dyn Cells) -> Result<Self, RepoError> {
        Ok(Self {
            id: present(c.int("id")?, "products.id")?,
            name: present(c.text("name")?, "products.name")?,
            description: present(c.text("description")?, "products.description")?,
            image: c.text("image")?,
            category_id: present(c.int("category_id")?, "products.category_id")?,
            price_cents: present(c.int("price_cents")?, "products.price_cents")?,
            is_published: present(c.flag("is_published")?, "products.is_published")?,
            moderation_locked: present(c.flag("moderation_locked")?, "products.moderation_locked")?,
            owner_id: present(c.int("owner_id")?, "products.owner_id")?,
            created_at: present(c.time("created_at")?, "products.created_at")?,
            updated_at: present(c.time("updated_at")?, "products.updated_at")?,
            revision: present(c.int("revision")?, "products.revision")?,
            category_name: present(c.text("category_name")?, "categories.name")?,
            owner_email: present(c.text("owner_email")?, "users.email")?,
            owner_first_name: present(c.text("owner_first_name")?, "users.first_name")?,
            owner_last_name: present(c.text("owner_last_name")?, "users.last_name")?,
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

/// What a [`ProductRow`] reads, from [`PRODUCT_TABLES`].
pub(crate) const PRODUCT_COLUMNS: &str = "p.id, p.name, p.description, p.image, p.category_id, \
    p.price_cents, p.is_published, p.moderation_locked, p.owner_id, p.created_at, \
    p.updated_at, p.revision, c.name AS category_name, \
    u.email AS owner_email, u.first_name AS owner_first_name, u.last_name AS owner_last_name";
pub(crate) const PRODUCT_TABLES: &str = concat!("products p ", product_joins!());
/// The category and owner of a product `p` (which may itself be joined to something).
pub(crate) const PRODUCT_JOINS: &str = product_joins!();

/// What [`version_row`] reads, from `versions v`.
pub(crate) const VERSION_COLUMNS: &str = "v.id AS v_id, v.product_id AS v_product_id, \
    v.number AS v_number, v.name AS v_name, v.is_current AS v_is_current";

/// The version of a [`VERSION_COLUMNS`] row; `None` where a LEFT JOIN found none.
pub(crate) fn version_row(c: &dyn Cells) -> Result<Option<Version>, RepoError> {
    let Some(id) = c.int("v_id")? else {
        return Ok(None);
    };
    convert::version(version::Model {
        id,
        product_id: present(c.int("v_product_id")?, "versions.product_id")?,
        number: present(c.text("v_number")?, "versions.number")?,
        name: present(c.text("v_name")?, "versions.name")?,
        is_current: present(c.flag("v_is_current")?, "versions.is_current")?,
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

/// Reads a listing's row: the product, and with versions joined one of them.
pub(crate) type RowReader = fn(&dyn Cells) -> Result<(ProductRow, Option<Version>), RepoError>;

/// The `n`th (from 1) bound parameter of a raw statement.
pub(crate) fn placeholder(backend: sea_orm::DbBackend, n: usize) -> String {
    match backend {
        sea_orm::DbBackend::Postgres => format!("${n}"),
        _ => "?".to_owned(),
    }
}

pub(crate) fn product_by_id(backend: sea_orm::DbBackend, id: ProductId) -> sea_orm::Statement {
    let sql = format!(
        "SELECT {PRODUCT_COLUMNS} FROM {PRODUCT_TABLES} WHERE p.id = {}",
        placeholder(backend, 1)
    );
    sea_orm::Statement::from_sql_and_values(backend, sql, [id.0.into()])
}

pub(crate) async fn find_product<C: ConnectionTrait>(
    conn: &C,
    id: ProductId,
) -> Result<Option<Product>, RepoError> {
    conn.query_one_raw(product_by_id(conn.get_database_backend(), id))
        .await
        .map_err(db)?
        .map(|row| ProductRow::read(&row)?.into_product())
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
