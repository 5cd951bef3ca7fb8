use std::fmt;

use isocountry::CountryCode;

/// An ISO 3166-1 alpha-2 country, with its English display name.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Country(CountryCode);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Select a valid country.")]
pub struct CountryError;

impl Country {
    /// Accepts a two-letter code in either case (`"de"`, `"DE"`).
    ///
    /// # Errors
    /// [`CountryError`] for anything that is not an assigned alpha-2 code.
    pub fn parse(code: &str) -> Result<Self, CountryError> {
        let code = code.trim();
        if code.len() != 2 {
            return Err(CountryError);
        }
        CountryCode::for_alpha2_caseless(code)
            .map(Self)
            .map_err(|_| CountryError)
    }

    pub fn code(&self) -> &'static str {
        self.0.alpha2()
    }

    pub fn name(&self) -> &'static str {
        self.0.name()
    }

    /// Every country, sorted by display name, for select boxes.
    pub fn all() -> Vec<Country> {
        let mut all: Vec<Country> = CountryCode::iter().map(|c| Country(*c)).collect();
        all.sort_by_key(|c| c.name());
        all
    }
}

impl fmt::Debug for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Country({})", self.code())
    }
}

impl fmt::Display for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_codes_in_any_case() {
        assert_eq!(Country::parse("de").unwrap().code(), "DE");
        assert_eq!(Country::parse("FR").unwrap().name(), "France");
    }

    #[test]
    fn refuses_unknown_codes() {
        for bad in ["", "XX", "DEU", "d", "ÄÖ", "1A"] {
            assert_eq!(Country::parse(bad), Err(CountryError), "{bad:?}");
        }
    }

    #[test]
    fn lists_every_country_by_name() {
        let all = Country::all();
        assert!(all.len() >= 240);
        assert!(all.windows(2).all(|w| w[0].name() <= w[1].name()));
    }
}
