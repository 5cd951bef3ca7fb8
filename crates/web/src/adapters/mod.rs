//! Adapters that need no database and no mail server: password hashing, token signing,
//! randomness, the clock and the local media store. The composition root (`app.rs`)
//! picks them.

pub mod clock;
pub mod media;
pub mod password;
pub mod random;
pub mod token;
