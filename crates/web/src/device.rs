//! Device cookies (OWASP's "Slow Down Online Guessing Attacks with Device Cookies"): a
//! browser or client that has signed in to an account before carries a signed token
//! saying so, and its sign-ins to that account are not counted against the account's
//! failure limit, which only strangers' attempts fill. Whoever floods an address with
//! wrong passwords therefore locks out only other strangers, never the account's owner
//! on a device they have used. A device's own failures are limited per device, so a
//! stolen cookie is no licence to guess.
//!
//! The token names the account by a keyed digest of its address (the cookie never shows
//! the address) and the device by a random id; a cookie keeps the tokens of the last few
//! accounts signed in from it.

use axum::http::{HeaderMap, HeaderValue, header};
use catalog_domain::Timestamp;
use catalog_domain::ports::{Random, TokenSigner};
use tower_sessions::cookie::{Cookie, SameSite};

use crate::settings::Settings;

const PURPOSE: &str = "device";
/// A device stays known for a year after its last sign-in.
const MAX_AGE: std::time::Duration = std::time::Duration::from_secs(365 * 24 * 3600);
/// Accounts remembered per device; signing in to another drops the oldest.
const MAX_ACCOUNTS: usize = 4;
/// Tokens are `base64url.base64url`; `~` is a cookie character no token contains.
const SEPARATOR: char = '~';

/// The device cookie's name: `__Host-` under https, as for the session cookie.
pub fn cookie_name(settings: &Settings) -> &'static str {
    if settings.secure_cookies() {
        "__Host-catalog_device"
    } else {
        "catalog_device"
    }
}

/// The tokens a request's device cookie carries.
#[derive(Debug, Default, Clone)]
pub struct DeviceTokens(Vec<String>);

impl DeviceTokens {
    pub fn from_headers(headers: &HeaderMap, settings: &Settings) -> Self {
        let name = cookie_name(settings);
        let value = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(Cookie::split_parse)
            .filter_map(Result::ok)
            .find(|c| c.name() == name)
            .map(|c| c.value().to_owned())
            .unwrap_or_default();
        Self(
            value
                .split(SEPARATOR)
                .filter(|t| !t.is_empty() && t.len() <= 512)
                .take(MAX_ACCOUNTS)
                .map(str::to_owned)
                .collect(),
        )
    }

    /// The id of this device if it has signed in to the account of `email_key` within
    /// the last year: its sign-ins there are limited per device, not per account.
    pub fn trusted_for(
        &self,
        signer: &dyn TokenSigner,
        email_key: &str,
        now: Timestamp,
    ) -> Option<String> {
        let account = account_digest(signer, email_key);
        self.0.iter().find_map(|token| {
            let claims = signer.verify(PURPOSE, token, now, MAX_AGE).ok()?;
            let (named, device) = claims.subject.split_once(':')?;
            (named == account).then(|| device.to_owned())
        })
    }

    /// The cookie to send after a successful sign-in to the account of `email_key`: a
    /// fresh token for it (keeping this device's id if it had one), and the tokens of
    /// the other accounts this device knows, newest first.
    pub fn after_sign_in(
        &self,
        signer: &dyn TokenSigner,
        random: &dyn Random,
        settings: &Settings,
        email_key: &str,
        now: Timestamp,
    ) -> Option<HeaderValue> {
        let account = account_digest(signer, email_key);
        let mut device = None;
        let mut others = Vec::new();
        for token in &self.0 {
            let Ok(claims) = signer.verify(PURPOSE, token, now, MAX_AGE) else {
                continue;
            };
            match claims.subject.split_once(':') {
                Some((named, id)) if named == account => device = Some(id.to_owned()),
                Some(_) => others.push(token.as_str()),
                None => {}
            }
        }
        let device = device.unwrap_or_else(|| random.token(16));
        let fresh = signer.sign(PURPOSE, &format!("{account}:{device}"), now);
        let value: Vec<&str> = std::iter::once(fresh.as_str())
            .chain(others)
            .take(MAX_ACCOUNTS)
            .collect();
        let cookie = Cookie::build((cookie_name(settings), value.join(&SEPARATOR.to_string())))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(settings.secure_cookies())
            .max_age(tower_sessions::cookie::time::Duration::seconds(
                i64::try_from(MAX_AGE.as_secs()).unwrap_or(i64::MAX),
            ))
            .build();
        HeaderValue::from_str(&cookie.to_string()).ok()
    }
}

/// Adds to `response` (a successful sign-in to the account of `email_key`) the cookie
/// that makes this device known to the account.
pub fn remember(
    response: &mut axum::response::Response,
    (ports, settings): (&catalog_domain::services::Ports, &Settings),
    devices: &DeviceTokens,
    email_key: &str,
    now: Timestamp,
) {
    if let Some(cookie) = devices.after_sign_in(
        ports.signer.as_ref(),
        ports.random.as_ref(),
        settings,
        email_key,
        now,
    ) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
}

/// Names an account without showing its address (the cookie is readable by anyone
/// with the browser), and separately from every other use of the key.
fn account_digest(signer: &dyn TokenSigner, email_key: &str) -> String {
    signer.fingerprint(&format!("device-account:{email_key}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::random::OsRandom;
    use crate::adapters::token::HmacSigner;

    fn settings() -> Settings {
        Settings::from_sources(
            std::path::Path::new("/nonexistent"),
            &std::collections::HashMap::new(),
        )
        .unwrap()
    }

    fn cookie_of(value: &HeaderValue) -> HeaderMap {
        let set = Cookie::parse(value.to_str().unwrap().to_owned()).unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("{}={}", set.name(), set.value())).unwrap(),
        );
        headers
    }

    #[test]
    fn a_device_is_trusted_for_the_accounts_it_signed_in_to_and_no_other() {
        let signer = HmacSigner::new(b"a key of thirty-two bytes or more!!").unwrap();
        let settings = settings();
        let now = chrono::Utc::now();
        let none = DeviceTokens::default();
        assert_eq!(none.trusted_for(&signer, "ann@example.com", now), None);
        let set = none
            .after_sign_in(&signer, &OsRandom, &settings, "ann@example.com", now)
            .unwrap();
        assert!(set.to_str().unwrap().contains("HttpOnly"));
        assert!(!set.to_str().unwrap().contains("ann"), "no address in it");
        let ann = DeviceTokens::from_headers(&cookie_of(&set), &settings);
        let id = ann.trusted_for(&signer, "ann@example.com", now).unwrap();
        assert_eq!(ann.trusted_for(&signer, "bob@example.com", now), None);
        // Signing in to a second account keeps the first, and the device's id.
        let set = ann
            .after_sign_in(&signer, &OsRandom, &settings, "bob@example.com", now)
            .unwrap();
        let both = DeviceTokens::from_headers(&cookie_of(&set), &settings);
        assert!(both.trusted_for(&signer, "bob@example.com", now).is_some());
        assert_eq!(both.trusted_for(&signer, "ann@example.com", now), Some(id));
        // A year later, or under another key, it is a stranger again.
        let later = now + chrono::Duration::days(366);
        assert_eq!(both.trusted_for(&signer, "ann@example.com", later), None);
        let other = HmacSigner::new(b"another key of thirty-two bytes!!!").unwrap();
        assert_eq!(both.trusted_for(&other, "ann@example.com", now), None);
    }
}
