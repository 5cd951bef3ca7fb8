//! Server-rendered pages. Handlers extract, call one service, and map the result; the
//! shared pieces (who is looking, the layout's chrome, rendering) live here.

mod accounts;
mod language;
pub(crate) mod page;
pub(crate) mod products;

use std::sync::Arc;

use askama::Template;
use axum::Extension;
use axum::Router;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use catalog_domain::access::Actor;
use catalog_domain::ports::MediaError;
use catalog_domain::services::accounts::AccountsService;
use catalog_domain::services::products::{ImageAudience, ViewError};
use catalog_domain::user::User;
use tower_sessions::Session;

use crate::error::WebError;
use crate::i18n::{self, Lang};
use crate::session;
use crate::state::AppState;
pub use crate::view::{UserView, media_url, thumb_2x_url, thumb_url, variant_url};

/// The signed-in user as pages see them, read afresh for every request.
#[derive(Debug, Clone)]
pub struct Me {
    pub user: User,
    pub actor: Actor,
}

/// Who is looking: `None` for anonymous visitors, who carry their forms' CSRF secret
/// in a cookie instead of a stored session (see [`AnonymousForms`]).
#[derive(Debug, Clone, Default)]
pub struct Viewer(pub Option<Arc<Me>>, pub AnonymousForms);

/// The CSRF secret of a visitor who is not signed in: a random value in a cookie of
/// its own, never a session row. Storing a session for every cookieless page view (ten
/// views, ten rows for two weeks) let anyone grow the database without limit; an
/// anonymous form needs only a token that another site cannot read or set. The form
/// carries a keyed digest of the cookie's secret (a signed double-submit cookie), so
/// a cookie planted by someone else is worthless without the server's key.
#[derive(Debug, Clone, Default)]
pub struct AnonymousForms(Option<Arc<AnonymousSecret>>);

#[derive(Debug)]
struct AnonymousSecret {
    value: String,
    /// Made for this request: the cookie is sent if a form shows it.
    fresh: bool,
    shown: std::sync::atomic::AtomicBool,
}

/// The anonymous CSRF cookie's name: `__Host-` under https, as for the session cookie.
fn csrf_cookie_name(settings: &crate::settings::Settings) -> &'static str {
    if settings.secure_cookies() {
        "__Host-catalog_csrf"
    } else {
        "catalog_csrf"
    }
}

/// Secrets are 32 random bytes in URL-safe base64.
fn plausible_secret(value: &str) -> bool {
    value.len() == 43
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl AnonymousForms {
    fn for_request(state: &AppState, headers: &axum::http::HeaderMap) -> Self {
        let name = csrf_cookie_name(&state.settings);
        let found = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(tower_sessions::cookie::Cookie::split_parse)
            .filter_map(Result::ok)
            .find(|c| c.name() == name && plausible_secret(c.value()))
            .map(|c| c.value().to_owned());
        let (value, fresh) = match found {
            Some(value) => (value, false),
            None => (state.ports.random.token(32), true),
        };
        Self(Some(Arc::new(AnonymousSecret {
            value,
            fresh,
            shown: std::sync::atomic::AtomicBool::new(false),
        })))
    }

    fn token(&self, signer: &dyn catalog_domain::ports::TokenSigner) -> String {
        match &self.0 {
            Some(secret) => {
                secret
                    .shown
                    .store(true, std::sync::atomic::Ordering::Relaxed);
                signer.fingerprint(&format!("anonymous-form:{}", secret.value))
            }
            None => String::new(),
        }
    }

    fn matches(&self, signer: &dyn catalog_domain::ports::TokenSigner, submitted: &str) -> bool {
        use subtle::ConstantTimeEq;
        match &self.0 {
            // A secret made for this very request was never in a form.
            Some(secret) if !secret.fresh && !submitted.is_empty() => {
                let expected = signer.fingerprint(&format!("anonymous-form:{}", secret.value));
                expected.as_bytes().ct_eq(submitted.as_bytes()).into()
            }
            _ => false,
        }
    }

    /// The cookie to set when this response showed a form with a secret made for it.
    fn cookie(&self, settings: &crate::settings::Settings) -> Option<HeaderValue> {
        let secret = self.0.as_ref()?;
        if !secret.fresh || !secret.shown.load(std::sync::atomic::Ordering::Relaxed) {
            return None;
        }
        let cookie = tower_sessions::cookie::Cookie::build((
            csrf_cookie_name(settings),
            secret.value.clone(),
        ))
        .path("/")
        .http_only(true)
        .same_site(tower_sessions::cookie::SameSite::Lax)
        .secure(settings.secure_cookies())
        .build();
        HeaderValue::from_str(&cookie.to_string()).ok()
    }
}

/// What every page's layout needs.
#[derive(Debug, Clone)]
pub struct Chrome {
    pub user: Option<UserView>,
    pub csrf: String,
    pub flashes: Vec<String>,
    /// The page's language: every text of the page is looked up in it.
    pub lang: Lang,
    /// This page's path and query, where the language switcher comes back to.
    pub here: String,
}

impl Chrome {
    /// Every language, for the switcher: (code, name in that language).
    pub fn languages(&self) -> impl Iterator<Item = (&'static str, catalog_i18n::Html)> {
        Lang::all().map(|l| (l.code(), l.own_name()))
    }
}

impl Chrome {
    /// Builds the chrome, creating the session's CSRF token if needed and taking the
    /// flash messages queued for this page.
    ///
    /// # Errors
    /// [`WebError::Unavailable`] when the session store fails.
    pub async fn build(
        state: &AppState,
        session: &Session,
        viewer: &Viewer,
        (lang, here): (Lang, String),
    ) -> Result<Self, WebError> {
        Ok(Self {
            lang,
            here,
            user: viewer.0.as_ref().map(|me| UserView {
                email: me.user.email.to_string(),
                avatar_url: me.user.avatar.as_deref().map(thumb_url),
            }),
            csrf: match &viewer.0 {
                Some(_) => session::csrf_token(session, state.ports.random.as_ref()).await?,
                None => viewer.1.token(state.ports.signer.as_ref()),
            },
            flashes: session::take_flashes(session)
                .await
                .iter()
                .map(|id| lang.t(id).to_owned())
                .collect(),
        })
    }
}

/// Refuses a form whose CSRF token is not the signed-in session's, or for a visitor
/// not signed in, not the one their CSRF cookie makes.
///
/// # Errors
/// [`WebError::Csrf`]; nothing may be changed then.
pub async fn check_csrf(
    state: &AppState,
    session: &Session,
    viewer: &Viewer,
    token: &str,
) -> Result<(), WebError> {
    let matches = match &viewer.0 {
        Some(_) => session::csrf_matches(session, token).await?,
        None => viewer.1.matches(state.ports.signer.as_ref(), token),
    };
    if matches { Ok(()) } else { Err(WebError::Csrf) }
}

/// A form that carries nothing but its CSRF token (sign-out, confirmations, delete).
#[derive(Debug, serde::Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    pub csrf_token: String,
}

/// "Are you sure?" with one button that POSTs to `action`.
#[derive(Debug, Template)]
#[template(path = "confirm.html")]
pub struct ConfirmPage<'a> {
    pub chrome: Chrome,
    pub heading: String,
    pub text: String,
    pub action: String,
    pub button: &'a str,
}

/// What a page of the site usually weighs (a list of 20 products is about 7 KiB).
const PAGE_SIZE_HINT: usize = 8 * 1024;

/// Renders a template with a status.
pub fn render<T: Template>(status: StatusCode, template: &T) -> Result<Response, WebError> {
    // askama's own guess is the template's text without its loops; a page of products is
    // several times that, and growing the string there copied it over and over.
    let mut html = String::with_capacity(T::SIZE_HINT.max(PAGE_SIZE_HINT));
    template
        .render_into(&mut html)
        .map_err(|e| WebError::Internal(format!("template: {e}")))?;
    Ok((status, Html(html)).into_response())
}

/// A multipart body cut off by the upload limit reads as a broken form; say what it was.
pub fn too_large_or(e: WebError) -> Response {
    match e {
        WebError::BadRequest(_) => crate::error::error_page(
            StatusCode::PAYLOAD_TOO_LARGE,
            "error-upload-too-large-title",
            "error-upload-too-large",
        ),
        other => other.into_response(),
    }
}

/// The 303 of post/redirect/get.
pub fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// Where an anonymous visitor of a protected page is sent.
pub fn login_redirect(uri: &Uri) -> Response {
    let next = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let next: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
    see_other(&format!("/users/login?next={next}"))
}

/// A `next` value is followed only when it is a path on this site.
pub fn safe_next(next: &str) -> Option<&str> {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && next.len() <= 2048
        && !next.chars().any(|c| c.is_control() || c == '\\');
    ok.then_some(next)
}

/// Paths a user who must change their password may still open.
fn allowed_while_change_required(path: &str) -> bool {
    path == "/users/password-change"
        || path == "/users/logout"
        || path.starts_with("/static/")
        || path.starts_with("/media/")
}

/// Resolves the session's user for every page, and keeps a user who signed in with a
/// generated password on the password-change page until they choose their own.
pub(crate) async fn load_viewer(
    State(state): State<AppState>,
    session: Session,
    mut request: Request,
    next: Next,
) -> Response {
    let mut viewer = Viewer::default();
    // Failures before the user is known speak the language the request asks for.
    let asked = |headers: &axum::http::HeaderMap| {
        i18n::negotiate(None, headers, state.settings.default_language)
    };
    let (signed_in, loaded) = session::loading_the_user(session::user_id(&session)).await;
    let signed_in = match signed_in {
        Ok(id) => id,
        Err(e) => {
            let lang = asked(request.headers());
            return i18n::scoped_sync(lang, || WebError::from(e).into_response());
        }
    };
    if let Some(id) = signed_in {
        // The session's read brought its user along; read again only if it did not.
        let found = match loaded.filter(|found| found.user.id == id) {
            Some(found) => Ok(AccountsService::signed_in(found)),
            None => state.accounts.actor(id).await,
        };
        match found {
            Ok(Some((user, actor))) => {
                let today = state.ports.clock.now().timestamp().div_euclid(86_400);
                session::touch(&session, today).await;
                viewer = Viewer(
                    Some(Arc::new(Me { user, actor })),
                    AnonymousForms::default(),
                );
            }
            // Deactivated or deleted meanwhile: the session is worthless.
            Ok(None) => {
                let _ = session::sign_out(&session).await;
            }
            Err(e) => {
                let lang = asked(request.headers());
                return i18n::scoped_sync(lang, || WebError::from(e).into_response());
            }
        }
    }
    if let Some(me) = &viewer.0
        && me.user.password_change_required
        && !allowed_while_change_required(request.uri().path())
    {
        return see_other("/users/password-change");
    }
    if viewer.0.is_none() {
        viewer.1 = AnonymousForms::for_request(&state, request.headers());
    }
    let saved = viewer.0.as_ref().and_then(|me| me.user.language.as_deref());
    let lang = i18n::negotiate(saved, request.headers(), state.settings.default_language);
    let forms = viewer.1.clone();
    request.extensions_mut().insert(viewer);
    request.extensions_mut().insert(lang);
    let mut response = i18n::scoped(lang, next.run(request)).await;
    if let Some(cookie) = forms.cookie(&state.settings) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    // A page's words depend on the header and the cookies: a shared cache must not
    // hand one person's language to another.
    response.headers_mut().append(
        header::VARY,
        HeaderValue::from_static("Accept-Language, Cookie"),
    );
    response
}

async fn stylesheet() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/css; charset=utf-8"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
        ],
        include_str!("../../static/site.css"),
    )
        .into_response()
}

/// Stored images. A product's image is served to those who may see the product (a
/// draft's is as private as the draft: 404 for anyone else), by session or by bearer
/// token; only an image anybody may see is cacheable by shared caches. Names are random
/// and never reused, so a copy never goes stale; an hour bounds how long a cache keeps
/// showing an image after its product is unpublished.
async fn media(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    headers: axum::http::HeaderMap,
    Path(key): Path<String>,
) -> Result<Response, WebError> {
    let (caching, file) = if key.starts_with("products/") {
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(crate::credentials::bearer);
        let by_token = match bearer {
            Some(token) => state.accounts.authenticate_api_token(token).await?,
            None => None,
        };
        let actor = by_token
            .as_ref()
            .map(|(_, actor)| actor)
            .or_else(|| viewer.0.as_ref().map(|me| &me.actor));
        match state.products.image(actor, &key).await {
            Ok((ImageAudience::Everybody, file)) => ("public, max-age=3600", file),
            Ok((ImageAudience::Some, file)) => ("private, max-age=3600", file),
            Err(ViewError::Unexpected(e)) => return Err(e.into()),
            Err(ViewError::Media(e)) => return Err(WebError::Internal(e.to_string())),
            Err(_) => return Err(WebError::NotFound),
        }
    } else {
        match state.accounts.avatar(&key).await {
            // Avatars are shown to their owner alone.
            Ok(file) => ("private, max-age=3600", file),
            Err(MediaError::NotFound) => return Err(WebError::NotFound),
            Err(e) => return Err(WebError::Internal(e.to_string())),
        }
    };
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(file.content_type),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static(caching)),
        ],
        file.bytes,
    )
        .into_response())
}

/// The pages' routes, without the layers every page shares (see [`layers`]).
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(accounts::routes())
        .merge(products::routes())
        .route("/language", axum::routing::post(language::switch))
        .route("/static/site.css", get(stylesheet))
        .route("/media/{*key}", get(media))
}

/// Failures produced below the handlers — a wrong method, a form body that does not
/// parse, a body over the limit — come as bare text; a person gets the error page.
pub(crate) async fn error_pages(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if is_html {
        return response;
    }
    let (title, detail) = match status {
        StatusCode::METHOD_NOT_ALLOWED => ("error-method-title", "error-method"),
        StatusCode::PAYLOAD_TOO_LARGE => ("error-too-large-title", "error-too-large"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE | StatusCode::BAD_REQUEST => {
            ("error-bad-request-title", "error-form-unreadable")
        }
        StatusCode::UNPROCESSABLE_ENTITY => ("error-invalid-form-title", "error-form-unreadable"),
        StatusCode::NOT_FOUND => ("error-not-found-title", "error-not-found"),
        s if s.is_server_error() => ("error-internal-title", "error-internal"),
        _ => ("error-refused-title", "error-refused"),
    };
    let mut page = crate::error::error_page(status, title, detail);
    for name in [header::ALLOW, header::RETRY_AFTER] {
        if let Some(value) = response.headers().get(&name) {
            page.headers_mut().insert(name, value.clone());
        }
    }
    page
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_followed_only_within_the_site() {
        for ok in ["/products", "/products?page=2", "/users/profile#x"] {
            assert_eq!(safe_next(ok), Some(ok));
        }
        for bad in [
            "https://evil.example/",
            "//evil.example",
            "/\\evil.example",
            "evil",
            "",
            "/a\nb",
            "javascript:alert(1)",
        ] {
            assert_eq!(safe_next(bad), None, "{bad:?}");
        }
    }
}
