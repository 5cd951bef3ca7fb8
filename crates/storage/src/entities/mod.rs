//! SeaORM entities. They mirror the tables of the `migration` crate and never leave this
//! crate: repositories convert them into domain types through the domain constructors.

pub mod api_token;
pub mod category;
pub mod group;
pub mod group_permission;
pub mod mail_outbox;
pub mod permission;
pub mod product;
pub mod session;
pub mod user;
pub mod user_group;
pub mod version;
