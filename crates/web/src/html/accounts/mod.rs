//! The account pages of SPEC §5, one module per flow; shared pieces live here.

mod email;
mod passwords;
mod profile;
mod registration;
mod shared;
mod sign_in;
mod verification;

use askama::Template;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};

use super::Chrome;
use super::page::PageContext;
use crate::error::WebError;
use crate::state::AppState;
use email::{email_change, email_change_confirm, email_change_form, email_change_page};
use passwords::{password_change, password_change_form, reset, reset_done, reset_form};
use profile::{profile, profile_form};
use registration::{register, register_done, register_form};
use sign_in::{login, login_form, logout};
use verification::{resend, verify, verify_page};

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
                .layer(DefaultBodyLimit::max(crate::view::UPLOAD_LIMIT)),
        )
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    chrome: Chrome,
}

async fn home(page: PageContext) -> Result<Response, WebError> {
    page.render(StatusCode::OK, |chrome| HomePage { chrome })
        .await
}
