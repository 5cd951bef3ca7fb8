//! RFC 9457 problem documents: every API error, one shape.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use catalog_domain::ports::{HashError, RepoError};
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

use catalog_domain::fields::Message;

use crate::i18n;
use crate::names::Messages;
use crate::rate_limit::RetryAfter;

/// An error response (`application/problem+json`).
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem; `about:blank` when the status says it all.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// A short summary, in the language `Accept-Language` asks for.
    pub title: String,
    pub status: u16,
    /// What happened and what to do, in the language `Accept-Language` asks for.
    pub detail: String,
    /// Validation messages per field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<BTreeMap<String, Vec<String>>>,
    /// Fields a forbidden change tried to touch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forbidden_fields: Option<Vec<String>>,
    #[serde(skip)]
    retry_after: Option<u64>,
    #[serde(skip)]
    bearer_challenge: bool,
}

impl Problem {
    /// A problem whose title and detail are the messages `title` and `detail` (ids),
    /// said in the request's language.
    pub fn new(status: StatusCode, title: &'static str, detail: &'static str) -> Self {
        let lang = i18n::current();
        Self::said(status, lang.t(title).to_owned(), lang.t(detail).to_owned())
    }

    fn said(status: StatusCode, title: String, detail: String) -> Self {
        Self {
            kind: "about:blank",
            title,
            status: status.as_u16(),
            detail,
            errors: None,
            forbidden_fields: None,
            retry_after: None,
            bearer_challenge: false,
        }
    }

    pub fn validation(errors: &Messages) -> Self {
        let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (field, message) in errors.iter() {
            map.entry(field.to_owned())
                .or_default()
                .push(message.to_owned());
        }
        Self {
            kind: "/problems/validation",
            errors: Some(map),
            ..Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "api-invalid-input",
                "api-invalid-fields",
            )
        }
    }

    /// The domain's validation errors, keyed as the API names its fields.
    pub fn invalid(errors: &catalog_domain::fields::FieldErrors) -> Self {
        Self::validation(&Messages::json(errors))
    }

    /// One field's message (by id, with its arguments).
    pub fn field(field: &'static str, message: impl Into<Message>) -> Self {
        let mut errors = Messages::new();
        errors.add(field, i18n::say(i18n::current(), &message.into()));
        Self::validation(&errors)
    }

    pub fn unauthorized(detail: &'static str) -> Self {
        Self {
            bearer_challenge: true,
            ..Self::new(StatusCode::UNAUTHORIZED, "api-unauthorized", detail)
        }
    }

    pub fn too_many(retry: RetryAfter) -> Self {
        Self {
            retry_after: Some(retry.seconds()),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "api-too-many",
                "api-too-many-detail",
            )
        }
    }

    /// A refused change, naming the fields one may not change.
    pub fn forbidden(detail: impl Into<Message>, fields: Vec<String>) -> Self {
        let lang = i18n::current();
        Self {
            forbidden_fields: Some(fields),
            ..Self::said(
                StatusCode::FORBIDDEN,
                lang.t("api-forbidden").to_owned(),
                i18n::say(lang, &detail.into()),
            )
        }
    }

    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "api-not-found",
            "api-not-found-detail",
        )
    }

    pub fn unavailable(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "database unavailable");
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "api-unavailable",
            "api-unavailable-detail",
        )
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "api-internal",
            "api-internal-detail",
        )
    }
}

impl From<RepoError> for Problem {
    fn from(e: RepoError) -> Self {
        match e {
            RepoError::Unavailable(cause) => Self::unavailable(cause),
            RepoError::NotFound => Self::not_found(),
            other => Self::internal(other),
        }
    }
}

impl From<HashError> for Problem {
    fn from(e: HashError) -> Self {
        Self::internal(e)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(seconds) = self.retry_after
            && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
        {
            headers.insert(header::RETRY_AFTER, value);
        }
        if self.bearer_challenge {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
