//! Small pieces the pages, the API and the error pages all show: where a stored image
//! is served, what the layout says about the signed-in user, and how large a request
//! body may be.

use catalog_domain::media::Variant;

/// Uploads may be this large (the whole request body); everything else stays at
/// [`BODY_LIMIT`] (SPEC §8).
pub const UPLOAD_LIMIT: usize = 5 * 1024 * 1024;

/// Bodies of everything but uploads (SPEC §8).
pub const BODY_LIMIT: usize = 64 * 1024;

/// Where the image stored under `key` is served.
pub fn media_url(key: &str) -> String {
    format!("/media/{key}")
}

/// Where a variant of the image stored under `key` is served.
pub fn variant_url(key: &str, variant: Variant) -> String {
    media_url(&variant.key(key))
}

/// A card's image at 96 CSS pixels: the square variant, its 2× one for sharper
/// screens.
pub fn thumb_url(key: &str) -> String {
    variant_url(key, Variant::Thumb)
}

pub fn thumb_2x_url(key: &str) -> String {
    variant_url(key, Variant::Thumb2x)
}

/// What the layout shows about the signed-in user.
#[derive(Debug, Clone)]
pub struct UserView {
    pub email: String,
    pub avatar_url: Option<String>,
}
