//! Deleting a product: a page that asks, and the form that does it.

use axum::Form;
use axum::extract::Path;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use catalog_domain::access::{ProductFacts, can_delete};

use crate::error::WebError;
use crate::html::{ConfirmPage, CsrfOnly, see_other};
use crate::i18n::Arg;
use crate::session;

use super::shared::{failure, product_id};
use crate::html::page::SignedIn;

pub(super) async fn delete_form(
    SignedIn { page, me }: SignedIn,
    uri: Uri,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id = product_id(&id)?;
    let product = match page.state.products.get(Some(&me.actor), id).await {
        Ok(product) => product,
        Err(e) => return failure(e, &uri),
    };
    if !can_delete(&me.actor, &ProductFacts::from(&product)) {
        return Err(WebError::Forbidden);
    }
    page.render(StatusCode::OK, |chrome| ConfirmPage {
        chrome,
        heading: page.lang.f(
            "product-delete-heading",
            &[("name", Arg::from(product.name.as_str()))],
        ),
        text: page.lang.t("product-delete-text").to_owned(),
        action: format!("/products/{id}/delete"),
        button: "product-delete-button",
    })
    .await
}

pub(super) async fn delete(
    SignedIn { page, me }: SignedIn,
    uri: Uri,
    Path(id): Path<String>,
    form: Result<Form<CsrfOnly>, axum::extract::rejection::FormRejection>,
) -> Result<Response, WebError> {
    let id = product_id(&id)?;
    // Refused for who is asking before what they sent is looked at (so the CSRF form
    // is read here, not by an extractor before the handler).
    match page.state.products.get(Some(&me.actor), id).await {
        Ok(product) if !can_delete(&me.actor, &ProductFacts::from(&product)) => {
            return Err(WebError::Forbidden);
        }
        Ok(_) => {}
        Err(e) => return failure(e, &uri),
    }
    let Ok(Form(form)) = form else {
        return Err(WebError::BadRequest("error-form-unreadable"));
    };
    page.check_csrf(&form.csrf_token).await?;
    match page.state.products.delete(&me.actor, id).await {
        Ok(()) => {
            session::push_flash(&page.session, "flash-product-deleted").await;
            Ok(see_other("/products"))
        }
        Err(e) => failure(e, &uri),
    }
}
