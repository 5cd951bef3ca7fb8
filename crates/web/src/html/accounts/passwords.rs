//! Password reset (generated passwords) and password change.

use super::shared::{EmailForm, MessagePage};
use crate::error::WebError;
use crate::html::{Chrome, Viewer, check_csrf, login_redirect, render, see_other};
use crate::rate_limit::{ClientIp, Limit, email_key};
use crate::session::{self, DbSessionStore};
use crate::state::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Extension, Form};
use catalog_domain::fields::FieldErrors;
use catalog_domain::services::accounts::{PasswordChangeError, ResendError};
use serde::Deserialize;
use tower_sessions::Session;
#[derive(Template)]
#[template(path = "password_reset.html")]
pub(super) struct ResetPage {
    chrome: Chrome,
    email: String,
    errors: FieldErrors,
}

pub(super) async fn reset_form(
    State(state): State<AppState>,
    session: Session,
    Extension(viewer): Extension<Viewer>,
) -> Result<Response, WebError> {
    let chrome = Chrome::build(&state, &session, &viewer).await?;
    render(
        StatusCode::OK,
        &ResetPage {
            chrome,
            email: String::new(),
            errors: FieldErrors::new(),
        },
    )
}

pub(super) async fn reset(
    State(state): State<AppState>,
    session: Session,
    Extension(viewer): Extension<Viewer>,
    ip: ClientIp,
    Form(form): Form<EmailForm>,
) -> Result<Response, WebError> {
    check_csrf(&state, &session, &viewer, &form.csrf_token).await?;
    state
        .limits
        .hit(Limit::ResetsByAddress, &ip.key())
        .map_err(WebError::TooManyRequests)?;
    state
        .limits
        .hit(Limit::ResetsByEmail, &email_key(&form.email))
        .map_err(WebError::TooManyRequests)?;
    match state.accounts.request_password_reset(&form.email).await {
        Ok(()) => {
            tracing::info!("password reset requested");
            Ok(see_other("/users/password-reset/done"))
        }
        Err(ResendError::Invalid(errors)) => {
            let chrome = Chrome::build(&state, &session, &viewer).await?;
            render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &ResetPage {
                    chrome,
                    email: form.email,
                    errors,
                },
            )
        }
        Err(ResendError::Hash(e)) => Err(e.into()),
        Err(ResendError::Unexpected(e)) => Err(e.into()),
    }
}

pub(super) async fn reset_done(
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
                "If an account uses that address, we have sent it a new password that works for one hour.",
                "Your current password keeps working until you sign in with the new one.",
            ],
            action: Some(("/users/login", "Sign in")),
        },
    )
}

#[derive(Template)]
#[template(path = "password_change.html")]
pub(super) struct PasswordChangePage {
    chrome: Chrome,
    required: bool,
    errors: FieldErrors,
}

pub(super) async fn password_change_form(
    State(state): State<AppState>,
    session: Session,
    Extension(viewer): Extension<Viewer>,
    uri: axum::http::Uri,
) -> Result<Response, WebError> {
    let Some(me) = viewer.0.clone() else {
        return Ok(login_redirect(&uri));
    };
    let chrome = Chrome::build(&state, &session, &viewer).await?;
    let page = PasswordChangePage {
        chrome,
        required: me.user.password_change_required,
        errors: FieldErrors::new(),
    };
    render(StatusCode::OK, &page)
}

#[derive(Debug, Deserialize)]
pub(super) struct PasswordChangeForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    old_password: String,
    #[serde(default)]
    new_password1: String,
    #[serde(default)]
    new_password2: String,
}

pub(super) async fn password_change(
    State(state): State<AppState>,
    session: Session,
    Extension(viewer): Extension<Viewer>,
    uri: axum::http::Uri,
    Form(form): Form<PasswordChangeForm>,
) -> Result<Response, WebError> {
    let Some(me) = viewer.0.clone() else {
        return Ok(login_redirect(&uri));
    };
    check_csrf(&state, &session, &viewer, &form.csrf_token).await?;
    let keep = session
        .id()
        .map(|id| DbSessionStore::key(state.ports.signer.as_ref(), &id));
    let attempt = state
        .limits
        .begin_password_check(me.user.id.0)
        .map_err(WebError::TooManyRequests)?;
    let result = state
        .accounts
        .change_password(
            me.user.id,
            &form.old_password,
            &form.new_password1,
            &form.new_password2,
            keep,
        )
        .await;
    if !matches!(&result, Err(PasswordChangeError::Invalid(e)) if !e.of("old_password").is_empty())
    {
        attempt.not_a_failure();
    }
    match result {
        Ok(()) => {
            // This session stays signed in, under a new id.
            session.cycle_id().await?;
            session::push_flash(&session, "Your password was changed.").await;
            tracing::info!(user = me.user.id.0, "password changed");
            Ok(see_other("/users/profile"))
        }
        Err(PasswordChangeError::Invalid(errors)) => {
            let chrome = Chrome::build(&state, &session, &viewer).await?;
            let page = PasswordChangePage {
                chrome,
                required: me.user.password_change_required,
                errors,
            };
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(PasswordChangeError::Hash(e)) => Err(e.into()),
        Err(PasswordChangeError::Unexpected(e)) => Err(e.into()),
    }
}
