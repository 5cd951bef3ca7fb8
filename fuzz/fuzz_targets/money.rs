//! Prices as typed into the form or sent as JSON strings.
#![no_main]

use catalog_domain::product::Money;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(money) = Money::parse(text) {
        // What is accepted prints as a canonical price that reads back the same.
        let shown = money.to_string();
        assert!(Money::parse(&shown).expect("canonical form parses") == money);
    }
});
