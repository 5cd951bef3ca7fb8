//! Deleting a product: a page that asks, and the form that does it.

use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use axum::{Extension, Form};
use catalog_domain::access::{ProductFacts, can_delete};
use tower_sessions::Session;

use crate::error::WebError;
use crate::html::{
    Chrome, ConfirmPage, CsrfOnly, Viewer, check_csrf, login_redirect, render, see_other,
};
use crate::session;
use crate::state::AppState;

use super::shared::{failure, product_id};

pub(super) async fn delete_form(
    State(state): State<AppState>,
    session: Session,
    Extension(viewer): Extension<Viewer>,
    uri: Uri,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id = product_id(&id)?;
    let Some(me) = viewer.0.clone() else {
        return Ok(login_redirect(&uri));
    };
    let product = match state.products.get(Some(&me.actor), id).await {
        Ok(product) => product,
        Err(e) => return failure(e, &uri),
    };
    if !can_delete(&me.actor, &ProductFacts::from(&product)) {
        return Err(WebError::Forbidden);
    }
    let page = ConfirmPage {
        chrome: Chrome::build(&state, &session, &viewer).await?,
        heading: format!("Delete {}?", product.name),
        text: "The product, its image and its versions will be removed for good.".into(),
        action: format!("/products/{id}/delete"),
        button: "Delete product",
    };
    render(StatusCode::OK, &page)
}

pub(super) async fn delete(
    State(state): State<AppState>,
    session: Session,
    Extension(viewer): Extension<Viewer>,
    uri: Uri,
    Path(id): Path<String>,
    form: Result<Form<CsrfOnly>, axum::extract::rejection::FormRejection>,
) -> Result<Response, WebError> {
    let id = product_id(&id)?;
    let Some(me) = viewer.0.clone() else {
        return Ok(login_redirect(&uri));
    };
    // Refused for who is asking before what they sent is looked at.
    match state.products.get(Some(&me.actor), id).await {
        Ok(product) if !can_delete(&me.actor, &ProductFacts::from(&product)) => {
            return Err(WebError::Forbidden);
        }
        Ok(_) => {}
        Err(e) => return failure(e, &uri),
    }
    let Ok(Form(form)) = form else {
        return Err(WebError::BadRequest("The form could not be read."));
    };
    check_csrf(&state, &session, &viewer, &form.csrf_token).await?;
    match state.products.delete(&me.actor, id).await {
        Ok(()) => {
            session::push_flash(&session, "Product deleted.").await;
            Ok(see_other("/products"))
        }
        Err(e) => failure(e, &uri),
    }
}
