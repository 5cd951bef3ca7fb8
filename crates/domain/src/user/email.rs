use std::fmt;

/// A syntactically valid email address.
///
/// It is kept as the user typed it except for the domain, which is lowercased; its
/// identity ([`Email::key`]) is the fully lowercased form, so `Ann@Example.com` and
/// `ann@example.com` are the same account.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Email {
    value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("Enter an email address.")]
    Empty,
    #[error("Ensure the email address has at most {max} characters.", max = Email::MAX_LEN)]
    TooLong,
    #[error("Enter a valid email address.")]
    Invalid,
    /// A letter that imitates a plain one (the Kelvin sign K for `K`, `İ`): it would share
    /// its account key with the plain address while mail goes elsewhere.
    #[error(
        "Type the address with ordinary letters: it contains a character that only looks like one."
    )]
    LookAlike,
}

impl Email {
    pub const MAX_LEN: usize = 254;

    /// Validates and normalises an address.
    ///
    /// # Errors
    /// [`EmailError`] when the input is empty, longer than 254 characters, or not of the
    /// form `local@domain` with a plain (unquoted) local part and a dotted domain name;
    /// [`EmailError::LookAlike`] when a character of it lowercases to plain ASCII.
    pub fn parse(input: &str) -> Result<Self, EmailError> {
        let value = normal_form(input)?;
        // Looked for in the input: storing lowercases the domain, which would turn the
        // Kelvin sign there into a plain `k` before anything could see it.
        if imitates_ascii(input) {
            return Err(EmailError::LookAlike);
        }
        Ok(Self {
            value: value.into_owned(),
        })
    }

    /// As [`Email::parse`], keeping the string's buffer when it is in normal form already
    /// (as stored addresses are: every product row read carries its owner's). Stored
    /// addresses are read as they were accepted: one stored before look-alike letters
    /// were refused still reads, so that its account (and its products' pages) work.
    ///
    /// # Errors
    /// As [`Email::parse`].
    pub fn parse_owned(input: String) -> Result<Self, EmailError> {
        let changed = match normal_form(&input)? {
            std::borrow::Cow::Borrowed(kept) if kept.len() == input.len() => None,
            other => Some(other.into_owned()),
        };
        Ok(Self {
            value: changed.unwrap_or(input),
        })
    }

    /// The address as stored and shown: the local part as given, the domain lowercased.
    pub fn as_str(&self) -> &str {
        &self.value
    }

    /// The case-insensitive identity used for uniqueness and look-ups. No letter that
    /// [`Email::parse`] accepts lowercases from outside ASCII into it, so the key of an
    /// address is never the key of another address that mail reaches differently.
    pub fn key(&self) -> String {
        self.value.to_lowercase()
    }
}

/// Whether a character outside ASCII in `address` lowercases to (or through) an ASCII
/// one: only U+212A KELVIN SIGN (to `k`) and U+0130 (to `i` and a combining dot) do.
fn imitates_ascii(address: &str) -> bool {
    !address.is_ascii()
        && address
            .chars()
            .any(|c| !c.is_ascii() && c.to_lowercase().any(|l| l.is_ascii()))
}

/// The checked address as it is stored: trimmed, its domain lowercased; borrowed from
/// `input` when that is the stored form already.
fn normal_form(input: &str) -> Result<std::borrow::Cow<'_, str>, EmailError> {
    if plainly_stored(input.as_bytes()) {
        return Ok(std::borrow::Cow::Borrowed(input));
    }
    checked_form(input)
}

/// Whether `address` is an ASCII address in the form [`checked_form`] keeps as it is:
/// what nearly every address read back from storage is (every product row carries its
/// owner's). One pass over each part's bytes, against the five or six passes of the
/// full check; a no only means "ask the full check".
fn plainly_stored(address: &[u8]) -> bool {
    if address.len() > Email::MAX_LEN {
        return false;
    }
    let Some(at) = address.iter().rposition(|&b| b == b'@') else {
        return false;
    };
    let (local, domain) = address.split_at(at);
    let domain = domain.get(1..).unwrap_or_default();
    plain_local(local) && plain_domain(domain)
}

/// A dot-atom local part in ASCII: 1 to 64 bytes of [`LOCAL_ASCII`] (which has no `@`
/// and no space), no dot at either end or next to another.
fn plain_local(local: &[u8]) -> bool {
    if local.is_empty() || local.len() > 64 {
        return false;
    }
    let mut after_dot = true; // A dot first is refused as a dot after a dot is.
    for &b in local {
        let dot = b == b'.';
        if !LOCAL_ASCII[usize::from(b)] || (dot && after_dot) {
            return false;
        }
        after_dot = dot;
    }
    !after_dot
}

/// A lowercase ASCII domain name of two labels or more: letters, digits and inner
/// hyphens, at most 63 to a label, the last of letters only and at least two.
fn plain_domain(domain: &[u8]) -> bool {
    let (mut dots, mut label, mut alphabetic, mut previous) = (0, 0, true, b'.');
    for &b in domain {
        if b == b'.' {
            if label == 0 || previous == b'-' {
                return false;
            }
            (dots, label, alphabetic) = (dots + 1, 0, true);
        } else if b.is_ascii_lowercase() || b.is_ascii_digit() || (b == b'-' && label > 0) {
            label += 1;
            alphabetic &= b.is_ascii_lowercase();
            if label > 63 {
                return false;
            }
        } else {
            return false;
        }
        previous = b;
    }
    dots > 0 && label >= 2 && alphabetic && previous != b'-'
}

/// [`normal_form`] for any input: trims, counts characters, lowercases the domain.
fn checked_form(input: &str) -> Result<std::borrow::Cow<'_, str>, EmailError> {
    let trimmed = crate::trim(input);
    if trimmed.is_empty() {
        return Err(EmailError::Empty);
    }
    // No text has more characters than bytes: most addresses need no counting.
    let too_long = |s: &str| s.len() > Email::MAX_LEN && crate::char_len(s) > Email::MAX_LEN;
    if too_long(trimmed) {
        return Err(EmailError::TooLong);
    }
    let (local, domain) = trimmed.rsplit_once('@').ok_or(EmailError::Invalid)?;
    // The domain is checked as it will be stored: lowercasing can change it (`İ`
    // becomes `i` plus a combining dot), and what is stored must parse again.
    let lowered = !domain.is_ascii() || domain.bytes().any(|b| b.is_ascii_uppercase());
    let lowercase_domain = if lowered {
        std::borrow::Cow::Owned(domain.to_lowercase())
    } else {
        std::borrow::Cow::Borrowed(domain)
    };
    if !valid_local(local) || !valid_domain(&lowercase_domain) {
        return Err(EmailError::Invalid);
    }
    if !lowered {
        return Ok(std::borrow::Cow::Borrowed(trimmed));
    }
    let value = format!("{local}@{lowercase_domain}");
    if too_long(&value) {
        return Err(EmailError::TooLong);
    }
    Ok(std::borrow::Cow::Owned(value))
}

/// The dot-atom form of RFC 5322 local parts (plus non-ASCII letters, RFC 6531). Quoted
/// local parts are refused: nobody needs them and they make header injection easier.
fn valid_local(local: &str) -> bool {
    if local.is_empty() || local.len() > 64 || local.starts_with('.') || local.ends_with('.') {
        return false;
    }
    if local.contains("..") {
        return false;
    }
    // Each byte of ASCII text is its character: one look-up per byte, no decoding.
    if local.is_ascii() {
        return local.bytes().all(|b| LOCAL_ASCII[usize::from(b)]);
    }
    local
        .chars()
        .all(|c| c.is_alphanumeric() || u8::try_from(c).is_ok_and(|b| LOCAL_ASCII[usize::from(b)]))
}

/// The ASCII characters of a dot-atom local part: letters, digits, RFC 5322's specials
/// and the dot.
const LOCAL_ASCII: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'!' | b'#'
                    | b'$'
                    | b'%'
                    | b'&'
                    | b'\''
                    | b'*'
                    | b'+'
                    | b'-'
                    | b'/'
                    | b'='
                    | b'?'
                    | b'^'
                    | b'_'
                    | b'`'
                    | b'{'
                    | b'|'
                    | b'}'
                    | b'~'
                    | b'.'
            );
        b += 1;
    }
    table
};

fn valid_domain(domain: &str) -> bool {
    if domain.eq_ignore_ascii_case("localhost") {
        return true;
    }
    if domain.is_ascii() {
        return valid_ascii_domain(domain.as_bytes());
    }
    valid_domain_by_chars(domain)
}

/// The rules of [`valid_domain_by_chars`] for the domains nearly every address has, in
/// bytes: every character of ASCII text is one byte, and a letter or digit in ASCII is
/// one in Unicode.
fn valid_ascii_domain(domain: &[u8]) -> bool {
    let mut labels = 0;
    let mut last: &[u8] = &[];
    for label in domain.split(|&b| b == b'.') {
        let valid = !label.is_empty()
            && label.len() <= 63
            && label.first() != Some(&b'-')
            && label.last() != Some(&b'-')
            && label
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || *b == b'-');
        if !valid {
            return false;
        }
        labels += 1;
        last = label;
    }
    labels >= 2 && last.iter().all(u8::is_ascii_alphabetic) && last.len() >= 2
}

fn valid_domain_by_chars(domain: &str) -> bool {
    let mut labels = 0;
    let mut last = "";
    for label in domain.split('.') {
        let valid = !label.is_empty()
            && (label.len() <= 63 || label.chars().count() <= 63)
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_alphanumeric() || c == '-');
        if !valid {
            return false;
        }
        labels += 1;
        last = label;
    }
    labels >= 2 && last.chars().all(char::is_alphabetic) && last.chars().count() >= 2
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.value)
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Email({})", self.value)
    }
}

#[cfg(test)]
mod tests;
