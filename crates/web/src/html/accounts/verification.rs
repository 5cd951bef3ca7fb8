//! Confirming the address from the mailed link, and sending the link again.

use super::shared::{EmailForm, no_referrer};
use crate::error::WebError;
use crate::html::{Chrome, ConfirmPage, CsrfOnly, Viewer, check_csrf, render, see_other};
use crate::rate_limit::{Limit, email_key};
use crate::session;
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Extension, Form};
use catalog_domain::fields::FieldErrors;
use catalog_domain::services::accounts::{LinkError, ResendError, Verification};
use tower_sessions::Session;
#[derive(Template)]
#[template(path = "link_invalid.html")]
pub(super) struct LinkInvalidPage<'a> {
    chrome: Chrome,
    reason: &'a str,
    email: String,
    errors: FieldErrors,
}

pub(super) fn link_reason(e: &LinkError) -> &'static str {
    match e {
        LinkError::Expired => "The confirmation link has expired: links work for three days.",
        _ => "The confirmation link is not valid. Perhaps it was copied incompletely.",
    }
}

pub(super) async fn link_invalid(
    state: &AppState,
    session: &Session,
    viewer: &Viewer,
    e: &LinkError,
) -> Result<Response, WebError> {
    if let LinkError::Unexpected(cause) = e {
        return Err(WebError::Unavailable(cause.to_string()));
    }
    let chrome = Chrome::build(state, session, viewer).await?;
    let page = LinkInvalidPage {
        chrome,
        reason: link_reason(e),
        email: String::new(),
        errors: FieldErrors::new(),
    };
    render(StatusCode::BAD_REQUEST, &page).map(no_referrer)
}

/// Shows a confirm button; a GET never changes anything (mail scanners open links).
pub(super) async fn verify_page(
    State(state): State<AppState>,
    session: Session,
    Extension(viewer): Extension<Viewer>,
    Path(token): Path<String>,
) -> Result<Response, WebError> {
    match state.accounts.check_verification(&token).await {
        Ok(Verification::Pending(user)) => {
            let chrome = Chrome::build(&state, &session, &viewer).await?;
            let page = ConfirmPage {
                chrome,
                heading: "Confirm your email address".into(),
                text: format!(
                    "Confirm that {} is your address to activate your account.",
                    user.email
                ),
                action: format!("/users/verify/{token}"),
                button: "Confirm my email",
            };
            render(StatusCode::OK, &page).map(no_referrer)
        }
        Ok(Verification::AlreadyVerified) => Ok(no_referrer(see_other(
            &state.settings.redirect_if_already_verified,
        ))),
        Err(e) => link_invalid(&state, &session, &viewer, &e).await,
    }
}

pub(super) async fn verify(
    State(state): State<AppState>,
    session: Session,
    Extension(viewer): Extension<Viewer>,
    Path(token): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, WebError> {
    check_csrf(&state, &session, &viewer, &form.csrf_token).await?;
    match state.accounts.confirm_email(&token).await {
        Ok(Verification::Pending(user)) => {
            session::sign_in(&session, user.id).await?;
            session::push_flash(&session, "Your email address is confirmed. Welcome!").await;
            tracing::info!(user = user.id.0, "email confirmed; signed in");
            Ok(no_referrer(see_other(
                &state.settings.redirect_after_verify,
            )))
        }
        Ok(Verification::AlreadyVerified) => Ok(no_referrer(see_other(
            &state.settings.redirect_if_already_verified,
        ))),
        Err(e) => link_invalid(&state, &session, &viewer, &e).await,
    }
}

pub(super) async fn resend(
    State(state): State<AppState>,
    session: Session,
    Extension(viewer): Extension<Viewer>,
    Form(form): Form<EmailForm>,
) -> Result<Response, WebError> {
    check_csrf(&state, &session, &viewer, &form.csrf_token).await?;
    state
        .limits
        .hit(Limit::ResendsByEmail, &email_key(&form.email))
        .map_err(WebError::TooManyRequests)?;
    match state.accounts.resend_verification(&form.email).await {
        Ok(()) => {
            session::push_flash(
                &session,
                "If that address is waiting for confirmation, a new link is on its way.",
            )
            .await;
            Ok(see_other("/users/register/done"))
        }
        Err(ResendError::Invalid(errors)) => {
            let chrome = Chrome::build(&state, &session, &viewer).await?;
            let page = LinkInvalidPage {
                chrome,
                reason: "Enter the address you registered with.",
                email: form.email,
                errors,
            };
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(ResendError::Hash(e)) => Err(e.into()),
        Err(ResendError::Unexpected(e)) => Err(e.into()),
    }
}
