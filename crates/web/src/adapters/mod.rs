//! Adapters that need no database and no mail server: password hashing and the clock.
//! The composition root (`app.rs`) picks them.

pub mod clock;
pub mod password;
