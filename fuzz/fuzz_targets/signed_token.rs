//! Signed links and their tokens (`/users/verify/{token}`, email change): any string is
//! refused or accepted without panicking, and only the signer's own tokens are accepted.
#![no_main]

use catalog_domain::ports::TokenSigner;
use catalog_web::adapters::token::HmacSigner;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(token) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(signer) = HmacSigner::new(b"fuzzing-secret-key-0123456789abcdef") else {
        return;
    };
    for purpose in ["verify", "email-change", "session"] {
        let _ = signer.verify_signature(purpose, token);
    }
    // A token the signer makes for any subject as long as a real one can be (a user id
    // and a 254-character address) round-trips.
    if token.len() > 2048 {
        return;
    }
    let issued = signer.sign("verify", token, chrono::DateTime::UNIX_EPOCH);
    let claims = signer
        .verify_signature("verify", &issued)
        .expect("the signer accepts its own token");
    assert_eq!(claims.subject, token);
    assert!(signer.verify_signature("email-change", &issued).is_err());
});
