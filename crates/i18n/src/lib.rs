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

use rustc_hash::FxHashMap;

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
    plain: FxHashMap<String, String>,
    /// The same, HTML-escaped once.
    html: FxHashMap<String, String>,
    /// The language's own name (`language-name-<code>` in its own files).
    own_name: String,
    /// "date" for each month, with the day and the year left as markers: dates are
    /// written without formatting a message each time.
    months: Vec<String>,
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
    let mut plain = FxHashMap::default();
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
    let html = plain
        .iter()
        .map(|(id, text)| (id.clone(), escape_html(text)))
        .collect();
    let text = |id: &str| plain.get(id).cloned().unwrap_or_default();
    let mut countries: Vec<(String, String)> = ids
        .iter()
        .filter_map(|id| id.strip_prefix("country-"))
        // A country's id ends in its two-letter code (`country-invalid` is a message).
        .filter(|code| code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase()))
        .map(|code| (code.to_owned(), text(&format!("country-{code}"))))
        .collect();
    countries.sort_by_cached_key(|(_, name)| collation_key(name));
    let months = (1..=12)
        .map(|month| {
            let mut args = FluentArgs::new();
            args.set("day", DAY_MARK.to_string());
            args.set("year", YEAR_MARK.to_string());
            args.set("month", month);
            let mut errors = Vec::new();
            match bundle.get_message("date").and_then(|m| m.value()) {
                Some(pattern) => bundle
                    .format_pattern(pattern, Some(&args), &mut errors)
                    .into_owned(),
                None => String::new(),
            }
        })
        .collect();
    let own_name = escape_html(&text(&format!("language-name-{code}")));
    let decimal_separator = text("number-decimal-separator");
    let group_separator = text("number-group-separator");
    Language {
        code,
        bundle,
        plain,
        html,
        own_name,
        months,
        ids,
        countries,
        decimal_separator,
        group_separator,
        problems,
    }
}

/// Text as HTML writes it, in element content and in quoted attributes alike.
fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&#38;"),
            '<' => out.push_str("&#60;"),
            '>' => out.push_str("&#62;"),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A message that is HTML already (escaped once, when the bundles were built): a
/// template writes it as it is.
#[derive(Debug, Clone, Copy)]
pub struct Html(&'static str);

impl std::fmt::Display for Html {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl askama::filters::HtmlSafe for Html {}

impl askama::FastWritable for Html {
    fn write_into<W: std::fmt::Write + ?Sized>(
        &self,
        dest: &mut W,
        _: &dyn askama::Values,
    ) -> askama::Result<()> {
        Ok(dest.write_str(self.0)?)
    }
}

/// An amount of money in minor units (cents), written as the language writes numbers
/// (`1,234.50`, `1 234,50`), straight into a page: digits and separators need no
/// escaping and no intermediate string.
#[derive(Debug, Clone, Copy)]
pub struct Amount {
    cents: i64,
    lang: Lang,
}

impl Amount {
    fn write<W: std::fmt::Write + ?Sized>(&self, out: &mut W) -> std::fmt::Result {
        let language = self.lang.language();
        if self.cents < 0 {
            out.write_char('-')?;
        }
        let cents = self.cents.unsigned_abs();
        let mut digits = itoa::Buffer::new();
        let whole = digits.format(cents / 100);
        for (i, c) in whole.char_indices() {
            if i > 0 && (whole.len() - i).is_multiple_of(3) {
                out.write_str(&language.group_separator)?;
            }
            out.write_char(c)?;
        }
        out.write_str(&language.decimal_separator)?;
        let fraction = cents % 100;
        out.write_char(char::from(b'0' + u8::try_from(fraction / 10).unwrap_or(0)))?;
        out.write_char(char::from(b'0' + u8::try_from(fraction % 10).unwrap_or(0)))
    }
}

impl std::fmt::Display for Amount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.write(f)
    }
}

impl askama::filters::HtmlSafe for Amount {}

impl askama::FastWritable for Amount {
    fn write_into<W: std::fmt::Write + ?Sized>(
        &self,
        dest: &mut W,
        _: &dyn askama::Values,
    ) -> askama::Result<()> {
        Ok(self.write(dest)?)
    }
}

/// Where a date's day and year go in its month's pattern.
const DAY_MARK: char = '\u{E000}';
const YEAR_MARK: char = '\u{E001}';

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
    ///
    /// Parsed here rather than by the `accept-language` crate, whose sort compares
    /// `q=NaN` inconsistently: a header must never be able to panic the server.
    pub fn from_accept_language(header: &str) -> Option<Self> {
        let mut ranges: Vec<(&str, f32)> = header
            .split(',')
            .take(64)
            .filter_map(|range| {
                let mut parts = range.split(';');
                let tag = parts.next()?.trim();
                let quality = parts
                    .find_map(|p| p.trim().strip_prefix("q="))
                    .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())?;
                (quality.is_finite() && quality > 0.0 && quality <= 1.0 && !tag.is_empty())
                    .then_some((tag, quality))
            })
            .collect();
        // Stable: equal qualities keep the header's order.
        ranges.sort_by(|a, b| b.1.total_cmp(&a.1));
        ranges.into_iter().find_map(|(tag, _)| {
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

    /// The message `id` without arguments, as HTML (for templates: written unescaped,
    /// since it was escaped when the bundles were built).
    pub fn h(self, id: &str) -> Html {
        match self.language().html.get(id) {
            Some(text) => Html(text),
            None => {
                tracing::error!(language = self.code(), id, "message missing");
                Html(missing(id))
            }
        }
    }

    /// `cents` of money as this language writes amounts.
    pub fn money(self, cents: i64) -> Amount {
        Amount { cents, lang: self }
    }

    /// The message `id` with its arguments (numbers choose plural forms). A page asks
    /// for the same few (its count, its page number) again and again, so each thread
    /// remembers the last few hundred it formatted.
    pub fn f(self, id: &str, args: &[(&str, Arg<'_>)]) -> String {
        MEMO.with(|memo| {
            let Ok(mut memo) = memo.try_borrow_mut() else {
                return self.format(id, args);
            };
            if let Some(found) = memo.find(self, id, args) {
                return found.to_owned();
            }
            let text = self.format(id, args);
            memo.keep(self, id, args, &text);
            text
        })
    }

    fn format(self, id: &str, args: &[(&str, Arg<'_>)]) -> String {
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

    /// A calendar date as this language writes it («7 декабря 2026 г.», "December 7, 2026").
    pub fn date(self, year: i32, month: u32, day: u32) -> String {
        let index = usize::try_from(month).unwrap_or(0).saturating_sub(1);
        let Some(pattern) = self.language().months.get(index) else {
            return format!("{year:04}-{month:02}-{day:02}");
        };
        let mut out = String::with_capacity(pattern.len() + 8);
        let (mut days, mut years) = (itoa::Buffer::new(), itoa::Buffer::new());
        let (day, year) = (days.format(day), years.format(year));
        for c in pattern.chars() {
            match c {
                DAY_MARK => out.push_str(day),
                YEAR_MARK => out.push_str(year),
                c => out.push(c),
            }
        }
        out
    }

    /// This language's name, as it calls itself (for the switcher), as HTML.
    pub fn own_name(self) -> Html {
        Html(&self.language().own_name)
    }
}

thread_local! {
    static MEMO: std::cell::RefCell<Memo> = std::cell::RefCell::new(Memo::default());
}

/// The messages with arguments this thread formatted last (see [`Lang::f`]), by a hash
/// of what was asked; a hit is compared in full before it is used.
#[derive(Default)]
struct Memo {
    entries: FxHashMap<u64, MemoEntry>,
}

struct MemoEntry {
    lang: Lang,
    id: String,
    args: Vec<(String, Arg<'static>)>,
    text: String,
}

fn memo_key(lang: Lang, id: &str, args: &[(&str, Arg<'_>)]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = rustc_hash::FxHasher::default();
    lang.0.hash(&mut h);
    id.hash(&mut h);
    for (name, value) in args {
        name.hash(&mut h);
        match value {
            Arg::Number(n) => n.to_bits().hash(&mut h),
            Arg::Text(t) => t.hash(&mut h),
        }
    }
    h.finish()
}

impl Memo {
    /// Enough for the messages of many pages; cleared when full.
    const CAPACITY: usize = 512;

    fn find(&self, lang: Lang, id: &str, args: &[(&str, Arg<'_>)]) -> Option<&str> {
        let e = self.entries.get(&memo_key(lang, id, args))?;
        let same = e.lang == lang
            && e.id == id
            && e.args.len() == args.len()
            && e.args.iter().zip(args).all(|((n1, v1), (n2, v2))| {
                n1 == n2
                    && match (v1, v2) {
                        (Arg::Number(a), Arg::Number(b)) => a.to_bits() == b.to_bits(),
                        (Arg::Text(a), Arg::Text(b)) => a == b,
                        _ => false,
                    }
            });
        same.then_some(e.text.as_str())
    }

    fn keep(&mut self, lang: Lang, id: &str, args: &[(&str, Arg<'_>)], text: &str) {
        if self.entries.len() >= Self::CAPACITY {
            self.entries.clear();
        }
        let entry = MemoEntry {
            lang,
            id: id.to_owned(),
            args: args
                .iter()
                .map(|(n, v)| {
                    let v = match v {
                        Arg::Number(x) => Arg::Number(*x),
                        Arg::Text(t) => Arg::Text(Cow::Owned(t.clone().into_owned())),
                    };
                    ((*n).to_owned(), v)
                })
                .collect(),
            text: text.to_owned(),
        };
        self.entries.insert(memo_key(lang, id, args), entry);
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
        // Qualities that are not numbers in (0, 1] are ignored, never trusted or sorted.
        assert_eq!(
            Lang::from_accept_language("en;q=NaN, de;q=0.9, ru;q=0.5, en;q=inf, fr;q=NaN"),
            Some(ru())
        );
        assert_eq!(Lang::from_accept_language("ru;q=2, en;q=0.1"), Some(en()));
        assert_eq!(Lang::from_accept_language("ru;q=-1"), None);
        let flood = "xx;q=NaN,".repeat(10_000) + "ru";
        assert_eq!(
            Lang::from_accept_language(&flood),
            None,
            "only the first 64 ranges count"
        );
        assert_eq!(Lang::from_accept_language(" RU ; q=0.8 "), Some(ru()));
    }

    #[test]
    fn amounts_follow_the_language() {
        let money = |lang: Lang, cents: i64| lang.money(cents).to_string();
        assert_eq!(money(en(), 123_456), "1,234.56");
        assert_eq!(money(ru(), 123_456), "1\u{a0}234,56");
        assert_eq!(money(ru(), 1_234_550), "12\u{a0}345,50");
        assert_eq!(money(en(), 123_456_700), "1,234,567.00");
        assert_eq!(money(ru(), 123_456_700), "1\u{a0}234\u{a0}567,00");
        assert_eq!(money(en(), 99_999), "999.99");
        assert_eq!(money(ru(), 50), "0,50");
        assert_eq!(money(ru(), 5), "0,05");
        assert_eq!(money(en(), 0), "0.00");
        assert_eq!(money(en(), -150), "-1.50");
        assert_eq!(
            money(en(), i64::MIN).len(),
            "-92,233,720,368,547,758.08".len()
        );
    }

    #[test]
    fn messages_are_html_once_for_templates_and_plain_for_code() {
        assert_eq!(
            en().t("passwords-differ"),
            "The two password fields didn't match."
        );
        assert_eq!(
            en().h("passwords-differ").to_string(),
            "The two password fields didn&#39;t match."
        );
    }

    #[test]
    fn formatted_messages_are_remembered_exactly() {
        for n in 0..2000_u64 {
            let expected = if n == 1 {
                "1 product".to_owned()
            } else {
                format!("{n} products")
            };
            assert_eq!(en().f("products-count", &[("count", n.into())]), expected);
            assert_eq!(en().f("products-count", &[("count", n.into())]), expected);
        }
        assert_eq!(
            ru().f("products-count", &[("count", 21_u64.into())]),
            "21 товар"
        );
        assert_eq!(
            en().f("products-count", &[("count", 21_u64.into())]),
            "21 products"
        );
        let a = en().f("verify-text", &[("email", "a@example.com".into())]);
        let b = en().f("verify-text", &[("email", "b@example.com".into())]);
        assert!(a.contains("a@example.com") && b.contains("b@example.com"));
    }

    #[test]
    fn dates_are_written_as_each_language_writes_them() {
        assert_eq!(en().date(2026, 12, 7), "December 7, 2026");
        assert_eq!(ru().date(2026, 12, 7), "7 декабря 2026 г.");
        assert_eq!(ru().date(2026, 3, 1), "1 марта 2026 г.");
        assert_eq!(en().date(2026, 13, 1), "2026-13-01", "no such month");
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
