//! The account pages of SPEC §5, one module per flow; shared pieces live here.

mod email;
mod passwords;
mod profile;
mod registration;
mod sign_in;
mod verification;

use email::*;
use passwords::*;
use profile::*;
use registration::*;
use sign_in::*;
use verification::*;

use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Extension, Form};
use catalog_domain::fields::FieldErrors;
use catalog_domain::services::accounts::{
    ConfirmEmailChangeError, EmailChangeError, LinkError, PasswordChangeError, ProfileError,
    ProfileInput, RegisterError, ResendError, SignInError, Verification,
};
use catalog_domain::user::Country;
use serde::Deserialize;
use tower_sessions::Session;

use super::{
    Chrome, ConfirmPage, CsrfOnly, Viewer, check_csrf, login_redirect, media_url, render,
    safe_next, see_other,
};
use crate::app::AppState;
use crate::error::WebError;
use crate::rate_limit::{ClientIp, Limit, email_key};
use crate::session::{self, DbSessionStore};

/// Uploads may be this large (the whole request body); everything else stays at 64 KiB.
pub const UPLOAD_LIMIT: usize = 5 * 1024 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/users/register", get(register_form).post(register))
        .route("/users/register/done", get(register_done))
        .route("/users/verify/resend", post(resend))
        .route("/users/verify/{token}", get(verify_page).post(verify))
        .route("/users/login", get(login_form).post(login))
        .route("/users/logout", post(logout))
        .route("/users/password-reset", get(reset_form).post(reset))
        .route("/users/password-reset/done", get(reset_done))
        .route(
            "/users/password-change",
            get(password_change_form).post(password_change),
        )
        .route(
            "/users/email-change",
            get(email_change_form).post(email_change),
        )
        .route(
            "/users/email-change/{token}",
            get(email_change_page).post(email_change_confirm),
        )
        .route(
            "/users/profile",
            get(profile_form)
                .post(profile)
                .layer(DefaultBodyLimit::max(UPLOAD_LIMIT)),
        )
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    chrome: Chrome,
}

async fn home(
    State(state): State<AppState>,
    session: Session,
    Extension(viewer): Extension<Viewer>,
) -> Result<Response, WebError> {
    let chrome = Chrome::build(&state, &session, &viewer).await?;
    render(StatusCode::OK, &HomePage { chrome })
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage<'a> {
    chrome: Chrome,
    heading: &'a str,
    paragraphs: Vec<&'a str>,
    action: Option<(&'a str, &'a str)>,
}

/// Pages reached through a token must not leak it to other sites through `Referer`.
fn no_referrer(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

#[derive(Debug, Deserialize)]
struct EmailForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    email: String,
}
