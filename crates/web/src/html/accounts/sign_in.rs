//! Signing in and out.

use crate::device::DeviceTokens;
use crate::error::WebError;
use crate::html::{Chrome, CsrfOnly, Viewer, check_csrf, render, safe_next, see_other};
use crate::rate_limit::{ClientIp, email_key};
use crate::session;
use crate::state::AppState;
use askama::Template;
use axum::extract::{Query, State};

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::{Extension, Form};
use catalog_domain::services::accounts::SignInError;
use serde::Deserialize;
use tower_sessions::Session;

#[derive(Template)]
#[template(path = "login.html")]
pub(super) struct LoginPage {
    chrome: Chrome,
    email: String,
    next: String,
    error: Option<&'static str>,
    unverified: bool,
}

#[derive(Debug, Deserialize)]
pub(super) struct NextQuery {
    #[serde(default)]
    next: String,
}

pub(super) async fn login_form(
    State(state): State<AppState>,
    session: Session,
    Extension(viewer): Extension<Viewer>,
    Query(query): Query<NextQuery>,
) -> Result<Response, WebError> {
    let chrome = Chrome::build(&state, &session, &viewer).await?;
    let next = safe_next(&query.next).unwrap_or_default().to_owned();
    render(
        StatusCode::OK,
        &LoginPage {
            chrome,
            email: String::new(),
            next,
            error: None,
            unverified: false,
        },
    )
}

#[derive(Debug, Deserialize)]
pub(super) struct LoginForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

pub(super) async fn login(
    State(state): State<AppState>,
    session: Session,
    Extension(viewer): Extension<Viewer>,
    ip: ClientIp,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, WebError> {
    check_csrf(&state, &session, &viewer, &form.csrf_token).await?;
    let account = email_key(&form.email);
    let devices = DeviceTokens::from_headers(&headers, &state.settings);
    let now = state.ports.clock.now();
    let device = devices.trusted_for(state.ports.signer.as_ref(), &account, now);
    let attempt = state
        .limits
        .begin_sign_in(ip.key(), account.clone(), device)
        .map_err(WebError::TooManyRequests)?;
    let result = state.accounts.sign_in(&form.email, &form.password).await;
    if !matches!(result, Err(SignInError::InvalidCredentials)) {
        // Only failures count, and a later success does not wipe earlier ones.
        attempt.not_a_failure();
    }
    let (error, unverified) = match result {
        Ok(signed) => {
            session::sign_in(&session, signed.user.id).await?;
            tracing::info!(user = signed.user.id.0, "signed in");
            let to = if signed.password_change_required {
                "/users/password-change"
            } else {
                safe_next(&form.next).unwrap_or("/products")
            };
            let mut response = see_other(to);
            let wiring = (&state.ports, state.settings.as_ref());
            crate::device::remember(&mut response, wiring, &devices, &account, now);
            return Ok(response);
        }
        Err(SignInError::InvalidCredentials) => {
            tracing::info!("sign-in failed");
            (
                "Please enter a correct email and password. Note that the password is case-sensitive.",
                false,
            )
        }
        Err(SignInError::Unverified { .. }) => {
            tracing::info!("sign-in refused: email not confirmed");
            (
                "Please confirm your email address first: we have sent you the link again.",
                true,
            )
        }
        Err(SignInError::Hash(e)) => return Err(e.into()),
        Err(SignInError::Unexpected(e)) => return Err(e.into()),
    };
    let chrome = Chrome::build(&state, &session, &viewer).await?;
    let next = safe_next(&form.next).unwrap_or_default().to_owned();
    render(
        StatusCode::UNPROCESSABLE_ENTITY,
        &LoginPage {
            chrome,
            email: form.email,
            next,
            error: Some(error),
            unverified,
        },
    )
}

pub(super) async fn logout(
    State(state): State<AppState>,
    session: Session,
    Extension(viewer): Extension<Viewer>,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, WebError> {
    check_csrf(&state, &session, &viewer, &form.csrf_token).await?;
    session::sign_out(&session).await?;
    Ok(see_other("/"))
}
