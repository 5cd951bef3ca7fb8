//! The version endpoints: the owner manages a product's versions, one current at most.

// A problem document is built at most once per failed request and handed straight to the
// response; boxing it would cost more than it saves.
#![allow(clippy::result_large_err)]

use axum::Json;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use catalog_domain::access::Field;
use catalog_domain::product::{ProductId, Version, VersionId};
use catalog_domain::services::products::VersionInput;

use crate::api::ApiUser;
use crate::api::body::Body;
use crate::api::problem::Problem;
use crate::names::Messages;
use crate::state::AppState;

use super::docs::{VersionBody, VersionDoc, version_doc};
use super::path_id;

struct VersionFields {
    number: Option<String>,
    name: Option<String>,
    is_current: Option<bool>,
}

impl VersionFields {
    async fn read(request: Request, state: &AppState) -> Result<Self, Problem> {
        let Body(body) = Body::<VersionBody>::from_request(request, state).await?;
        let mut errors = Messages::new();
        let fields = Self {
            number: body.number.take("number", &mut errors),
            name: body.name.take("name", &mut errors),
            is_current: body.is_current.take("is_current", &mut errors),
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
    let fields = VersionFields::read(request, &state).await?;
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
    let fields = VersionFields::read(request, &state).await?;
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
