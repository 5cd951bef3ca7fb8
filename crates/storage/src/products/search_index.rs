//! The search index's writes: each product's document (`product_search`) and its terms
//! (`search_terms`), written in the transaction that writes the product, from the terms
//! the domain builds ([`SearchDocument`]).

use std::collections::BTreeMap;

use catalog_domain::ports::RepoError;
use catalog_domain::product::search::SearchDocument;
use sea_orm::{ConnectionTrait, DbBackend, TransactionTrait};

use crate::Store;
use crate::cells::{Cells, present};
use crate::error::db;
use crate::hot::{SqlText, select_list};

/// Terms written by one statement: four values each, well under SQLite's limit of
/// 32 766 bound values.
const TERMS_PER_STATEMENT: usize = 4000;

select_list! {
    /// What [`stored_document`] reads.
    mod document_columns {
        PRODUCT_ID = "product_id" as "product_id",
        DOCUMENT = "document" as "document",
    }
}

select_list! {
    /// What the reindexing reads of each product.
    mod text_columns {
        ID = "id" as "id",
        NAME = "name" as "name",
        DESCRIPTION = "description" as "description",
        IS_PUBLISHED = "is_published" as "is_published",
    }
}

fn stored_document(c: &dyn Cells) -> Result<(i64, String), RepoError> {
    use document_columns as d;
    Ok((
        present(c.int(d::PRODUCT_ID)?, d::PRODUCT_ID)?,
        present(c.text(d::DOCUMENT)?, d::DOCUMENT)?,
    ))
}

fn product_text(c: &dyn Cells) -> Result<Indexed, RepoError> {
    use text_columns as t;
    let name = present(c.text(t::NAME)?, t::NAME)?;
    let description = present(c.text(t::DESCRIPTION)?, t::DESCRIPTION)?;
    Ok((
        present(c.int(t::ID)?, t::ID)?,
        SearchDocument::of(&name, &description),
        present(c.flag(t::IS_PUBLISHED)?, t::IS_PUBLISHED)?,
    ))
}

async fn rows<C: ConnectionTrait, T>(
    conn: &C,
    sql: SqlText,
    map: fn(&dyn Cells) -> Result<T, RepoError>,
) -> Result<Vec<T>, RepoError> {
    conn.query_all_raw(sql.statement())
        .await
        .map_err(db)?
        .iter()
        .map(|row| map(row))
        .collect()
}

/// A product's search document: its id, the document, and whether it is published.
pub(crate) type Indexed = (i64, SearchDocument, bool);

/// Writes the documents of products that have none yet (new products).
pub(crate) async fn write_documents<C: ConnectionTrait>(
    conn: &C,
    documents: &[Indexed],
) -> Result<(), RepoError> {
    let backend = conn.get_database_backend();
    for chunk in documents.chunks(TERMS_PER_STATEMENT / 2) {
        let mut sql = SqlText::new(backend);
        sql.push("INSERT INTO product_search (product_id, document) VALUES ");
        for (i, (id, doc, _)) in chunk.iter().enumerate() {
            sql.push(if i == 0 { "(" } else { ", (" })
                .bind(*id)
                .push(", ")
                .bind(doc.text.clone())
                .push(")");
        }
        conn.execute_raw(sql.statement()).await.map_err(db)?;
    }
    let entries: Vec<(&str, i64, i16, bool)> = documents
        .iter()
        .flat_map(|(id, doc, published)| {
            doc.terms
                .iter()
                .map(|(t, w)| (t.as_str(), *id, *w, *published))
        })
        .collect();
    for chunk in entries.chunks(TERMS_PER_STATEMENT) {
        let mut sql = SqlText::new(backend);
        sql.push("INSERT INTO search_terms (term, product_id, weight, published) VALUES ");
        for (i, (term, id, weight, published)) in chunk.iter().enumerate() {
            sql.push(if i == 0 { "(" } else { ", (" })
                .bind(*term)
                .push(", ")
                .bind(*id)
                .push(", ")
                .bind(*weight)
                .push(", ")
                .bind(*published)
                .push(")");
        }
        conn.execute_raw(sql.statement()).await.map_err(db)?;
    }
    Ok(())
}

/// Removes the documents of `ids` and their terms (the terms are known from the
/// stored documents, so each is removed by its key).
pub(crate) async fn forget_documents<C: ConnectionTrait>(
    conn: &C,
    ids: &[i64],
) -> Result<(), RepoError> {
    let backend = conn.get_database_backend();
    for chunk in ids.chunks(1000) {
        let mut sql = SqlText::new(backend);
        sql.push("SELECT ")
            .push(document_columns::LIST)
            .push(" FROM product_search WHERE product_id IN (");
        in_list(&mut sql, chunk);
        sql.push(")");
        let stored = rows(conn, sql, stored_document).await?;
        let mut by_term: BTreeMap<String, Vec<i64>> = BTreeMap::new();
        for (id, document) in &stored {
            for term in SearchDocument::terms_of_text(document).into_keys() {
                by_term.entry(term).or_default().push(*id);
            }
        }
        let terms: Vec<(String, Vec<i64>)> = by_term.into_iter().collect();
        // Each statement stays under the bound values' limit.
        let mut start = 0;
        while start < terms.len() {
            let mut values = 0;
            let mut end = start;
            while end < terms.len() && values < TERMS_PER_STATEMENT {
                values += 1 + terms[end].1.len();
                end += 1;
            }
            let mut sql = SqlText::new(backend);
            sql.push("DELETE FROM search_terms WHERE ");
            for (i, (term, owners)) in terms[start..end].iter().enumerate() {
                if i > 0 {
                    sql.push(" OR ");
                }
                sql.push("(term = ")
                    .bind(term.as_str())
                    .push(" AND product_id IN (");
                in_list(&mut sql, owners);
                sql.push("))");
            }
            conn.execute_raw(sql.statement()).await.map_err(db)?;
            start = end;
        }
        let mut sql = SqlText::new(backend);
        sql.push("DELETE FROM product_search WHERE product_id IN (");
        in_list(&mut sql, chunk);
        sql.push(")");
        conn.execute_raw(sql.statement()).await.map_err(db)?;
    }
    Ok(())
}

fn in_list(sql: &mut SqlText, ids: &[i64]) {
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.bind(*id);
    }
}

/// Writes the documents of `ids` again from their products' name, description and
/// state.
pub(crate) async fn rewrite_documents<C: ConnectionTrait>(
    conn: &C,
    ids: &[i64],
) -> Result<(), RepoError> {
    forget_documents(conn, ids).await?;
    let backend = conn.get_database_backend();
    let mut documents = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(1000) {
        let mut sql = SqlText::new(backend);
        sql.push("SELECT ")
            .push(text_columns::LIST)
            .push(" FROM products WHERE id IN (");
        in_list(&mut sql, chunk);
        sql.push(")");
        documents.extend(rows(conn, sql, product_text).await?);
    }
    write_documents(conn, &documents).await
}

select_list! {
    /// What the reindexing reads of each batch.
    mod id_columns {
        ID = "id" as "id",
    }
}

fn id_of(c: &dyn Cells) -> Result<i64, RepoError> {
    present(c.int(id_columns::ID)?, id_columns::ID)
}

impl Store {
    /// Rewrites the search documents of up to `batch` products after `after` (by id),
    /// in one transaction; returns the last id written, `None` past the last product.
    pub(crate) async fn reindex_after(
        &self,
        after: i64,
        batch: u64,
    ) -> Result<Option<(i64, u64)>, RepoError> {
        let backend = self.conn().get_database_backend();
        let mut sql = SqlText::new(backend);
        sql.push("SELECT ")
            .push(id_columns::LIST)
            .push(" FROM products WHERE id > ")
            .bind(after)
            .push(&format!(" ORDER BY id LIMIT {batch}"));
        let txn = self.conn().begin().await.map_err(db)?;
        let ids = rows(&txn, sql, id_of).await?;
        let Some(last) = ids.last().copied() else {
            return Ok(None);
        };
        rewrite_documents(&txn, &ids).await?;
        txn.commit().await.map_err(db)?;
        Ok(Some((last, ids.len() as u64)))
    }

    /// Removes the terms of products that no longer exist (a product removed by a
    /// cascade, such as its owner's removal, leaves its terms; the reads never show
    /// them, as they join the products).
    pub(crate) async fn sweep_search_terms(&self) -> Result<u64, RepoError> {
        let result = self
            .conn()
            .execute_unprepared(
                "DELETE FROM search_terms WHERE NOT EXISTS \
                 (SELECT 1 FROM products p WHERE p.id = search_terms.product_id)",
            )
            .await
            .map_err(db)?;
        Ok(result.rows_affected())
    }

    /// How many documents and term entries the search index holds (for the tests and
    /// for an operator's look at it).
    ///
    /// # Errors
    /// [`RepoError`] when the database fails.
    pub async fn search_entries(&self) -> Result<(u64, u64), RepoError> {
        let mut sql = SqlText::new(self.conn().get_database_backend());
        sql.push(
            "SELECT (SELECT COUNT(*) FROM product_search) AS i, \
             (SELECT COUNT(*) FROM search_terms) AS n",
        );
        let counts = rows(self.conn(), sql, |c| {
            Ok((present(c.int("i")?, "i")?, present(c.int("n")?, "n")?))
        })
        .await?;
        let (documents, terms) = counts.first().copied().unwrap_or((0, 0));
        Ok((
            u64::try_from(documents).unwrap_or(0),
            u64::try_from(terms).unwrap_or(0),
        ))
    }

    /// Writes the documents of products that have none (those stored before search
    /// existed); returns how many.
    ///
    /// # Errors
    /// [`RepoError`] when the database fails.
    pub async fn index_unindexed(&self) -> Result<u64, RepoError> {
        let mut written = 0;
        loop {
            let backend = self.conn().get_database_backend();
            let mut sql = SqlText::new(backend);
            sql.push(
                "SELECT p.id AS id FROM products p WHERE NOT EXISTS \
                 (SELECT 1 FROM product_search s WHERE s.product_id = p.id) ORDER BY p.id LIMIT 1000",
            );
            let txn = self.conn().begin().await.map_err(db)?;
            let ids = rows(&txn, sql, id_of).await?;
            if ids.is_empty() {
                return Ok(written);
            }
            rewrite_documents(&txn, &ids).await?;
            txn.commit().await.map_err(db)?;
            written += ids.len() as u64;
        }
    }
}

/// Whether `backend` is PostgreSQL, whose text comparisons the reads pin to byte order.
pub(crate) fn postgres(backend: DbBackend) -> bool {
    backend == DbBackend::Postgres
}
