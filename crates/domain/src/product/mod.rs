//! Products, their categories and versions.

mod money;

use std::fmt;

pub use money::{Money, MoneyError};

use crate::Timestamp;
use crate::user::{Email, UserId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProductId(pub i64);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CategoryId(pub i64);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VersionId(pub i64);

impl fmt::Display for ProductId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Length-bounded text fields share one error type: the only ways to be wrong are being
/// empty when required, being too long, or carrying control characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("This field is required.")]
    Required,
    #[error("Ensure this value has at most {0} characters.")]
    TooLong(usize),
    #[error("This field cannot contain control characters.")]
    ControlCharacter,
}

fn bounded(input: &str, max: usize, required: bool, multiline: bool) -> Result<String, TextError> {
    let value = crate::normalize_text(input);
    if required && value.is_empty() {
        return Err(TextError::Required);
    }
    // Every product row read back passes through here; for ASCII (most text) the
    // length is the byte length and the control characters are bytes, which the
    // compiler checks many at a time.
    let ascii = value.is_ascii();
    let length = if ascii {
        value.len()
    } else {
        crate::char_len(&value)
    };
    if length > max {
        return Err(TextError::TooLong(max));
    }
    let allowed = |c: char| multiline && matches!(c, '\n' | '\r' | '\t');
    let control = if ascii {
        value
            .bytes()
            .any(|b| (b < 0x20 || b == 0x7f) && !allowed(char::from(b)))
    } else {
        value.chars().any(|c| c.is_control() && !allowed(c))
    };
    if control {
        return Err(TextError::ControlCharacter);
    }
    Ok(value)
}

macro_rules! bounded_text {
    ($(#[$meta:meta])* $name:ident, max = $max:expr, required = $required:expr, multiline = $multiline:expr) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name(String);

        impl $name {
            pub const MAX_LEN: usize = $max;

            /// Trims, normalises (NFC) and checks the length and characters.
            ///
            /// # Errors
            /// [`TextError`] when the value is missing, too long, or has control characters.
            pub fn parse(input: &str) -> Result<Self, TextError> {
                bounded(input, $max, $required, $multiline).map(Self)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

bounded_text!(
    /// A product's name: 1..=100 characters on one line.
    ProductName, max = 100, required = true, multiline = false
);
bounded_text!(
    /// A product's description: up to 10 000 characters, line breaks allowed.
    Description, max = 10_000, required = false, multiline = true
);
bounded_text!(
    /// A category's unique name.
    CategoryName, max = 100, required = true, multiline = false
);
bounded_text!(
    /// A version's number such as `1.0.2`, unique within its product.
    VersionNumber, max = 20, required = true, multiline = false
);
bounded_text!(
    /// A version's name.
    VersionName, max = 100, required = false, multiline = false
);

impl Description {
    /// No description (always valid).
    pub fn empty() -> Self {
        Self(String::new())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Category {
    pub id: CategoryId,
    pub name: CategoryName,
    pub description: Description,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCategory {
    pub name: CategoryName,
    pub description: Description,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub id: VersionId,
    pub product_id: ProductId,
    pub number: VersionNumber,
    pub name: VersionName,
    pub is_current: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewVersion {
    pub number: VersionNumber,
    pub name: VersionName,
    pub is_current: bool,
}

/// The owner as shown next to a product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerRef {
    pub id: UserId,
    pub email: Email,
}

/// A product as storage returns it, with what a page or document shows next to it.
#[derive(Debug, Clone, PartialEq)]
pub struct Product {
    pub id: ProductId,
    pub name: ProductName,
    pub description: Description,
    /// Media-store key of the product image.
    pub image: Option<String>,
    pub category: Category,
    pub price: Money,
    pub is_published: bool,
    /// Set when someone other than the owner, acting as a moderator, unpublished it.
    pub moderation_locked: bool,
    pub owner: OwnerRef,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// What it takes to create a product. The owner is always the acting user, set by the
/// service, never taken from input.
#[derive(Debug, Clone, PartialEq)]
pub struct NewProduct {
    pub name: ProductName,
    pub description: Description,
    pub category_id: CategoryId,
    pub price: Money,
    pub is_published: bool,
    pub owner_id: UserId,
    pub image: Option<String>,
    pub created_at: Timestamp,
}

/// How an edit leaves a product's versions: rows to delete, rows to rewrite and rows to
/// add. Versions not named stay as they are, except that they lose the current flag
/// when a named one becomes current. At most one named row is current.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VersionsEdit {
    pub delete: Vec<VersionId>,
    pub update: Vec<(VersionId, NewVersion)>,
    pub insert: Vec<NewVersion>,
}

impl VersionsEdit {
    pub fn is_empty(&self) -> bool {
        self.delete.is_empty() && self.update.is_empty() && self.insert.is_empty()
    }

    /// Whether one of the named rows becomes current.
    pub fn names_current(&self) -> bool {
        self.update.iter().any(|(_, v)| v.is_current) || self.insert.iter().any(|v| v.is_current)
    }
}

/// A partial update: `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProductPatch {
    pub name: Option<ProductName>,
    pub description: Option<Description>,
    pub category_id: Option<CategoryId>,
    pub price: Option<Money>,
    pub is_published: Option<bool>,
}

/// The stored form of a patch after the rules have run: every value to write, including
/// the moderation lock the rules derived.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductUpdate {
    pub name: ProductName,
    pub description: Description,
    pub category_id: CategoryId,
    pub price: Money,
    pub is_published: bool,
    pub moderation_locked: bool,
    pub updated_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_names_are_required_and_bounded() {
        assert_eq!(ProductName::parse("  "), Err(TextError::Required));
        assert!(ProductName::parse(&"ü".repeat(100)).is_ok());
        assert_eq!(
            ProductName::parse(&"ü".repeat(101)),
            Err(TextError::TooLong(100))
        );
        assert_eq!(ProductName::parse("a\nb"), Err(TextError::ControlCharacter));
        assert_eq!(ProductName::parse(" Lamp ").unwrap().as_str(), "Lamp");
    }

    #[test]
    fn descriptions_keep_line_breaks_and_are_optional() {
        assert_eq!(Description::parse("").unwrap().as_str(), "");
        assert_eq!(
            Description::parse("a\r\nb\tc").unwrap().as_str(),
            "a\r\nb\tc"
        );
        assert_eq!(
            Description::parse("a\u{0}b"),
            Err(TextError::ControlCharacter)
        );
        assert_eq!(
            Description::parse(&"x".repeat(10_001)),
            Err(TextError::TooLong(10_000))
        );
    }

    /// ASCII text is checked byte-wise, other text character-wise: both refuse the
    /// same control characters and count length in characters.
    #[test]
    fn ascii_and_other_text_are_checked_alike() {
        for control in ["a\u{7f}b", "a\u{7}b", "ü\u{7f}", "ü\u{7}", "ü\u{85}x"] {
            assert_eq!(
                Description::parse(control),
                Err(TextError::ControlCharacter),
                "{control:?}"
            );
        }
        assert!(Description::parse("ü\r\nb\tc").is_ok());
        assert!(Description::parse(&"x".repeat(10_000)).is_ok());
        assert!(ProductName::parse(&format!("{}ü", "x".repeat(99))).is_ok());
        assert_eq!(
            ProductName::parse(&format!("{}ü", "x".repeat(100))),
            Err(TextError::TooLong(100))
        );
    }

    #[test]
    fn version_fields_are_bounded() {
        assert!(VersionNumber::parse("1.0.2").is_ok());
        assert_eq!(VersionNumber::parse(""), Err(TextError::Required));
        assert_eq!(
            VersionNumber::parse(&"1".repeat(21)),
            Err(TextError::TooLong(20))
        );
        assert_eq!(
            VersionName::parse(&"n".repeat(101)),
            Err(TextError::TooLong(100))
        );
    }
}
