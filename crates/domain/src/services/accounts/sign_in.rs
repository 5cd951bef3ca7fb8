//! Signing in, API tokens, and the actor the access rules see.

use super::*;

impl AccountsService {
    /// Checks an email and password. The first sign-in with a generated (reset) password
    /// makes it the password, ends every other session and API token, mails a notice and
    /// requires a password change.
    ///
    /// # Errors
    /// [`SignInError::InvalidCredentials`] whatever was wrong (one hash either way),
    /// [`SignInError::Unverified`] for a right password on an unconfirmed address.
    pub async fn sign_in(&self, email: &str, password: &str) -> Result<SignedIn, SignInError> {
        let Some(attempt) = PasswordAttempt::new(password) else {
            return Err(SignInError::InvalidCredentials);
        };
        let user = match Email::parse(email) {
            Ok(email) => self.ports.users.find_by_email(&email).await?,
            Err(_) => None,
        };
        let Some(user) = user else {
            self.ports.hasher.verify(&attempt, None).await?;
            return Err(SignInError::InvalidCredentials);
        };
        let mut change_required = user.password_change_required;
        let mut rehash = false;
        match self
            .ports
            .hasher
            .verify(&attempt, user.password_hash.clone())
            .await?
        {
            PasswordCheck::Valid { needs_rehash } => rehash = needs_rehash,
            PasswordCheck::Invalid => {
                let pending = user
                    .pending_password
                    .clone()
                    .filter(|p| p.expires_at > self.now());
                let Some(pending) = pending else {
                    return Err(SignInError::InvalidCredentials);
                };
                if self
                    .ports
                    .hasher
                    .verify(&attempt, Some(pending.hash.clone()))
                    .await?
                    == PasswordCheck::Invalid
                {
                    return Err(SignInError::InvalidCredentials);
                }
                if !(user.is_active && user.is_verified) {
                    return Err(SignInError::InvalidCredentials);
                }
                let notice = self.notice(&user, &user.email, MailKind::PasswordChanged);
                if !self
                    .ports
                    .users
                    .adopt_pending_password(user.id, pending.hash, notice)
                    .await?
                {
                    return Err(SignInError::InvalidCredentials);
                }
                change_required = true;
            }
        }
        if user.deactivated {
            return Err(SignInError::InvalidCredentials);
        }
        if !user.is_verified {
            let resent = self.resend_link(&user).await?;
            return Err(SignInError::Unverified { resent });
        }
        if !user.is_active {
            return Err(SignInError::InvalidCredentials);
        }
        if rehash
            && let Ok(password) = Password::parse(attempt.expose(), PasswordContext::default())
        {
            let hash = self.ports.hasher.hash(&password).await?;
            self.ports
                .users
                .set_password(user.id, hash, change_required)
                .await?;
        }
        self.ports.users.record_login(user.id, self.now()).await?;
        let mut user = user;
        user.password_change_required = change_required;
        user.pending_password = None;
        Ok(SignedIn {
            user,
            password_change_required: change_required,
        })
    }

    /// Issues a new API token; only its fingerprint is stored.
    ///
    /// # Errors
    /// [`RepoError`] when it cannot be stored.
    pub async fn issue_api_token(&self, user: UserId) -> Result<String, RepoError> {
        let token = self.ports.random.token(API_TOKEN_BYTES);
        let digest = self.ports.signer.fingerprint(&token);
        self.ports.tokens.insert(user, digest, self.now()).await?;
        Ok(token)
    }

    /// The active, verified user an API token belongs to, as the access rules see them.
    ///
    /// # Errors
    /// [`RepoError`] when the database fails.
    pub async fn authenticate_api_token(
        &self,
        token: &str,
    ) -> Result<Option<(User, Actor)>, RepoError> {
        if token.is_empty() || token.len() > 256 {
            return Ok(None);
        }
        let digest = self.ports.signer.fingerprint(token);
        Ok(self
            .ports
            .tokens
            .find_holder(&digest)
            .await?
            .filter(|found| found.user.is_verified)
            .and_then(Self::signed_in))
    }

    /// Revokes a token; `false` when it was not valid.
    ///
    /// # Errors
    /// [`RepoError`] when the database fails.
    pub async fn revoke_api_token(&self, token: &str) -> Result<bool, RepoError> {
        self.ports
            .tokens
            .delete(&self.ports.signer.fingerprint(token))
            .await
    }

    /// The signed-in user as the access rules see them, read afresh; `None` for an
    /// unknown or deactivated account.
    ///
    /// # Errors
    /// [`RepoError`] when the database fails.
    pub async fn actor(&self, id: UserId) -> Result<Option<(User, Actor)>, RepoError> {
        Ok(self
            .ports
            .users
            .find_with_permissions(id)
            .await?
            .and_then(Self::signed_in))
    }

    /// What [`actor`](Self::actor) makes of a user read together with their session:
    /// `None` for a deactivated account.
    pub fn signed_in(found: UserWithPermissions) -> Option<(User, Actor)> {
        let UserWithPermissions { user, permissions } = found;
        if !user.is_active {
            return None;
        }
        let actor = Actor::new(user.id, user.is_superuser, permissions);
        Some((user, actor))
    }

    /// The groups a user belongs to and the permissions they grant, for the API's
    /// description of the signed-in user.
    ///
    /// # Errors
    /// [`RepoError`] when the database fails.
    pub async fn memberships(
        &self,
        id: UserId,
    ) -> Result<(Vec<crate::access::Group>, Vec<crate::access::Permission>), RepoError> {
        let groups = self.ports.groups.groups_of(id).await?;
        let permissions = self.ports.groups.permissions_of(id).await?;
        Ok((groups, permissions))
    }
}
