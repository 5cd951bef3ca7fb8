//! Browsing: the list of products a viewer may see, and a product's page.

use askama::Template;
use axum::extract::{Path, RawQuery};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use catalog_domain::access::{
    Actor, Permission, ProductFacts, PublishDenied, can_delete, editable_fields,
};
use catalog_domain::fields::Message;
use catalog_domain::product::search::{FilterInput, ProductFilter};
use catalog_domain::product::{Category, Product, Version};
use catalog_domain::services::products::{ListError, ProductDetail};
use catalog_domain::{Page, PageRequest};

use chrono::Datelike;

use crate::error::WebError;
use crate::html::Chrome;
use crate::i18n::Arg;
use crate::names::Messages;
use crate::view::{thumb_2x_url, thumb_url};

use super::shared::{failure, owner_label, product_id};
use crate::html::page::PageContext;

const PER_PAGE: u64 = 20;

/// The list's parameters as they came (for the form to show them again), and the
/// filter they make.
#[derive(Debug, Default)]
struct FilterForm {
    q: String,
    category: String,
    min_price: String,
    max_price: String,
    mine: bool,
    status: String,
    sort: String,
}

impl FilterForm {
    fn read(query: Option<&str>) -> (Self, Option<String>, Option<String>) {
        let mut form = Self::default();
        let (mut page, mut mine) = (None, None);
        for (key, value) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
            let slot = match key.as_ref() {
                "q" => &mut form.q,
                "category" => &mut form.category,
                "min_price" => &mut form.min_price,
                "max_price" => &mut form.max_price,
                "status" => &mut form.status,
                "sort" => &mut form.sort,
                "page" if page.is_none() => {
                    page = Some(value.into_owned());
                    continue;
                }
                "mine" if mine.is_none() => {
                    mine = Some(value.into_owned());
                    continue;
                }
                _ => continue,
            };
            // The first value of a repeated parameter counts, as with `page`.
            if slot.is_empty() {
                *slot = value.into_owned();
            }
        }
        form.mine = mine.as_deref() == Some("1");
        (form, page, mine)
    }

    fn input<'a>(&'a self, mine: Option<&'a str>) -> FilterInput<'a> {
        FilterInput {
            q: Some(&self.q),
            category: Some(&self.category),
            min_price: Some(&self.min_price),
            max_price: Some(&self.max_price),
            mine,
            status: Some(&self.status),
            sort: Some(&self.sort),
        }
    }

    /// The filters as a query string without the page (empty when there are none), for
    /// the pages' links.
    fn link_query(&self) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (key, value) in [
            ("q", self.q.as_str()),
            ("category", &self.category),
            ("min_price", &self.min_price),
            ("max_price", &self.max_price),
            ("mine", if self.mine { "1" } else { "" }),
            ("status", &self.status),
            ("sort", &self.sort),
        ] {
            if !value.trim().is_empty() {
                query.append_pair(key, value);
            }
        }
        query.finish()
    }
}

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
    form: &'a FilterForm,
    /// Whether anything narrows or orders the list (it is not the plain listing).
    filtered: bool,
    categories: &'a [Category],
    /// The heading of a list narrowed to a category.
    category_heading: Option<String>,
    /// The filters as the pages' links carry them, `&`-terminated when not empty.
    link_query: String,
    /// Whether the viewer sees unpublished products of others (the state filter).
    moderates: bool,
    errors: Messages,
}

impl ListPage<'_> {
    fn owner_of(&self, product: &Product) -> String {
        owner_label(self.viewer, product)
    }

    fn selected_category(&self, category: &Category) -> bool {
        self.form.category.trim() == category.id.0.to_string()
    }
}

pub(super) async fn list(
    page_context: PageContext,
    uri: Uri,
    RawQuery(query): RawQuery,
) -> Result<Response, WebError> {
    let (form, requested, mine) = FilterForm::read(query.as_deref());
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
    let categories = page_context
        .state
        .products
        .categories()
        .await
        .map_err(WebError::from)?;
    let moderates = viewer.is_some_and(|a| a.has(Permission::UnpublishProduct));
    let parsed = ProductFilter::parse(form.input(mine.as_deref()), viewer.map(Actor::user_id));
    let (filter, errors) = match parsed {
        Ok(filter) => (filter, Messages::new()),
        Err(errors) => (
            ProductFilter::default(),
            Messages::params(&errors, page_context.lang),
        ),
    };
    let filtered = !filter.is_plain();
    let found = if errors.is_empty() {
        match page_context
            .state
            .products
            .find(viewer, filter.clone(), request)
            .await
        {
            Ok(found) => found,
            Err(e) => return failure(e, &uri),
        }
    } else {
        if viewer.is_none() && !page_context.state.settings.public_browsing {
            return failure(ListError::LoginRequired, &uri);
        }
        Page {
            items: Vec::new(),
            page,
            per_page: PER_PAGE,
            total: 0,
        }
    };
    if found.items.is_empty() && page > 1 {
        return Err(WebError::NotFound);
    }
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let category_heading = filter
        .category
        .and_then(|id| categories.iter().find(|c| c.id == id))
        .map(|c| {
            page_context.lang.f(
                "products-in-category",
                &[("category", Arg::from(c.name.as_str()))],
            )
        });
    let mut link_query = form.link_query();
    if !link_query.is_empty() {
        link_query.push('&');
    }
    page_context
        .render(status, |chrome| ListPage {
            chrome,
            products: &found.items,
            page,
            pages: found.total.div_ceil(PER_PAGE).max(1),
            total: found.total,
            viewer,
            form: &form,
            filtered: filtered || !errors.is_empty(),
            categories: &categories,
            category_heading,
            link_query,
            moderates,
            errors,
        })
        .await
}

/// A product page's image: the large variant (the original is a link away).
fn large_url(key: &str) -> String {
    crate::view::variant_url(key, catalog_domain::media::Variant::Large)
}

#[derive(Template)]
#[template(path = "products/categories.html")]
struct CategoriesPage<'a> {
    chrome: Chrome,
    categories: &'a [(Category, u64)],
}

/// Every category with how many of its products the viewer may see, each linking to
/// the list narrowed to it.
pub(super) async fn categories(page: PageContext, uri: Uri) -> Result<Response, WebError> {
    let viewer = page.actor();
    let categories = match page.state.products.categories_with_counts(viewer).await {
        Ok(found) => found,
        Err(e) => return failure(e, &uri),
    };
    page.render(StatusCode::OK, |chrome| CategoriesPage {
        chrome,
        categories: &categories,
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
