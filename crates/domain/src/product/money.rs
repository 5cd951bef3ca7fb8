use std::fmt;

/// A non-negative amount with exactly two decimal places, held as integer minor units
/// (cents) so that `"199.99"` goes in and comes out unchanged, never through a float.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money {
    cents: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("Enter a number.")]
    NotANumber,
    #[error("Ensure this value is greater than or equal to 0.")]
    Negative,
    #[error("Ensure that there are no more than 2 decimal places.")]
    TooPrecise,
    #[error("Ensure that there are no more than {digits} digits before the decimal point.", digits = Money::MAX_WHOLE_DIGITS)]
    TooLarge,
}

impl Money {
    /// Twelve whole digits keep every amount far inside `i64` and inside PostgreSQL's
    /// `bigint`, with room to sum a page of prices.
    pub const MAX_WHOLE_DIGITS: usize = 12;

    /// Parses a plain decimal such as `"199.99"`, `"5"`, `"0.5"`, `"12."`.
    ///
    /// # Errors
    /// [`MoneyError`] for anything else: signs, exponents, separators, more than two
    /// decimals, or more than twelve whole digits.
    pub fn parse(input: &str) -> Result<Self, MoneyError> {
        let s = input.trim();
        if let Some(rest) = s.strip_prefix('-') {
            return if is_plain_decimal(rest) {
                if rest.chars().all(|c| c == '0' || c == '.') {
                    // "-0.00" is zero; refusing it would only confuse.
                    Self::parse(rest)
                } else {
                    Err(MoneyError::Negative)
                }
            } else {
                Err(MoneyError::NotANumber)
            };
        }
        if !is_plain_decimal(s) {
            return Err(MoneyError::NotANumber);
        }
        let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
        if frac.len() > 2 {
            return Err(MoneyError::TooPrecise);
        }
        let whole = whole.trim_start_matches('0');
        if whole.len() > Self::MAX_WHOLE_DIGITS {
            return Err(MoneyError::TooLarge);
        }
        let whole: i64 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| MoneyError::NotANumber)?
        };
        let frac: i64 = format!("{frac:0<2}")
            .parse()
            .map_err(|_| MoneyError::NotANumber)?;
        Ok(Self {
            cents: whole * 100 + frac,
        })
    }

    /// Rebuilds an amount from stored minor units.
    ///
    /// # Errors
    /// [`MoneyError`] for negative or out-of-range values.
    pub fn from_cents(cents: i64) -> Result<Self, MoneyError> {
        if cents < 0 {
            return Err(MoneyError::Negative);
        }
        if cents >= 10_i64.pow(Self::MAX_WHOLE_DIGITS as u32 + 2) {
            return Err(MoneyError::TooLarge);
        }
        Ok(Self { cents })
    }

    pub fn cents(&self) -> i64 {
        self.cents
    }
}

/// Digits with at most one dot and at least one digit; nothing else.
fn is_plain_decimal(s: &str) -> bool {
    let mut dots = 0;
    let mut digits = 0;
    for c in s.chars() {
        match c {
            '0'..='9' => digits += 1,
            '.' => dots += 1,
            _ => return false,
        }
    }
    digits > 0 && dots <= 1
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use fmt::Write;
        // Digit by digit: `{:02}` goes through the formatter's padding, which was most of
        // what showing the prices of a list page cost (700 instructions each). Money is
        // never negative, so the cents are the absolute value.
        let cents = self.cents.unsigned_abs();
        let part = cents % 100;
        let digit = |n: u64| char::from(b'0' + u8::try_from(n % 10).unwrap_or(0));
        f.write_str(itoa::Buffer::new().format(cents / 100))?;
        f.write_char('.')?;
        f.write_char(digit(part / 10))?;
        f.write_char(digit(part))
    }
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Money({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn shows_whole_units_a_dot_and_two_digits(cents in 0i64..100_000_000_000_000) {
            let money = Money::from_cents(cents).map_err(|e| proptest::test_runner::TestCaseError::fail(e.to_string()))?;
            proptest::prop_assert_eq!(money.to_string(), format!("{}.{:02}", cents / 100, cents % 100));
            proptest::prop_assert_eq!(Money::parse(&money.to_string()).ok(), Some(money));
        }
    }

    #[test]
    fn round_trips_exact_decimals() {
        for (input, shown, cents) in [
            ("199.99", "199.99", 19_999),
            ("0", "0.00", 0),
            ("5", "5.00", 500),
            ("0.5", "0.50", 50),
            ("12.", "12.00", 1200),
            (".75", "0.75", 75),
            ("007.10", "7.10", 710),
            ("0.1", "0.10", 10),
            ("999999999999.99", "999999999999.99", 99_999_999_999_999),
            ("-0.00", "0.00", 0),
        ] {
            let m = Money::parse(input).unwrap();
            assert_eq!(m.to_string(), shown, "{input}");
            assert_eq!(m.cents(), cents, "{input}");
            assert_eq!(Money::from_cents(cents).unwrap(), m);
        }
    }

    #[test]
    fn refuses_negative_over_precise_and_non_numeric_input() {
        assert_eq!(Money::parse("-1"), Err(MoneyError::Negative));
        assert_eq!(Money::parse("-0.01"), Err(MoneyError::Negative));
        assert_eq!(Money::parse("1.999"), Err(MoneyError::TooPrecise));
        assert_eq!(Money::parse("0.001"), Err(MoneyError::TooPrecise));
        assert_eq!(Money::parse("1000000000000"), Err(MoneyError::TooLarge));
        for bad in [
            "", "abc", "1,50", "1e3", "+5", "1.2.3", ".", "NaN", "inf", "١٢", " 1 2 ",
        ] {
            assert_eq!(Money::parse(bad), Err(MoneyError::NotANumber), "{bad:?}");
        }
    }

    #[test]
    fn stored_values_are_checked() {
        assert_eq!(Money::from_cents(-1), Err(MoneyError::Negative));
        assert_eq!(Money::from_cents(i64::MAX), Err(MoneyError::TooLarge));
    }
}
