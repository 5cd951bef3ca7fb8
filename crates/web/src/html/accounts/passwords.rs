//! Password reset (generated passwords) and password change.

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use catalog_domain::fields::Input;
use catalog_domain::services::accounts::{PasswordChangeError, ResendError, address, new_password};
use serde::Deserialize;

use super::shared::{DIFFERENT_PASSWORDS, EmailForm, MessagePage};
use crate::error::WebError;
use crate::html::page::{CsrfForm, CsrfProtected, PageContext, SignedIn};
use crate::html::{Chrome, see_other};
use crate::names::Messages;
use crate::rate_limit::{ClientIp, Limit, email_key};
use crate::session;

#[derive(Template)]
#[template(path = "password_reset.html")]
pub(super) struct ResetPage {
    chrome: Chrome,
    email: String,
    errors: Messages,
}

pub(super) async fn reset_form(page: PageContext) -> Result<Response, WebError> {
    page.render(StatusCode::OK, |chrome| ResetPage {
        chrome,
        email: String::new(),
        errors: Messages::new(),
    })
    .await
}

pub(super) async fn reset(
    page: PageContext,
    ip: ClientIp,
    CsrfForm(form): CsrfForm<EmailForm>,
) -> Result<Response, WebError> {
    let state = &page.state;
    state
        .limits
        .hit(Limit::ResetsByAddress, &ip.key())
        .map_err(WebError::TooManyRequests)?;
    state
        .limits
        .hit(Limit::ResetsByEmail, &email_key(&form.email))
        .map_err(WebError::TooManyRequests)?;
    let email = match address(&form.email) {
        Ok(email) => email,
        Err(found) => {
            let (email, errors) = (form.email, Messages::form(&found, page.lang));
            return page
                .render(StatusCode::UNPROCESSABLE_ENTITY, |chrome| ResetPage {
                    chrome,
                    email,
                    errors,
                })
                .await;
        }
    };
    match state.accounts.request_password_reset(&email).await {
        Ok(()) => {
            tracing::info!("password reset requested");
            Ok(see_other("/users/password-reset/done"))
        }
        Err(ResendError::Hash(e)) => Err(e.into()),
        Err(ResendError::Unexpected(e)) => Err(e.into()),
    }
}

pub(super) async fn reset_done(page: PageContext) -> Result<Response, WebError> {
    page.render(StatusCode::OK, |chrome| MessagePage {
        chrome,
        heading: "reset-done-heading",
        paragraphs: vec!["reset-done-sent", "reset-done-keeps"],
        action: Some(("/users/login", "nav-sign-in")),
    })
    .await
}

#[derive(Template)]
#[template(path = "password_change.html")]
pub(super) struct PasswordChangePage {
    chrome: Chrome,
    required: bool,
    errors: Messages,
}

pub(super) async fn password_change_form(
    SignedIn { page, me }: SignedIn,
) -> Result<Response, WebError> {
    page.render(StatusCode::OK, |chrome| PasswordChangePage {
        chrome,
        required: me.user.password_change_required,
        errors: Messages::new(),
    })
    .await
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

impl CsrfProtected for PasswordChangeForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

pub(super) async fn password_change(
    SignedIn { page, me }: SignedIn,
    CsrfForm(form): CsrfForm<PasswordChangeForm>,
) -> Result<Response, WebError> {
    let state = &page.state;
    // Typed twice alike is the form's own check, and the new password is read before
    // the old one is checked.
    let mut errors = Messages::new();
    if form.new_password1 != form.new_password2 {
        errors.add("new_password2", page.lang.t(DIFFERENT_PASSWORDS));
    }
    let new = match new_password(&form.new_password1, &me.user) {
        Ok(new) if errors.is_empty() => new,
        parsed => {
            let errors = match parsed {
                Err(found) => Messages::form(&found, page.lang).and(errors),
                Ok(_) => errors,
            };
            return page
                .render(StatusCode::UNPROCESSABLE_ENTITY, |chrome| {
                    PasswordChangePage {
                        chrome,
                        required: me.user.password_change_required,
                        errors,
                    }
                })
                .await;
        }
    };
    let attempt = state
        .limits
        .begin_password_check(me.user.id.0)
        .map_err(WebError::TooManyRequests)?;
    let result = state
        .accounts
        .change_password(me.user.id, &form.old_password, &new, page.session_key())
        .await;
    if !matches!(&result, Err(PasswordChangeError::Invalid(e)) if !e.of(Input::OldPassword).is_empty())
    {
        attempt.not_a_failure();
    }
    match result {
        Ok(()) => {
            // This session stays signed in, under a new id.
            page.session.cycle_id().await?;
            session::push_flash(&page.session, "flash-password-changed").await;
            tracing::info!(user = me.user.id.0, "password changed");
            Ok(see_other("/users/profile"))
        }
        Err(PasswordChangeError::Invalid(found)) => {
            let errors = Messages::form(&found, page.lang);
            page.render(StatusCode::UNPROCESSABLE_ENTITY, |chrome| {
                PasswordChangePage {
                    chrome,
                    required: me.user.password_change_required,
                    errors,
                }
            })
            .await
        }
        Err(PasswordChangeError::Hash(e)) => Err(e.into()),
        Err(PasswordChangeError::Unexpected(e)) => Err(e.into()),
    }
}
