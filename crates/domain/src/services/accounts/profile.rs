//! Email change, profile, avatar and deactivation.

use super::*;

impl AccountsService {
    /// Starts an email change: nothing changes until the link mailed to the new address
    /// is opened; the current address is told.
    ///
    /// # Errors
    /// [`EmailChangeError::Invalid`] with field errors.
    pub async fn request_email_change(
        &self,
        id: UserId,
        new_email: &Email,
        password: &str,
    ) -> Result<(), EmailChangeError> {
        let user = self
            .ports
            .users
            .find_by_id(id)
            .await?
            .ok_or(RepoError::NotFound)?;
        let mut errors = FieldErrors::new();
        let password_ok = match PasswordAttempt::new(password) {
            Some(attempt) => {
                self.ports
                    .hasher
                    .verify(&attempt, user.password_hash.clone())
                    .await?
                    != PasswordCheck::Invalid
            }
            None => false,
        };
        if !password_ok {
            errors.add(Input::CurrentPassword, Message::new("password-incorrect"));
        }
        if new_email.key() == user.email.key() {
            errors.add(Input::NewEmail, Message::new("email-already-yours"));
        } else {
            self.release_stale(new_email).await?;
            if self.ports.users.find_by_email(new_email).await?.is_some() {
                errors.add(Input::NewEmail, Message::new("email-taken"));
            }
        }
        errors.check().map_err(EmailChangeError::Invalid)?;
        let token = self.ports.signer.sign(
            EMAIL_CHANGE,
            &format!("{}:{}", user.id, new_email.key()),
            self.now(),
        );
        let confirm = OutgoingMail {
            link: Some(MailSecret::new(format!(
                "{}/users/email-change/{token}",
                self.config.public_url
            ))),
            ..self.notice(&user, new_email, MailKind::EmailChangeConfirmation)
        };
        let notice = OutgoingMail {
            detail: Some(new_email.to_string()),
            ..self.notice(&user, &user.email, MailKind::EmailChangeNotice)
        };
        self.ports
            .users
            .set_pending_email(id, Some(new_email.clone()), vec![confirm, notice])
            .await?;
        Ok(())
    }

    /// Reads an email-change link without changing anything; returns the new address.
    ///
    /// # Errors
    /// [`ConfirmEmailChangeError`] for bad, expired or used links.
    pub async fn check_email_change(
        &self,
        token: &str,
    ) -> Result<(User, Email), ConfirmEmailChangeError> {
        let (_, wanted, user) = self.user_for_link(EMAIL_CHANGE, token).await?;
        let user = user.ok_or(LinkError::Invalid)?;
        let pending = user
            .pending_email
            .clone()
            .filter(|p| p.key() == wanted)
            .ok_or(ConfirmEmailChangeError::AlreadyUsed)?;
        self.check_age(EMAIL_CHANGE, token)?;
        Ok((user, pending))
    }

    /// Confirms an email change: the new address becomes the account's. Single use. A
    /// generated password mailed to the old address stops working, and every session
    /// but `keep_session` and every API token ends, as a password change ends them.
    ///
    /// # Errors
    /// [`ConfirmEmailChangeError`] for bad, expired or used links, or a taken address.
    pub async fn confirm_email_change(
        &self,
        token: &str,
        keep_session: Option<String>,
    ) -> Result<User, ConfirmEmailChangeError> {
        let (mut user, pending) = self.check_email_change(token).await?;
        self.release_stale(&pending)
            .await
            .map_err(LinkError::Unexpected)?;
        match self
            .ports
            .users
            .adopt_pending_email(user.id, &pending, keep_session)
            .await
        {
            Ok(true) => {
                user.email = pending;
                user.pending_email = None;
                user.pending_password = None;
                Ok(user)
            }
            Ok(false) => Err(ConfirmEmailChangeError::AlreadyUsed),
            Err(RepoError::EmailTaken) => Err(ConfirmEmailChangeError::EmailTaken),
            Err(e) => Err(LinkError::Unexpected(e).into()),
        }
    }

    /// Frees `email` from an unverified account whose links have all expired (see
    /// [`crate::ports::UserRepository::release_stale_address`]).
    pub(super) async fn release_stale(&self, email: &Email) -> Result<(), RepoError> {
        let cutoff = self.now() - std_to_chrono(LINK_MAX_AGE);
        self.ports
            .users
            .release_stale_address(email, cutoff)
            .await?;
        Ok(())
    }

    /// Replaces the profile fields (parsed at the edge with [`ProfileInput::parse`]).
    ///
    /// # Errors
    /// When the database fails.
    pub async fn update_profile(
        &self,
        id: UserId,
        profile: ProfileUpdate,
    ) -> Result<User, ProfileError> {
        self.save_profile(id, profile, None).await
    }

    /// Replaces the profile fields and, when `avatar` holds an upload, the avatar. The
    /// fields were checked at the edge; if the image is refused, nothing at all is saved.
    ///
    /// # Errors
    /// [`ProfileError::Invalid`] with the image's error under [`Input::Avatar`].
    pub async fn save_profile(
        &self,
        id: UserId,
        profile: ProfileUpdate,
        avatar: Option<Vec<u8>>,
    ) -> Result<User, ProfileError> {
        let old_avatar = match &avatar {
            Some(_) => {
                self.ports
                    .users
                    .find_by_id(id)
                    .await?
                    .ok_or(RepoError::NotFound)?
                    .avatar
            }
            None => None,
        };
        let new_avatar = match avatar {
            Some(bytes) => match self.ports.media.save_image("avatars", bytes).await {
                Ok(key) => Some(key),
                Err(e) if e.refuses_the_file() => {
                    let mut errors = FieldErrors::new();
                    errors.add(Input::Avatar, e);
                    return Err(ProfileError::Invalid(errors));
                }
                Err(e) => return Err(ProfileError::Media(e)),
            },
            None => None,
        };
        let saved = self.ports.users.update_profile(id, profile).await;
        let saved = match (saved, &new_avatar) {
            (Ok(user), Some(key)) => self
                .ports
                .users
                .set_avatar(id, Some(key.clone()))
                .await
                .map(|()| User {
                    avatar: Some(key.clone()),
                    ..user
                }),
            (other, _) => other,
        };
        match saved {
            Ok(user) => {
                if let (Some(old), Some(_)) = (&old_avatar, &new_avatar) {
                    // A stale file is harmless; failing the request for it would not be.
                    let _ = self.ports.media.delete(old).await;
                }
                Ok(user)
            }
            Err(e) => {
                if let Some(key) = &new_avatar {
                    let _ = self.ports.media.delete(key).await;
                }
                Err(e.into())
            }
        }
    }

    /// Records the language the person reads the site and their mail in (a code the
    /// edge has checked).
    ///
    /// # Errors
    /// [`RepoError`] when the database fails.
    pub async fn set_language(&self, id: UserId, language: &str) -> Result<(), RepoError> {
        self.ports
            .users
            .set_language(id, Some(language.to_owned()))
            .await
    }

    /// Stores a new avatar (decoded, checked, re-encoded) and removes the old one.
    ///
    /// # Errors
    /// [`AvatarError::Image`] for anything that is not an acceptable image.
    pub async fn set_avatar(&self, id: UserId, bytes: Vec<u8>) -> Result<User, AvatarError> {
        let user = self
            .ports
            .users
            .find_by_id(id)
            .await?
            .ok_or(RepoError::NotFound)?;
        let key = self.ports.media.save_image("avatars", bytes).await?;
        if let Err(e) = self.ports.users.set_avatar(id, Some(key.clone())).await {
            let _ = self.ports.media.delete(&key).await;
            return Err(e.into());
        }
        if let Some(old) = &user.avatar {
            // A stale file is harmless; failing the request for it would not be.
            let _ = self.ports.media.delete(old).await;
        }
        Ok(User {
            avatar: Some(key),
            ..user
        })
    }

    /// The avatar stored under `key`. Avatars are shown to their owner alone; their
    /// names are random.
    ///
    /// # Errors
    /// [`MediaError::NotFound`] for no such file, [`MediaError::Io`].
    pub async fn avatar(&self, key: &str) -> Result<crate::ports::StoredMedia, MediaError> {
        match (
            self.ports.media.open(key).await,
            crate::media::Variant::of_key(key),
        ) {
            // An avatar stored before variants existed stands in for its missing ones.
            (Err(MediaError::NotFound), Some((_, candidates))) => {
                for candidate in candidates {
                    match self.ports.media.open(&candidate).await {
                        Err(MediaError::NotFound) => continue,
                        found => return found,
                    }
                }
                Err(MediaError::NotFound)
            }
            (opened, _) => opened,
        }
    }

    /// Deactivates the account and ends its sessions and API tokens.
    ///
    /// # Errors
    /// [`RepoError`] when the database fails.
    pub async fn deactivate(&self, id: UserId) -> Result<(), RepoError> {
        self.ports.users.set_active(id, false).await
    }
}
