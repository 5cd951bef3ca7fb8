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
            .is_some_and(is_json_media_type);
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

/// Whether a `Content-Type` names JSON by its media type: `application/json` or
/// `application/<something>+json`, in any case, whatever its parameters. Matching on
/// substrings let `text/plain; x=+json` through, and `text/plain` is a type any web
/// page can make a browser send to another site without asking it first.
pub fn is_json_media_type(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim_matches(|c: char| c == ' ' || c == '\t');
    let Some((kind, subtype)) = essence.split_once('/') else {
        return false;
    };
    let token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    if !kind.eq_ignore_ascii_case("application") || !token(subtype) {
        return false;
    }
    let subtype = subtype.to_ascii_lowercase();
    subtype == "json" || (subtype.len() > "+json".len() && subtype.ends_with("+json"))
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

#[cfg(test)]
mod tests {
    use super::is_json_media_type;

    #[test]
    fn json_is_recognised_by_its_media_type_alone() {
        for json in [
            "application/json",
            "application/json; charset=utf-8",
            "Application/JSON",
            "application/merge-patch+json",
            "application/problem+json;charset=UTF-8",
            " application/json ",
        ] {
            assert!(is_json_media_type(json), "{json:?}");
        }
        for other in [
            "text/plain; x=+json",
            "text/plain;application/json",
            "text/json",
            "application/x-www-form-urlencoded; a=application/json",
            "multipart/form-data; boundary=+json",
            "application/+json",
            "application/jsonp",
            "application/json+xml",
            "application/ json",
            "application",
            "",
            "+json",
        ] {
            assert!(!is_json_media_type(other), "{other:?}");
        }
    }
}
