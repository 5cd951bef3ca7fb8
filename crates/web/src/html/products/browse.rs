//! Browsing: the list of products a viewer may see, and a product's page.

use askama::Template;
use axum::extract::{Path, RawQuery};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use catalog_domain::PageRequest;
use catalog_domain::access::{Actor, ProductFacts, PublishDenied, can_delete, editable_fields};
use catalog_domain::fields::Message;
use catalog_domain::product::{Product, Version};
use catalog_domain::services::products::ProductDetail;

use chrono::Datelike;

use crate::error::WebError;
use crate::html::Chrome;
use crate::i18n::Arg;

use super::shared::{failure, owner_label, product_id};
use crate::html::page::PageContext;

const PER_PAGE: u64 = 20;

#[derive(Template)]
#[template(path = "products/list.html")]
struct ListPage<'a> {
    chrome: Chrome,
    /// Shown as they are: the template reads the domain values, nothing is copied.
    products: &'a [Product],
    page: u64,
    pages: u64,
    total: u64,
    viewer: Option<&'a Actor>,
}

impl ListPage<'_> {
    fn owner_of(&self, product: &Product) -> String {
        owner_label(self.viewer, product)
    }
}

pub(super) async fn list(
    page_context: PageContext,
    uri: Uri,
    RawQuery(query): RawQuery,
) -> Result<Response, WebError> {
    let requested = query.as_deref().and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "page")
            .map(|(_, v)| v.into_owned())
    });
    let page = match requested.as_deref() {
        None => 1,
        Some(raw) => raw
            .parse::<u64>()
            .ok()
            .filter(|p| *p >= 1)
            .ok_or(WebError::NotFound)?,
    };
    let request = PageRequest::new(page, PER_PAGE).ok_or(WebError::NotFound)?;
    let viewer = page_context.actor();
    let found = match page_context.state.products.list(viewer, request).await {
        Ok(found) => found,
        Err(e) => return failure(e, &uri),
    };
    if found.items.is_empty() && page > 1 {
        return Err(WebError::NotFound);
    }
    page_context
        .render(StatusCode::OK, |chrome| ListPage {
            chrome,
            products: &found.items,
            page,
            pages: found.total.div_ceil(PER_PAGE).max(1),
            total: found.total,
            viewer,
        })
        .await
}

#[derive(Template)]
#[template(path = "products/detail.html")]
struct DetailPage<'a> {
    chrome: Chrome,
    product: &'a Product,
    versions: &'a [Version],
    can_edit: bool,
    can_delete: bool,
    /// Said to the owner of a product a moderator unpublished (a message id).
    lock_reason: Option<&'static str>,
    /// The owner, as this viewer may see them.
    owner: String,
    /// When it was added, as the page's language writes dates.
    added: String,
}

pub(super) async fn detail(
    page: PageContext,
    uri: Uri,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id = product_id(&id)?;
    let viewer = page.actor();
    let ProductDetail { product, versions } = match page.state.products.detail(viewer, id).await {
        Ok(found) => found,
        Err(e) => return failure(e, &uri),
    };
    let facts = ProductFacts::from(&product);
    let (can_edit, may_delete, lock_reason) = match viewer {
        Some(actor) => (
            !editable_fields(actor, &facts).is_empty(),
            can_delete(actor, &facts),
            (product.moderation_locked && product.owner.id == actor.user_id())
                .then(|| Message::from(PublishDenied::ModerationLocked).id),
        ),
        None => (false, false, None),
    };
    let owner = owner_label(viewer, &product);
    let day = product.created_at.date_naive();
    let added = page.lang.date(day.year(), day.month(), day.day());
    page.render(StatusCode::OK, |chrome| DetailPage {
        chrome,
        product: &product,
        versions: &versions,
        can_edit,
        can_delete: may_delete,
        lock_reason,
        owner,
        added,
    })
    .await
}
