//! Registration.

use super::shared::MessagePage;
use crate::error::WebError;
use crate::html::{Chrome, Viewer, check_csrf, render, see_other};
use crate::rate_limit::{ClientIp, Limit};
use crate::state::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Extension, Form};
use catalog_domain::fields::FieldErrors;
use catalog_domain::services::accounts::RegisterError;
use serde::Deserialize;
use tower_sessions::Session;
#[derive(Template)]
#[template(path = "register.html")]
pub(super) struct RegisterPage {
    chrome: Chrome,
    email: String,
    errors: FieldErrors,
}

#[derive(Debug, Deserialize)]
pub(super) struct RegisterForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password1: String,
    #[serde(default)]
    password2: String,
}

pub(super) async fn register_form(
    State(state): State<AppState>,
    session: Session,
    Extension(viewer): Extension<Viewer>,
) -> Result<Response, WebError> {
    let chrome = Chrome::build(&state, &session, &viewer).await?;
    render(
        StatusCode::OK,
        &RegisterPage {
            chrome,
            email: String::new(),
            errors: FieldErrors::new(),
        },
    )
}

pub(super) async fn register(
    State(state): State<AppState>,
    session: Session,
    Extension(viewer): Extension<Viewer>,
    ip: ClientIp,
    Form(form): Form<RegisterForm>,
) -> Result<Response, WebError> {
    check_csrf(&state, &session, &viewer, &form.csrf_token).await?;
    state
        .limits
        .hit(Limit::SignUpsByAddress, &ip.key())
        .map_err(WebError::TooManyRequests)?;
    match state
        .accounts
        .register(&form.email, &form.password1, &form.password2)
        .await
    {
        Ok(()) => {
            tracing::info!("registration accepted");
            Ok(see_other("/users/register/done"))
        }
        Err(RegisterError::Invalid(errors)) => {
            let chrome = Chrome::build(&state, &session, &viewer).await?;
            render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &RegisterPage {
                    chrome,
                    email: form.email,
                    errors,
                },
            )
        }
        Err(RegisterError::Hash(e)) => Err(e.into()),
        Err(RegisterError::Unexpected(e)) => Err(e.into()),
    }
}

pub(super) async fn register_done(
    State(state): State<AppState>,
    session: Session,
    Extension(viewer): Extension<Viewer>,
) -> Result<Response, WebError> {
    let chrome = Chrome::build(&state, &session, &viewer).await?;
    render(
        StatusCode::OK,
        &MessagePage {
            chrome,
            heading: "Check your email",
            paragraphs: vec![
                "If the address can be registered, a message with a confirmation link is on its way. Open the link to activate your account.",
                "Nothing arrived after a few minutes? Look in your spam folder, or sign in to have the link sent again.",
            ],
            action: Some(("/users/login", "Sign in")),
        },
    )
}
