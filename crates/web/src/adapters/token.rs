//! HMAC-SHA-256 signed tokens: `base64url(payload) "." base64url(tag)`, where the payload
//! is `issued_at:subject` and the tag covers the purpose too, so a token made for one
//! purpose is worthless for another.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use catalog_domain::Timestamp;
use catalog_domain::ports::{SignedClaims, TokenError, TokenSigner};
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Tokens longer than this are refused before any work is done. Subjects are at most a
/// user id and a 254-character address of up to 4-byte characters (about 1 KiB, more
/// once lowercased), which the base64 payload makes a third longer: 4 KiB leaves room.
const MAX_TOKEN_LEN: usize = 4096;
/// Clocks of several servers disagree a little; more than this in the future is forged.
const CLOCK_SKEW: i64 = 300;

/// Holds the keyed HMAC state (never the raw key) and clones it for each token.
#[derive(Clone)]
pub struct HmacSigner {
    keyed: HmacSha256,
}

impl std::fmt::Debug for HmacSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HmacSigner(<key redacted>)")
    }
}

impl HmacSigner {
    /// # Errors
    /// [`hmac::digest::InvalidLength`] if the key is refused (HMAC takes any length).
    pub fn new(key: &[u8]) -> Result<Self, hmac::digest::InvalidLength> {
        Ok(Self {
            keyed: HmacSha256::new_from_slice(key)?,
        })
    }

    fn mac(&self, purpose: &str, payload: &[u8]) -> HmacSha256 {
        let mut mac = self.keyed.clone();
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(payload);
        mac
    }
}

impl TokenSigner for HmacSigner {
    fn sign(&self, purpose: &str, subject: &str, issued_at: Timestamp) -> String {
        let payload = format!("{}:{subject}", issued_at.timestamp());
        let tag = self
            .mac(purpose, payload.as_bytes())
            .finalize()
            .into_bytes();
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(payload.as_bytes()),
            URL_SAFE_NO_PAD.encode(tag)
        )
    }

    fn verify(
        &self,
        purpose: &str,
        token: &str,
        now: Timestamp,
        max_age: Duration,
    ) -> Result<SignedClaims, TokenError> {
        let claims = self.verify_signature(purpose, token)?;
        let age = now.signed_duration_since(claims.issued_at).num_seconds();
        if age < -CLOCK_SKEW {
            return Err(TokenError::Invalid);
        }
        if age > i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX) {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }

    fn fingerprint(&self, secret: &str) -> String {
        let tag = self
            .mac("fingerprint", secret.as_bytes())
            .finalize()
            .into_bytes();
        hex::encode(tag)
    }

    fn verify_signature(&self, purpose: &str, token: &str) -> Result<SignedClaims, TokenError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(TokenError::Invalid);
        }
        let (payload, tag) = token.split_once('.').ok_or(TokenError::Invalid)?;
        let payload = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| TokenError::Invalid)?;
        let tag = URL_SAFE_NO_PAD
            .decode(tag)
            .map_err(|_| TokenError::Invalid)?;
        // Constant-time comparison of the tags.
        self.mac(purpose, &payload)
            .verify_slice(&tag)
            .map_err(|_| TokenError::Invalid)?;
        let payload = String::from_utf8(payload).map_err(|_| TokenError::Invalid)?;
        let (issued, subject) = payload.split_once(':').ok_or(TokenError::Invalid)?;
        let issued = issued.parse::<i64>().map_err(|_| TokenError::Invalid)?;
        Ok(SignedClaims {
            subject: subject.to_owned(),
            issued_at: Timestamp::from_timestamp(issued, 0).ok_or(TokenError::Invalid)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    const DAY: Duration = Duration::from_secs(86_400);

    fn at(secs: i64) -> Timestamp {
        chrono::Utc
            .timestamp_opt(1_800_000_000 + secs, 0)
            .single()
            .unwrap()
    }

    fn signer() -> HmacSigner {
        HmacSigner::new(b"0123456789abcdef0123456789abcdef").unwrap()
    }

    #[test]
    fn the_longest_real_subjects_still_verify() {
        // Found by fuzzing: a long non-ASCII address made a link too long to be read.
        let email = format!("{}@example.com", "\u{10348}".repeat(240));
        assert_eq!(email.chars().count(), 252);
        let subject = format!("{}:{email}", i64::MAX);
        let token = signer().sign("email-change", &subject, at(0));
        let claims = signer()
            .verify("email-change", &token, at(60), DAY)
            .unwrap();
        assert_eq!(claims.subject, subject);
    }

    #[test]
    fn a_token_carries_its_subject_and_time() {
        let token = signer().sign("verify", "42:ann@example.com", at(0));
        let claims = signer().verify("verify", &token, at(60), DAY).unwrap();
        assert_eq!(claims.subject, "42:ann@example.com");
        assert_eq!(claims.issued_at, at(0));
        assert!(
            token
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)),
            "URL-safe"
        );
    }

    #[test]
    fn a_token_is_bound_to_its_purpose_and_key() {
        let token = signer().sign("verify", "1", at(0));
        assert_eq!(
            signer().verify("email-change", &token, at(1), DAY),
            Err(TokenError::Invalid)
        );
        let other = HmacSigner::new(b"another key, also long enough....").unwrap();
        assert_eq!(
            other.verify("verify", &token, at(1), DAY),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn any_tampering_is_detected() {
        let token = signer().sign("verify", "7", at(0));
        for i in 0..token.len() {
            let mut bytes = token.clone().into_bytes();
            bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
            let tampered = String::from_utf8(bytes).unwrap();
            if tampered != token {
                assert_eq!(
                    signer().verify("verify", &tampered, at(1), DAY),
                    Err(TokenError::Invalid),
                    "byte {i}"
                );
            }
        }
        // A token for another subject with the original tag.
        let (_, tag) = token.split_once('.').unwrap();
        let forged = format!(
            "{}.{tag}",
            URL_SAFE_NO_PAD.encode(format!("{}:8", at(0).timestamp()))
        );
        assert_eq!(
            signer().verify("verify", &forged, at(1), DAY),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn old_tokens_expire_but_keep_a_valid_signature() {
        let token = signer().sign("verify", "1", at(0));
        let three_days = 3 * DAY;
        assert!(
            signer()
                .verify("verify", &token, at(3 * 86_400), three_days)
                .is_ok()
        );
        assert_eq!(
            signer().verify("verify", &token, at(3 * 86_400 + 1), three_days),
            Err(TokenError::Expired)
        );
        assert_eq!(
            signer().verify_signature("verify", &token).unwrap().subject,
            "1"
        );
    }

    #[test]
    fn tokens_from_the_future_are_refused() {
        let token = signer().sign("verify", "1", at(3600));
        assert_eq!(
            signer().verify("verify", &token, at(0), DAY),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn fingerprints_are_keyed_stable_and_fit_the_digest_column() {
        let a = signer().fingerprint("raw-token");
        assert_eq!(a, signer().fingerprint("raw-token"));
        assert_eq!(a.len(), 64);
        assert_ne!(a, signer().fingerprint("raw-token2"));
        let other = HmacSigner::new(b"another key, also long enough....").unwrap();
        assert_ne!(
            a,
            other.fingerprint("raw-token"),
            "a stolen table is useless without the key"
        );
    }

    #[test]
    fn garbage_is_invalid_not_a_panic() {
        for junk in [
            "",
            ".",
            "abc",
            "a.b",
            "....",
            "%%%.%%%",
            "eyJ.",
            &"A".repeat(5000),
            "Zm9v.YmFy",
        ] {
            assert_eq!(
                signer().verify("verify", junk, at(0), DAY),
                Err(TokenError::Invalid),
                "{junk:?}"
            );
        }
    }
}
