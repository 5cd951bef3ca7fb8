//! Accounts: registration, email confirmation, sign-in, API tokens, password reset and
//! change, email change, profile and avatar, deactivation.
//!
//! Every answer that could reveal whether an address is registered (registration, reset,
//! resend) is the same either way and costs the same work: one password hash.

use std::time::Duration;

use crate::Timestamp;
use crate::access::Actor;
use crate::fields::{FieldErrors, Input, Message};
use crate::mail::{MailKind, MailSecret, OutgoingMail};
use crate::ports::{
    HashError, MailThrottle, MediaError, PasswordCheck, ProfileUpdate, RepoError, SignedClaims,
    TokenError, UserWithPermissions,
};
use crate::user::{
    Country, Email, NewUser, Password, PasswordAttempt, PasswordContext, PendingPassword,
    PersonName, Phone, User, UserId,
};

use super::AccountsPorts;

mod commands;
mod errors;
mod passwords;
mod profile;
mod registration;
mod sign_in;

pub use commands::{ProfileInput, Registration, address, new_email, new_password};
pub use errors::*;

/// Verification and email-change links work for three days.
pub const LINK_MAX_AGE: Duration = Duration::from_secs(3 * 24 * 3600);
/// A generated password works for one hour.
pub const GENERATED_PASSWORD_TTL: Duration = Duration::from_secs(3600);
/// At most one verification mail per address in this interval.
pub const RESEND_INTERVAL: Duration = Duration::from_secs(180);
/// At most one "someone tried to register" notice per address in this interval.
pub const NOTICE_INTERVAL: Duration = Duration::from_secs(3600);
pub const GENERATED_PASSWORD_LEN: usize = 16;
pub const API_TOKEN_BYTES: usize = 32;

const VERIFY: &str = "verify-email";
const EMAIL_CHANGE: &str = "change-email";

#[derive(Debug, Clone)]
pub struct AccountsConfig {
    /// `CATALOG_PUBLIC_URL`: links in mail are built from it, never from a request.
    pub public_url: String,
}

#[derive(Debug, Clone)]
pub struct AccountsService {
    ports: AccountsPorts,
    config: AccountsConfig,
}

fn std_to_chrono(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

fn password_problems(errors: &mut FieldErrors, field: Input, e: &crate::user::PasswordError) {
    for problem in &e.problems {
        errors.add(field, problem);
    }
}

impl AccountsService {
    pub fn new(ports: AccountsPorts, config: AccountsConfig) -> Self {
        let public_url = config.public_url.trim_end_matches('/').to_owned();
        Self {
            ports,
            config: AccountsConfig { public_url },
        }
    }

    fn now(&self) -> Timestamp {
        self.ports.clock.now()
    }

    fn greeting(user_first: &PersonName) -> String {
        user_first.as_str().to_owned()
    }

    fn verification_mail(&self, user: &User) -> OutgoingMail {
        verification_mail(
            self.ports.signer.as_ref(),
            &self.config.public_url,
            user,
            self.now(),
        )
    }

    /// A message about `user`'s account, sent to `to`, in the user's language.
    fn notice(&self, user: &User, to: &Email, kind: MailKind) -> OutgoingMail {
        OutgoingMail {
            to: to.clone(),
            kind,
            recipient_name: Self::greeting(&user.first_name),
            link: None,
            secret: None,
            detail: None,
            language: user.language.clone(),
        }
    }

    /// Re-sends the verification link unless one went out in the last three minutes.
    async fn resend_link(&self, user: &User) -> Result<bool, RepoError> {
        if user.deactivated {
            return Ok(false);
        }
        let mail = self.verification_mail(user);
        self.ports
            .users
            .queue_throttled(
                user.id,
                MailThrottle::Verification,
                self.now(),
                RESEND_INTERVAL,
                mail,
            )
            .await
    }

    /// The account a link names (by id: an address can pass from one account to
    /// another), with the address key the link was issued for.
    async fn user_for_link(
        &self,
        purpose: &str,
        token: &str,
    ) -> Result<(SignedClaims, String, Option<User>), LinkError> {
        let claims = self
            .ports
            .signer
            .verify_signature(purpose, token)
            .map_err(|_| LinkError::Invalid)?;
        let (id, key) = claims
            .subject
            .split_once(':')
            .and_then(|(id, key)| Some((id.parse().ok()?, key.to_owned())))
            .ok_or(LinkError::Invalid)?;
        let user = self.ports.users.find_by_id(UserId(id)).await?;
        Ok((claims, key, user))
    }

    fn check_age(&self, purpose: &str, token: &str) -> Result<(), LinkError> {
        match self
            .ports
            .signer
            .verify(purpose, token, self.now(), LINK_MAX_AGE)
        {
            Ok(_) => Ok(()),
            Err(TokenError::Expired) => Err(LinkError::Expired),
            Err(TokenError::Invalid) => Err(LinkError::Invalid),
        }
    }
}

/// The verification mail of `user`. Its link names the account and the address it
/// confirms, so it does nothing for another account that holds the address later.
fn verification_mail(
    signer: &dyn crate::ports::TokenSigner,
    public_url: &str,
    user: &User,
    now: Timestamp,
) -> OutgoingMail {
    let subject = format!("{}:{}", user.id, user.email.key());
    let token = signer.sign(VERIFY, &subject, now);
    OutgoingMail {
        to: user.email.clone(),
        kind: MailKind::Verification,
        recipient_name: user.first_name.as_str().to_owned(),
        link: Some(MailSecret::new(format!(
            "{public_url}/users/verify/{token}"
        ))),
        secret: None,
        detail: None,
        language: user.language.clone(),
    }
}

#[cfg(test)]
mod tests;
