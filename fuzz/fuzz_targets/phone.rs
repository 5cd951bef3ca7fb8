//! Phone numbers, international or national with a country.
#![no_main]

use catalog_domain::user::{Country, Phone};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (country, rest) = data.split_at(data.len().min(2));
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let country = std::str::from_utf8(country)
        .ok()
        .and_then(|c| Country::parse(c).ok());
    if let Ok(phone) = Phone::parse(text, country) {
        // Stored as E.164, which reads back as the same number.
        let e164 = phone.to_string();
        assert!(e164.starts_with('+'), "{e164}");
        assert!(Phone::parse(&e164, None).expect("E.164 parses") == phone);
    }
});
