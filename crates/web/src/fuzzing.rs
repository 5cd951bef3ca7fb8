//! Entry points for the fuzz targets in `fuzz/`: the readers of untrusted bytes that are
//! not public API of their own. Compiled only with the `fuzzing` feature.

use axum::body::Body;
use axum::extract::{FromRequest, Multipart};
use axum::http::Request;

/// Reads `body` as the multipart product form with `content_type`, exactly as the
/// product pages do, and then derives what the service would be given. Returns whether
/// the form was accepted; any panic is the finding.
#[must_use]
pub fn product_form(content_type: &str, body: Vec<u8>) -> bool {
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread().build() else {
        return false;
    };
    runtime.block_on(async move {
        let Ok(request) = Request::builder()
            .method("POST")
            .header("content-type", content_type)
            .body(Body::from(body))
        else {
            return false;
        };
        let Ok(multipart) = Multipart::from_request(request, &()).await else {
            return false;
        };
        let Ok(form) = crate::html::products::form::read(multipart).await else {
            return false;
        };
        let _ = form.rows();
        form.input().is_ok()
    })
}
