//! Email addresses from every form and JSON body.
#![no_main]

use catalog_domain::user::Email;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(email) = Email::parse(text) {
        // Accepted addresses carry nothing that could break a mail header.
        assert!(!email.as_str().contains(['\r', '\n']));
        let again = Email::parse(email.as_str()).expect("an accepted address parses again");
        assert!(again == email);
    }
});
