use std::collections::HashSet;
use std::fmt;
use std::sync::LazyLock;

/// A new password that satisfies the password policy. The plain text never shows in
/// `Debug` output, so it cannot leak through a log line.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

/// Why a password was refused; a password can break several rules at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordProblem {
    #[error("This password is too short. It must contain at least {min} characters.", min = Password::MIN_LEN)]
    TooShort,
    #[error("This password is too long. It must contain at most {max} characters.", max = Password::MAX_LEN)]
    TooLong,
    #[error("This password is entirely numeric.")]
    EntirelyNumeric,
    #[error("This password is too common.")]
    TooCommon,
    #[error("The password is too similar to the {0}.")]
    TooSimilar(Attribute),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attribute {
    Email,
    FirstName,
    LastName,
}

impl fmt::Display for Attribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Email => "email address",
            Self::FirstName => "first name",
            Self::LastName => "last name",
        })
    }
}

/// Every rule a candidate password broke, in a stable order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .problems.iter().map(ToString::to_string).collect::<Vec<_>>().join(" "))]
pub struct PasswordError {
    pub problems: Vec<PasswordProblem>,
}

/// What the similarity rule compares a password with.
#[derive(Debug, Clone, Copy, Default)]
pub struct PasswordContext<'a> {
    pub email: Option<&'a str>,
    pub first_name: Option<&'a str>,
    pub last_name: Option<&'a str>,
}

/// Django's list of 20 000 common passwords (BSD licence), lowercased.
static COMMON: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| include_str!("common-passwords.txt").lines().collect());

impl Password {
    pub const MIN_LEN: usize = 8;
    pub const MAX_LEN: usize = 1024;
    /// The similarity threshold Django uses by default.
    const MAX_SIMILARITY: f64 = 0.7;

    /// Checks a candidate against the policy: 8..=1024 characters (never truncated), not
    /// entirely numeric, not in the common-password list, not too similar to the email or
    /// names.
    ///
    /// # Errors
    /// [`PasswordError`] listing every rule the candidate breaks.
    pub fn parse(candidate: &str, context: PasswordContext<'_>) -> Result<Self, PasswordError> {
        let mut problems = Vec::new();
        let len = crate::char_len(candidate);
        if len < Self::MIN_LEN {
            problems.push(PasswordProblem::TooShort);
        }
        if len > Self::MAX_LEN {
            problems.push(PasswordProblem::TooLong);
        }
        if !candidate.is_empty() && candidate.chars().all(|c| c.is_numeric()) {
            problems.push(PasswordProblem::EntirelyNumeric);
        }
        if COMMON.contains(candidate.trim().to_lowercase().as_str()) {
            problems.push(PasswordProblem::TooCommon);
        }
        if len <= Self::MAX_LEN {
            let attrs = [
                (Attribute::Email, context.email),
                (Attribute::FirstName, context.first_name),
                (Attribute::LastName, context.last_name),
            ];
            if let Some((attr, _)) = attrs
                .iter()
                .find(|(_, v)| v.is_some_and(|v| too_similar(candidate, v)))
            {
                problems.push(PasswordProblem::TooSimilar(*attr));
            }
        }
        if problems.is_empty() {
            Ok(Self(candidate.to_owned()))
        } else {
            Err(PasswordError { problems })
        }
    }

    /// Wraps a password produced by the service itself (a generated reset password),
    /// which is built to satisfy the policy and is not checked again.
    pub fn generated(value: String) -> Self {
        Self(value)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// Django's `UserAttributeSimilarityValidator`: the password is compared with the whole
/// value and with each of its word-separated parts, using the multiset overlap ratio
/// (difflib's `quick_ratio`), an upper bound of the edit similarity that is cheap.
fn too_similar(password: &str, value: &str) -> bool {
    let password = password.to_lowercase();
    let value = value.to_lowercase();
    let pw_len = password.chars().count();
    // A password much longer than the attribute cannot reach the threshold.
    if pw_len as f64 >= 10.0 * value.chars().count() as f64 {
        return false;
    }
    std::iter::once(value.as_str())
        .chain(value.split(|c: char| !c.is_alphanumeric()))
        .filter(|part| !part.is_empty())
        .any(|part| quick_ratio(&password, part) >= Password::MAX_SIMILARITY)
}

fn quick_ratio(a: &str, b: &str) -> f64 {
    let mut counts = std::collections::HashMap::<char, i64>::new();
    for c in b.chars() {
        *counts.entry(c).or_default() += 1;
    }
    let mut matches = 0_u32;
    for c in a.chars() {
        if let Some(n) = counts.get_mut(&c).filter(|n| **n > 0) {
            *n -= 1;
            matches += 1;
        }
    }
    let total = a.chars().count() + b.chars().count();
    if total == 0 {
        return 1.0;
    }
    2.0 * f64::from(matches) / total as f64
}

/// A password as typed at sign-in: not checked against the policy (an old password may
/// predate it) but bounded, so nobody can make the server hash a megabyte.
#[derive(Clone)]
pub struct PasswordAttempt(String);

impl PasswordAttempt {
    /// Returns `None` for input longer than the maximum password length.
    pub fn new(value: &str) -> Option<Self> {
        (crate::char_len(value) <= Password::MAX_LEN).then(|| Self(value.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordAttempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordAttempt(<redacted>)")
    }
}

/// An argon2id hash in PHC string format, as produced by the password hasher port.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// Accepts a PHC string (`$algorithm$...`); the hasher adapter checks the rest.
    pub fn from_phc(value: String) -> Option<Self> {
        (value.starts_with('$') && value.len() < 512 && !value.contains(char::is_whitespace))
            .then_some(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(pw: &str) -> Result<Password, PasswordError> {
        Password::parse(pw, PasswordContext::default())
    }

    fn problems(pw: &str, ctx: PasswordContext<'_>) -> Vec<PasswordProblem> {
        Password::parse(pw, ctx)
            .err()
            .map(|e| e.problems)
            .unwrap_or_default()
    }

    #[test]
    fn accepts_a_reasonable_password() {
        assert!(check("correct horse battery staple").is_ok());
        assert!(check("Tr1cky-Walrus").is_ok());
    }

    #[test]
    fn length_is_counted_in_characters_and_never_truncated() {
        assert_eq!(
            problems("short7!", Default::default()),
            vec![PasswordProblem::TooShort]
        );
        assert!(check("ÿÿÿÿÿÿÿÿ").is_ok(), "8 characters of 2 bytes each");
        let max = "x7Gq".repeat(256);
        assert!(check(&max).is_ok());
        let over = format!("{max}z");
        assert_eq!(
            problems(&over, Default::default()),
            vec![PasswordProblem::TooLong]
        );
    }

    #[test]
    fn refuses_numeric_and_common_passwords() {
        assert_eq!(
            problems("8675309123", Default::default()),
            vec![PasswordProblem::EntirelyNumeric]
        );
        assert_eq!(
            problems("password", Default::default()),
            vec![PasswordProblem::TooCommon]
        );
        assert_eq!(
            problems("PassWord1", Default::default()),
            vec![PasswordProblem::TooCommon]
        );
        assert_eq!(
            problems("12345678", Default::default()),
            vec![PasswordProblem::EntirelyNumeric, PasswordProblem::TooCommon]
        );
    }

    #[test]
    fn refuses_passwords_similar_to_the_email_or_names() {
        let ctx = PasswordContext {
            email: Some("margarethe.schulz@example.com"),
            first_name: Some("Wilhelmina"),
            last_name: Some("Oberhauser"),
        };
        assert_eq!(
            problems("margarethe1", ctx),
            vec![PasswordProblem::TooSimilar(Attribute::Email)]
        );
        assert_eq!(
            problems("wilhelmina!", ctx),
            vec![PasswordProblem::TooSimilar(Attribute::FirstName)]
        );
        assert_eq!(
            problems("Oberhauser", ctx),
            vec![PasswordProblem::TooSimilar(Attribute::LastName)]
        );
        assert!(Password::parse("velvet thunder 42", ctx).is_ok());
    }

    #[test]
    fn debug_output_hides_the_secret() {
        let pw = check("correct horse battery staple").unwrap();
        assert!(!format!("{pw:?}").contains("horse"));
        let attempt = PasswordAttempt::new("hunter2-secret").unwrap();
        assert!(!format!("{attempt:?}").contains("hunter2"));
        assert!(PasswordAttempt::new(&"a".repeat(1025)).is_none());
    }

    #[test]
    fn error_message_lists_every_problem() {
        let err = check("1234").unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("too short") && text.contains("entirely numeric"),
            "{text}"
        );
    }
}
