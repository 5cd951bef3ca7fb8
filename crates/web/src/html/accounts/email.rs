//! Changing the email address through a link to the new one.

use askama::Template;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use catalog_domain::fields::Input;
use catalog_domain::services::accounts::{
    ConfirmEmailChangeError, EmailChangeError, LinkError, new_email,
};
use serde::Deserialize;

use super::shared::no_referrer;
use crate::error::WebError;
use crate::html::page::{CsrfForm, CsrfProtected, PageContext, SignedIn};
use crate::html::{Chrome, ConfirmPage, CsrfOnly, see_other};
use crate::i18n::Arg;
use crate::names::Messages;
use crate::session;

#[derive(Template)]
#[template(path = "email_change.html")]
pub(super) struct EmailChangePage {
    chrome: Chrome,
    new_email: String,
    errors: Messages,
}

pub(super) async fn email_change_form(
    SignedIn { page, .. }: SignedIn,
) -> Result<Response, WebError> {
    page.render(StatusCode::OK, |chrome| EmailChangePage {
        chrome,
        new_email: String::new(),
        errors: Messages::new(),
    })
    .await
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

impl CsrfProtected for EmailChangeForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

pub(super) async fn email_change(
    SignedIn { page, me }: SignedIn,
    CsrfForm(form): CsrfForm<EmailChangeForm>,
) -> Result<Response, WebError> {
    let state = &page.state;
    let new = match new_email(&form.new_email) {
        Ok(new) => new,
        Err(found) => {
            let (new_email, errors) = (form.new_email, Messages::form(&found, page.lang));
            return page
                .render(StatusCode::UNPROCESSABLE_ENTITY, |chrome| EmailChangePage {
                    chrome,
                    new_email,
                    errors,
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
        .request_email_change(me.user.id, &new, &form.password)
        .await;
    if !matches!(&result, Err(EmailChangeError::Invalid(e)) if !e.of(Input::CurrentPassword).is_empty())
    {
        attempt.not_a_failure();
    }
    match result {
        Ok(()) => {
            session::push_flash(&page.session, "flash-email-change-sent").await;
            Ok(see_other("/users/profile"))
        }
        Err(EmailChangeError::Invalid(found)) => {
            let (new_email, errors) = (form.new_email, Messages::form(&found, page.lang));
            page.render(StatusCode::UNPROCESSABLE_ENTITY, |chrome| EmailChangePage {
                chrome,
                new_email,
                errors,
            })
            .await
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
            "email-link-expired-title",
            "email-link-expired",
        ),
        ConfirmEmailChangeError::Link(LinkError::Invalid) => (
            StatusCode::BAD_REQUEST,
            "email-link-invalid-title",
            "email-link-invalid",
        ),
        ConfirmEmailChangeError::AlreadyUsed => (
            StatusCode::BAD_REQUEST,
            "email-link-used-title",
            "email-link-used",
        ),
        ConfirmEmailChangeError::EmailTaken => (
            StatusCode::CONFLICT,
            "email-link-taken-title",
            "email-link-taken",
        ),
    };
    Ok(no_referrer(crate::error::error_page(status, title, detail)))
}

pub(super) async fn email_change_page(
    page: PageContext,
    Path(token): Path<String>,
) -> Result<Response, WebError> {
    match page.state.accounts.check_email_change(&token).await {
        Ok((_, new_email)) => page
            .render(StatusCode::OK, |chrome| ConfirmPage {
                chrome,
                heading: page.lang.t("email-confirm-heading").to_owned(),
                text: page.lang.f(
                    "email-confirm-text",
                    &[("email", Arg::from(new_email.as_str()))],
                ),
                action: format!("/users/email-change/{token}"),
                button: "email-confirm-button",
            })
            .await
            .map(no_referrer),
        Err(e) => email_change_failure(e),
    }
}

pub(super) async fn email_change_confirm(
    page: PageContext,
    Path(token): Path<String>,
    _: CsrfForm<CsrfOnly>,
) -> Result<Response, WebError> {
    let accounts = &page.state.accounts;
    // The account's own session confirming the change stays signed in; every other
    // one ends (see `confirm_email_change`).
    let signed_in = page.viewer.0.as_ref().map(|me| me.user.id);
    let (user, keep) = match accounts.check_email_change(&token).await {
        Ok((user, _)) => {
            let own = signed_in == Some(user.id);
            let keep = page.session_key().filter(|_| own);
            (user, keep)
        }
        Err(e) => return email_change_failure(e),
    };
    match accounts.confirm_email_change(&token, keep.clone()).await {
        Ok(_) => {
            tracing::info!(user = user.id.0, "email address changed");
            if keep.is_some() {
                page.session.cycle_id().await?;
            }
            session::push_flash(&page.session, "flash-email-changed").await;
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
