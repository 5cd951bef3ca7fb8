//! Signing in and out.

use crate::device::SignInGate;
use crate::error::WebError;
use crate::html::page::{CsrfForm, CsrfProtected, PageContext};
use crate::html::{Chrome, CsrfOnly, safe_next, see_other};
use crate::rate_limit::ClientIp;
use crate::session;
use askama::Template;
use axum::extract::Query;

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use catalog_domain::services::accounts::SignInError;
use serde::Deserialize;

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
    page: PageContext,
    Query(query): Query<NextQuery>,
) -> Result<Response, WebError> {
    let next = safe_next(&query.next).unwrap_or_default().to_owned();
    page.render(StatusCode::OK, |chrome| LoginPage {
        chrome,
        email: String::new(),
        next,
        error: None,
        unverified: false,
    })
    .await
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

impl CsrfProtected for LoginForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

pub(super) async fn login(
    page: PageContext,
    ip: ClientIp,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> Result<Response, WebError> {
    let state = &page.state;
    let mut gate =
        SignInGate::open(state, &headers, &ip, &form.email).map_err(WebError::TooManyRequests)?;
    let result = state.accounts.sign_in(&form.email, &form.password).await;
    if !matches!(result, Err(SignInError::InvalidCredentials)) {
        gate.not_a_failure();
    }
    let (error, unverified) = match result {
        Ok(signed) => {
            session::sign_in(&page.session, signed.user.id).await?;
            // An account from before languages learns the one its owner reads, so that
            // its mail is written in it from now on.
            if signed.user.language.is_none() {
                page.state
                    .accounts
                    .set_language(signed.user.id, page.lang.code())
                    .await?;
            }
            tracing::info!(user = signed.user.id.0, "signed in");
            let to = if signed.password_change_required {
                "/users/password-change"
            } else {
                safe_next(&form.next).unwrap_or("/products")
            };
            let mut response = see_other(to);
            gate.remember(&mut response);
            return Ok(response);
        }
        Err(SignInError::InvalidCredentials) => {
            tracing::info!("sign-in failed");
            ("sign-in-failed", false)
        }
        Err(SignInError::Unverified { .. }) => {
            tracing::info!("sign-in refused: email not confirmed");
            ("sign-in-unverified", true)
        }
        Err(SignInError::Hash(e)) => return Err(e.into()),
        Err(SignInError::Unexpected(e)) => return Err(e.into()),
    };
    let next = safe_next(&form.next).unwrap_or_default().to_owned();
    page.render(StatusCode::UNPROCESSABLE_ENTITY, |chrome| LoginPage {
        chrome,
        email: form.email,
        next,
        error: Some(error),
        unverified,
    })
    .await
}

pub(super) async fn logout(page: PageContext, _: CsrfForm<CsrfOnly>) -> Result<Response, WebError> {
    session::sign_out(&page.session).await?;
    Ok(see_other("/"))
}
