//! Uploaded avatars and product images: decoded, checked and re-encoded (as PNG, or
//! JPEG for JPEG input).
#![no_main]

use catalog_web::adapters::media::clean_image;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok((clean, content_type)) = clean_image(data) {
        // What is stored is always a clean image of an allowed type and size.
        assert!(matches!(content_type, "png" | "jpg"), "{content_type}");
        let decoded = image::load_from_memory(&clean).expect("the stored file decodes");
        assert!(decoded.width() <= 4096 && decoded.height() <= 4096);
    }
});
