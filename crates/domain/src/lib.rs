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
pub mod media;
mod messages;
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
    use unicode_normalization::UnicodeNormalization;
    let s = trim(s);
    // Nearly all text is NFC already: the quick check spares the rebuild.
    if nfc_quick_yes(s) {
        return std::borrow::Cow::Borrowed(s);
    }
    std::borrow::Cow::Owned(s.nfc().collect())
}

/// `str::trim`, which walks the text by characters at both ends, asked only when an end
/// is not a visible ASCII character: stored text, read back on every page, never is.
pub(crate) fn trim(s: &str) -> &str {
    let bytes = s.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) if first.is_ascii_graphic() && last.is_ascii_graphic() => s,
        _ => s.trim(),
    }
}

/// Where the first byte outside ASCII is, skipping ASCII sixteen bytes at a time (the
/// test over a whole block compiles to a few vector instructions).
fn first_non_ascii(bytes: &[u8]) -> Option<usize> {
    let mut skipped = 0;
    for block in bytes.chunks_exact(16) {
        if block.iter().fold(0, |seen, b| seen | b) & 0x80 != 0 {
            break;
        }
        skipped += 16;
    }
    let tail = bytes.get(skipped..)?;
    tail.iter()
        .position(|b| !b.is_ascii())
        .map(|at| skipped + at)
}

/// Whether Unicode's NFC quick check says yes to `s`, asking it only about the runs of
/// non-ASCII characters. An ASCII character is a starter allowed in NFC, after which
/// the check starts afresh, so its answer over the whole text is yes exactly when it is
/// yes over every such run; skipping the ASCII between them by the byte is what makes
/// the check cheap for text that is mostly ASCII with a dash or an accent here and there.
fn nfc_quick_yes(s: &str) -> bool {
    use unicode_normalization::{IsNormalized, is_nfc_quick};
    let mut rest = s;
    loop {
        let Some(start) = first_non_ascii(rest.as_bytes()) else {
            return true;
        };
        let run_and_rest = rest.get(start..).unwrap_or_default();
        let end = run_and_rest
            .bytes()
            .position(|b| b.is_ascii())
            .unwrap_or(run_and_rest.len());
        // Both ends are character boundaries (a non-ASCII lead byte, an ASCII byte);
        // should they not be, the text takes the full normalisation, never a wrong yes.
        let (Some(run), Some(after)) = (run_and_rest.get(..end), run_and_rest.get(end..)) else {
            return false;
        };
        if is_nfc_quick(run.chars()) != IsNormalized::Yes {
            return false;
        }
        rest = after;
    }
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

impl<T> Page<T> {
    /// The same page with each item made another.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            page: self.page,
            per_page: self.per_page,
            total: self.total,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{normalize_owned, normalize_text};
    use unicode_normalization::UnicodeNormalization;

    /// Text drawn from what makes normalisation hard: ASCII, whitespace, Latin-1,
    /// combining marks (in and out of canonical order), Hangul jamo, singletons such as
    /// the angstrom sign, and characters the quick check answers "maybe" to.
    fn hard_text() -> impl proptest::strategy::Strategy<Value = String> {
        proptest::collection::vec(
            proptest::prop_oneof![
                proptest::char::range('a', 'e'),
                proptest::sample::select(vec![
                    ' ',
                    '\t',
                    '\n',
                    '\u{a0}',
                    '\u{3000}',
                    '-',
                    'A',
                    '\u{e9}',
                    '\u{c5}',
                    '\u{2014}',
                    '\u{212b}',
                    '\u{2000}',
                    '\u{1100}',
                    '\u{1161}',
                    '\u{11a8}',
                    '\u{ac00}',
                    '\u{fb01}',
                    '\u{1f600}',
                    '\u{0958}',
                ]),
                proptest::char::range('\u{300}', '\u{36f}'),
                proptest::char::range('\u{591}', '\u{5c7}'),
            ],
            0..24,
        )
        .prop_map(|chars| chars.into_iter().collect())
    }

    use proptest::strategy::Strategy as _;

    proptest::proptest! {
        /// The fast paths (ends checked by the byte, the quick check run over non-ASCII
        /// stretches only) give exactly the trimmed NFC form, and keep the buffer of
        /// text that has it.
        #[test]
        fn normalising_is_trim_then_nfc(text in hard_text()) {
            let expected: String = text.trim().nfc().collect();
            proptest::prop_assert_eq!(normalize_text(&text), expected.clone());
            proptest::prop_assert_eq!(normalize_owned(text.clone()), expected.clone());
            let stored = expected.clone();
            let buffer = stored.as_ptr();
            let again = normalize_owned(stored);
            proptest::prop_assert_eq!(&again, &expected);
            // Kept whenever the quick check over the whole text says yes (text it
            // answers "maybe" to, such as a lone jamo, may be rebuilt identical).
            let whole = unicode_normalization::is_nfc_quick(expected.chars());
            if whole == unicode_normalization::IsNormalized::Yes {
                proptest::prop_assert_eq!(again.as_ptr(), buffer);
            }
            proptest::prop_assert_eq!(super::nfc_quick_yes(&text), text.is_ascii() || unicode_normalization::is_nfc_quick(text.chars()) == unicode_normalization::IsNormalized::Yes);
        }
    }

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
