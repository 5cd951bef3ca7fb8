//! Rows into domain values, through the domain's own constructors: a row that does not
//! convert is reported as corrupt, never unwrapped.

use catalog_domain::Timestamp;
use catalog_domain::ports::RepoError;
use catalog_domain::product::{
    Category, CategoryId, CategoryName, CategoryRef, Description, Money, OwnerRef, Product,
    ProductId, ProductName, Version, VersionId, VersionName, VersionNumber,
};
use catalog_domain::user::{
    Country, Email, PasswordHash, PendingPassword, PersonName, Phone, User, UserId,
};
use chrono::SubsecRound;

use crate::entities::{category, product, user, version};
use crate::error::corrupt;

/// Both databases keep microseconds; cutting here makes what we write equal to what we
/// read back on either.
pub(crate) fn micros(t: Timestamp) -> Timestamp {
    t.trunc_subsecs(6)
}

pub(crate) fn user(m: user::Model) -> Result<User, RepoError> {
    let email = Email::parse_owned(m.email).map_err(|e| corrupt("users.email", e))?;
    let password_hash = match m.password_hash {
        Some(h) => Some(
            PasswordHash::from_phc(h).ok_or_else(|| corrupt("users.password_hash", "not PHC"))?,
        ),
        None => None,
    };
    let phone = match m.phone.as_deref() {
        Some(p) => Some(Phone::from_e164(p).map_err(|e| corrupt("users.phone", e))?),
        None => None,
    };
    let country = match m.country.as_deref() {
        Some(c) => Some(Country::parse(c).map_err(|e| corrupt("users.country", e))?),
        None => None,
    };
    let pending_password = match (m.pending_password_hash, m.pending_password_expires_at) {
        (Some(h), Some(expires_at)) => Some(PendingPassword {
            hash: PasswordHash::from_phc(h)
                .ok_or_else(|| corrupt("users.pending_password_hash", "not PHC"))?,
            expires_at,
        }),
        _ => None,
    };
    let pending_email = match m.pending_email.as_deref() {
        Some(e) => {
            Some(Email::parse_owned(e.to_owned()).map_err(|e| corrupt("users.pending_email", e))?)
        }
        None => None,
    };
    Ok(User {
        id: UserId(m.id),
        email,
        password_hash,
        first_name: PersonName::parse(&m.first_name).map_err(|e| corrupt("users.first_name", e))?,
        last_name: PersonName::parse(&m.last_name).map_err(|e| corrupt("users.last_name", e))?,
        avatar: m.avatar,
        phone,
        country,
        is_active: m.is_active,
        is_verified: m.is_verified,
        is_superuser: m.is_superuser,
        deactivated: m.deactivated,
        password_change_required: m.password_change_required,
        pending_password,
        pending_email,
        date_joined: m.date_joined,
        last_login: m.last_login,
        language: m.language,
    })
}

pub(crate) fn category(m: category::Model) -> Result<Category, RepoError> {
    Ok(Category {
        id: CategoryId(m.id),
        name: CategoryName::parse_owned(m.name).map_err(|e| corrupt("categories.name", e))?,
        description: Description::parse_owned(m.description)
            .map_err(|e| corrupt("categories.description", e))?,
    })
}

pub(crate) fn version(m: version::Model) -> Result<Version, RepoError> {
    Ok(Version {
        id: VersionId(m.id),
        product_id: ProductId(m.product_id),
        number: VersionNumber::parse_owned(m.number).map_err(|e| corrupt("versions.number", e))?,
        name: VersionName::parse_owned(m.name).map_err(|e| corrupt("versions.name", e))?,
        is_current: m.is_current,
    })
}

/// The owner's columns a product row reads with it.
pub(crate) struct Owner {
    pub email: String,
    pub first_name: String,
    pub last_name: String,
}

pub(crate) fn product(
    m: product::Model,
    category_name: String,
    owner: Owner,
) -> Result<Product, RepoError> {
    Ok(Product {
        id: ProductId(m.id),
        name: ProductName::parse_owned(m.name).map_err(|e| corrupt("products.name", e))?,
        description: Description::parse_owned(m.description)
            .map_err(|e| corrupt("products.description", e))?,
        image: m.image,
        category: CategoryRef {
            id: CategoryId(m.category_id),
            name: CategoryName::parse_owned(category_name)
                .map_err(|e| corrupt("categories.name", e))?,
        },
        price: Money::from_cents(m.price_cents).map_err(|e| corrupt("products.price_cents", e))?,
        is_published: m.is_published,
        moderation_locked: m.moderation_locked,
        owner: OwnerRef {
            id: UserId(m.owner_id),
            email: Email::parse_owned(owner.email).map_err(|e| corrupt("users.email", e))?,
            first_name: PersonName::parse_owned(owner.first_name)
                .map_err(|e| corrupt("users.first_name", e))?,
            last_name: PersonName::parse_owned(owner.last_name)
                .map_err(|e| corrupt("users.last_name", e))?,
        },
        created_at: m.created_at,
        updated_at: m.updated_at,
        revision: m.revision,
    })
}
