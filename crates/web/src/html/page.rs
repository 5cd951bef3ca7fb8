//! What pages are built from, as extractors: the page context (the state, the session and
//! who is looking, from which the layout's chrome is made), a signed-in visitor (anyone
//! else is sent to sign in before anything else happens), and a form whose CSRF token
//! has been checked before the handler sees it. A handler then reads like its use case.

use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use catalog_domain::access::Actor;
use serde::de::DeserializeOwned;
use tower_sessions::Session;

use super::{Chrome, Me, Viewer, check_csrf, login_redirect, render};
use crate::error::WebError;
use crate::i18n::Lang;
use crate::session::DbSessionStore;
use crate::state::AppState;

/// The state, the session and who is looking.
#[derive(Debug, Clone)]
pub struct PageContext {
    pub state: AppState,
    pub session: Session,
    pub viewer: Viewer,
    /// The page's language (see [`crate::i18n::negotiate`]).
    pub lang: Lang,
    /// The path and query of this page.
    pub here: String,
}

impl FromRequestParts<AppState> for PageContext {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let session = Session::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        // Set by the layer that reads the session's user (`load_viewer`) for every page.
        let viewer = parts
            .extensions
            .get::<Viewer>()
            .cloned()
            .unwrap_or_default();
        // Set with the viewer, by the same layer.
        let lang = parts
            .extensions
            .get::<Lang>()
            .copied()
            .unwrap_or(state.settings.default_language);
        let here = parts
            .uri
            .path_and_query()
            .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned());
        Ok(Self {
            state: state.clone(),
            session,
            viewer,
            lang,
            here,
        })
    }
}

impl PageContext {
    /// The layout's chrome for this page (see [`Chrome::build`]).
    ///
    /// # Errors
    /// [`WebError::Unavailable`] when the session store fails.
    pub async fn chrome(&self) -> Result<Chrome, WebError> {
        Chrome::build(
            &self.state,
            &self.session,
            &self.viewer,
            (self.lang, self.here.clone()),
        )
        .await
    }

    /// Renders the page `page` makes of the chrome, with `status`.
    ///
    /// # Errors
    /// As [`PageContext::chrome`], and a template that fails to render.
    pub async fn render<T: Template>(
        &self,
        status: StatusCode,
        page: impl FnOnce(Chrome) -> T,
    ) -> Result<Response, WebError> {
        let chrome = self.chrome().await?;
        render(status, &page(chrome))
    }

    /// Refuses a token that is not this visitor's (for forms whose token travels where
    /// [`CsrfForm`] cannot read it first: multipart bodies, or after a permission check).
    ///
    /// # Errors
    /// [`WebError::Csrf`]; nothing may be changed then.
    pub async fn check_csrf(&self, token: &str) -> Result<(), WebError> {
        check_csrf(&self.state, &self.session, &self.viewer, token).await
    }

    /// What the session table stores for this request's session, if it has one: what a
    /// change that ends every other session keeps.
    pub fn session_key(&self) -> Option<String> {
        self.session
            .id()
            .map(|id| DbSessionStore::key(self.state.ports.signer.as_ref(), &id))
    }

    /// The signed-in user as the rules see them; `None` for anonymous visitors.
    pub fn actor(&self) -> Option<&Actor> {
        self.viewer.0.as_ref().map(|me| &me.actor)
    }
}

/// A signed-in visitor. An anonymous one is sent to sign in (`303` to the sign-in page
/// with `next` set to where they were going) before the handler runs or anything they
/// sent is read.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub page: PageContext,
    pub me: Arc<Me>,
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let page = PageContext::from_request_parts(parts, state).await?;
        match page.viewer.0.clone() {
            Some(me) => Ok(Self { page, me }),
            None => Err(login_redirect(&parts.uri)),
        }
    }
}

/// A form that carries a CSRF token.
pub trait CsrfProtected {
    fn csrf_token(&self) -> &str;
}

/// A form whose CSRF token is this visitor's: checked before the handler runs, so that
/// nothing can be changed by a form from another site.
#[derive(Debug)]
pub struct CsrfForm<T>(pub T);

impl<T> FromRequest<AppState> for CsrfForm<T>
where
    T: DeserializeOwned + CsrfProtected + Send,
{
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = request.into_parts();
        let page = PageContext::from_request_parts(&mut parts, state).await?;
        let Form(form) = Form::<T>::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        check_csrf(&page.state, &page.session, &page.viewer, form.csrf_token())
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(Self(form))
    }
}

impl CsrfProtected for super::CsrfOnly {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}
