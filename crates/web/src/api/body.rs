//! Reading JSON request bodies. Each endpoint's body is one serde struct, which is also
//! its OpenAPI schema; its fields are [`Sent`], so that a value of the wrong type is not
//! a failure of the whole body but a 422 naming that field (every such field at once),
//! and unknown or read-only keys are ignored.

// A problem document is built at most once per failed request and handed straight to the
// response; boxing it would cost more than it saves.
#![allow(clippy::result_large_err)]

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use serde::de::{Deserialize, DeserializeOwned, Deserializer};
use serde_json::{Map, Value};

use crate::names::Messages;

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
                "api-unsupported-media-type",
                "api-send-json",
            ));
        }
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|e| Problem::new(e.status(), "api-unreadable-body", "api-body-unreadable"))?;
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(map)) => Ok(Self(map)),
            Ok(_) => Err(Problem::new(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                "api-invalid-input",
                "api-body-not-object",
            )),
            Err(_) => Err(Problem::new(
                axum::http::StatusCode::BAD_REQUEST,
                "api-malformed-json",
                "api-malformed-json-detail",
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

/// A request body of type `T`: a JSON object read into the endpoint's body struct.
#[derive(Debug)]
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = Problem;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let JsonObject(map) = JsonObject::from_request(request, state).await?;
        Body::read(map)
    }
}

impl<T: DeserializeOwned> Body<T> {
    /// `map` as the body struct. Its fields are [`Sent`], which take any value, so this
    /// fails only for a struct that forgot to make a field one.
    pub fn read(map: Map<String, Value>) -> Result<Self, Problem> {
        T::deserialize(Value::Object(map)).map(Body).map_err(|_| {
            Problem::new(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                "api-invalid-input",
                "api-body-shape",
            )
        })
    }
}

/// One field of a request body as the client sent it. Absent and `null` are the same:
/// the field was not sent.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Sent<T> {
    #[default]
    Absent,
    Given(T),
    /// Sent, but not as a `T`: its 422 says what was expected.
    WrongType,
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Sent<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match Value::deserialize(deserializer)? {
            Value::Null => Sent::Absent,
            value => T::deserialize(value).map_or(Sent::WrongType, Sent::Given),
        })
    }
}

/// What a field's 422 says a value of the wrong type should have been.
pub trait Expected {
    const EXPECTED: &'static str;
}

impl Expected for String {
    const EXPECTED: &'static str = "Expected a string.";
}

impl Expected for i64 {
    const EXPECTED: &'static str = "Expected an integer.";
}

impl Expected for bool {
    const EXPECTED: &'static str = "Expected true or false.";
}

impl<T: Expected> Sent<T> {
    /// The value if one was sent; a field error if it had the wrong type.
    pub fn take(self, field: &'static str, errors: &mut Messages) -> Option<T> {
        self.take_or(field, T::EXPECTED, errors)
    }

    /// As [`Sent::take`], saying `expected` of a value of the wrong type.
    pub fn take_or(
        self,
        field: &'static str,
        expected: &'static str,
        errors: &mut Messages,
    ) -> Option<T> {
        match self {
            Sent::Absent => None,
            Sent::Given(value) => Some(value),
            Sent::WrongType => {
                errors.add(field, expected);
                None
            }
        }
    }

    /// The value, which must be sent.
    pub fn required(self, field: &'static str, errors: &mut Messages) -> T
    where
        T: Default,
    {
        let sent = matches!(self, Sent::Given(_));
        let value = self.take(field, errors);
        if value.is_none() && !sent && !errors.iter().any(|(f, _)| f == field) {
            errors.add(field, "This field is required.");
        }
        value.unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::{Body, Sent, is_json_media_type};
    use crate::names::Messages;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    struct Sample {
        #[serde(default)]
        name: Sent<String>,
        #[serde(default)]
        count: Sent<i64>,
        #[serde(default)]
        flag: Sent<bool>,
    }

    fn sample(json: &str) -> Option<Sample> {
        match serde_json::from_str(json) {
            Ok(serde_json::Value::Object(map)) => Body::<Sample>::read(map).ok().map(|b| b.0),
            _ => None,
        }
    }

    #[test]
    fn each_field_of_the_wrong_type_is_named_and_the_others_still_read() {
        let Some(body) = sample(r#"{"name": 5, "count": 1.5, "flag": "yes", "other": []}"#) else {
            panic!("an object is a body")
        };
        let mut errors = Messages::new();
        assert_eq!(body.name.take("name", &mut errors), None);
        assert_eq!(body.count.take("count", &mut errors), None);
        assert_eq!(body.flag.take("flag", &mut errors), None);
        let named: Vec<_> = errors
            .iter()
            .map(|(f, m)| (f.to_owned(), m.to_owned()))
            .collect();
        assert_eq!(
            named,
            [
                ("name".to_owned(), "Expected a string.".to_owned()),
                ("count".to_owned(), "Expected an integer.".to_owned()),
                ("flag".to_owned(), "Expected true or false.".to_owned()),
            ]
        );
    }

    #[test]
    fn null_is_not_sent_and_required_says_so() {
        let Some(body) = sample(r#"{"name": null, "count": 9223372036854775807, "flag": false}"#)
        else {
            panic!("an object is a body")
        };
        let mut errors = Messages::new();
        assert_eq!(body.name.required("name", &mut errors), "");
        assert_eq!(body.count.take("count", &mut errors), Some(i64::MAX));
        assert_eq!(body.flag.take("flag", &mut errors), Some(false));
        assert_eq!(errors.of("name"), ["This field is required."]);
        assert_eq!(errors.iter().count(), 1);
        let Some(big) = sample(r#"{"count": 9223372036854775808}"#) else {
            panic!("an object is a body")
        };
        assert_eq!(big.count, Sent::WrongType);
    }

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
