//! Registration.

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use catalog_domain::services::accounts::{RegisterError, Registration};
use serde::Deserialize;

use super::shared::{DIFFERENT_PASSWORDS, MessagePage};
use crate::error::WebError;
use crate::html::page::{CsrfForm, CsrfProtected, PageContext};
use crate::html::{Chrome, see_other};
use crate::names::Messages;
use crate::rate_limit::{ClientIp, Limit};

#[derive(Template)]
#[template(path = "register.html")]
pub(super) struct RegisterPage {
    chrome: Chrome,
    email: String,
    errors: Messages,
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

impl CsrfProtected for RegisterForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

pub(super) async fn register_form(page: PageContext) -> Result<Response, WebError> {
    page.render(StatusCode::OK, |chrome| RegisterPage {
        chrome,
        email: String::new(),
        errors: Messages::new(),
    })
    .await
}

pub(super) async fn register(
    page: PageContext,
    ip: ClientIp,
    CsrfForm(form): CsrfForm<RegisterForm>,
) -> Result<Response, WebError> {
    let state = &page.state;
    state
        .limits
        .hit(Limit::SignUpsByAddress, &ip.key())
        .map_err(WebError::TooManyRequests)?;
    // Typed twice alike is the form's own check; the rest is the registration's.
    let mut errors = Messages::new();
    if form.password1 != form.password2 {
        errors.add("password2", page.lang.t(DIFFERENT_PASSWORDS));
    }
    let registration = match Registration::parse(&form.email, &form.password1) {
        Ok(registration) if errors.is_empty() => registration,
        parsed => {
            let errors = match parsed {
                Err(found) => Messages::form(&found, page.lang).and(errors),
                Ok(_) => errors,
            };
            let email = form.email;
            return page
                .render(StatusCode::UNPROCESSABLE_ENTITY, |chrome| RegisterPage {
                    chrome,
                    email,
                    errors,
                })
                .await;
        }
    };
    // Their mail is written in the language they registered in.
    let registration = Registration {
        language: Some(page.lang.code().to_owned()),
        ..registration
    };
    match state.accounts.register(registration).await {
        Ok(()) => {
            tracing::info!("registration accepted");
            Ok(see_other("/users/register/done"))
        }
        Err(RegisterError::Hash(e)) => Err(e.into()),
        Err(RegisterError::Unexpected(e)) => Err(e.into()),
    }
}

pub(super) async fn register_done(page: PageContext) -> Result<Response, WebError> {
    page.render(StatusCode::OK, |chrome| MessagePage {
        chrome,
        heading: "register-done-heading",
        paragraphs: vec!["register-done-sent", "register-done-spam"],
        action: Some(("/users/login", "nav-sign-in")),
    })
    .await
}
