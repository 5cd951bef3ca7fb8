//! Use cases: each orchestrates ports around the pure rules and answers with its own
//! error type, so callers can match on what matters to them.

pub mod accounts;
pub mod admin;
pub mod demo;
pub mod dispatch;
pub mod products;

use std::sync::Arc;

use crate::ports::{
    ApiTokenRepository, CategoryRepository, Clock, GroupRepository, MediaStore, OutboxRepository,
    PasswordHasher, ProductRepository, Random, SessionRepository, TokenSigner, UserRepository,
    VersionRepository,
};

/// The repositories and services every use case draws from, cheap to clone.
#[derive(Clone)]
pub struct Ports {
    pub users: Arc<dyn UserRepository>,
    pub groups: Arc<dyn GroupRepository>,
    pub categories: Arc<dyn CategoryRepository>,
    pub products: Arc<dyn ProductRepository>,
    pub versions: Arc<dyn VersionRepository>,
    pub sessions: Arc<dyn SessionRepository>,
    pub tokens: Arc<dyn ApiTokenRepository>,
    pub outbox: Arc<dyn OutboxRepository>,
    pub hasher: Arc<dyn PasswordHasher>,
    pub signer: Arc<dyn TokenSigner>,
    pub random: Arc<dyn Random>,
    pub media: Arc<dyn MediaStore>,
    pub clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Ports {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Ports")
    }
}
