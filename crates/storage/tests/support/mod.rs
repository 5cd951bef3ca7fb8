//! Fixtures shared by the storage test files.

#![allow(clippy::unwrap_used, dead_code)]

use catalog_domain::Timestamp;
use catalog_domain::user::{Email, NewUser, PasswordHash, PersonName};
use chrono::{TimeZone, Utc};

/// A fixed instant plus `secs`, with microseconds (both databases keep them).
pub fn t(secs: i64) -> Timestamp {
    Utc.timestamp_opt(1_800_000_000 + secs, 123_456_000)
        .single()
        .unwrap()
}

/// An active, verified user called Ann.
pub fn new_user(email: &str) -> NewUser {
    NewUser {
        email: Email::parse(email).unwrap(),
        password_hash: PasswordHash::from_phc(
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        )
        .unwrap(),
        is_active: true,
        is_verified: true,
        is_superuser: false,
        first_name: PersonName::parse("Ann").unwrap(),
        last_name: PersonName::default(),
        date_joined: t(0),
        language: None,
    }
}
