//! Finding products: the words a product is found by, what a search asks for, and the
//! filters and orders of a listing.
//!
//! The search document is built here, in Rust, and both databases index the same terms:
//! a query then finds the same products in the same order on SQLite and PostgreSQL,
//! which their own full-text engines (each with its own stemmer and ranking) would not.

use std::collections::BTreeMap;

use rust_stemmers::{Algorithm, Stemmer};

use super::{CategoryId, Money};
use crate::fields::{FieldErrors, Input, Message};
use crate::user::UserId;

/// A term longer than this is cut: nobody types it, and it would bloat the index.
const MAX_TERM_CHARS: usize = 40;
/// A query is read up to this many characters; the rest is ignored, not refused.
pub const MAX_QUERY_CHARS: usize = 200;
/// Terms of each kind a query keeps at most, so that no query's work grows with its
/// length.
const MAX_QUERY_TERMS: usize = 8;

/// Words too common to find anything by; they are neither indexed nor searched, in
/// both languages.
const STOP_WORDS: [&str; 34] = [
    "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "in", "is", "it", "of", "on",
    "or", "the", "to", "with", "а", "в", "во", "и", "к", "на", "о", "об", "от", "по", "с", "со",
    "у", "для", "из",
];

/// Separates a document's name from its description, so that a phrase never spans
/// the two.
const PART_BREAK: &str = "|";

/// The searchable terms of `text`: words (letters and digits) lowercased, `ё` read as
/// `е`, stop words left out, each stemmed with the stemmer of its script (Cyrillic
/// words in Russian, others in English).
pub fn terms(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .filter_map(term)
        .collect()
}

fn term(word: &str) -> Option<String> {
    let mut lower = String::with_capacity(word.len());
    for c in word.chars().take(MAX_TERM_CHARS) {
        for l in c.to_lowercase() {
            lower.push(if l == 'ё' { 'е' } else { l });
        }
    }
    if STOP_WORDS.contains(&lower.as_str()) {
        return None;
    }
    let cyrillic = lower.chars().any(|c| matches!(c, '\u{0400}'..='\u{04FF}'));
    let latin = lower.chars().any(|c| c.is_ascii_alphabetic());
    let stemmed = if cyrillic {
        stemmer(Algorithm::Russian).stem(&lower).into_owned()
    } else if latin {
        stemmer(Algorithm::English).stem(&lower).into_owned()
    } else {
        lower
    };
    (!stemmed.is_empty()).then_some(stemmed)
}

fn stemmer(algorithm: Algorithm) -> &'static Stemmer {
    static ENGLISH: std::sync::OnceLock<Stemmer> = std::sync::OnceLock::new();
    static RUSSIAN: std::sync::OnceLock<Stemmer> = std::sync::OnceLock::new();
    match algorithm {
        Algorithm::Russian => RUSSIAN.get_or_init(|| Stemmer::create(Algorithm::Russian)),
        _ => ENGLISH.get_or_init(|| Stemmer::create(Algorithm::English)),
    }
}

/// What a product is found by, as stored beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchDocument {
    /// The name's terms, a break, the description's terms, each surrounded by spaces:
    /// a term or a phrase is found in it as ` term `.
    pub text: String,
    /// Each distinct term with its weight: [`NAME_WEIGHT`] when the name has it, else
    /// [`DESCRIPTION_WEIGHT`].
    pub terms: BTreeMap<String, i16>,
}

/// A term of the name counts this much towards a product's relevance.
pub const NAME_WEIGHT: i16 = 2;
/// A term only the description has counts this much.
pub const DESCRIPTION_WEIGHT: i16 = 1;

impl SearchDocument {
    pub fn of(name: &str, description: &str) -> Self {
        let name_terms = terms(name);
        let description_terms = terms(description);
        let mut text = String::with_capacity(name.len() + description.len() + 8);
        text.push(' ');
        for t in name_terms
            .iter()
            .chain(std::iter::once(&PART_BREAK.to_owned()))
            .chain(&description_terms)
        {
            text.push_str(t);
            text.push(' ');
        }
        let mut weights = BTreeMap::new();
        for t in description_terms {
            weights.insert(t, DESCRIPTION_WEIGHT);
        }
        for t in name_terms {
            weights.insert(t, NAME_WEIGHT);
        }
        Self {
            text,
            terms: weights,
        }
    }

    /// The terms of a stored [`SearchDocument::text`], with their weights: what a
    /// product's entries in the index are, known without its name and description.
    pub fn terms_of_text(text: &str) -> BTreeMap<String, i16> {
        let mut weights = BTreeMap::new();
        let mut weight = NAME_WEIGHT;
        for t in text.split(' ').filter(|t| !t.is_empty()) {
            if t == PART_BREAK {
                weight = DESCRIPTION_WEIGHT;
            } else {
                weights.entry(t.to_owned()).or_insert(weight);
            }
        }
        weights
    }
}

/// A search as a person typed it: every word must be found (in the name or the
/// description), each quoted phrase must appear as written, and no `-word` may.
/// Anything else in the text is read as words; nothing a person types is an error.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct SearchQuery {
    /// The terms a product must have, each once, phrases' terms included.
    pub required: Vec<String>,
    /// Phrases of two terms or more, as they are found in [`SearchDocument::text`]
    /// (` a b `).
    pub phrases: Vec<String>,
    /// Terms a product must not have.
    pub excluded: Vec<String>,
}

impl SearchQuery {
    /// `None` for a blank query (no search at all).
    pub fn parse(raw: &str) -> Option<Self> {
        let raw: String = raw.chars().take(MAX_QUERY_CHARS).collect();
        if raw.trim().is_empty() {
            return None;
        }
        let mut query = Self::default();
        let mut rest = raw.as_str();
        while let Some(open) = rest.find('"') {
            let (before, after) = rest.split_at(open);
            query.add_words(before);
            let after = &after[1..];
            match after.find('"') {
                Some(close) => {
                    query.add_phrase(&after[..close]);
                    rest = &after[close + 1..];
                }
                None => {
                    // An unclosed quote: its words are searched as plain words.
                    rest = after;
                    break;
                }
            }
        }
        query.add_words(rest);
        query.required.truncate(MAX_QUERY_TERMS);
        query.excluded.truncate(MAX_QUERY_TERMS);
        query.phrases.truncate(MAX_QUERY_TERMS);
        Some(query)
    }

    fn add_words(&mut self, text: &str) {
        for token in text.split_whitespace() {
            match token.strip_prefix('-') {
                Some(excluded) if excluded.starts_with(char::is_alphanumeric) => {
                    for t in terms(excluded) {
                        if !self.excluded.contains(&t) {
                            self.excluded.push(t);
                        }
                    }
                }
                _ => {
                    for t in terms(token) {
                        self.require(t);
                    }
                }
            }
        }
    }

    fn add_phrase(&mut self, text: &str) {
        let words = terms(text);
        if words.len() > 1 {
            self.phrases.push(format!(" {} ", words.join(" ")));
        }
        for t in words {
            self.require(t);
        }
    }

    fn require(&mut self, term: String) {
        if !self.required.contains(&term) {
            self.required.push(term);
        }
    }

    /// Whether the query has nothing to find (only stop words, punctuation or
    /// exclusions): it finds no product.
    pub fn finds_nothing(&self) -> bool {
        self.required.is_empty()
    }
}

/// The order of a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ProductSort {
    /// Newest first: the default without a search.
    #[default]
    New,
    /// Best match first (name matches above description matches), then newest: the
    /// default with a search. Without a search it is [`ProductSort::New`].
    Relevance,
    /// Cheapest first.
    Price,
    /// Dearest first.
    PriceDescending,
    /// By name, in the order of the characters' code points.
    Name,
}

impl ProductSort {
    pub const ALL: [ProductSort; 5] = [
        Self::New,
        Self::Relevance,
        Self::Price,
        Self::PriceDescending,
        Self::Name,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Relevance => "relevance",
            Self::Price => "price",
            Self::PriceDescending => "-price",
            Self::Name => "name",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }
}

/// Which products by their state, for those who see unpublished products of others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusFilter {
    Published,
    /// Not published, for whatever reason.
    Unpublished,
    /// Unpublished by a moderator (and so not published).
    Locked,
}

impl StatusFilter {
    pub const ALL: [StatusFilter; 3] = [Self::Published, Self::Unpublished, Self::Locked];

    pub fn code(self) -> &'static str {
        match self {
            Self::Published => "published",
            Self::Unpublished => "unpublished",
            Self::Locked => "locked",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }
}

/// What a listing is narrowed to and how it is ordered. It narrows what the viewer may
/// see ([`crate::access::listing_scope`]); it never widens it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct ProductFilter {
    pub text: Option<SearchQuery>,
    pub category: Option<CategoryId>,
    pub min_price: Option<Money>,
    pub max_price: Option<Money>,
    /// Only this owner's products (the viewer's own, drafts included).
    pub owner: Option<UserId>,
    pub status: Option<StatusFilter>,
    pub sort: ProductSort,
}

/// A listing's parameters as they came, each `None` when absent.
#[derive(Debug, Clone, Copy, Default)]
pub struct FilterInput<'a> {
    pub q: Option<&'a str>,
    pub category: Option<&'a str>,
    pub min_price: Option<&'a str>,
    pub max_price: Option<&'a str>,
    pub mine: Option<&'a str>,
    pub status: Option<&'a str>,
    pub sort: Option<&'a str>,
}

impl ProductFilter {
    /// Reads a listing's parameters for `viewer` (who must be signed in for `mine`).
    /// An empty value is read as absent, as a form sends an untouched control.
    ///
    /// # Errors
    /// Every invalid value, each under its input.
    pub fn parse(input: FilterInput<'_>, viewer: Option<UserId>) -> Result<Self, FieldErrors> {
        fn given(value: Option<&str>) -> Option<&str> {
            value.map(str::trim).filter(|v| !v.is_empty())
        }
        let mut errors = FieldErrors::new();
        let mut filter = Self {
            text: input.q.and_then(SearchQuery::parse),
            ..Self::default()
        };
        if let Some(raw) = given(input.category) {
            match raw.parse::<i64>() {
                Ok(id) if id > 0 => filter.category = Some(CategoryId(id)),
                _ => errors.add(Input::Category, Message::new("filter-category-invalid")),
            }
        }
        for (raw, input, slot) in [
            (input.min_price, Input::MinPrice, &mut filter.min_price),
            (input.max_price, Input::MaxPrice, &mut filter.max_price),
        ] {
            if let Some(raw) = given(raw) {
                match Money::parse(raw) {
                    Ok(money) => *slot = Some(money),
                    Err(e) => errors.add(input, e),
                }
            }
        }
        if let (Some(min), Some(max)) = (filter.min_price, filter.max_price)
            && min.cents() > max.cents()
        {
            errors.add(Input::MaxPrice, Message::new("filter-price-range"));
        }
        match given(input.mine) {
            None | Some("0") => {}
            Some("1") => match viewer {
                Some(viewer) => filter.owner = Some(viewer),
                None => errors.add(Input::Mine, Message::new("filter-mine-sign-in")),
            },
            Some(_) => errors.add(Input::Mine, Message::new("filter-mine-invalid")),
        }
        if let Some(raw) = given(input.status) {
            match StatusFilter::parse(raw) {
                Some(status) => filter.status = Some(status),
                None => errors.add(Input::Status, Message::new("filter-status-invalid")),
            }
        }
        match given(input.sort) {
            None => {
                filter.sort = if filter.text.is_some() {
                    ProductSort::Relevance
                } else {
                    ProductSort::New
                }
            }
            Some(raw) => match ProductSort::parse(raw) {
                Some(sort) => filter.sort = sort,
                None => errors.add(Input::Sort, Message::new("filter-sort-invalid")),
            },
        }
        if filter.text.is_none() && filter.sort == ProductSort::Relevance {
            filter.sort = ProductSort::New;
        }
        errors.check()?;
        Ok(filter)
    }

    /// Whether this is the plain listing (nothing narrowed, newest first).
    pub fn is_plain(&self) -> bool {
        *self
            == Self {
                sort: ProductSort::New,
                ..Self::default()
            }
    }
}

#[cfg(test)]
mod tests;
