//! The product pages of SPEC §6: list, create, detail, edit (with the versions formset for
//! those who may manage versions) and delete.

mod browse;
mod deleting;
mod editing;
pub(crate) mod form;
mod shared;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;

use crate::state::AppState;
use browse::{categories, detail, list};
use deleting::{delete, delete_form};
use editing::{create, edit, edit_form, new_form};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/products", get(list))
        .route("/categories", get(categories))
        .route(
            "/products/new",
            get(new_form)
                .post(create)
                .layer(DefaultBodyLimit::max(crate::view::UPLOAD_LIMIT)),
        )
        .route("/products/{id}", get(detail))
        .route(
            "/products/{id}/edit",
            get(edit_form)
                .post(edit)
                .layer(DefaultBodyLimit::max(crate::view::UPLOAD_LIMIT)),
        )
        .route("/products/{id}/delete", get(delete_form).post(delete))
}
