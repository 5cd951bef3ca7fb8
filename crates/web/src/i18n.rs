//! Which language a person reads (their saved choice, then the switcher's cookie, then
//! `Accept-Language`, then `CATALOG_DEFAULT_LANGUAGE`), and the domain's messages in it.
//!
//! Pages carry their language in the page context. Error pages and problem documents
//! are made where no request is at hand (`WebError::into_response`), so the request's
//! language is also in scope for the task that serves it ([`current`]).

use axum::http::{HeaderMap, HeaderValue, header};
use catalog_domain::fields::{Message, MessageArg};
pub use catalog_i18n::{Arg, Lang};

/// The switcher's cookie: the language a visitor chose.
pub const LANGUAGE_COOKIE: &str = "catalog_lang";

tokio::task_local! {
    static CURRENT: Lang;
}

/// The language of the request this task serves (English outside of one).
pub fn current() -> Lang {
    CURRENT.try_with(|l| *l).unwrap_or_else(|_| Lang::english())
}

/// Runs `f` with `lang` as the request's language.
pub async fn scoped<F: Future>(lang: Lang, f: F) -> F::Output {
    CURRENT.scope(lang, f).await
}

/// Runs `f` with `lang` as the request's language, for what is made synchronously.
pub fn scoped_sync<R>(lang: Lang, f: impl FnOnce() -> R) -> R {
    CURRENT.sync_scope(lang, f)
}

/// The language a switcher's cookie chose, if it names one of ours. (Read by hand: a
/// language code needs no unquoting or decoding, and every page asks.)
pub fn from_cookie(headers: &HeaderMap) -> Option<Lang> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == LANGUAGE_COOKIE).then(|| Lang::parse(value.trim_matches('"')))?
        })
}

/// The language the request's `Accept-Language` prefers among ours.
pub fn from_header(headers: &HeaderMap) -> Option<Lang> {
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(Lang::from_accept_language)
}

/// The language of a page: the account's saved one, the switcher's, the browser's, the
/// site's.
pub fn negotiate(saved: Option<&str>, headers: &HeaderMap, default: Lang) -> Lang {
    saved
        .and_then(Lang::parse)
        .or_else(|| from_cookie(headers))
        .or_else(|| from_header(headers))
        .unwrap_or(default)
}

/// The cookie the switcher sets: a year, for the whole site; not a secret.
pub fn cookie(lang: Lang, secure: bool) -> Option<HeaderValue> {
    let cookie = tower_sessions::cookie::Cookie::build((LANGUAGE_COOKIE, lang.code()))
        .path("/")
        .http_only(true)
        .same_site(tower_sessions::cookie::SameSite::Lax)
        .secure(secure)
        .max_age(tower_sessions::cookie::time::Duration::days(365))
        .build();
    HeaderValue::from_str(&cookie.to_string()).ok()
}

/// The words of a domain message in `lang`.
pub fn say(lang: Lang, message: &Message) -> String {
    if message.args.is_empty() {
        return lang.t(message.id).to_owned();
    }
    let args: Vec<(&str, Arg<'_>)> = message
        .args
        .iter()
        .map(|(name, value)| {
            let value = match value {
                MessageArg::Number(n) => Arg::from(*n),
                MessageArg::Text(s) => Arg::from(s.as_str()),
            };
            (*name, value)
        })
        .collect();
    lang.f(message.id, &args)
}

/// A layer that serves each request with the language its `Accept-Language` asks for
/// (else `default`) in scope: the API's problem documents speak it.
#[derive(Debug, Clone, Copy)]
pub struct CallersLanguage {
    default: Lang,
}

impl CallersLanguage {
    pub fn new(default: Lang) -> Self {
        Self { default }
    }
}

impl<S> tower::Layer<S> for CallersLanguage {
    type Service = CallersLanguageService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CallersLanguageService {
            inner,
            default: self.default,
        }
    }
}

/// See [`CallersLanguage`].
#[derive(Debug, Clone)]
pub struct CallersLanguageService<S> {
    inner: S,
    default: Lang,
}

impl<S, B> tower::Service<axum::http::Request<B>> for CallersLanguageService<S>
where
    S: tower::Service<axum::http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = tokio::task::futures::TaskLocalFuture<Lang, S::Future>;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: axum::http::Request<B>) -> Self::Future {
        let lang = from_header(request.headers()).unwrap_or(self.default);
        CURRENT.scope(lang, self.inner.call(request))
    }
}
