//! Account endpoints of SPEC §5.

// A problem document is built at most once per failed request and handed straight to the
// response; boxing it would cost more than it saves.
#![allow(clippy::result_large_err)]

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use catalog_domain::fields::Input;
use catalog_domain::services::accounts::{
    LinkError, PasswordChangeError, ProfileError, ProfileInput, RegisterError, Registration,
    ResendError, SignInError, Verification, address, new_password,
};
use catalog_domain::user::User;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ApiUser;
use super::body::{Body, Sent};
use super::problem::Problem;
use crate::device::SignInGate;
use crate::names::Messages;
use crate::rate_limit::{ClientIp, Limit, email_key};
use crate::state::AppState;
use crate::view::media_url;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/auth/register", post(register))
        .route("/auth/verify", post(verify))
        .route("/auth/token", post(issue_token).delete(revoke_token))
        .route("/auth/password-reset", post(password_reset))
        .route("/users/me", get(me).patch(update_me))
        .route("/users/me/password", post(change_password))
        .route(
            "/users/me/avatar",
            put(put_avatar).layer(DefaultBodyLimit::max(crate::view::UPLOAD_LIMIT)),
        )
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Status {
    status: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenIssued {
    token: String,
    token_type: &'static str,
    password_change_required: bool,
}

/// The signed-in user.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    id: i64,
    email: String,
    first_name: String,
    last_name: String,
    phone: Option<String>,
    country: Option<String>,
    avatar_url: Option<String>,
    is_verified: bool,
    is_superuser: bool,
    password_change_required: bool,
    groups: Vec<String>,
    permissions: Vec<String>,
}

async fn me_of(state: &AppState, user: &User) -> Result<Me, Problem> {
    let (groups, permissions) = state.accounts.memberships(user.id).await?;
    Ok(Me {
        id: user.id.0,
        email: user.email.to_string(),
        first_name: user.first_name.as_str().to_owned(),
        last_name: user.last_name.as_str().to_owned(),
        phone: user.phone.as_ref().map(|p| p.e164().to_owned()),
        country: user.country.map(|c| c.code().to_owned()),
        avatar_url: user.avatar.as_deref().map(|k| {
            format!(
                "{}{}",
                state.settings.public_url.as_str().trim_end_matches('/'),
                media_url(k)
            )
        }),
        is_verified: user.is_verified,
        is_superuser: user.is_superuser,
        password_change_required: user.password_change_required,
        groups: groups.into_iter().map(|g| g.name).collect(),
        permissions: permissions
            .into_iter()
            .map(|p| p.codename().to_owned())
            .collect(),
    })
}

/// Who is registering, or signing in for a token.
#[derive(Debug, Deserialize, ToSchema)]
pub struct Credentials {
    #[serde(default)]
    #[schema(value_type = String, required = true)]
    email: Sent<String>,
    #[serde(default)]
    #[schema(value_type = String, format = Password, required = true)]
    password: Sent<String>,
}

impl Credentials {
    fn read(self) -> Result<(String, String), Problem> {
        let mut errors = Messages::new();
        let email = self.email.required("email", &mut errors);
        let password = self.password.required("password", &mut errors);
        checked((email, password), &errors)
    }
}

/// The token of a verification mail.
#[derive(Debug, Deserialize, ToSchema)]
pub struct VerifyBody {
    #[serde(default)]
    #[schema(value_type = String, required = true)]
    token: Sent<String>,
}

/// Whose password to reset.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ResetBody {
    #[serde(default)]
    #[schema(value_type = String, required = true)]
    email: Sent<String>,
}

/// Any of the profile's fields; those not sent keep their values.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ProfileBody {
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    first_name: Sent<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    last_name: Sent<String>,
    /// International (`+…`) or national to the country.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    phone: Sent<String>,
    /// ISO 3166-1 alpha-2, such as `DE`; empty for none.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    country: Sent<String>,
}

/// The current password and the new one.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PasswordChangeBody {
    #[serde(default)]
    #[schema(value_type = String, format = Password, required = true)]
    old_password: Sent<String>,
    #[serde(default)]
    #[schema(value_type = String, format = Password, required = true)]
    new_password: Sent<String>,
}

/// `value` if no field was wrong, else the 422 naming them.
fn checked<T>(value: T, errors: &Messages) -> Result<T, Problem> {
    if errors.is_empty() {
        Ok(value)
    } else {
        Err(Problem::validation(errors))
    }
}

fn accepted() -> Response {
    (StatusCode::ACCEPTED, Json(Status { status: "accepted" })).into_response()
}

/// Register; the answer is the same whether or not the address exists.
#[utoipa::path(post, path = "/api/v1/auth/register", tag = "auth",
    request_body = Credentials,
    responses((status = 202, body = Status), (status = 422, body = Problem), (status = 429, body = Problem)))]
pub async fn register(
    State(state): State<AppState>,
    ip: ClientIp,
    Body(body): Body<Credentials>,
) -> Result<Response, Problem> {
    let (email, password) = body.read()?;
    state
        .limits
        .hit(Limit::SignUpsByAddress, &ip.key())
        .map_err(Problem::too_many)?;
    let registration = Registration::parse(&email, &password).map_err(|e| Problem::invalid(&e))?;
    // The account's mail is written in the language the caller asked for.
    let registration = Registration {
        language: Some(crate::i18n::current().code().to_owned()),
        ..registration
    };
    match state.accounts.register(registration).await {
        Ok(()) => Ok(accepted()),
        Err(RegisterError::Hash(e)) => Err(e.into()),
        Err(RegisterError::Unexpected(e)) => Err(e.into()),
    }
}

/// Confirm an address with the token from the verification mail.
#[utoipa::path(post, path = "/api/v1/auth/verify", tag = "auth",
    request_body = VerifyBody,
    responses((status = 200, body = Status), (status = 400, body = Problem)))]
pub async fn verify(
    State(state): State<AppState>,
    Body(body): Body<VerifyBody>,
) -> Result<Json<Status>, Problem> {
    let mut errors = Messages::new();
    let token = checked(body.token.required("token", &mut errors), &errors)?;
    match state.accounts.confirm_email(&token).await {
        Ok(Verification::Pending(_)) => Ok(Json(Status { status: "verified" })),
        Ok(Verification::AlreadyVerified) => Ok(Json(Status {
            status: "already_verified",
        })),
        Err(LinkError::Unexpected(e)) => Err(e.into()),
        Err(LinkError::Expired) => Err(Problem::new(
            StatusCode::BAD_REQUEST,
            "api-expired-token",
            "api-expired-token-detail",
        )),
        Err(LinkError::Invalid) => Err(Problem::new(
            StatusCode::BAD_REQUEST,
            "api-invalid-token",
            "api-invalid-token-detail",
        )),
    }
}

/// Exchange email and password for a bearer token.
#[utoipa::path(post, path = "/api/v1/auth/token", tag = "auth",
    request_body = Credentials,
    responses((status = 201, body = TokenIssued), (status = 401, body = Problem), (status = 403, body = Problem), (status = 429, body = Problem)))]
pub async fn issue_token(
    State(state): State<AppState>,
    ip: ClientIp,
    headers: HeaderMap,
    Body(body): Body<Credentials>,
) -> Result<Response, Problem> {
    let (email, password) = body.read()?;
    // A client that signed in before keeps its device cookie, as a browser does.
    let mut gate = SignInGate::open(&state, &headers, &ip, &email).map_err(Problem::too_many)?;
    let result = state.accounts.sign_in(&email, &password).await;
    if !matches!(result, Err(SignInError::InvalidCredentials)) {
        gate.not_a_failure();
    }
    match result {
        Ok(signed) => {
            let token = state.accounts.issue_api_token(signed.user.id).await?;
            tracing::info!(user = signed.user.id.0, "API token issued");
            let body = TokenIssued {
                token,
                token_type: "Bearer",
                password_change_required: signed.password_change_required,
            };
            let mut response = (StatusCode::CREATED, Json(body)).into_response();
            gate.remember(&mut response);
            Ok(response)
        }
        Err(SignInError::InvalidCredentials) => {
            tracing::info!("API sign-in failed");
            Err(Problem::new(
                StatusCode::UNAUTHORIZED,
                "api-invalid-credentials",
                "api-invalid-credentials-detail",
            ))
        }
        Err(SignInError::Unverified { .. }) => Err(Problem::new(
            StatusCode::FORBIDDEN,
            "api-unverified",
            "api-unverified-detail",
        )),
        Err(SignInError::Hash(e)) => Err(e.into()),
        Err(SignInError::Unexpected(e)) => Err(e.into()),
    }
}

/// Revoke the token this request presents.
#[utoipa::path(delete, path = "/api/v1/auth/token", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = Problem)))]
pub async fn revoke_token(
    State(state): State<AppState>,
    me: ApiUser,
) -> Result<StatusCode, Problem> {
    state.accounts.revoke_api_token(&me.token).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Ask for a generated password; the answer is the same for unknown addresses.
#[utoipa::path(post, path = "/api/v1/auth/password-reset", tag = "auth",
    request_body = ResetBody,
    responses((status = 202, body = Status), (status = 422, body = Problem), (status = 429, body = Problem)))]
pub async fn password_reset(
    State(state): State<AppState>,
    ip: ClientIp,
    Body(body): Body<ResetBody>,
) -> Result<Response, Problem> {
    let mut errors = Messages::new();
    let email = checked(body.email.required("email", &mut errors), &errors)?;
    state
        .limits
        .hit(Limit::ResetsByAddress, &ip.key())
        .map_err(Problem::too_many)?;
    state
        .limits
        .hit(Limit::ResetsByEmail, &email_key(&email))
        .map_err(Problem::too_many)?;
    let email = address(&email).map_err(|e| Problem::invalid(&e))?;
    match state.accounts.request_password_reset(&email).await {
        Ok(()) => Ok(accepted()),
        Err(ResendError::Hash(e)) => Err(e.into()),
        Err(ResendError::Unexpected(e)) => Err(e.into()),
    }
}

/// The signed-in user.
#[utoipa::path(get, path = "/api/v1/users/me", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = Me), (status = 401, body = Problem)))]
pub async fn me(State(state): State<AppState>, me: ApiUser) -> Result<Json<Me>, Problem> {
    Ok(Json(me_of(&state, &me.user).await?))
}

/// Change any of `first_name, last_name, phone, country`.
#[utoipa::path(patch, path = "/api/v1/users/me", tag = "users", security(("bearer" = [])),
    request_body = ProfileBody,
    responses((status = 200, body = Me), (status = 401, body = Problem), (status = 422, body = Problem)))]
pub async fn update_me(
    State(state): State<AppState>,
    me: ApiUser,
    Body(body): Body<ProfileBody>,
) -> Result<Json<Me>, Problem> {
    let u = &me.user;
    let mut errors = Messages::new();
    let first_name = body
        .first_name
        .take("first_name", &mut errors)
        .unwrap_or_else(|| u.first_name.as_str().to_owned());
    let last_name = body
        .last_name
        .take("last_name", &mut errors)
        .unwrap_or_else(|| u.last_name.as_str().to_owned());
    let country = body
        .country
        .take("country", &mut errors)
        .unwrap_or_else(|| u.country.map(|c| c.code().to_owned()).unwrap_or_default());
    let phone = body.phone.take("phone", &mut errors).unwrap_or_else(|| {
        u.phone
            .as_ref()
            .map(|p| p.e164().to_owned())
            .unwrap_or_default()
    });
    checked((), &errors)?;
    let input = ProfileInput {
        first_name: &first_name,
        last_name: &last_name,
        phone: &phone,
        country: &country,
    };
    let profile = input.parse().map_err(|e| Problem::invalid(&e))?;
    match state.accounts.update_profile(u.id, profile).await {
        Ok(user) => Ok(Json(me_of(&state, &user).await?)),
        Err(ProfileError::Invalid(errors)) => Err(Problem::invalid(&errors)),
        Err(ProfileError::Media(e)) => Err(Problem::internal(e)),
        Err(ProfileError::Unexpected(e)) => Err(e.into()),
    }
}

/// Change the password; other sessions and every API token (this one too) end.
#[utoipa::path(post, path = "/api/v1/users/me/password", tag = "users", security(("bearer" = [])),
    request_body = PasswordChangeBody,
    responses((status = 204), (status = 401, body = Problem), (status = 422, body = Problem), (status = 429, body = Problem)))]
pub async fn change_password(
    State(state): State<AppState>,
    me: ApiUser,
    Body(body): Body<PasswordChangeBody>,
) -> Result<StatusCode, Problem> {
    let mut errors = Messages::new();
    let old = body.old_password.required("old_password", &mut errors);
    let new = body.new_password.required("new_password", &mut errors);
    checked((), &errors)?;
    let new = new_password(&new, &me.user).map_err(|e| Problem::invalid(&e))?;
    let attempt = state
        .limits
        .begin_password_check(me.user.id.0)
        .map_err(Problem::too_many)?;
    let result = state
        .accounts
        .change_password(me.user.id, &old, &new, None)
        .await;
    if !matches!(&result, Err(PasswordChangeError::Invalid(e)) if !e.of(Input::OldPassword).is_empty())
    {
        attempt.not_a_failure();
    }
    match result {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(PasswordChangeError::Invalid(errors)) => Err(Problem::invalid(&errors)),
        Err(PasswordChangeError::Hash(e)) => Err(e.into()),
        Err(PasswordChangeError::Unexpected(e)) => Err(e.into()),
    }
}

/// Replace the avatar with the image in the body (`Content-Type: image/*`).
#[utoipa::path(put, path = "/api/v1/users/me/avatar", tag = "users", security(("bearer" = [])),
    request_body(content = Vec<u8>, content_type = "image/*"),
    responses((status = 200, body = Me), (status = 401, body = Problem), (status = 413, body = Problem), (status = 415, body = Problem), (status = 422, body = Problem)))]
pub async fn put_avatar(
    State(state): State<AppState>,
    me: ApiUser,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Json<Me>, Problem> {
    let is_image = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("image/"));
    if !is_image {
        return Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "api-unsupported-media-type",
            "api-send-image-type",
        ));
    }
    let bytes =
        body.map_err(|e| Problem::new(e.status(), "api-upload-refused", "api-upload-too-large"))?;
    match state.accounts.set_avatar(me.user.id, bytes.to_vec()).await {
        Ok(user) => Ok(Json(me_of(&state, &user).await?)),
        Err(catalog_domain::services::accounts::AvatarError::Image(e)) if e.refuses_the_file() => {
            Err(Problem::field("avatar", e))
        }
        Err(catalog_domain::services::accounts::AvatarError::Image(e)) => Err(Problem::internal(e)),
        Err(catalog_domain::services::accounts::AvatarError::Unexpected(e)) => Err(e.into()),
    }
}
