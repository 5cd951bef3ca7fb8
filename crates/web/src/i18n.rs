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

/// The language a switcher's cookie chose, if it names one of ours.
pub fn from_cookie(headers: &HeaderMap) -> Option<Lang> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(tower_sessions::cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == LANGUAGE_COOKIE)
        .and_then(|c| Lang::parse(c.value()))
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
