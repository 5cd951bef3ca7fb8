//! Product and category endpoints of SPEC §6.

// A problem document is built at most once per failed request and handed straight to the
// response; boxing it would cost more than it saves.
#![allow(clippy::result_large_err)]
pub(super) mod docs;
pub(super) mod versions;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Path, RawQuery, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post, put};
use catalog_domain::PageRequest;
use catalog_domain::access::{Actor, Field};
use catalog_domain::fields::Message;
use catalog_domain::product::ProductId;
use catalog_domain::product::search::{FilterInput, ProductFilter};
use catalog_domain::services::products::{ChangeError, ListError, ProductDetail, ProductInput};

use crate::api::body::{Body, JsonObject};
use crate::api::problem::Problem;
use crate::api::{ApiUser, MaybeApiUser};
use crate::i18n;
use crate::names::Messages;
use crate::state::AppState;

pub use docs::{
    CategoryDoc, CategoryRef, OwnerRef, ProductBody, ProductDoc, ProductPage, VersionBody,
    VersionDoc,
};
use docs::{product_doc, public_base};
use versions::{add_version, delete_version, update_version};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/products", get(list).post(create))
        .route("/products/{id}", get(read).patch(update).delete(remove))
        .route(
            "/products/{id}/image",
            put(put_image).layer(DefaultBodyLimit::max(crate::view::UPLOAD_LIMIT)),
        )
        .route("/products/{id}/versions", post(add_version))
        .route(
            "/products/{id}/versions/{vid}",
            patch(update_version).delete(delete_version),
        )
        .route("/categories", get(categories))
}

pub(super) fn path_id(raw: &str) -> Result<i64, Problem> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(Problem::not_found)
}

/// A positive integer query parameter, or a 422 naming it.
fn positive(query: Option<&str>, field: &'static str, default: u64) -> Result<u64, Problem> {
    let value = query.and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == field)
            .map(|(_, v)| v.into_owned())
    });
    match value {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| Problem::field(field, Message::new("api-positive-integer"))),
    }
}

/// The product fields of a body, with a 422 naming each of the wrong type.
struct Fields {
    name: Option<String>,
    description: Option<String>,
    category_id: Option<i64>,
    price: Option<String>,
    is_published: Option<bool>,
}

impl Fields {
    fn read(body: ProductBody) -> Result<Self, Problem> {
        let mut errors = Messages::new();
        let fields = Self {
            name: body.name.take("name", &mut errors),
            description: body.description.take("description", &mut errors),
            category_id: body.category_id.take("category_id", &mut errors),
            // A number would lose cents to binary floating point before we saw it.
            price: body.price.take_or(
                "price",
                "Send the price as a string with two decimals, such as \"199.99\".",
                &mut errors,
            ),
            is_published: body.is_published.take("is_published", &mut errors),
        };
        if errors.is_empty() {
            Ok(fields)
        } else {
            Err(Problem::validation(&errors))
        }
    }

    fn input(&self) -> ProductInput<'_> {
        ProductInput {
            name: self.name.as_deref(),
            description: self.description.as_deref(),
            category_id: self.category_id,
            price: self.price.as_deref(),
            is_published: self.is_published,
        }
    }
}

/// List the products the caller may see: newest first, or searched, narrowed and
/// ordered by the parameters.
#[utoipa::path(get, path = "/api/v1/products", tag = "products", security(("bearer" = []), ()),
    params(("page" = Option<u64>, Query, minimum = 1, description = "From 1; past the end gives empty items"),
           ("per_page" = Option<u64>, Query, minimum = 1, description = "Default 20, capped at 100"),
           ("q" = Option<String>, Query, max_length = 200, description = "Words to find in the name or description (all must match, in Russian or English, any form of the word); a \"quoted phrase\" must appear as written; -word leaves out products with the word. A search ranks at most 1000 matches."),
           ("category" = Option<i64>, Query, minimum = 1, description = "Only products of this category"),
           ("min_price" = Option<String>, Query, description = "Only products at this price or above, as a decimal string such as \"9.99\""),
           ("max_price" = Option<String>, Query, description = "Only products at this price or below"),
           ("mine" = Option<String>, Query, description = "1: only the caller's own products, drafts included"),
           ("status" = Option<String>, Query, description = "published, unpublished or locked (unpublished by a moderator); never shows what the caller may not see"),
           ("sort" = Option<String>, Query, description = "new (the default without q), relevance (the default with q), price, -price or name")),
    responses((status = 200, body = ProductPage), (status = 401, body = Problem), (status = 422, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    user: MaybeApiUser,
    RawQuery(query): RawQuery,
) -> Result<Response, Problem> {
    let page = positive(query.as_deref(), "page", 1)?;
    let per_page = positive(query.as_deref(), "per_page", PageRequest::DEFAULT_PER_PAGE)?;
    let request = PageRequest::new(page, per_page)
        .ok_or_else(|| Problem::field("page", Message::new("api-positive-integer")))?;
    let actor = user.0.as_ref().map(|user| user.actor.clone());
    if actor.is_none() && !state.settings.public_browsing {
        return Err(ListError::LoginRequired.into());
    }
    let raw = |name: &str| param(query.as_deref(), name);
    let (q, category, min_price, max_price, mine, status, sort) = (
        raw("q"),
        raw("category"),
        raw("min_price"),
        raw("max_price"),
        raw("mine"),
        raw("status"),
        raw("sort"),
    );
    let input = FilterInput {
        q: q.as_deref(),
        category: category.as_deref(),
        min_price: min_price.as_deref(),
        max_price: max_price.as_deref(),
        mine: mine.as_deref(),
        status: status.as_deref(),
        sort: sort.as_deref(),
    };
    let filter = ProductFilter::parse(input, actor.as_ref().map(Actor::user_id))
        .map_err(|errors| Problem::validation(&Messages::params(&errors, i18n::current())))?;
    let found = state
        .products
        .find_detailed(actor.as_ref(), filter, request)
        .await?;
    let json = super::product_json::page(public_base(&state), actor.as_ref(), &found);
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        json,
    )
        .into_response())
}

/// The first value of the query parameter `name`.
fn param(query: Option<&str>, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Create a product owned by the caller.
#[utoipa::path(post, path = "/api/v1/products", tag = "products", security(("bearer" = [])),
    request_body = ProductBody,
    responses((status = 201, body = ProductDoc, headers(("Location" = String))),
              (status = 401, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    user: ApiUser,
    Body(body): Body<ProductBody>,
) -> Result<Response, Problem> {
    let actor = user.actor.clone();
    let fields = Fields::read(body)?;
    let product = state.products.create(&actor, fields.input(), None).await?;
    let location = format!("/api/v1/products/{}", product.id);
    let mut response = (
        StatusCode::CREATED,
        Json(product_doc(
            public_base(&state),
            Some(&actor),
            &product,
            &[],
        )),
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

/// The product's document, as the answer.
async fn detail_doc(
    state: &AppState,
    actor: Option<&Actor>,
    id: ProductId,
) -> Result<Response, Problem> {
    let ProductDetail { product, versions } = state.products.detail(actor, id).await?;
    Ok(Json(product_doc(public_base(state), actor, &product, &versions)).into_response())
}

/// A product with its owner, category and versions.
#[utoipa::path(get, path = "/api/v1/products/{id}", tag = "products", security(("bearer" = []), ()),
    params(("id" = i64, Path)),
    responses((status = 200, body = ProductDoc), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn read(
    State(state): State<AppState>,
    user: MaybeApiUser,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let id = ProductId(path_id(&id)?);
    let actor = user.0.as_ref().map(|user| user.actor.clone());
    detail_doc(&state, actor.as_ref(), id).await
}

/// Change some fields; a field the caller may not change fails the whole request.
#[utoipa::path(patch, path = "/api/v1/products/{id}", tag = "products", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = ProductBody,
    responses((status = 200, body = ProductDoc), (status = 403, body = Problem, description = "Lists `forbidden_fields`"),
              (status = 404, body = Problem), (status = 409, body = Problem, description = "Changed by someone else meanwhile; nothing was changed"),
              (status = 422, body = Problem)))]
pub async fn update(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<String>,
    request: Request,
) -> Result<Response, Problem> {
    let id = ProductId(path_id(&id)?);
    let actor = user.actor.clone();
    // Who may act is decided before the body is read (a stranger gets 403 or 404,
    // whatever they sent).
    if let Err(e) = state.products.may_change(&actor, id, None).await {
        return Err(refused(e, request, &state).await);
    }
    let Body(body) = Body::<ProductBody>::from_request(request, &state).await?;
    let fields = Fields::read(body)?;
    state.products.update(&actor, id, fields.input()).await?;
    detail_doc(&state, Some(&actor), id).await
}

/// A PATCH refused for who sent it. The refusal stands whatever the body holds; the
/// body (within the 64 KiB limit) is read only to name the fields it tried to change,
/// as every 403 of this endpoint does.
async fn refused(e: ChangeError, request: Request, state: &AppState) -> Problem {
    let ChangeError::Forbidden { .. } = e else {
        return e.into();
    };
    let sent: Vec<String> = match JsonObject::from_request(request, state).await {
        Ok(body) => Field::ALL
            .iter()
            .map(|f| f.api_name())
            .filter(|name| body.0.get(*name).is_some_and(|v| !v.is_null()))
            .map(str::to_owned)
            .collect(),
        Err(_) => Vec::new(),
    };
    Problem::forbidden(Message::new("api-forbidden-change"), sent)
}

/// Delete a product (its owner or a superuser).
#[utoipa::path(delete, path = "/api/v1/products/{id}", tag = "products", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn remove(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let id = ProductId(path_id(&id)?);
    let actor = user.actor.clone();
    state.products.delete(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Replace the image; the body is the image file (PNG, JPEG, GIF or WebP, ≤ 5 MiB).
#[utoipa::path(put, path = "/api/v1/products/{id}/image", tag = "products", security(("bearer" = [])),
    params(("id" = i64, Path)),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, body = ProductDoc), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 413, body = Problem), (status = 422, body = Problem)))]
pub async fn put_image(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<String>,
    request: Request,
) -> Result<Response, Problem> {
    let id = ProductId(path_id(&id)?);
    let actor = user.actor.clone();
    // Nobody's upload is read before they are known to be allowed to make it.
    state
        .products
        .may_change(&actor, id, Some(Field::Image))
        .await?;
    let bytes = Bytes::from_request(request, &state)
        .await
        .map_err(|e| Problem::new(e.status(), "api-unreadable-body", "api-image-unreadable"))?;
    if bytes.is_empty() {
        return Err(Problem::field("image", Message::new("api-image-missing")));
    }
    state.products.set_image(&actor, id, bytes.to_vec()).await?;
    detail_doc(&state, Some(&actor), id).await
}

/// Every category, by name.
#[utoipa::path(get, path = "/api/v1/categories", tag = "products", security(("bearer" = [])),
    responses((status = 200, body = Vec<CategoryDoc>), (status = 401, body = Problem)))]
pub async fn categories(
    State(state): State<AppState>,
    _user: ApiUser,
) -> Result<Response, Problem> {
    let list: Vec<CategoryDoc> = state
        .products
        .categories()
        .await?
        .into_iter()
        .map(|c| CategoryDoc {
            id: c.id.0,
            name: c.name.as_str().to_owned(),
            description: c.description.as_str().to_owned(),
        })
        .collect();
    Ok(Json(list).into_response())
}
