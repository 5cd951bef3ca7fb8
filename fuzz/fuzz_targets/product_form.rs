//! The multipart product form with its versions formset, as the product pages read it.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = catalog_web::fuzzing::product_form(
        "multipart/form-data; boundary=XyZ",
        data.to_vec(),
    );
});
