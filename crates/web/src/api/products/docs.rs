//! The documents of the product endpoints: what they answer, each type its own OpenAPI
//! schema, and the problems their failures become.

// A problem document is built at most once per failed request and handed straight to the
// response; boxing it would cost more than it saves.
#![allow(clippy::result_large_err)]

use axum::http::StatusCode;
use catalog_domain::access::{Actor, ProductFacts, PublishDenied, sees_owner_email};
use catalog_domain::fields::Message;
use catalog_domain::product::{Product, Version};
use catalog_domain::services::products::{
    ChangeError, CreateError, DeleteError, ListError, ProductError, ViewError,
};
use chrono::SecondsFormat;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::body::Sent;
use crate::api::problem::Problem;
use crate::state::AppState;
use crate::view::media_url;

/// A category as products name it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryRef<'a> {
    id: i64,
    name: &'a str,
}

/// Who owns a product.
#[derive(Debug, Serialize, ToSchema)]
pub struct OwnerRef<'a> {
    id: i64,
    /// The owner's profile name, or a neutral label when they have given none.
    name: String,
    /// Only for the owner, moderators and superusers.
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
}

// Documents borrow the text of the domain values they show: a page of them is written
// out at once, and copying every name and address first was a good part of the work.
#[derive(Debug, Serialize, ToSchema)]
pub struct VersionDoc<'a> {
    id: i64,
    /// Such as `1.0.2`; unique within the product.
    number: &'a str,
    name: &'a str,
    /// At most one version of a product is current.
    is_current: bool,
}

/// A product (SPEC §10).
#[derive(Debug, Serialize, ToSchema)]
pub struct ProductDoc<'a> {
    id: i64,
    name: &'a str,
    description: &'a str,
    /// Exact decimal with two places, as a string: `"199.99"`.
    #[schema(example = "199.99")]
    price: String,
    is_published: bool,
    /// Set when a moderator unpublished the product; only a moderator can publish it again.
    moderation_locked: bool,
    category: CategoryRef<'a>,
    owner: OwnerRef<'a>,
    image_url: Option<String>,
    versions: Vec<VersionDoc<'a>>,
    /// RFC 3339, UTC.
    created_at: String,
    updated_at: String,
}

/// Documents the list endpoint, whose own writer (`product_json`) is held to what serde
/// writes for this type.
#[derive(Debug, Serialize, ToSchema)]
#[cfg_attr(not(test), allow(dead_code))]
pub struct ProductPage<'a> {
    items: Vec<ProductDoc<'a>>,
    page: u64,
    per_page: u64,
    total: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryDoc {
    pub(super) id: i64,
    pub(super) name: String,
    pub(super) description: String,
}

/// The body of `POST /products` and `PATCH /products/{id}` (all optional for PATCH):
/// the parser of those requests and their schema. Other keys (`id`, `owner`,
/// `created_at`, …) are ignored.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ProductBody {
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub(super) name: Sent<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub(super) description: Sent<String>,
    #[serde(default)]
    #[schema(value_type = Option<i64>)]
    pub(super) category_id: Sent<i64>,
    /// Exact decimal with at most two places, as a string.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "199.99")]
    pub(super) price: Sent<String>,
    #[serde(default)]
    #[schema(value_type = Option<bool>)]
    pub(super) is_published: Sent<bool>,
}

/// The body of the version endpoints (all optional for PATCH).
#[derive(Debug, Deserialize, ToSchema)]
pub struct VersionBody {
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub(super) number: Sent<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub(super) name: Sent<String>,
    #[serde(default)]
    #[schema(value_type = Option<bool>)]
    pub(super) is_current: Sent<bool>,
}

pub(super) fn version_doc(v: &Version) -> VersionDoc<'_> {
    VersionDoc {
        id: v.id.0,
        number: v.number.as_str(),
        name: v.name.as_str(),
        is_current: v.is_current,
    }
}

/// The public URL without its trailing slash, which image paths follow.
pub(super) fn public_base(state: &AppState) -> &str {
    state.settings.public_url.as_str().trim_end_matches('/')
}

pub(super) fn product_doc<'a>(
    base: &str,
    viewer: Option<&Actor>,
    p: &'a Product,
    versions: &'a [Version],
) -> ProductDoc<'a> {
    let shows_email = sees_owner_email(viewer, &ProductFacts::from(p));
    ProductDoc {
        id: p.id.0,
        name: p.name.as_str(),
        description: p.description.as_str(),
        price: p.price.to_string(),
        is_published: p.is_published,
        moderation_locked: p.moderation_locked,
        category: CategoryRef {
            id: p.category.id.0,
            name: p.category.name.as_str(),
        },
        owner: OwnerRef {
            id: p.owner.id.0,
            name: p.owner.display_name(),
            email: shows_email.then(|| p.owner.email.as_str()),
        },
        image_url: p
            .image
            .as_deref()
            .map(|k| format!("{base}{}", media_url(k))),
        versions: versions.iter().map(version_doc).collect(),
        created_at: p.created_at.to_rfc3339_opts(SecondsFormat::Micros, true),
        updated_at: p.updated_at.to_rfc3339_opts(SecondsFormat::Micros, true),
    }
}

/// Each operation's own error answers as the one mapping below does.
macro_rules! answered_as_product_errors {
    ($($error:ty),*) => {$(
        impl From<$error> for Problem {
            fn from(e: $error) -> Self {
                ProductError::from(e).into()
            }
        }
    )*};
}

answered_as_product_errors!(ListError, ViewError, CreateError, ChangeError, DeleteError);

impl From<ProductError> for Problem {
    fn from(e: ProductError) -> Self {
        match e {
            ProductError::LoginRequired => Problem::unauthorized("api-send-token"),
            ProductError::NotFound => Problem::not_found(),
            ProductError::Forbidden {
                fields,
                publish_denied,
            } => {
                let detail = match (publish_denied, fields.is_empty()) {
                    (Some(PublishDenied::ModerationLocked), _) => {
                        PublishDenied::ModerationLocked.into()
                    }
                    (_, true) => Message::new("api-forbidden-product"),
                    (_, false) => Message::new("api-forbidden-fields"),
                };
                Problem::forbidden(
                    detail,
                    fields.iter().map(|f| f.api_name().to_owned()).collect(),
                )
            }
            ProductError::Conflict => {
                Problem::new(StatusCode::CONFLICT, "api-conflict", "api-conflict-detail")
            }
            ProductError::Invalid(errors) => Problem::invalid(&errors),
            ProductError::InvalidEdit(errors) => Problem::invalid(&errors.fields),
            ProductError::Media(e) => Problem::internal(e),
            ProductError::Unexpected(e) => e.into(),
        }
    }
}

/// The documents of a page as serde writes them: what the list endpoint's own writer
/// is held to.
#[cfg(test)]
pub(crate) fn page_doc<'a>(
    base: &str,
    viewer: Option<&Actor>,
    page: &'a catalog_domain::Page<catalog_domain::services::products::ProductDetail>,
) -> ProductPage<'a> {
    ProductPage {
        items: page
            .items
            .iter()
            .map(|d| product_doc(base, viewer, &d.product, &d.versions))
            .collect(),
        page: page.page,
        per_page: page.per_page,
        total: page.total,
    }
}
