//! The languages people read catalog in. Each language is a directory of Fluent files
//! (`locales/<code>/<area>.ftl`) compiled into the binary; the bundles are built once,
//! on first use, and every message without arguments is formatted then, so that a
//! page's lookups are hash-map reads that allocate nothing.
//!
//! A message is found in the language asked for or not at all: there is no silent
//! English fallback on a Russian page (the tests in `tests/` hold every language to the
//! same set of messages).

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::LazyLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};

mod files {
    include!(concat!(env!("OUT_DIR"), "/files.rs"));
}

/// One of the languages the message files provide.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Lang(u8);

impl std::fmt::Debug for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// An argument of a message.
#[derive(Debug, Clone)]
pub enum Arg<'a> {
    Number(f64),
    Text(Cow<'a, str>),
}

macro_rules! number_args {
    ($($t:ty),*) => {$(
        impl From<$t> for Arg<'_> {
            #[allow(clippy::cast_precision_loss, clippy::cast_lossless)]
            fn from(n: $t) -> Self {
                Self::Number(n as f64)
            }
        }
    )*};
}
number_args!(i32, i64, u32, u64, usize);

impl<'a> From<&'a str> for Arg<'a> {
    fn from(s: &'a str) -> Self {
        Self::Text(Cow::Borrowed(s))
    }
}

impl From<String> for Arg<'_> {
    fn from(s: String) -> Self {
        Self::Text(Cow::Owned(s))
    }
}

/// A language's messages, ready to format.
struct Language {
    code: &'static str,
    bundle: FluentBundle<FluentResource>,
    /// Messages without arguments, formatted once.
    plain: HashMap<String, String>,
    /// Every message id, in file order (for the tests that hold languages together).
    ids: Vec<String>,
    /// The countries' names in this language, sorted as the language sorts them.
    countries: Vec<(String, String)>,
    decimal_separator: String,
    group_separator: String,
    /// What went wrong reading the files (empty in a good build; see the tests).
    problems: Vec<String>,
}

static LANGUAGES: LazyLock<Vec<Language>> = LazyLock::new(load);

fn load() -> Vec<Language> {
    let mut codes: Vec<&'static str> = files::FILES.iter().map(|(code, _, _)| *code).collect();
    codes.dedup();
    codes.into_iter().map(load_language).collect()
}

fn load_language(code: &'static str) -> Language {
    let locale: unic_langid::LanguageIdentifier = code.parse().unwrap_or_default();
    let mut bundle = FluentBundle::new_concurrent(vec![locale]);
    // Isolation marks around arguments would land, invisible, in titles and emails.
    bundle.set_use_isolating(false);
    let mut ids = Vec::new();
    let mut problems = Vec::new();
    for (_, file, source) in files::FILES.iter().filter(|(c, _, _)| *c == code) {
        let resource = match FluentResource::try_new((*source).to_owned()) {
            Ok(resource) => resource,
            Err((resource, errors)) => {
                for e in errors {
                    problems.push(format!("{code}/{file}: {e:?}"));
                }
                resource
            }
        };
        for entry in resource.entries() {
            if let fluent_syntax::ast::Entry::Message(m) = entry {
                ids.push(m.id.name.to_owned());
            }
        }
        if let Err(errors) = bundle.add_resource(resource) {
            for e in errors {
                problems.push(format!("{code}/{file}: {e}"));
            }
        }
    }
    let mut plain = HashMap::new();
    for id in &ids {
        let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) else {
            problems.push(format!("{code}: {id} has no value"));
            continue;
        };
        // Formatting without arguments fails exactly for messages that take some.
        let mut errors = Vec::new();
        let text = bundle.format_pattern(pattern, None, &mut errors);
        if errors.is_empty() {
            plain.insert(id.to_string(), text.into_owned());
        }
    }
    let text = |id: &str| plain.get(id).cloned().unwrap_or_default();
    let mut countries: Vec<(String, String)> = ids
        .iter()
        .filter_map(|id| id.strip_prefix("country-"))
        // A country's id ends in its two-letter code (`country-invalid` is a message).
        .filter(|code| code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase()))
        .map(|code| (code.to_owned(), text(&format!("country-{code}"))))
        .collect();
    countries.sort_by_cached_key(|(_, name)| collation_key(name));
    let decimal_separator = text("number-decimal-separator");
    let group_separator = text("number-group-separator");
    Language {
        code,
        bundle,
        plain,
        ids,
        countries,
        decimal_separator,
        group_separator,
        problems,
    }
}

/// Sorting for the alphabets of the languages here: case-insensitive, with «ё» beside
/// «е» as Russian dictionaries put it, and Latin letters without their accents.
fn collation_key(name: &str) -> String {
    name.chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'ё' => 'е',
            'å' | 'á' | 'à' | 'â' | 'ä' | 'ã' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'í' | 'ì' | 'î' | 'ï' => 'i',
            'ó' | 'ò' | 'ô' | 'ö' | 'õ' => 'o',
            'ú' | 'ù' | 'û' | 'ü' => 'u',
            'ç' => 'c',
            'ñ' => 'n',
            other => other,
        })
        .collect()
}

impl Lang {
    /// Every language, in the order of their codes.
    pub fn all() -> impl Iterator<Item = Self> {
        (0..LANGUAGES.len()).filter_map(|i| u8::try_from(i).ok().map(Self))
    }

    fn language(self) -> &'static Language {
        // `Lang` values are made only from indexes into `LANGUAGES`.
        &LANGUAGES[usize::from(self.0)]
    }

    /// English, the language every message is written in first.
    pub fn english() -> Self {
        Self::parse("en").unwrap_or(Self(0))
    }

    /// The language with this code (`en`, `ru`), if there is one.
    pub fn parse(code: &str) -> Option<Self> {
        Self::all().find(|l| l.code().eq_ignore_ascii_case(code.trim()))
    }

    /// Its code, as `<html lang>` and the saved preference write it.
    pub fn code(self) -> &'static str {
        self.language().code
    }

    /// The language an `Accept-Language` header prefers among ours, by quality value
    /// and then by order; `ru-RU` is Russian, `*` and languages we lack choose nothing.
    pub fn from_accept_language(header: &str) -> Option<Self> {
        accept_language::parse_with_quality(header)
            .into_iter()
            .filter(|(_, q)| *q > 0.0)
            .find_map(|(tag, _)| {
                let primary = tag.split(['-', '_']).next().unwrap_or_default();
                Self::parse(primary)
            })
    }

    /// The message `id` without arguments. A message that does not exist shows as its
    /// id (and is logged), which the tests look for.
    pub fn t(self, id: &str) -> &'static str {
        match self.language().plain.get(id) {
            Some(text) => text,
            None => {
                tracing::error!(language = self.code(), id, "message missing");
                // The id outlives the lookup only as a static; copy it into one.
                missing(id)
            }
        }
    }

    /// The message `id` with its arguments (numbers choose plural forms).
    pub fn f(self, id: &str, args: &[(&str, Arg<'_>)]) -> String {
        let language = self.language();
        let Some(pattern) = language.bundle.get_message(id).and_then(|m| m.value()) else {
            tracing::error!(language = self.code(), id, "message missing");
            return id.to_owned();
        };
        let mut fluent = FluentArgs::with_capacity(args.len());
        for (name, value) in args {
            let value = match value {
                Arg::Number(n) => FluentValue::from(*n),
                Arg::Text(s) => FluentValue::from(s.as_ref()),
            };
            fluent.set(*name, value);
        }
        let mut errors = Vec::new();
        let text = language
            .bundle
            .format_pattern(pattern, Some(&fluent), &mut errors);
        if !errors.is_empty() {
            tracing::error!(language = self.code(), id, ?errors, "message incomplete");
        }
        text.into_owned()
    }

    /// Whether the message exists in this language.
    pub fn has(self, id: &str) -> bool {
        self.language().bundle.has_message(id)
    }

    /// Every message id of this language, in file order.
    pub fn ids(self) -> &'static [String] {
        &self.language().ids
    }

    /// What could not be read in this language's files (nothing, in a good build).
    pub fn problems(self) -> &'static [String] {
        &self.language().problems
    }

    /// (ISO 3166 code, name) of every country, in this language's alphabetical order.
    pub fn countries(self) -> &'static [(String, String)] {
        &self.language().countries
    }

    /// A decimal written `1234.56` (as prices are stored) in this language's way:
    /// `1,234.56` in English, `1 234,56` in Russian.
    pub fn decimal(self, plain: &str) -> String {
        let language = self.language();
        let (sign, digits) = match plain.strip_prefix('-') {
            Some(rest) => ("-", rest),
            None => ("", plain),
        };
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        let mut out = String::with_capacity(plain.len() + 8);
        out.push_str(sign);
        for (i, c) in whole.chars().enumerate() {
            if i > 0 && (whole.len() - i) % 3 == 0 {
                out.push_str(&language.group_separator);
            }
            out.push(c);
        }
        if !fraction.is_empty() {
            out.push_str(&language.decimal_separator);
            out.push_str(fraction);
        }
        out
    }

    /// A calendar date as this language writes it («7 декабря 2026 г.», "December 7, 2026").
    pub fn date(self, year: i32, month: u32, day: u32) -> String {
        self.f(
            "date",
            &[
                ("year", Arg::Text(Cow::Owned(year.to_string()))),
                ("month", month.into()),
                ("day", day.into()),
            ],
        )
    }
}

/// A static copy of a missing message's id, made once per id.
fn missing(id: &str) -> &'static str {
    static SEEN: LazyLock<std::sync::Mutex<HashMap<String, &'static str>>> =
        LazyLock::new(Default::default);
    let Ok(mut seen) = SEEN.lock() else {
        return "";
    };
    if let Some(known) = seen.get(id) {
        return known;
    }
    let leaked: &'static str = Box::leak(id.to_owned().into_boxed_str());
    seen.insert(id.to_owned(), leaked);
    leaked
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ru() -> Lang {
        Lang::parse("ru").unwrap()
    }

    fn en() -> Lang {
        Lang::parse("en").unwrap()
    }

    #[test]
    fn accept_language_honours_quality_values_and_regions() {
        assert_eq!(
            Lang::from_accept_language("ru-RU,ru;q=0.9,en;q=0.8"),
            Some(ru())
        );
        assert_eq!(Lang::from_accept_language("en;q=0.5, ru;q=0.9"), Some(ru()));
        assert_eq!(
            Lang::from_accept_language("ru;q=0.1, en-GB;q=0.2"),
            Some(en())
        );
        assert_eq!(
            Lang::from_accept_language("de-DE, fr;q=0.9, ru;q=0.5"),
            Some(ru())
        );
        assert_eq!(Lang::from_accept_language("ru;q=0, en;q=0.1"), Some(en()));
        assert_eq!(Lang::from_accept_language("de, fr"), None);
        assert_eq!(Lang::from_accept_language("*"), None);
        assert_eq!(Lang::from_accept_language(""), None);
        assert_eq!(Lang::from_accept_language(";;;,,q=x"), None);
    }

    #[test]
    fn decimals_follow_the_language() {
        assert_eq!(en().decimal("1234.56"), "1,234.56");
        assert_eq!(ru().decimal("1234.56"), "1\u{a0}234,56");
        assert_eq!(ru().decimal("12345.50"), "12\u{a0}345,50");
        assert_eq!(en().decimal("1234567.00"), "1,234,567.00");
        assert_eq!(ru().decimal("1234567.00"), "1\u{a0}234\u{a0}567,00");
        assert_eq!(en().decimal("999.99"), "999.99");
        assert_eq!(ru().decimal("0.5"), "0,5");
        assert_eq!(ru().decimal("7"), "7");
    }

    #[test]
    fn dates_are_written_as_each_language_writes_them() {
        assert_eq!(en().date(2026, 12, 7), "December 7, 2026");
        assert_eq!(ru().date(2026, 12, 7), "7 декабря 2026 г.");
        assert_eq!(ru().date(2026, 3, 1), "1 марта 2026 г.");
    }

    #[test]
    fn countries_are_sorted_in_the_language_they_are_named_in() {
        let names: Vec<&str> = ru().countries().iter().map(|(_, n)| n.as_str()).collect();
        let pos = |n: &str| names.iter().position(|x| *x == n).unwrap();
        assert!(pos("Австрия") < pos("Германия"));
        assert!(pos("Германия") < pos("Япония"));
        let en_names: Vec<&str> = en().countries().iter().map(|(_, n)| n.as_str()).collect();
        assert!(en_names.first().unwrap().starts_with('A'), "{en_names:?}");
        let germany = ru().countries().iter().find(|(c, _)| c == "DE").unwrap();
        assert_eq!(germany.1, "Германия");
    }
}
