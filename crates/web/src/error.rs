//! The one place where failures become responses: an error page in the site's layout
//! for HTML routes. Causes are logged here; clients never see them.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use catalog_domain::ports::{HashError, RepoError};

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("bad request: {0}")]
    BadRequest(&'static str),
    #[error("CSRF check failed")]
    Csrf,
    #[error("forbidden")]
    Forbidden,
    /// Forbidden, with the reason the page should give.
    #[error("forbidden: {0}")]
    ForbiddenBecause(String),
    #[error("not found")]
    NotFound,
    /// Someone else's change came first; the text says what to do.
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

/// The layout's chrome for error pages: nobody signed in, no forms.
#[derive(Debug, Default)]
pub struct BareChrome {
    pub user: Option<crate::view::UserView>,
    pub csrf: String,
    pub flashes: Vec<String>,
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    chrome: BareChrome,
    title: &'a str,
    detail: &'a str,
}

/// Renders an error page with `status`.
pub fn error_page(status: StatusCode, title: &str, detail: &str) -> Response {
    let page = ErrorPage {
        chrome: BareChrome::default(),
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
            Self::BadRequest(what) => error_page(StatusCode::BAD_REQUEST, "Bad request", what),
            Self::Csrf => {
                tracing::warn!("CSRF check failed; nothing was changed");
                error_page(
                    StatusCode::FORBIDDEN,
                    "Form expired",
                    "This form has expired or was sent from another site, so nothing was changed. Go back, reload the page and try again.",
                )
            }
            Self::Forbidden => {
                tracing::warn!("permission denied");
                error_page(
                    StatusCode::FORBIDDEN,
                    "Not allowed",
                    "You are not allowed to do this.",
                )
            }
            Self::TooManyRequests(retry) => {
                tracing::warn!(retry_after_s = retry.seconds(), "rate limit reached");
                let mut response = error_page(
                    StatusCode::TOO_MANY_REQUESTS,
                    "Too many attempts",
                    "Please wait a little before trying again.",
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
                error_page(StatusCode::FORBIDDEN, "Not allowed", why)
            }
            Self::Conflict(what) => error_page(StatusCode::CONFLICT, "Changed meanwhile", what),
            Self::NotFound => error_page(
                StatusCode::NOT_FOUND,
                "Page not found",
                "There is nothing at this address.",
            ),
            Self::Unavailable(cause) => {
                tracing::error!(%cause, "database unavailable");
                error_page(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Temporarily unavailable",
                    "The service cannot reach its database right now. Please try again in a moment.",
                )
            }
            Self::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                error_page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "An unexpected error occurred. It has been logged; please try again.",
                )
            }
        }
    }
}
