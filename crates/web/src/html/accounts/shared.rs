//! What several account pages share: a page of a few paragraphs, the email-only form,
//! the message for passwords typed differently, and the header that keeps tokens in URLs from leaking.

use askama::Template;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use serde::Deserialize;

use crate::html::Chrome;

#[derive(Template)]
#[template(path = "message.html")]
pub(super) struct MessagePage<'a> {
    pub(super) chrome: Chrome,
    pub(super) heading: &'a str,
    pub(super) paragraphs: Vec<&'a str>,
    pub(super) action: Option<(&'a str, &'a str)>,
}

/// A form's two password fields were not typed alike (Django's words).
pub(super) const DIFFERENT_PASSWORDS: &str = "passwords-differ";

/// Pages reached through a token must not leak it to other sites through `Referer`.
pub(super) fn no_referrer(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

#[derive(Debug, Deserialize)]
pub(super) struct EmailForm {
    #[serde(default)]
    pub(super) csrf_token: String,
    #[serde(default)]
    pub(super) email: String,
}

impl crate::html::page::CsrfProtected for EmailForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}
