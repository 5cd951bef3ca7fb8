//! Registration and confirming the address.

use super::*;

impl AccountsService {
    /// Registers an inactive, unverified account and queues its verification mail in the
    /// same transaction. An address that is registered already gets the same answer; its
    /// owner is told (at most once an hour), or, if unverified, sent the link again.
    ///
    /// # Errors
    /// When hashing or the database fails; then nothing is stored or sent.
    pub async fn register(&self, registration: Registration) -> Result<(), RegisterError> {
        let Registration {
            email,
            password,
            language,
        } = registration;
        // Hash in every case so that a known address answers as slowly as a new one.
        let password_hash = self.ports.hasher.hash(&password).await?;
        let now = self.now();
        // An account nobody confirmed while its links worked does not hold the address.
        self.release_stale(&email).await?;
        if let Some(existing) = self.ports.users.find_by_email(&email).await? {
            self.tell_existing(&existing).await?;
            return Ok(());
        }
        let user = NewUser {
            email,
            password_hash,
            is_active: false,
            is_verified: false,
            is_superuser: false,
            first_name: PersonName::default(),
            last_name: PersonName::default(),
            date_joined: now,
            language,
        };
        let (signer, public_url) = (self.ports.signer.clone(), self.config.public_url.clone());
        let mail: crate::ports::MailFor =
            Box::new(move |user| verification_mail(signer.as_ref(), &public_url, user, now));
        match self.ports.users.insert_with_mail(user, mail).await {
            // Another registration of this address won the race; it sends the mail.
            Ok(_) | Err(RepoError::EmailTaken) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    async fn tell_existing(&self, existing: &User) -> Result<(), RepoError> {
        if existing.is_verified {
            let mail = self.notice(existing, &existing.email, MailKind::RegistrationAttempt);
            self.ports
                .users
                .queue_throttled(
                    existing.id,
                    MailThrottle::RegistrationNotice,
                    self.now(),
                    NOTICE_INTERVAL,
                    mail,
                )
                .await?;
        } else {
            self.resend_link(existing).await?;
        }
        Ok(())
    }

    /// Reads a verification link without changing anything (a GET, a mail scanner).
    ///
    /// # Errors
    /// [`LinkError::Invalid`] for a tampered or unknown link, [`LinkError::Expired`] for
    /// an old link of an account that is still unverified.
    pub async fn check_verification(&self, token: &str) -> Result<Verification, LinkError> {
        let (claims, key, user) = self.user_for_link(VERIFY, token).await?;
        let user = user.ok_or(LinkError::Invalid)?;
        if user.is_verified {
            return Ok(Verification::AlreadyVerified);
        }
        // The link is for this account at this address; an account created after it
        // (an id SQLite gave out again) or switched off by a superuser is not its to open.
        let issued_for_this_account = claims.issued_at.timestamp() >= user.date_joined.timestamp();
        if user.email.key() != key || !issued_for_this_account || user.deactivated {
            return Err(LinkError::Invalid);
        }
        self.check_age(VERIFY, token)?;
        Ok(Verification::Pending(Box::new(user)))
    }

    /// Confirms the address: the account becomes active and verified. Single use: the
    /// second time the account is verified already.
    ///
    /// # Errors
    /// As [`AccountsService::check_verification`].
    pub async fn confirm_email(&self, token: &str) -> Result<Verification, LinkError> {
        match self.check_verification(token).await? {
            Verification::Pending(mut user) => {
                if self.ports.users.mark_verified(user.id).await? {
                    user.is_verified = true;
                    user.is_active = true;
                    Ok(Verification::Pending(user))
                } else {
                    Ok(Verification::AlreadyVerified)
                }
            }
            Verification::AlreadyVerified => Ok(Verification::AlreadyVerified),
        }
    }

    /// Sends the verification link again (at most once per three minutes) when the
    /// address belongs to an unverified account; answers the same in every case.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn resend_verification(&self, email: &Email) -> Result<(), ResendError> {
        if let Some(user) = self.ports.users.find_by_email(email).await?
            && !user.is_verified
        {
            self.resend_link(&user).await?;
        }
        Ok(())
    }
}
