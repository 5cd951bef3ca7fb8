//! Products, their categories and versions.

mod money;
pub mod search;

use std::fmt;

pub use money::{Money, MoneyError};

use crate::Timestamp;
use crate::user::{Email, PersonName, UserId};

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
    check_text(&value, max, required, multiline)?;
    Ok(value)
}

/// As [`bounded`], for a string already owned: every product row read back passes
/// through here, and its text is normalised already, so its buffer is kept.
fn bounded_owned(
    input: String,
    max: usize,
    required: bool,
    multiline: bool,
) -> Result<String, TextError> {
    let value = crate::normalize_owned(input);
    check_text(&value, max, required, multiline)?;
    Ok(value)
}

/// The checks of a normalised text: present if required, at most `max` characters, no
/// control characters but line breaks and tabs where `multiline` allows them.
fn check_text(value: &str, max: usize, required: bool, multiline: bool) -> Result<(), TextError> {
    if required && value.is_empty() {
        return Err(TextError::Required);
    }
    // No text has more characters than bytes: most need no counting.
    if value.len() > max && crate::char_len(value) > max {
        return Err(TextError::TooLong(max));
    }
    // The control characters are U+0000–U+001F and U+007F (one byte each) and
    // U+0080–U+009F (0xC2 then 0x80–0x9F in UTF-8); line breaks and tabs are allowed
    // where `multiline` says so. One pass over the bytes in plain byte arithmetic,
    // without stopping early, so that the compiler checks many at a time, finds the
    // first kind and any 0xC2; only text with one looks at byte pairs for the second.
    let bytes = value.as_bytes();
    let (mut control, mut c2) = (false, false);
    for &b in bytes {
        let line_break = (b == b'\n') | (b == b'\r') | (b == b'\t');
        control |= ((b < 0x20) & !(multiline & line_break)) | (b == 0x7f);
        c2 |= b == 0xc2;
    }
    if c2 {
        control |= bytes
            .windows(2)
            .any(|pair| pair[0] == 0xc2 && (0x80..0xa0).contains(&pair[1]));
    }
    if control {
        return Err(TextError::ControlCharacter);
    }
    Ok(())
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

            /// As [`Self::parse`], keeping the string's buffer when it is normalised
            /// already (as stored values are).
            ///
            /// # Errors
            /// As [`Self::parse`].
            pub fn parse_owned(input: String) -> Result<Self, TextError> {
                bounded_owned(input, $max, $required, $multiline).map(Self)
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

/// A category as a product names it. Its description is the category's own page's to
/// show: no product page or document does, and every product read would carry it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryRef {
    pub id: CategoryId,
    pub name: CategoryName,
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

/// The owner as shown next to a product. Others see the name (see
/// [`OwnerRef::display_name`]); the address is for the owner, moderators and superusers
/// only (see [`crate::access::sees_owner_email`]): on every card it was harvestable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerRef {
    pub id: UserId,
    pub email: Email,
    pub first_name: PersonName,
    pub last_name: PersonName,
}

impl OwnerRef {
    /// The profile's name, or a neutral label naming no one when the profile has none.
    pub fn display_name(&self) -> String {
        let name = format!("{} {}", self.first_name.as_str(), self.last_name.as_str());
        let name = name.trim();
        if name.is_empty() {
            format!("Member #{}", self.id)
        } else {
            name.to_owned()
        }
    }
}

/// A product as storage returns it, with what a page or document shows next to it.
#[derive(Debug, Clone, PartialEq)]
pub struct Product {
    pub id: ProductId,
    pub name: ProductName,
    pub description: Description,
    /// Media-store key of the product image.
    pub image: Option<String>,
    pub category: CategoryRef,
    pub price: Money,
    pub is_published: bool,
    /// Set when someone other than the owner, acting as a moderator, unpublished it.
    pub moderation_locked: bool,
    pub owner: OwnerRef,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Counts the writes to the product's row: a write decided on what was read at one
    /// revision is applied only while the row is still at it (see [`ProductUpdate`]).
    pub revision: i64,
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

/// What a patch changes after the rules have run: only the fields whose value changes
/// (`None` leaves a field as stored, whatever anyone else writes to it meanwhile),
/// including the moderation lock the rules derived, and the revision of the product
/// the rules judged. Storage applies it only to a row still at that revision, so a
/// decision made on a state that has changed since is never written over it.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductUpdate {
    pub revision: i64,
    pub name: Option<ProductName>,
    pub description: Option<Description>,
    pub category_id: Option<CategoryId>,
    pub price: Option<Money>,
    pub is_published: Option<bool>,
    pub moderation_locked: Option<bool>,
    pub updated_at: Timestamp,
}

impl ProductUpdate {
    /// Whether the update changes no field.
    pub fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.description.is_none()
            && self.category_id.is_none()
            && self.price.is_none()
            && self.is_published.is_none()
            && self.moderation_locked.is_none()
    }
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
        // U+00A0 and U+00BF share the lead byte of the C1 controls but are text.
        assert!(Description::parse("a\u{a0}b\u{bf}").is_ok());
        assert!(Description::parse(&"x".repeat(10_000)).is_ok());
        assert!(ProductName::parse(&format!("{}ü", "x".repeat(99))).is_ok());
        assert_eq!(
            ProductName::parse(&format!("{}ü", "x".repeat(100))),
            Err(TextError::TooLong(100))
        );
    }

    /// Stored text is read through `parse_owned`: whatever it is given, it must come to
    /// the same value or error as `parse`, only without copying what is normal already.
    #[test]
    fn parse_owned_agrees_with_parse() {
        let long = "x".repeat(101);
        let long_wide = "ü".repeat(101);
        let inputs = [
            "Lamp",
            "  Lamp ",
            "\u{b}Lamp",
            "Cafe\u{301}",
            "Caf\u{e9}",
            "",
            "   ",
            "a\nb",
            "a\u{7f}b",
            "ü\u{85}x",
            long.as_str(),
            long_wide.as_str(),
        ];
        for input in inputs {
            assert_eq!(
                ProductName::parse_owned(input.to_owned()),
                ProductName::parse(input),
                "{input:?}"
            );
            assert_eq!(
                Description::parse_owned(input.to_owned()),
                Description::parse(input),
                "{input:?}"
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn parse_owned_agrees_with_parse_on_any_text(input in "\\PC{0,120}|[ \t\n\r\u{0}-\u{1f}\u{7f}-\u{9f}a\u{301}é]{0,12}") {
            proptest::prop_assert_eq!(ProductName::parse_owned(input.clone()), ProductName::parse(&input));
            proptest::prop_assert_eq!(Description::parse_owned(input.clone()), Description::parse(&input));
            proptest::prop_assert_eq!(VersionName::parse_owned(input.clone()), VersionName::parse(&input));
        }
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
