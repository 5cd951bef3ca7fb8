//! The catalog hexagon. It owns what the product *is*: validated value objects (an
//! [`user::Email`] you hold is a valid email), entities as storage returns them, the
//! access rules of the catalog as pure functions, the use-case services, and the port
//! traits through which those services reach databases, mailers, clocks and files.
//!
//! Nothing here knows about HTTP, SQL or SMTP; adapters in other crates implement the
//! ports and the web crate wires them together.

pub mod access;
pub mod fields;
pub mod mail;
pub mod ports;
pub mod product;
pub mod services;
pub mod user;

/// Instants are UTC everywhere in the domain; adapters convert at their edge.
pub type Timestamp = chrono::DateTime<chrono::Utc>;

/// Counts characters as a person would (Unicode scalar values), not bytes, because the
/// length limits of the specification are written for people.
pub(crate) fn char_len(s: &str) -> usize {
    s.chars().count()
}

/// Trims surrounding whitespace and applies NFC so that visually identical input is
/// stored identically.
pub(crate) fn normalize_text(s: &str) -> String {
    normalized(s).into_owned()
}

/// As [`normalize_text`], keeping the string's own buffer when it is normal already, as
/// every text read back from the database is (it was stored normalised).
pub(crate) fn normalize_owned(s: String) -> String {
    let changed = match normalized(&s) {
        std::borrow::Cow::Borrowed(kept) if kept.len() == s.len() => None,
        other => Some(other.into_owned()),
    };
    changed.unwrap_or(s)
}

/// The trimmed NFC form of `s`, borrowed from it when `s` has that form already.
fn normalized(s: &str) -> std::borrow::Cow<'_, str> {
    use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};
    let s = s.trim();
    // Nearly all text is NFC already: the quick check spares the rebuild.
    if s.is_ascii() || is_nfc_quick(s.chars()) == IsNormalized::Yes {
        return std::borrow::Cow::Borrowed(s);
    }
    std::borrow::Cow::Owned(s.nfc().collect())
}

/// A page request that has already been checked: `page` starts at 1, `per_page` is
/// within 1..=100.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    page: u64,
    per_page: u64,
}

impl PageRequest {
    pub const MAX_PER_PAGE: u64 = 100;
    pub const DEFAULT_PER_PAGE: u64 = 20;

    /// Builds a page request; `per_page` above the maximum is capped, zero values are
    /// refused.
    pub fn new(page: u64, per_page: u64) -> Option<Self> {
        if page == 0 || per_page == 0 {
            return None;
        }
        Some(Self {
            page,
            per_page: per_page.min(Self::MAX_PER_PAGE),
        })
    }

    pub fn page(&self) -> u64 {
        self.page
    }

    pub fn per_page(&self) -> u64 {
        self.per_page
    }

    pub fn offset(&self) -> u64 {
        (self.page - 1).saturating_mul(self.per_page)
    }
}

/// One page of results together with the total number of matching rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub page: u64,
    pub per_page: u64,
    pub total: u64,
}

#[cfg(test)]
mod tests {
    use super::normalize_text;

    #[test]
    fn text_is_trimmed_and_composed_whatever_its_form() {
        assert_eq!(normalize_text("  Lamp \n"), "Lamp");
        // "é" as e + combining acute becomes the single code point.
        assert_eq!(normalize_text(" Cafe\u{301} "), "Caf\u{e9}");
        assert_eq!(normalize_text("Caf\u{e9}"), "Caf\u{e9}");
        // Hangul jamo compose into a syllable; the quick check cannot say yes to them.
        assert_eq!(normalize_text("\u{1100}\u{1161}"), "\u{ac00}");
        assert_eq!(
            normalize_text("\u{212b}"),
            "\u{c5}",
            "the angstrom sign is not NFC"
        );
    }
}
