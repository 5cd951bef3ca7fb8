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

use crate::rate_limit::{Attempt, ClientIp, RetryAfter, email_key};
use crate::settings::Settings;
use crate::state::AppState;

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

/// What both sign-in doors (the page and the API) do around the password check: find
/// whether this device knows the account, hold the attempt under its limits while the
/// password is checked, and after a success make the device known.
pub struct SignInGate<'a> {
    state: &'a AppState,
    devices: DeviceTokens,
    account: String,
    now: Timestamp,
    attempt: Option<Attempt<'a>>,
}

impl std::fmt::Debug for SignInGate<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The account is someone's address: it stays out of debug output.
        f.debug_struct("SignInGate")
            .field("pending", &self.attempt.is_some())
            .finish_non_exhaustive()
    }
}

impl<'a> SignInGate<'a> {
    /// Starts an attempt to sign in to `email` from `ip`, or says how long to wait.
    pub fn open(
        state: &'a AppState,
        headers: &HeaderMap,
        ip: &ClientIp,
        email: &str,
    ) -> Result<Self, RetryAfter> {
        let account = email_key(email);
        let devices = DeviceTokens::from_headers(headers, &state.settings);
        let now = state.ports.clock.now();
        let device = devices.trusted_for(state.ports.signer.as_ref(), &account, now);
        let attempt = state
            .limits
            .begin_sign_in(ip.key(), account.clone(), device)?;
        Ok(Self {
            state,
            devices,
            account,
            now,
            attempt: Some(attempt),
        })
    }

    /// The password was not what failed (it was right, or the account is unconfirmed):
    /// only wrong passwords count, and a success does not wipe earlier failures.
    pub fn not_a_failure(&mut self) {
        if let Some(attempt) = self.attempt.take() {
            attempt.not_a_failure();
        }
    }

    /// Adds to `response` (a successful sign-in) the cookie that makes this device
    /// known to the account.
    pub fn remember(&self, response: &mut axum::response::Response) {
        let ports = &self.state.ports;
        if let Some(cookie) = self.devices.after_sign_in(
            ports.signer.as_ref(),
            ports.random.as_ref(),
            &self.state.settings,
            &self.account,
            self.now,
        ) {
            response.headers_mut().append(header::SET_COOKIE, cookie);
        }
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
