//! The edit form as one operation: the product's fields, its image and its versions are
//! checked together and stored together, or not at all.

use std::collections::HashMap;

use super::errors::ImageRefused;
use super::{ChangeError, Checked, ProductInput, ProductsService, invalid_category};
use crate::access::{Actor, Field, ProductFacts, editable_fields};
use crate::fields::{FieldErrors, Input, Message};
use crate::ports::RepoError;
use crate::product::{
    NewVersion, Product, ProductId, Version, VersionId, VersionName, VersionNumber, VersionsEdit,
};

/// One row of the versions formset as submitted. A row without an id adds a version
/// (ignored when left blank); `delete` removes the row's version.
#[derive(Debug, Clone, Default)]
pub struct VersionRow<'a> {
    pub id: Option<i64>,
    pub number: &'a str,
    pub name: &'a str,
    pub is_current: bool,
    pub delete: bool,
}

impl VersionRow<'_> {
    fn is_blank(&self) -> bool {
        self.id.is_none() && self.number.trim().is_empty() && self.name.trim().is_empty()
    }
}

/// What is wrong with an edit form: its fields, and each version row by position.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EditErrors {
    pub fields: FieldErrors,
    pub rows: Vec<FieldErrors>,
}

impl EditErrors {
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.rows.iter().all(FieldErrors::is_empty)
    }
}

/// Turns the submitted rows into the change to store, checking each row and the state the
/// product's versions end up in (distinct numbers, at most one current).
fn plan_versions(
    existing: &[Version],
    rows: &[VersionRow<'_>],
) -> (VersionsEdit, Vec<FieldErrors>) {
    let mut plan = VersionsEdit::default();
    let mut errors: Vec<FieldErrors> = rows.iter().map(|_| FieldErrors::new()).collect();
    let known: HashMap<i64, &Version> = existing.iter().map(|v| (v.id.0, v)).collect();
    let mut named = std::collections::HashSet::new();
    // Numbers of the versions the product keeps, to find duplicates: (number, row).
    let mut kept: Vec<(String, Option<usize>)> = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        if row.is_blank() || (row.id.is_none() && row.delete) {
            continue;
        }
        if let Some(id) = row.id {
            if !known.contains_key(&id) || !named.insert(id) {
                errors[i].add(Input::VersionNumber, Message::new("version-gone"));
                continue;
            }
            if row.delete {
                plan.delete.push(VersionId(id));
                continue;
            }
        }
        let number = VersionNumber::parse(row.number)
            .map_err(|e| errors[i].add(Input::VersionNumber, e))
            .ok();
        let name = VersionName::parse(row.name)
            .map_err(|e| errors[i].add(Input::Name, e))
            .ok();
        let (Some(number), Some(name)) = (number, name) else {
            continue;
        };
        kept.push((number.as_str().to_owned(), Some(i)));
        let version = NewVersion {
            number,
            name,
            is_current: row.is_current,
        };
        match row.id {
            Some(id) => plan.update.push((VersionId(id), version)),
            None => plan.insert.push(version),
        }
    }
    // Versions the form does not name keep their numbers; a row must not take one.
    let unnamed = existing
        .iter()
        .filter(|v| !named.contains(&v.id.0))
        .map(|v| (v.number.as_str().to_owned(), None));
    let kept: Vec<(String, Option<usize>)> = unnamed.chain(kept).collect();
    for (at, (number, row)) in kept.iter().enumerate() {
        let Some(i) = row else { continue };
        if kept[..at].iter().any(|(n, _)| n == number) {
            errors[*i].add(Input::VersionNumber, Message::new("version-number-taken"));
        }
    }
    let current: Vec<usize> = rows
        .iter()
        .enumerate()
        .filter(|(_, r)| r.is_current && !r.delete && !r.is_blank())
        .map(|(i, _)| i)
        .collect();
    if current.len() > 1 {
        for i in current {
            errors[i].add(Input::IsCurrent, Message::new("version-one-current"));
        }
    }
    (plan, errors)
}

impl ProductsService {
    /// Saves an edit form. Fields the actor may not change — including an image or
    /// versions sent by someone who may not manage them — fail the whole request with
    /// [`ChangeError::Forbidden`] before anything else is looked at. `versions: None`
    /// means the form had no versions formset. `revision` is the product's revision the
    /// form showed, when it says: an edit of a product that has changed since is refused
    /// rather than written over the change.
    ///
    /// # Errors
    /// [`ChangeError::NotFound`], [`ChangeError::Forbidden`],
    /// [`ChangeError::InvalidEdit`], [`ChangeError::Conflict`]; nothing is saved then.
    pub async fn edit(
        &self,
        actor: &Actor,
        id: ProductId,
        input: ProductInput<'_>,
        image: Option<Vec<u8>>,
        versions: Option<Vec<VersionRow<'_>>>,
        revision: Option<i64>,
    ) -> Result<Product, ChangeError> {
        let product = self
            .visible_to(actor, id)
            .await?
            .ok_or(ChangeError::NotFound)?;
        let mut also = Vec::new();
        if image.is_some() {
            also.push(Field::Image);
        }
        if versions.is_some() {
            also.push(Field::Versions);
        }
        if editable_fields(actor, &ProductFacts::from(&product)).is_empty() {
            return Err(ChangeError::Forbidden {
                fields: Vec::new(),
                publish_denied: None,
            });
        }
        // A form filled in on an earlier state is judged against that state by the
        // person who sent it; against today's, its unchanged fields would read as changes.
        if revision.is_some_and(|seen| seen != product.revision) {
            return Err(ChangeError::Conflict);
        }
        let Checked { update, errors } = self.check(actor, &product, &input, &also)?;
        let mut errors = EditErrors {
            fields: errors,
            rows: Vec::new(),
        };
        self.check_category(update.category_id, &mut errors.fields)
            .await?;
        let plan = match &versions {
            Some(rows) => {
                let existing = self.ports.versions.list(id).await?;
                let (plan, row_errors) = plan_versions(&existing, rows);
                errors.rows = row_errors;
                plan
            }
            None => VersionsEdit::default(),
        };
        if !errors.is_empty() {
            return Err(ChangeError::InvalidEdit(errors));
        }
        let key = match image {
            Some(bytes) => match self.store_image(bytes).await {
                Ok(key) => Some(key),
                Err(ImageRefused::Invalid(fields)) => {
                    return Err(ChangeError::InvalidEdit(EditErrors {
                        fields,
                        rows: Vec::new(),
                    }));
                }
                Err(ImageRefused::Failed(e)) => return Err(ChangeError::Media(e)),
            },
            None => None,
        };
        match self
            .ports
            .products
            .edit(id, update, key.clone(), plan)
            .await
        {
            Ok(saved) => {
                if key.is_some()
                    && let Some(old) = &product.image
                {
                    self.forget_image(old).await;
                }
                Ok(saved)
            }
            Err(e) => {
                if let Some(key) = &key {
                    self.forget_image(key).await;
                }
                Err(match e {
                    RepoError::Conflict => ChangeError::Conflict,
                    RepoError::MissingReference => ChangeError::InvalidEdit(EditErrors {
                        fields: invalid_category(),
                        rows: Vec::new(),
                    }),
                    RepoError::VersionNumberTaken | RepoError::NotFound => {
                        let mut fields = FieldErrors::new();
                        fields.add(Input::Versions, Message::new("versions-changed"));
                        ChangeError::InvalidEdit(EditErrors {
                            fields,
                            rows: Vec::new(),
                        })
                    }
                    other => other.into(),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::product::ProductId;

    fn version(id: i64, number: &str, current: bool) -> Version {
        Version {
            id: VersionId(id),
            product_id: ProductId(1),
            number: VersionNumber::parse(number).unwrap(),
            name: VersionName::parse("").unwrap(),
            is_current: current,
        }
    }

    fn row<'a>(id: Option<i64>, number: &'a str, current: bool) -> VersionRow<'a> {
        VersionRow {
            id,
            number,
            name: "",
            is_current: current,
            delete: false,
        }
    }

    #[test]
    fn blank_rows_are_ignored_and_new_rows_are_added() {
        let (plan, errors) = plan_versions(&[], &[row(None, "", false), row(None, "1.0", true)]);
        assert!(errors.iter().all(FieldErrors::is_empty));
        assert_eq!(plan.insert.len(), 1);
        assert!(plan.names_current());
    }

    #[test]
    fn numbers_stay_unique_across_kept_rows_including_unnamed_ones() {
        let existing = [version(1, "1.0", false), version(2, "2.0", true)];
        // Row 0 renames version 1 to the number version 2 keeps (version 2 not in form).
        let (_, errors) = plan_versions(&existing, &[row(Some(1), "2.0", false)]);
        assert_eq!(errors[0].of(Input::VersionNumber).len(), 1);
        // Swapping numbers inside the form is fine: the end state is distinct.
        let (plan, errors) = plan_versions(
            &existing,
            &[row(Some(1), "2.0", false), row(Some(2), "1.0", true)],
        );
        assert!(errors.iter().all(FieldErrors::is_empty), "{errors:?}");
        assert_eq!(plan.update.len(), 2);
        // Deleting one frees its number for a new row.
        let mut gone = row(Some(2), "2.0", false);
        gone.delete = true;
        let (plan, errors) = plan_versions(&existing, &[gone, row(None, "2.0", false)]);
        assert!(errors.iter().all(FieldErrors::is_empty), "{errors:?}");
        assert_eq!(plan.delete, vec![VersionId(2)]);
    }

    #[test]
    fn two_current_rows_and_unknown_ids_are_refused() {
        let existing = [version(1, "1.0", false)];
        let (_, errors) = plan_versions(
            &existing,
            &[row(Some(1), "1.0", true), row(None, "1.1", true)],
        );
        assert_eq!(errors[0].of(Input::IsCurrent).len(), 1);
        assert_eq!(errors[1].of(Input::IsCurrent).len(), 1);
        let (plan, errors) = plan_versions(&existing, &[row(Some(99), "9.0", false)]);
        assert_eq!(errors[0].of(Input::VersionNumber).len(), 1);
        assert!(plan.is_empty());
    }

    #[test]
    fn row_values_are_validated() {
        let long = "1".repeat(21);
        let (plan, errors) = plan_versions(&[], &[row(None, &long, false)]);
        assert_eq!(errors[0].of(Input::VersionNumber).len(), 1);
        assert!(plan.is_empty());
    }
}
