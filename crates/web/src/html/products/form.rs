//! Reading the product form: multipart, with an optional image and, on the owner's edit
//! page, a versions formset (`versions-N-id|number|name|DELETE`, `versions-current`).

use std::collections::BTreeMap;

use axum::extract::Multipart;
use catalog_domain::services::products::{ProductInput, VersionRow};

use crate::error::WebError;

/// More rows than a person could fill in is not a form.
const MAX_VERSION_ROWS: usize = 500;

#[derive(Debug, Default, Clone)]
pub struct RowForm {
    pub id: String,
    pub number: String,
    pub name: String,
    pub delete: bool,
}

/// The product form as sent. `None` means the field was not in the form.
#[derive(Debug, Default)]
pub struct ProductForm {
    pub csrf_token: String,
    pub name: Option<String>,
    pub description: Option<String>,
    pub category: Option<String>,
    pub price: Option<String>,
    pub is_published: Option<String>,
    pub image: Option<Vec<u8>>,
    /// `Some` when the form carried a versions formset.
    pub versions: Option<BTreeMap<usize, RowForm>>,
    pub current: Option<String>,
    /// The product's revision the edit form showed.
    pub revision: Option<String>,
}

fn bad(_: impl std::fmt::Debug) -> WebError {
    WebError::BadRequest("error-form-unreadable")
}

/// Splits `versions-3-number` into `(3, "number")`.
fn row_field(name: &str) -> Option<(usize, &str)> {
    let rest = name.strip_prefix("versions-")?;
    let (index, field) = rest.split_once('-')?;
    Some((index.parse().ok()?, field))
}

pub async fn read(mut multipart: Multipart) -> Result<ProductForm, WebError> {
    let mut form = ProductForm::default();
    while let Some(field) = multipart.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "image" {
            let has_file = field.file_name().is_some_and(|n| !n.is_empty());
            let bytes = field.bytes().await.map_err(bad)?;
            if has_file && !bytes.is_empty() {
                form.image = Some(bytes.to_vec());
            }
            continue;
        }
        let value = field.text().await.map_err(bad)?;
        match name.as_str() {
            "csrf_token" => form.csrf_token = value,
            "revision" => form.revision = Some(value),
            "name" => form.name = Some(value),
            "description" => form.description = Some(value),
            "category" => form.category = Some(value),
            "price" => form.price = Some(decimal_point(value)),
            // A checkbox after a hidden `false`: the last value is the answer.
            "is_published" => form.is_published = Some(value),
            "versions-current" => {
                form.versions.get_or_insert_default();
                form.current = Some(value);
            }
            "versions-TOTAL_FORMS" => {
                form.versions.get_or_insert_default();
            }
            other => {
                let Some((index, field)) = row_field(other) else {
                    continue;
                };
                if index >= MAX_VERSION_ROWS {
                    return Err(WebError::BadRequest("error-form-too-many-rows"));
                }
                let row = form
                    .versions
                    .get_or_insert_default()
                    .entry(index)
                    .or_default();
                match field {
                    "id" => row.id = value,
                    "number" => row.number = value,
                    "name" => row.name = value,
                    "DELETE" => row.delete = !value.is_empty(),
                    _ => {}
                }
            }
        }
    }
    Ok(form)
}

/// A checkbox value: absent or unknown words are errors, not guesses.
fn flag(value: &str) -> Option<bool> {
    match value {
        "true" | "on" | "1" => Some(true),
        "false" | "off" | "0" | "" => Some(false),
        _ => None,
    }
}

impl ProductForm {
    /// The form's product fields as the service reads them. A category that is not a
    /// number cannot name a category; it is passed on as one that does not exist, so it
    /// is reported like any unknown category (or refused as a change one may not make).
    ///
    /// # Errors
    /// [`WebError::BadRequest`] for a published flag that is neither yes nor no.
    pub fn input(&self) -> Result<ProductInput<'_>, WebError> {
        let is_published = match self.is_published.as_deref() {
            None => None,
            Some(v) => Some(flag(v).ok_or(WebError::BadRequest("published-invalid"))?),
        };
        let category_id = match self.category.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(v) => Some(v.parse::<i64>().unwrap_or(-1)),
        };
        Ok(ProductInput {
            name: self.name.as_deref(),
            description: self.description.as_deref(),
            category_id,
            price: self.price.as_deref(),
            is_published,
        })
    }

    /// The revision the form was filled in on; one that is not a number matches none.
    pub fn revision(&self) -> Option<i64> {
        self.revision
            .as_deref()
            .map(|r| r.trim().parse().unwrap_or(-1))
    }

    /// The formset rows in order, with the row chosen as current.
    pub fn rows(&self) -> Option<Vec<VersionRow<'_>>> {
        let rows = self.versions.as_ref()?;
        Some(
            rows.iter()
                .map(|(index, row)| VersionRow {
                    // An id that is not a number names no version of this product.
                    id: match row.id.trim() {
                        "" => None,
                        id => Some(id.parse().unwrap_or(-1)),
                    },
                    number: &row.number,
                    name: &row.name,
                    is_current: self.current.as_deref() == Some(index.to_string().as_str()),
                    delete: row.delete,
                })
                .collect(),
        )
    }
}

/// A price typed with a decimal comma (`199,99`, as Russian writes it) reads as one with
/// a point; the form accepts either in every language, and nothing else changes.
fn decimal_point(value: String) -> String {
    if !value.contains('.') && value.matches(',').count() == 1 {
        value.replacen(',', ".", 1)
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formset_names_are_split_into_row_and_field() {
        assert_eq!(row_field("versions-3-number"), Some((3, "number")));
        assert_eq!(row_field("versions-x-number"), None);
        assert_eq!(row_field("name"), None);
    }

    #[test]
    fn published_flags_are_yes_or_no_and_nothing_else() {
        assert_eq!(flag("on"), Some(true));
        assert_eq!(flag("false"), Some(false));
        assert_eq!(flag("maybe"), None);
        let form = ProductForm {
            is_published: Some("maybe".into()),
            ..ProductForm::default()
        };
        assert!(form.input().is_err());
    }

    #[test]
    fn a_category_that_is_not_a_number_names_no_category() {
        let form = ProductForm {
            category: Some("books".into()),
            ..ProductForm::default()
        };
        assert_eq!(form.input().unwrap().category_id, Some(-1));
    }

    #[test]
    fn a_decimal_comma_reads_as_a_point_and_nothing_else_changes() {
        assert_eq!(decimal_point("199,99".into()), "199.99");
        assert_eq!(decimal_point("199.99".into()), "199.99");
        assert_eq!(decimal_point("1,234.50".into()), "1,234.50");
        assert_eq!(decimal_point("1,2,3".into()), "1,2,3");
        assert_eq!(decimal_point("abc".into()), "abc");
    }
}
