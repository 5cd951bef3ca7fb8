//! Product and category endpoints of SPEC §6.

// A problem document is built at most once per failed request and handed straight to the
// response; boxing it would cost more than it saves.
#![allow(clippy::result_large_err)]

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Path, RawQuery, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post, put};
use catalog_domain::PageRequest;
use catalog_domain::access::{Actor, Field, ProductFacts, PublishDenied, sees_owner_email};
use catalog_domain::fields::FieldErrors;
use catalog_domain::product::{Product, ProductId, Version, VersionId};
use catalog_domain::services::products::{ProductDetail, ProductError, ProductInput, VersionInput};
use chrono::SecondsFormat;
use serde::Serialize;
use utoipa::ToSchema;

use super::body::JsonObject;
use super::problem::Problem;
use super::{ApiUser, MaybeApiUser};
use crate::state::AppState;
use crate::view::media_url;

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
    id: i64,
    name: String,
    description: String,
}

/// The body of `POST /products` and `PATCH /products/{id}` (all optional for PATCH).
/// Other keys (`id`, `owner`, `created_at`, …) are ignored.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct ProductBody {
    name: Option<String>,
    description: Option<String>,
    category_id: Option<i64>,
    #[schema(example = "199.99")]
    price: Option<String>,
    is_published: Option<bool>,
}

/// The body of the version endpoints.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct VersionBody {
    number: Option<String>,
    name: Option<String>,
    is_current: Option<bool>,
}

fn version_doc(v: &Version) -> VersionDoc<'_> {
    VersionDoc {
        id: v.id.0,
        number: v.number.as_str(),
        name: v.name.as_str(),
        is_current: v.is_current,
    }
}

/// The public URL without its trailing slash, which image paths follow.
fn public_base(state: &AppState) -> &str {
    state.settings.public_url.as_str().trim_end_matches('/')
}

fn product_doc<'a>(
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

impl From<ProductError> for Problem {
    fn from(e: ProductError) -> Self {
        match e {
            ProductError::LoginRequired => {
                Problem::unauthorized("Send a bearer token: Authorization: Bearer <token>.")
            }
            ProductError::NotFound => Problem::not_found(),
            ProductError::Forbidden {
                fields,
                publish_denied,
            } => {
                let detail = match (publish_denied, fields.is_empty()) {
                    (Some(PublishDenied::ModerationLocked), _) => {
                        PublishDenied::ModerationLocked.to_string()
                    }
                    (_, true) => "You may not do this to this product.".to_owned(),
                    (_, false) => {
                        "You may not change some of the fields sent; nothing was changed."
                            .to_owned()
                    }
                };
                Problem::forbidden(
                    detail,
                    fields.iter().map(|f| f.api_name().to_owned()).collect(),
                )
            }
            ProductError::Conflict => Problem::new(
                StatusCode::CONFLICT,
                "Conflict",
                "The product was changed by someone else while this request was handled; \
                 nothing was changed. Read it again and decide anew.",
            ),
            ProductError::Invalid(errors) => Problem::validation(&errors),
            ProductError::InvalidEdit(errors) => Problem::validation(&errors.fields),
            ProductError::Media(e) => Problem::internal(e),
            ProductError::Unexpected(e) => e.into(),
        }
    }
}

fn path_id(raw: &str) -> Result<i64, Problem> {
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
            .ok_or_else(|| Problem::field(field, "Expected a positive integer.")),
    }
}

/// The product fields of a body, with a 422 for any of the wrong type.
struct Fields {
    name: Option<String>,
    description: Option<String>,
    category_id: Option<i64>,
    price: Option<String>,
    is_published: Option<bool>,
}

impl Fields {
    fn read(body: &JsonObject) -> Result<Self, Problem> {
        let mut errors = FieldErrors::new();
        let price = match body.0.get("price") {
            Some(serde_json::Value::Number(_)) => {
                errors.add(
                    "price",
                    "Send the price as a string with two decimals, such as \"199.99\".",
                );
                None
            }
            _ => body.string("price", &mut errors),
        };
        let fields = Self {
            name: body.string("name", &mut errors),
            description: body.string("description", &mut errors),
            category_id: body.integer("category_id", &mut errors),
            price,
            is_published: body.boolean("is_published", &mut errors),
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

/// List the products the caller may see, newest first.
#[utoipa::path(get, path = "/api/v1/products", tag = "products", security(("bearer" = []), ()),
    params(("page" = Option<u64>, Query, minimum = 1, description = "From 1; past the end gives empty items"),
           ("per_page" = Option<u64>, Query, minimum = 1, description = "Default 20, capped at 100")),
    responses((status = 200, body = ProductPage), (status = 401, body = Problem), (status = 422, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    user: MaybeApiUser,
    RawQuery(query): RawQuery,
) -> Result<Response, Problem> {
    let page = positive(query.as_deref(), "page", 1)?;
    let per_page = positive(query.as_deref(), "per_page", PageRequest::DEFAULT_PER_PAGE)?;
    let request = PageRequest::new(page, per_page)
        .ok_or_else(|| Problem::field("page", "Expected a positive integer."))?;
    let actor = user.0.as_ref().map(|user| user.actor.clone());
    let found = state
        .products
        .list_detailed(actor.as_ref(), request)
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

/// The documents of a page as serde writes them: what the list endpoint's own writer
/// is held to.
#[cfg(test)]
pub(super) fn page_doc<'a>(
    base: &str,
    viewer: Option<&Actor>,
    page: &'a catalog_domain::Page<ProductDetail>,
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

/// Create a product owned by the caller.
#[utoipa::path(post, path = "/api/v1/products", tag = "products", security(("bearer" = [])),
    request_body = ProductBody,
    responses((status = 201, body = ProductDoc, headers(("Location" = String))),
              (status = 401, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    user: ApiUser,
    body: JsonObject,
) -> Result<Response, Problem> {
    let actor = user.actor.clone();
    let fields = Fields::read(&body)?;
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
    let body = JsonObject::from_request(request, &state).await?;
    let fields = Fields::read(&body)?;
    state.products.update(&actor, id, fields.input()).await?;
    detail_doc(&state, Some(&actor), id).await
}

/// A PATCH refused for who sent it. The refusal stands whatever the body holds; the
/// body (within the 64 KiB limit) is read only to name the fields it tried to change,
/// as every 403 of this endpoint does.
async fn refused(e: ProductError, request: Request, state: &AppState) -> Problem {
    let ProductError::Forbidden { .. } = e else {
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
    Problem::forbidden(
        "You may not change this product; nothing was changed.",
        sent,
    )
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
    let bytes = Bytes::from_request(request, &state).await.map_err(|e| {
        Problem::new(
            e.status(),
            "Unreadable body",
            "The image could not be read; it may be larger than 5 MiB.",
        )
    })?;
    if bytes.is_empty() {
        return Err(Problem::field(
            "image",
            "Send the image as the request body.",
        ));
    }
    state.products.set_image(&actor, id, bytes.to_vec()).await?;
    detail_doc(&state, Some(&actor), id).await
}

struct VersionFields {
    number: Option<String>,
    name: Option<String>,
    is_current: Option<bool>,
}

impl VersionFields {
    fn read(body: &JsonObject) -> Result<Self, Problem> {
        let mut errors = FieldErrors::new();
        let fields = Self {
            number: body.string("number", &mut errors),
            name: body.string("name", &mut errors),
            is_current: body.boolean("is_current", &mut errors),
        };
        if errors.is_empty() {
            Ok(fields)
        } else {
            Err(Problem::validation(&errors))
        }
    }
}

fn version_created(product: ProductId, v: &Version) -> Response {
    let mut response = (StatusCode::CREATED, Json(version_doc(v))).into_response();
    let location = format!("/api/v1/products/{product}/versions/{}", v.id.0);
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// Add a version (owner only). A current version demotes the previous current one.
#[utoipa::path(post, path = "/api/v1/products/{id}/versions", tag = "versions", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = VersionBody,
    responses((status = 201, body = VersionDoc), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 422, body = Problem)))]
pub async fn add_version(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<String>,
    request: Request,
) -> Result<Response, Problem> {
    let id = ProductId(path_id(&id)?);
    let actor = user.actor.clone();
    state
        .products
        .may_change(&actor, id, Some(Field::Versions))
        .await?;
    let body = JsonObject::from_request(request, &state).await?;
    let fields = VersionFields::read(&body)?;
    let input = VersionInput {
        number: fields.number.as_deref().unwrap_or_default(),
        name: fields.name.as_deref().unwrap_or_default(),
        is_current: fields.is_current.unwrap_or(false),
    };
    let version = state.products.add_version(&actor, id, input).await?;
    Ok(version_created(id, &version))
}

/// Change a version (owner only); keys not sent keep their values.
#[utoipa::path(patch, path = "/api/v1/products/{id}/versions/{vid}", tag = "versions", security(("bearer" = [])),
    params(("id" = i64, Path), ("vid" = i64, Path)), request_body = VersionBody,
    responses((status = 200, body = VersionDoc), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 422, body = Problem)))]
pub async fn update_version(
    State(state): State<AppState>,
    user: ApiUser,
    Path((id, vid)): Path<(String, String)>,
    request: Request,
) -> Result<Response, Problem> {
    let id = ProductId(path_id(&id)?);
    let vid = VersionId(path_id(&vid)?);
    let actor = user.actor.clone();
    state
        .products
        .may_change(&actor, id, Some(Field::Versions))
        .await?;
    let body = JsonObject::from_request(request, &state).await?;
    let fields = VersionFields::read(&body)?;
    let detail = state.products.detail(Some(&actor), id).await?;
    let current = detail
        .versions
        .iter()
        .find(|v| v.id == vid)
        .ok_or_else(Problem::not_found)?;
    let input = VersionInput {
        number: fields.number.as_deref().unwrap_or(current.number.as_str()),
        name: fields.name.as_deref().unwrap_or(current.name.as_str()),
        is_current: fields.is_current.unwrap_or(current.is_current),
    };
    let version = state
        .products
        .update_version(&actor, id, vid, input)
        .await?;
    Ok(Json(version_doc(&version)).into_response())
}

/// Remove a version (owner only).
#[utoipa::path(delete, path = "/api/v1/products/{id}/versions/{vid}", tag = "versions", security(("bearer" = [])),
    params(("id" = i64, Path), ("vid" = i64, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn delete_version(
    State(state): State<AppState>,
    user: ApiUser,
    Path((id, vid)): Path<(String, String)>,
) -> Result<Response, Problem> {
    let id = ProductId(path_id(&id)?);
    let vid = VersionId(path_id(&vid)?);
    let actor = user.actor.clone();
    state.products.delete_version(&actor, id, vid).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Every category, by name.
#[utoipa::path(get, path = "/api/v1/categories", tag = "products", security(("bearer" = [])),
    responses((status = 200, body = Vec<CategoryDoc>), (status = 401, body = Problem)))]
pub async fn categories(
    State(state): State<AppState>,
    _user: ApiUser,
) -> Result<Response, Problem> {
    let list: Vec<CategoryDoc> = state
        .ports
        .categories
        .list()
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
