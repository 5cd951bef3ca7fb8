//! Reading JSON request bodies field by field, so that a wrong type is a 422 naming the
//! field, and unknown or read-only keys are ignored.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use catalog_domain::fields::FieldErrors;
use serde_json::{Map, Value};

use super::problem::Problem;

/// A JSON object body.
#[derive(Debug)]
pub struct JsonObject(pub Map<String, Value>);

impl<S: Send + Sync> FromRequest<S> for JsonObject {
    type Rejection = Problem;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json") || v.contains("+json"));
        if !is_json {
            return Err(Problem::new(
                axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Unsupported media type",
                "Send the request body as application/json.",
            ));
        }
        let bytes = Bytes::from_request(request, state).await.map_err(|e| {
            Problem::new(
                e.status(),
                "Unreadable body",
                "The request body could not be read.",
            )
        })?;
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(map)) => Ok(Self(map)),
            Ok(_) => Err(Problem::new(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                "Invalid input",
                "The body must be a JSON object.",
            )),
            Err(_) => Err(Problem::new(
                axum::http::StatusCode::BAD_REQUEST,
                "Malformed JSON",
                "The request body is not valid JSON.",
            )),
        }
    }
}

impl JsonObject {
    /// A string field: `Ok(None)` when absent (or null), a field error for another type.
    pub fn string(&self, field: &'static str, errors: &mut FieldErrors) -> Option<String> {
        match self.0.get(field) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                errors.add(field, "Expected a string.");
                None
            }
        }
    }

    /// An integer field: `None` when absent (or null), a field error for another type.
    pub fn integer(&self, field: &'static str, errors: &mut FieldErrors) -> Option<i64> {
        match self.0.get(field) {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) if n.is_i64() => n.as_i64(),
            Some(_) => {
                errors.add(field, "Expected an integer.");
                None
            }
        }
    }

    /// A boolean field: `None` when absent (or null), a field error for another type.
    pub fn boolean(&self, field: &'static str, errors: &mut FieldErrors) -> Option<bool> {
        match self.0.get(field) {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => {
                errors.add(field, "Expected true or false.");
                None
            }
        }
    }

    /// A required string field.
    pub fn required(&self, field: &'static str, errors: &mut FieldErrors) -> String {
        let value = self.string(field, errors);
        if value.is_none() && !errors.iter().any(|(f, _)| f == field) {
            errors.add(field, "This field is required.");
        }
        value.unwrap_or_default()
    }
}
