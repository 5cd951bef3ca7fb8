//! The rate limits of SPEC §5, kept in this process's memory (sliding windows). With
//! several `serve` processes each enforces its own counters: the effective limit is the
//! per-process limit times the number of processes a client can reach (see README).
//!
//! A hand-written sliding log rather than a token-bucket crate: the sign-in limits
//! count *failures* only, so a check must be able to look without spending.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRef, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;

use crate::settings::Settings;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Limit {
    /// Failed sign-ins: 10 a minute per client address.
    SignInFailuresByAddress,
    /// Failed sign-ins from devices that have not signed in to the account before: 5
    /// per 5 minutes per email (see [`crate::device`]).
    SignInFailuresByEmail,
    /// Failed sign-ins from a device that has signed in to the account before: 5 per 5
    /// minutes per device, instead of the per-email limit.
    SignInFailuresByDevice,
    /// Sign-ups: 20 a minute per address.
    SignUpsByAddress,
    /// Password resets: 20 a minute per address.
    ResetsByAddress,
    /// Password resets: 5 a minute per email.
    ResetsByEmail,
    /// Verification resends: 1 per 3 minutes per email.
    ResendsByEmail,
    /// Wrong current passwords (password and email change): 5 per 5 minutes per user,
    /// so that a stolen session or token cannot guess the password behind it.
    PasswordChecksByUser,
}

impl Limit {
    fn rule(self) -> (usize, Duration) {
        match self {
            Self::SignInFailuresByAddress => (10, Duration::from_secs(60)),
            Self::SignInFailuresByEmail | Self::SignInFailuresByDevice => {
                (5, Duration::from_secs(300))
            }
            Self::SignUpsByAddress => (20, Duration::from_secs(60)),
            Self::ResetsByAddress => (20, Duration::from_secs(60)),
            Self::ResetsByEmail => (5, Duration::from_secs(60)),
            Self::ResendsByEmail => (1, Duration::from_secs(180)),
            Self::PasswordChecksByUser => (5, Duration::from_secs(300)),
        }
    }
}

/// Past the limit: try again after this long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub Duration);

impl RetryAfter {
    /// Whole seconds for the `Retry-After` header, at least one.
    pub fn seconds(&self) -> u64 {
        self.0.as_secs().max(1) + u64::from(self.0.subsec_nanos() > 0)
    }
}

#[derive(Debug, Default)]
pub struct RateLimiter {
    events: Mutex<HashMap<(Limit, String), VecDeque<Instant>>>,
}

/// An attempt at a secret (a sign-in, a current-password check) counted as a failure
/// under each of its limits from the moment it starts, so that a burst of parallel
/// guesses is limited like a sequence of them.
#[derive(Debug)]
#[must_use]
pub struct Attempt<'a> {
    limits: &'a RateLimiter,
    held: Vec<(Limit, String)>,
}

impl Attempt<'_> {
    /// The secret was right (or never checked): not a failure.
    pub fn not_a_failure(self) {
        for (limit, key) in &self.held {
            self.limits.release(*limit, key);
        }
    }
}

impl RateLimiter {
    /// Starts an attempt under every `(limit, key)`.
    ///
    /// # Errors
    /// [`RetryAfter`] when any limit is reached; nothing is counted then.
    pub fn begin(&self, limits: Vec<(Limit, String)>) -> Result<Attempt<'_>, RetryAfter> {
        let mut attempt = Attempt {
            limits: self,
            held: Vec::with_capacity(limits.len()),
        };
        for (limit, key) in limits {
            if let Err(e) = self.hit(limit, &key) {
                attempt.not_a_failure();
                return Err(e);
            }
            attempt.held.push((limit, key));
        }
        Ok(attempt)
    }

    /// Starts a sign-in under the per-address limit and, from a device that has signed
    /// in to the account before (`device`), that device's limit; from anywhere else,
    /// the account's. Strangers' failures never count against a known device.
    ///
    /// # Errors
    /// [`RetryAfter`] when either limit is reached; nothing is counted then.
    pub fn begin_sign_in(
        &self,
        ip: String,
        email: String,
        device: Option<String>,
    ) -> Result<Attempt<'_>, RetryAfter> {
        let second = match device {
            Some(device) => (Limit::SignInFailuresByDevice, device),
            None => (Limit::SignInFailuresByEmail, email),
        };
        self.begin(vec![(Limit::SignInFailuresByAddress, ip), second])
    }

    /// Starts a check of a signed-in user's current password.
    ///
    /// # Errors
    /// [`RetryAfter`] when the user has guessed wrong too often.
    pub fn begin_password_check(&self, user: i64) -> Result<Attempt<'_>, RetryAfter> {
        self.begin(vec![(Limit::PasswordChecksByUser, user.to_string())])
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Check,
    Record,
    Hit,
}

/// Above this many keys a sweep drops every expired one.
const SWEEP_AT: usize = 50_000;

impl RateLimiter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether one more event under `key` would be within the limit; records nothing.
    ///
    /// # Errors
    /// [`RetryAfter`] when the limit is reached.
    pub fn check(&self, limit: Limit, key: &str) -> Result<(), RetryAfter> {
        self.inspect(limit, key, Mode::Check)
    }

    /// Records an event (a failure, for the sign-in limits).
    pub fn record(&self, limit: Limit, key: &str) {
        // Recording never refuses; the result only says whether the limit is now reached.
        let _ = self.inspect(limit, key, Mode::Record);
    }

    /// Checks and, when within the limit, records in one step under one lock, so that
    /// concurrent requests cannot all pass the check before any of them is counted.
    ///
    /// # Errors
    /// [`RetryAfter`] when the limit is reached; nothing is recorded then.
    pub fn hit(&self, limit: Limit, key: &str) -> Result<(), RetryAfter> {
        self.inspect(limit, key, Mode::Hit)
    }

    /// Takes back the latest event under `key`: a sign-in counts as a failure from the
    /// moment it starts (see [`RateLimiter::hit`]) and is taken back when it succeeds.
    pub fn release(&self, limit: Limit, key: &str) {
        let mut events = self.events.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(times) = events.get_mut(&(limit, key.to_owned())) {
            times.pop_back();
        }
    }

    fn inspect(&self, limit: Limit, key: &str, mode: Mode) -> Result<(), RetryAfter> {
        let (max, window) = limit.rule();
        let now = Instant::now();
        // A panic elsewhere while holding the lock leaves the counters intact: keep
        // enforcing them rather than failing open.
        let mut events = self.events.lock().unwrap_or_else(PoisonError::into_inner);
        if events.len() > SWEEP_AT {
            events.retain(|(l, _), times| {
                let window = l.rule().1;
                times
                    .back()
                    .is_some_and(|t| now.duration_since(*t) < window)
            });
        }
        let times = events.entry((limit, key.to_owned())).or_default();
        while times
            .front()
            .is_some_and(|t| now.duration_since(*t) >= window)
        {
            times.pop_front();
        }
        if mode == Mode::Record {
            times.push_back(now);
            return Ok(());
        }
        if times.len() >= max {
            let oldest = times.front().copied().unwrap_or(now);
            return Err(RetryAfter(
                window.saturating_sub(now.duration_since(oldest)),
            ));
        }
        if mode == Mode::Hit {
            times.push_back(now);
        }
        Ok(())
    }
}

/// The client's address: the peer, unless the peer is a trusted proxy, in which case the
/// right-most address of `X-Forwarded-For` that is not itself a trusted proxy.
pub fn client_ip(peer: SocketAddr, headers: &HeaderMap, trusted: &[ipnet::IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    let peer = peer.ip();
    if !is_trusted(&peer) {
        return peer;
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|part| part.trim().parse().ok())
        .collect();
    forwarded
        .into_iter()
        .rev()
        .find(|ip| !is_trusted(ip))
        .unwrap_or(peer)
}

/// The requesting client's address, as [`client_ip`] decides it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl ClientIp {
    pub fn key(&self) -> String {
        self.0.to_string()
    }
}

impl<S> FromRequestParts<S> for ClientIp
where
    S: Send + Sync,
    Arc<Settings>: FromRef<S>,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(SocketAddr::from(([0, 0, 0, 0], 0)), |c| c.0);
        let settings = Arc::<Settings>::from_ref(state);
        Ok(Self(client_ip(
            peer,
            &parts.headers,
            &settings.trusted_proxies,
        )))
    }
}

/// How an email is counted: the same however it is spelled, valid or not.
pub fn email_key(email: &str) -> String {
    email.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limit_counts_within_its_window_and_says_when_to_retry() {
        let limiter = RateLimiter::new();
        for _ in 0..5 {
            assert!(limiter.check(Limit::SignInFailuresByEmail, "a").is_ok());
            limiter.record(Limit::SignInFailuresByEmail, "a");
        }
        let retry = limiter
            .check(Limit::SignInFailuresByEmail, "a")
            .unwrap_err();
        assert!(retry.0 <= Duration::from_secs(300) && retry.seconds() >= 299);
        assert!(
            limiter.check(Limit::SignInFailuresByEmail, "b").is_ok(),
            "per key"
        );
        assert!(
            limiter.check(Limit::SignInFailuresByAddress, "a").is_ok(),
            "per limit"
        );
    }

    #[test]
    fn hit_records_only_within_the_limit() {
        let limiter = RateLimiter::new();
        assert!(limiter.hit(Limit::ResendsByEmail, "x").is_ok());
        assert!(limiter.hit(Limit::ResendsByEmail, "x").is_err());
    }

    #[test]
    fn forwarded_addresses_count_only_behind_a_trusted_proxy() {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", "203.0.113.9, 10.0.0.2".parse().unwrap());
        let peer: SocketAddr = "10.0.0.1:5000".parse().unwrap();
        let trusted = vec!["10.0.0.0/8".parse().unwrap()];
        assert_eq!(
            client_ip(peer, &headers, &trusted),
            "203.0.113.9".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            client_ip(peer, &headers, &[]),
            peer.ip(),
            "ignored without trust"
        );
        let outsider: SocketAddr = "198.51.100.7:5000".parse().unwrap();
        assert_eq!(
            client_ip(outsider, &headers, &trusted),
            outsider.ip(),
            "only from the proxy"
        );
    }
}
