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

/// Every adapter the composition root wires, cheap to clone. A service takes only the
/// ports it uses ([`Ports::for_accounts`] and the like), so that its unit tests build
/// the mocks it needs and nothing else.
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

/// Declares the ports one service uses, and how to take them from [`Ports`].
macro_rules! service_ports {
    ($(#[$doc:meta])* $name:ident, $method:ident { $($field:ident: $port:ident),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name {
            $(pub $field: Arc<dyn $port>,)*
        }

        impl Ports {
            pub fn $method(&self) -> $name {
                $name {
                    $($field: self.$field.clone(),)*
                }
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(stringify!($name))
            }
        }
    };
}

service_ports!(
    /// What the accounts service reads and writes.
    AccountsPorts, for_accounts {
        users: UserRepository,
        groups: GroupRepository,
        tokens: ApiTokenRepository,
        hasher: PasswordHasher,
        signer: TokenSigner,
        random: Random,
        media: MediaStore,
        clock: Clock,
    }
);

service_ports!(
    /// What the products service reads and writes.
    ProductsPorts, for_products {
        products: ProductRepository,
        categories: CategoryRepository,
        versions: VersionRepository,
        media: MediaStore,
        clock: Clock,
    }
);

service_ports!(
    /// What the administration commands read and write.
    AdminPorts, for_admin {
        users: UserRepository,
        groups: GroupRepository,
        categories: CategoryRepository,
        hasher: PasswordHasher,
        media: MediaStore,
        clock: Clock,
    }
);

service_ports!(
    /// What the demo data generator writes.
    DemoPorts, for_demo {
        users: UserRepository,
        categories: CategoryRepository,
        products: ProductRepository,
        hasher: PasswordHasher,
        clock: Clock,
    }
);
