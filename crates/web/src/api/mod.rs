//! The JSON API under `/api/v1` and its OpenAPI document. Errors are problem documents;
//! clients authenticate with `Authorization: Bearer <token>`.

mod accounts;
mod body;
pub mod problem;
mod product_json;
mod products;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use catalog_domain::access::Actor;
use catalog_domain::user::User;
use utoipa::OpenApi;

use crate::state::AppState;
use problem::Problem;

/// The user a valid bearer token belongs to.
#[derive(Debug, Clone)]
pub struct ApiUser {
    pub user: User,
    /// Read with the token: what the caller may do.
    pub actor: Actor,
    pub token: String,
}

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(crate::credentials::bearer)
            .ok_or_else(|| Problem::unauthorized("api-send-token"))?;
        match state.accounts.authenticate_api_token(token).await {
            Ok(Some((user, _)))
                if user.password_change_required && !open_while_change_required(parts) =>
            {
                Err(Problem::new(
                    StatusCode::FORBIDDEN,
                    "api-password-change-required",
                    "api-password-change-required-detail",
                ))
            }
            Ok(Some((user, actor))) => Ok(Self {
                user,
                actor,
                token: token.to_owned(),
            }),
            Ok(None) => Err(Problem::unauthorized("api-token-revoked")),
            Err(e) => Err(e.into()),
        }
    }
}

/// What a client signed in with a generated password may still do: read who it is,
/// choose a password, sign out (SPEC §5: a generated password never stays the
/// long-term one, for the API as for the pages).
fn open_while_change_required(parts: &Parts) -> bool {
    let path = parts
        .extensions
        .get::<axum::extract::OriginalUri>()
        .map_or_else(|| parts.uri.path(), |original| original.path());
    matches!(
        (parts.method.as_str(), path),
        ("GET", "/api/v1/users/me")
            | ("POST", "/api/v1/users/me/password")
            | ("DELETE", "/api/v1/auth/token")
    )
}

/// The caller of an endpoint that anonymous clients may use too (public browsing): no
/// `Authorization` header is anonymous, a bad one is still a 401.
#[derive(Debug, Clone)]
pub struct MaybeApiUser(pub Option<ApiUser>);

impl FromRequestParts<AppState> for MaybeApiUser {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if parts.headers.contains_key(header::AUTHORIZATION) {
            ApiUser::from_request_parts(parts, state)
                .await
                .map(|u| Self(Some(u)))
        } else {
            Ok(Self(None))
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "catalog", description = "Product catalog with user accounts: the JSON API."),
    paths(
        accounts::register,
        accounts::verify,
        accounts::issue_token,
        accounts::revoke_token,
        accounts::password_reset,
        accounts::me,
        accounts::update_me,
        accounts::change_password,
        accounts::put_avatar,
        products::list,
        products::create,
        products::read,
        products::update,
        products::remove,
        products::put_image,
        products::versions::add_version,
        products::versions::update_version,
        products::versions::delete_version,
        products::categories,
    ),
    components(schemas(
        Problem,
        accounts::Me,
        accounts::TokenIssued,
        accounts::Status,
        products::ProductDoc,
        products::ProductPage,
        products::ProductBody,
        products::VersionDoc,
        products::VersionBody,
        products::CategoryDoc,
        products::CategoryRef,
        products::OwnerRef,
    )),
    modifiers(&BearerAuth, &ProblemResponses)
)]
#[derive(Debug)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Every error of the API is a problem document (`application/problem+json`), and some
/// come from extractors and layers shared by all operations rather than from the
/// handlers: this declares them once, for every operation they can answer.
struct ProblemResponses;

impl utoipa::Modify for ProblemResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
        const PROBLEM: &str = "application/problem+json";
        let problem = |description: &str| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content(
                        PROBLEM,
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name("Problem")))
                            .build(),
                    )
                    .build(),
            )
        };
        for (path, item) in &mut openapi.paths.paths {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                let responses = &mut operation.responses.responses;
                for response in responses.values_mut() {
                    if let RefOr::T(response) = response
                        && let Some(content) = response.content.shift_remove("application/json")
                    {
                        let is_problem = matches!(
                            &content.schema,
                            Some(RefOr::Ref(r)) if r.ref_location.ends_with("/Problem")
                        );
                        let key = if is_problem {
                            PROBLEM
                        } else {
                            "application/json"
                        };
                        response.content.insert(key.to_owned(), content);
                    }
                }
                let mut declare = |status: &str, description: &str| {
                    responses
                        .entry(status.to_owned())
                        .or_insert_with(|| problem(description));
                };
                if operation.request_body.is_some() {
                    declare("400", "The body cannot be read");
                    declare("413", "The body is larger than this operation accepts");
                    declare("415", "The body is not of the expected type");
                    declare("422", "A field is missing or invalid");
                }
                if operation.security.is_some() {
                    declare("401", "No valid bearer token");
                }
                if path.starts_with("/api/v1/auth") {
                    declare("429", "Too many attempts; see Retry-After");
                }
                declare("503", "The database is unavailable");
            }
        }
    }
}

async fn openapi_json() -> impl IntoResponse {
    match ApiDoc::openapi().to_json() {
        Ok(json) => ([(header::CONTENT_TYPE, "application/json")], json).into_response(),
        Err(e) => Problem::internal(e).into_response(),
    }
}

async fn api_not_found() -> Problem {
    Problem::not_found()
}

async fn api_method_not_allowed() -> Problem {
    Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "api-method-not-allowed",
        "api-method-not-allowed-detail",
    )
}

pub fn router() -> Router<AppState> {
    Router::new()
        .nest(
            "/api/v1",
            accounts::routes()
                .merge(products::routes())
                .method_not_allowed_fallback(api_method_not_allowed)
                .fallback(api_not_found),
        )
        .route("/api/openapi.json", get(openapi_json))
}
