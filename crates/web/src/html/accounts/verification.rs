//! Confirming the address from the mailed link, and sending the link again.

use askama::Template;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use catalog_domain::services::accounts::{LinkError, ResendError, Verification, address};

use super::shared::{EmailForm, no_referrer};
use crate::error::WebError;
use crate::html::page::{CsrfForm, PageContext};
use crate::html::{Chrome, ConfirmPage, CsrfOnly, see_other};
use crate::i18n::Arg;
use crate::names::Messages;
use crate::rate_limit::{Limit, email_key};
use crate::session;

#[derive(Template)]
#[template(path = "link_invalid.html")]
pub(super) struct LinkInvalidPage<'a> {
    chrome: Chrome,
    reason: &'a str,
    email: String,
    errors: Messages,
}

pub(super) fn link_reason(e: &LinkError) -> &'static str {
    match e {
        LinkError::Expired => "link-expired-reason",
        _ => "link-broken-reason",
    }
}

async fn link_invalid(page: &PageContext, e: &LinkError) -> Result<Response, WebError> {
    if let LinkError::Unexpected(cause) = e {
        return Err(WebError::Unavailable(cause.to_string()));
    }
    page.render(StatusCode::BAD_REQUEST, |chrome| LinkInvalidPage {
        chrome,
        reason: link_reason(e),
        email: String::new(),
        errors: Messages::new(),
    })
    .await
    .map(no_referrer)
}

/// Shows a confirm button; a GET never changes anything (mail scanners open links).
pub(super) async fn verify_page(
    page: PageContext,
    Path(token): Path<String>,
) -> Result<Response, WebError> {
    let settings = &page.state.settings;
    match page.state.accounts.check_verification(&token).await {
        Ok(Verification::Pending(user)) => page
            .render(StatusCode::OK, |chrome| ConfirmPage {
                chrome,
                heading: page.lang.t("verify-heading").to_owned(),
                text: page
                    .lang
                    .f("verify-text", &[("email", Arg::from(user.email.as_str()))]),
                action: format!("/users/verify/{token}"),
                button: "verify-button",
            })
            .await
            .map(no_referrer),
        Ok(Verification::AlreadyVerified) => Ok(no_referrer(see_other(
            &settings.redirect_if_already_verified,
        ))),
        Err(e) => link_invalid(&page, &e).await,
    }
}

pub(super) async fn verify(
    page: PageContext,
    Path(token): Path<String>,
    _: CsrfForm<CsrfOnly>,
) -> Result<Response, WebError> {
    let settings = &page.state.settings;
    match page.state.accounts.confirm_email(&token).await {
        Ok(Verification::Pending(user)) => {
            session::sign_in(&page.session, user.id).await?;
            session::push_flash(&page.session, "flash-email-confirmed").await;
            tracing::info!(user = user.id.0, "email confirmed; signed in");
            Ok(no_referrer(see_other(&settings.redirect_after_verify)))
        }
        Ok(Verification::AlreadyVerified) => Ok(no_referrer(see_other(
            &settings.redirect_if_already_verified,
        ))),
        Err(e) => link_invalid(&page, &e).await,
    }
}

pub(super) async fn resend(
    page: PageContext,
    CsrfForm(form): CsrfForm<EmailForm>,
) -> Result<Response, WebError> {
    let state = &page.state;
    state
        .limits
        .hit(Limit::ResendsByEmail, &email_key(&form.email))
        .map_err(WebError::TooManyRequests)?;
    let email = match address(&form.email) {
        Ok(email) => email,
        Err(found) => {
            let (email, errors) = (form.email, Messages::form(&found, page.lang));
            return page
                .render(StatusCode::UNPROCESSABLE_ENTITY, |chrome| LinkInvalidPage {
                    chrome,
                    reason: "link-enter-address",
                    email,
                    errors,
                })
                .await;
        }
    };
    match state.accounts.resend_verification(&email).await {
        Ok(()) => {
            session::push_flash(&page.session, "flash-link-resent").await;
            Ok(see_other("/users/register/done"))
        }
        Err(ResendError::Hash(e)) => Err(e.into()),
        Err(ResendError::Unexpected(e)) => Err(e.into()),
    }
}
