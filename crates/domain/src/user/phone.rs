use std::fmt;
use std::str::FromStr;

use super::Country;

/// A valid phone number, held in E.164 form (`+79123456789`).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Phone(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("Enter the phone number in international form, starting with + and the country code.")]
    NeedsInternationalForm,
    #[error("Enter a valid phone number.")]
    Invalid,
}

impl Phone {
    const MAX_INPUT_LEN: usize = 64;

    /// Reads a number in international form, or in national form when `country` says
    /// which country's numbering plan applies.
    ///
    /// # Errors
    /// [`PhoneError::NeedsInternationalForm`] for a national number without a country,
    /// [`PhoneError::Invalid`] for anything that is not a valid number.
    pub fn parse(input: &str, country: Option<Country>) -> Result<Self, PhoneError> {
        let input = input.trim();
        if input.len() > Self::MAX_INPUT_LEN || !input.chars().any(|c| c.is_ascii_digit()) {
            return Err(PhoneError::Invalid);
        }
        let region = if input.starts_with('+') {
            None
        } else {
            let country = country.ok_or(PhoneError::NeedsInternationalForm)?;
            Some(
                phonenumber::country::Id::from_str(country.code())
                    .map_err(|_| PhoneError::Invalid)?,
            )
        };
        let number = phonenumber::parse(region, input).map_err(|_| PhoneError::Invalid)?;
        if !phonenumber::is_valid(&number) {
            return Err(PhoneError::Invalid);
        }
        Ok(Self(
            number.format().mode(phonenumber::Mode::E164).to_string(),
        ))
    }

    /// Rebuilds a number already stored in E.164 form.
    ///
    /// # Errors
    /// [`PhoneError`] when the stored value is not a valid E.164 number.
    pub fn from_e164(value: &str) -> Result<Self, PhoneError> {
        if !value.starts_with('+') {
            return Err(PhoneError::Invalid);
        }
        Self::parse(value, None)
    }

    pub fn e164(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Phone({})", self.0)
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_international_numbers_to_e164() {
        let phone = Phone::parse("+7 912 345-67-89", None).unwrap();
        assert_eq!(phone.e164(), "+79123456789");
    }

    #[test]
    fn reads_national_numbers_in_the_chosen_country() {
        let ru = Country::parse("RU").unwrap();
        assert_eq!(
            Phone::parse("8 912 345-67-89", Some(ru)).unwrap().e164(),
            "+79123456789"
        );
        let de = Country::parse("DE").unwrap();
        assert_eq!(
            Phone::parse("030 1234567", Some(de)).unwrap().e164(),
            "+49301234567"
        );
    }

    #[test]
    fn asks_for_international_form_without_a_country() {
        assert_eq!(
            Phone::parse("912 345-67-89", None),
            Err(PhoneError::NeedsInternationalForm)
        );
    }

    #[test]
    fn refuses_invalid_numbers() {
        for bad in ["+1", "+7 000", "hello", "+99 123 456", "", &"9".repeat(100)] {
            assert_eq!(Phone::parse(bad, None), Err(PhoneError::Invalid), "{bad:?}");
        }
    }

    #[test]
    fn round_trips_through_storage() {
        let phone = Phone::parse("+44 20 7946 0958", None).unwrap();
        assert_eq!(Phone::from_e164(phone.e164()).unwrap(), phone);
    }
}
