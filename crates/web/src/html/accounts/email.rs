//! Changing the email address through a link to the new one.

use super::shared::no_referrer;
use crate::error::WebError;
use crate::html::{
    Chrome, ConfirmPage, CsrfOnly, Viewer, check_csrf, login_redirect, render, see_other,
};
use crate::session::{self, DbSessionStore};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Extension, Form};
use catalog_domain::fields::FieldErrors;
use catalog_domain::services::accounts::{ConfirmEmailChangeError, EmailChangeError, LinkError};
use serde::Deserialize;
use tower_sessions::Session;
#[derive(Template)]
#[template(path = "email_change.html")]
pub(super) struct EmailChangePage {
    chrome: Chrome,
    new_email: String,
    errors: FieldErrors,
}

pub(super) async fn email_change_form(
    State(state): State<AppState>,
    session: Session,
    Extension(viewer): Extension<Viewer>,
    uri: axum::http::Uri,
) -> Result<Response, WebError> {
    if viewer.0.is_none() {
        return Ok(login_redirect(&uri));
    }
    let chrome = Chrome::build(&state, &session, &viewer).await?;
    render(
        StatusCode::OK,
        &EmailChangePage {
            chrome,
            new_email: String::new(),
            errors: FieldErrors::new(),
        },
    )
}

#[derive(Debug, Deserialize)]
pub(super) struct EmailChangeForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    new_email: String,
    #[serde(default)]
    password: String,
}

pub(super) async fn email_change(
    State(state): State<AppState>,
    session: Session,
    Extension(viewer): Extension<Viewer>,
    uri: axum::http::Uri,
    Form(form): Form<EmailChangeForm>,
) -> Result<Response, WebError> {
    let Some(me) = viewer.0.clone() else {
        return Ok(login_redirect(&uri));
    };
    check_csrf(&state, &session, &viewer, &form.csrf_token).await?;
    let attempt = state
        .limits
        .begin_password_check(me.user.id.0)
        .map_err(WebError::TooManyRequests)?;
    let result = state
        .accounts
        .request_email_change(me.user.id, &form.new_email, &form.password)
        .await;
    if !matches!(&result, Err(EmailChangeError::Invalid(e)) if !e.of("password").is_empty()) {
        attempt.not_a_failure();
    }
    match result {
        Ok(()) => {
            session::push_flash(
                &session,
                "Check your email: we sent a confirmation link to the new address.",
            )
            .await;
            Ok(see_other("/users/profile"))
        }
        Err(EmailChangeError::Invalid(errors)) => {
            let chrome = Chrome::build(&state, &session, &viewer).await?;
            render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &EmailChangePage {
                    chrome,
                    new_email: form.new_email,
                    errors,
                },
            )
        }
        Err(EmailChangeError::Hash(e)) => Err(e.into()),
        Err(EmailChangeError::Unexpected(e)) => Err(e.into()),
    }
}

pub(super) fn email_change_failure(e: ConfirmEmailChangeError) -> Result<Response, WebError> {
    let (status, title, detail) = match e {
        ConfirmEmailChangeError::Link(LinkError::Unexpected(cause)) => return Err(cause.into()),
        ConfirmEmailChangeError::Link(LinkError::Expired) => (
            StatusCode::BAD_REQUEST,
            "Link expired",
            "The confirmation link has expired: links work for three days. Request the change again.",
        ),
        ConfirmEmailChangeError::Link(LinkError::Invalid) => (
            StatusCode::BAD_REQUEST,
            "Link not valid",
            "The confirmation link is not valid. Perhaps it was copied incompletely.",
        ),
        ConfirmEmailChangeError::AlreadyUsed => (
            StatusCode::BAD_REQUEST,
            "Link already used",
            "This change was confirmed already, or a newer request replaced it.",
        ),
        ConfirmEmailChangeError::EmailTaken => (
            StatusCode::CONFLICT,
            "Address taken",
            "Another account uses this address now, so it cannot become yours.",
        ),
    };
    Ok(no_referrer(crate::error::error_page(status, title, detail)))
}

pub(super) async fn email_change_page(
    State(state): State<AppState>,
    session: Session,
    Extension(viewer): Extension<Viewer>,
    Path(token): Path<String>,
) -> Result<Response, WebError> {
    match state.accounts.check_email_change(&token).await {
        Ok((_, new_email)) => {
            let chrome = Chrome::build(&state, &session, &viewer).await?;
            let page = ConfirmPage {
                chrome,
                heading: "Confirm your new email address".into(),
                text: format!("Make {new_email} the address of your account."),
                action: format!("/users/email-change/{token}"),
                button: "Confirm this address",
            };
            render(StatusCode::OK, &page).map(no_referrer)
        }
        Err(e) => email_change_failure(e),
    }
}

pub(super) async fn email_change_confirm(
    State(state): State<AppState>,
    session: Session,
    Extension(viewer): Extension<Viewer>,
    Path(token): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, WebError> {
    check_csrf(&state, &session, &viewer, &form.csrf_token).await?;
    // The account's own session confirming the change stays signed in; every other
    // one ends (see `confirm_email_change`).
    let signed_in = session::user_id(&session).await?;
    let keep = session
        .id()
        .map(|id| DbSessionStore::key(state.ports.signer.as_ref(), &id));
    let (user, keep) = match state.accounts.check_email_change(&token).await {
        Ok((user, _)) => {
            let own = signed_in == Some(user.id);
            (user, keep.filter(|_| own))
        }
        Err(e) => return email_change_failure(e),
    };
    match state
        .accounts
        .confirm_email_change(&token, keep.clone())
        .await
    {
        Ok(_) => {
            tracing::info!(user = user.id.0, "email address changed");
            if keep.is_some() {
                session.cycle_id().await?;
            }
            session::push_flash(&session, "Your email address was changed.").await;
            let to = if keep.is_some() {
                "/users/profile"
            } else {
                "/users/login"
            };
            Ok(no_referrer(see_other(to)))
        }
        Err(e) => email_change_failure(e),
    }
}
