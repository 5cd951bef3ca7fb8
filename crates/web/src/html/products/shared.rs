//! What the product pages share: reading the path, naming the viewer, saying why.

use axum::http::Uri;
use axum::response::Response;
use catalog_domain::access::{Actor, Field, ProductFacts, PublishDenied, sees_owner_email};
use catalog_domain::product::{Product, ProductId};
use catalog_domain::services::products::ProductError;

use crate::error::WebError;
use crate::html::login_redirect;

/// A product id in a path; anything else is a page that does not exist.
pub(super) fn product_id(raw: &str) -> Result<ProductId, WebError> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .map(ProductId)
        .ok_or(WebError::NotFound)
}

/// What the pages say when a change is refused.
fn forbidden_message(fields: &[Field], publish_denied: Option<PublishDenied>) -> String {
    match publish_denied {
        Some(PublishDenied::ModerationLocked) => PublishDenied::ModerationLocked.to_string(),
        _ if fields.is_empty() => "You are not allowed to do this.".to_owned(),
        _ => format!(
            "You may not change: {}. Nothing was saved.",
            fields
                .iter()
                .map(|f| label(*f))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn label(field: Field) -> &'static str {
    match field {
        Field::Name => "name",
        Field::Description => "description",
        Field::Category => "category",
        Field::Price => "price",
        Field::Image => "image",
        Field::IsPublished => "published",
        Field::Versions => "versions",
    }
}

/// Maps the failures every product page shares; form pages handle `Invalid` themselves.
pub(super) fn failure(e: impl Into<ProductError>, uri: &Uri) -> Result<Response, WebError> {
    match e.into() {
        ProductError::LoginRequired => Ok(login_redirect(uri)),
        ProductError::NotFound => Err(WebError::NotFound),
        ProductError::Forbidden {
            fields,
            publish_denied,
        } => Err(WebError::ForbiddenBecause(forbidden_message(
            &fields,
            publish_denied,
        ))),
        ProductError::Invalid(_) | ProductError::InvalidEdit(_) => {
            Err(WebError::BadRequest("The form is invalid."))
        }
        ProductError::Conflict => Err(WebError::Conflict(CONFLICT)),
        ProductError::Media(e) => Err(WebError::Internal(e.to_string())),
        ProductError::Unexpected(e) => Err(e.into()),
    }
}

/// The owner as a viewer sees them: the address for the owner, moderators and
/// superusers; the display name for everyone else.
pub(super) fn owner_label(viewer: Option<&Actor>, product: &Product) -> String {
    if sees_owner_email(viewer, &ProductFacts::from(product)) {
        product.owner.email.to_string()
    } else {
        product.owner.display_name()
    }
}

/// Said when a form was filled in on a product that someone has changed since.
pub(super) const CONFLICT: &str = "Someone changed this product while you were editing it (a moderator \
    may have unpublished it), so nothing was saved. The form now shows the product as it \
    is, with what you typed; check it and save again. Choose the image again if you sent one.";
