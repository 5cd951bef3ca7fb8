//! What the product pages share: reading the path, naming the viewer, saying why.

use axum::http::Uri;
use axum::response::Response;
use catalog_domain::access::{Actor, Field, ProductFacts, PublishDenied, sees_owner_email};
use catalog_domain::product::{Product, ProductId};
use catalog_domain::services::products::ProductError;

use catalog_domain::fields::Message;

use crate::error::WebError;
use crate::html::login_redirect;
use crate::i18n;

/// A product id in a path; anything else is a page that does not exist.
pub(super) fn product_id(raw: &str) -> Result<ProductId, WebError> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .map(ProductId)
        .ok_or(WebError::NotFound)
}

/// What the pages say when a change is refused.
fn forbidden_message(fields: &[Field], publish_denied: Option<PublishDenied>) -> Message {
    match publish_denied {
        Some(PublishDenied::ModerationLocked) => PublishDenied::ModerationLocked.into(),
        _ if fields.is_empty() => Message::new("not-allowed"),
        _ => {
            let lang = i18n::current();
            let names: Vec<&str> = fields.iter().map(|f| lang.t(label(*f))).collect();
            Message::with("may-not-change", [("fields", names.join(", ").into())])
        }
    }
}

/// The id of the message naming `field` in a refusal.
fn label(field: Field) -> &'static str {
    match field {
        Field::Name => "field-name",
        Field::Description => "field-description",
        Field::Category => "field-category",
        Field::Price => "field-price",
        Field::Image => "field-image",
        Field::IsPublished => "field-published",
        Field::Versions => "field-versions",
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
            Err(WebError::BadRequest("error-form-invalid"))
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
pub(super) const CONFLICT: &str = "product-changed-meanwhile";
