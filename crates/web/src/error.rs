//! The one place where failures become responses: an error page in the site's layout
//! for HTML routes. Causes are logged here; clients never see them.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use catalog_domain::ports::{HashError, RepoError};

use crate::i18n::{self, Lang};

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// The request cannot be read; the id of the message that says why.
    #[error("bad request: {0}")]
    BadRequest(&'static str),
    #[error("CSRF check failed")]
    Csrf,
    #[error("forbidden")]
    Forbidden,
    /// Forbidden, with the reason the page should give.
    #[error("forbidden: {0}")]
    ForbiddenBecause(catalog_domain::fields::Message),
    #[error("not found")]
    NotFound,
    /// Someone else's change came first; the message (by id) says what to do.
    #[error("conflict")]
    Conflict(&'static str),
    #[error("too many requests")]
    TooManyRequests(crate::rate_limit::RetryAfter),
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<RepoError> for WebError {
    fn from(e: RepoError) -> Self {
        match e {
            RepoError::Unavailable(cause) => Self::Unavailable(cause.to_string()),
            RepoError::NotFound => Self::NotFound,
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<HashError> for WebError {
    fn from(e: HashError) -> Self {
        Self::Internal(e.to_string())
    }
}

impl From<tower_sessions::session::Error> for WebError {
    fn from(e: tower_sessions::session::Error) -> Self {
        Self::Unavailable(e.to_string())
    }
}

/// The layout's chrome for error pages: nobody signed in, no forms (so no switcher), in
/// the request's language.
#[derive(Debug)]
pub struct BareChrome {
    pub user: Option<crate::view::UserView>,
    pub csrf: String,
    pub flashes: Vec<String>,
    pub lang: Lang,
    pub here: String,
}

impl BareChrome {
    pub fn languages(&self) -> impl Iterator<Item = (&'static str, catalog_i18n::Html)> {
        std::iter::empty()
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    chrome: BareChrome,
    title: &'a str,
    detail: &'a str,
}

/// Renders an error page with `status`: its title and text are message ids, said in the
/// language of the request being served.
pub fn error_page(status: StatusCode, title: &str, detail: &str) -> Response {
    let lang = i18n::current();
    error_page_with(status, lang.t(title), lang.t(detail))
}

/// An error page whose text is said already.
fn error_page_with(status: StatusCode, title: &str, detail: &str) -> Response {
    let page = ErrorPage {
        chrome: BareChrome {
            user: None,
            csrf: String::new(),
            flashes: Vec::new(),
            lang: i18n::current(),
            here: String::new(),
        },
        title,
        detail,
    };
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(_) => (status, title.to_owned()).into_response(),
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        match &self {
            Self::BadRequest(what) => {
                error_page(StatusCode::BAD_REQUEST, "error-bad-request-title", what)
            }
            Self::Csrf => {
                tracing::warn!("CSRF check failed; nothing was changed");
                error_page(StatusCode::FORBIDDEN, "error-csrf-title", "error-csrf")
            }
            Self::Forbidden => {
                tracing::warn!("permission denied");
                error_page(
                    StatusCode::FORBIDDEN,
                    "error-forbidden-title",
                    "not-allowed",
                )
            }
            Self::TooManyRequests(retry) => {
                tracing::warn!(retry_after_s = retry.seconds(), "rate limit reached");
                let mut response = error_page(
                    StatusCode::TOO_MANY_REQUESTS,
                    "error-too-many-title",
                    "error-too-many",
                );
                if let Ok(value) = axum::http::HeaderValue::from_str(&retry.seconds().to_string()) {
                    response
                        .headers_mut()
                        .insert(axum::http::header::RETRY_AFTER, value);
                }
                response
            }
            Self::ForbiddenBecause(why) => {
                tracing::warn!("permission denied");
                let lang = i18n::current();
                error_page_with(
                    StatusCode::FORBIDDEN,
                    lang.t("error-forbidden-title"),
                    &i18n::say(lang, why),
                )
            }
            Self::Conflict(what) => error_page(StatusCode::CONFLICT, "error-conflict-title", what),
            Self::NotFound => error_page(
                StatusCode::NOT_FOUND,
                "error-not-found-title",
                "error-not-found",
            ),
            Self::Unavailable(cause) => {
                tracing::error!(%cause, "database unavailable");
                error_page(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "error-unavailable-title",
                    "error-unavailable",
                )
            }
            Self::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                error_page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "error-internal-title",
                    "error-internal",
                )
            }
        }
    }
}
