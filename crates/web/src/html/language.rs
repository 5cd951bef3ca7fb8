//! The language switcher on every page: a small form that remembers the choice (in the
//! account for people signed in, in a cookie for everyone) and comes back to the page.

use axum::http::header;
use axum::response::Response;
use serde::Deserialize;

use crate::error::WebError;
use crate::html::page::{CsrfForm, CsrfProtected, PageContext};
use crate::html::{safe_next, see_other};
use crate::i18n::{self, Lang};

#[derive(Debug, Deserialize)]
pub(super) struct LanguageForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    language: String,
    #[serde(default)]
    next: String,
}

impl CsrfProtected for LanguageForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

pub(super) async fn switch(
    page: PageContext,
    CsrfForm(form): CsrfForm<LanguageForm>,
) -> Result<Response, WebError> {
    let lang = Lang::parse(&form.language).ok_or(WebError::BadRequest("language-invalid"))?;
    if let Some(me) = &page.viewer.0
        && me.user.language.as_deref() != Some(lang.code())
    {
        page.state
            .accounts
            .set_language(me.user.id, lang.code())
            .await?;
    }
    let mut response = see_other(safe_next(&form.next).unwrap_or("/"));
    if let Some(cookie) = i18n::cookie(lang, page.state.settings.secure_cookies()) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(response)
}
