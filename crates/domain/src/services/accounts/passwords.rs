//! Password reset (generated passwords) and password change.

use super::*;

impl AccountsService {
    fn generate_password(&self) -> Password {
        // Sixteen characters of a 55-symbol alphabet pass the policy but for a
        // vanishingly rare draw (all digits); draw again then.
        for _ in 0..16 {
            let candidate = self.ports.random.password(GENERATED_PASSWORD_LEN);
            if let Ok(password) = Password::parse(&candidate, PasswordContext::default()) {
                return password;
            }
        }
        Password::generated(self.ports.random.password(GENERATED_PASSWORD_LEN))
    }

    /// Emails a generated password to an active account. Nothing else changes: the old
    /// password keeps working until the generated one is used. Unverified accounts get
    /// their verification link again instead; unknown addresses get nothing, after the
    /// same amount of work.
    ///
    /// # Errors
    /// When hashing or the database fails.
    pub async fn request_password_reset(&self, email: &Email) -> Result<(), ResendError> {
        let generated = self.generate_password();
        let hash = self.ports.hasher.hash(&generated).await?;
        let Some(user) = self.ports.users.find_by_email(email).await? else {
            return Ok(());
        };
        if !user.is_verified {
            self.resend_link(&user).await?;
            return Ok(());
        }
        if !user.is_active {
            return Ok(());
        }
        let mail = OutgoingMail {
            secret: Some(MailSecret::new(generated.expose().to_owned())),
            ..self.notice(&user, &user.email, MailKind::GeneratedPassword)
        };
        let pending = PendingPassword {
            hash,
            expires_at: self.now() + std_to_chrono(GENERATED_PASSWORD_TTL),
        };
        self.ports
            .users
            .set_pending_password(user.id, pending, mail)
            .await?;
        Ok(())
    }

    /// Changes the password after checking the old one; ends the user's other sessions
    /// (all but `keep_session`) and revokes their API tokens; mails a notice. (That the
    /// new password was typed twice alike is the page's concern, checked before.)
    ///
    /// # Errors
    /// [`PasswordChangeError::Invalid`] when the old password is wrong or the new one is
    /// the same; then nothing changes.
    pub async fn change_password(
        &self,
        id: UserId,
        old: &str,
        new: &Password,
        keep_session: Option<String>,
    ) -> Result<(), PasswordChangeError> {
        let user = self
            .ports
            .users
            .find_by_id(id)
            .await?
            .ok_or(RepoError::NotFound)?;
        let mut errors = FieldErrors::new();
        let old_ok = match PasswordAttempt::new(old) {
            Some(attempt) => {
                self.ports
                    .hasher
                    .verify(&attempt, user.password_hash.clone())
                    .await?
                    != PasswordCheck::Invalid
            }
            None => false,
        };
        if !old_ok {
            errors.add(Input::OldPassword, Message::new("password-old-incorrect"));
        }
        if new.expose() == old {
            errors.add(Input::NewPassword, Message::new("password-same-as-old"));
        }
        errors.check().map_err(PasswordChangeError::Invalid)?;
        let hash = self.ports.hasher.hash(new).await?;
        let notice = self.notice(&user, &user.email, MailKind::PasswordChanged);
        self.ports
            .users
            .change_password(id, hash, keep_session, notice)
            .await?;
        Ok(())
    }
}
