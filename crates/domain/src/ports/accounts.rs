//! The accounts' ports: users, groups, sessions and API tokens.

use std::time::Duration;

use async_trait::async_trait;

use crate::Timestamp;
use crate::access::{Group, GroupId, GroupSummary, Permission};
use crate::mail::OutgoingMail;
use crate::user::{Email, NewUser, PasswordHash, PendingPassword, User, UserId, UserWithGroups};

use super::{MailFor, RepoError};

/// A user with the permissions their groups grant, read together: all a request needs
/// to know who is asking and what they may do.
#[derive(Debug, Clone, PartialEq)]
pub struct UserWithPermissions {
    pub user: User,
    pub permissions: Vec<Permission>,
}

/// A user's profile fields, all replaced at once.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileUpdate {
    pub first_name: crate::user::PersonName,
    pub last_name: crate::user::PersonName,
    pub phone: Option<crate::user::Phone>,
    pub country: Option<crate::user::Country>,
}

/// Mail that goes out at most once per interval per account; each kind keeps its own
/// clock on the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailThrottle {
    Verification,
    RegistrationNotice,
}

#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait UserRepository: Send + Sync {
    /// # Errors
    /// [`RepoError::EmailTaken`] when the address (case-insensitively) is registered.
    async fn insert(&self, user: NewUser) -> Result<User, RepoError>;
    /// Creates the user and queues the mail `mail` writes for them (it sees the stored
    /// user, id included) in one transaction: either both are stored or neither is.
    ///
    /// # Errors
    /// [`RepoError::EmailTaken`] when the address is registered.
    async fn insert_with_mail(&self, user: NewUser, mail: MailFor) -> Result<User, RepoError>;
    /// Deletes the account holding `email` if it is unverified and neither it nor its
    /// latest verification link is newer than `cutoff` (its links have all expired), so
    /// that the address is free for whoever registers it next. Returns whether an
    /// account went.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`].
    async fn release_stale_address(
        &self,
        email: &Email,
        cutoff: Timestamp,
    ) -> Result<bool, RepoError>;
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Corrupt`].
    async fn find_by_id(&self, id: UserId) -> Result<Option<User>, RepoError>;
    /// The user and their permissions in one read (one round trip: this runs on every
    /// request).
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Corrupt`].
    async fn find_with_permissions(
        &self,
        id: UserId,
    ) -> Result<Option<UserWithPermissions>, RepoError>;
    /// Matches case-insensitively.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Corrupt`].
    async fn find_by_email(&self, email: &Email) -> Result<Option<User>, RepoError>;
    /// Every user with their groups, ordered by id.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Corrupt`].
    async fn list(&self) -> Result<Vec<UserWithGroups>, RepoError>;
    /// Activates or deactivates (a superuser's switch, kept apart from verification);
    /// deactivation also deletes the user's sessions and API tokens in the same
    /// transaction.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] for an unknown id.
    async fn set_active(&self, id: UserId, active: bool) -> Result<(), RepoError>;
    /// # Errors
    /// [`RepoError::NotFound`] for an unknown id.
    async fn set_password(
        &self,
        id: UserId,
        hash: PasswordHash,
        change_required: bool,
    ) -> Result<(), RepoError>;
    /// # Errors
    /// [`RepoError::NotFound`] for an unknown id.
    async fn update_profile(&self, id: UserId, profile: ProfileUpdate) -> Result<User, RepoError>;
    /// # Errors
    /// [`RepoError::NotFound`] for an unknown id.
    async fn set_avatar(&self, id: UserId, avatar: Option<String>) -> Result<(), RepoError>;
    /// # Errors
    /// [`RepoError::NotFound`] for an unknown id.
    async fn set_language(&self, id: UserId, language: Option<String>) -> Result<(), RepoError>;
    /// # Errors
    /// [`RepoError::NotFound`] for an unknown id.
    async fn record_login(&self, id: UserId, at: Timestamp) -> Result<(), RepoError>;
    /// Marks the account verified and active; `false` when it was verified already (so a
    /// link works once even when two requests race) or a superuser deactivated it (then
    /// nothing changes).
    ///
    /// # Errors
    /// [`RepoError::Unavailable`].
    async fn mark_verified(&self, id: UserId) -> Result<bool, RepoError>;
    /// Queues `mail` unless mail of this throttle went to the account less than
    /// `min_interval` before `now`; check and queue are one atomic step. Returns whether
    /// the mail was queued.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`].
    async fn queue_throttled(
        &self,
        id: UserId,
        throttle: MailThrottle,
        now: Timestamp,
        min_interval: Duration,
        mail: OutgoingMail,
    ) -> Result<bool, RepoError>;
    /// Stores a generated password next to the current one and queues its mail, in one
    /// transaction. The current password is untouched.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] for an unknown id.
    async fn set_pending_password(
        &self,
        id: UserId,
        pending: PendingPassword,
        mail: OutgoingMail,
    ) -> Result<(), RepoError>;
    /// Makes the pending password (if it is still `expected`) the password, requires a
    /// change, ends every session and API token of the user and queues `mail`, in one
    /// transaction. `false` when the pending password is no longer `expected`.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`].
    async fn adopt_pending_password(
        &self,
        id: UserId,
        expected: PasswordHash,
        mail: OutgoingMail,
    ) -> Result<bool, RepoError>;
    /// Replaces the password, clears any pending one and the change requirement, ends
    /// every session but `keep_session`, revokes every API token and queues `mail`, in one
    /// transaction.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] for an unknown id.
    async fn change_password(
        &self,
        id: UserId,
        hash: PasswordHash,
        keep_session: Option<String>,
        mail: OutgoingMail,
    ) -> Result<(), RepoError>;
    /// Records (or clears) an address waiting for confirmation and queues `mails`, in
    /// one transaction.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] for an unknown id.
    async fn set_pending_email(
        &self,
        id: UserId,
        pending: Option<Email>,
        mails: Vec<OutgoingMail>,
    ) -> Result<(), RepoError>;
    /// Makes the pending address (if it is still `expected`) the account's address,
    /// cancels a pending generated password (it went to the old address), and ends every
    /// session but `keep_session` and every API token, in one transaction: the new
    /// address can trust that nobody else is signed in. `false` when the address is not
    /// pending any more.
    ///
    /// # Errors
    /// [`RepoError::EmailTaken`] when another account has the address now.
    async fn adopt_pending_email(
        &self,
        id: UserId,
        expected: &Email,
        keep_session: Option<String>,
    ) -> Result<bool, RepoError>;
    /// Inserts many users in batches (sample data); returns their ids in order.
    ///
    /// # Errors
    /// [`RepoError::EmailTaken`] when any address is registered; nothing is stored then.
    async fn insert_many(&self, users: Vec<NewUser>) -> Result<Vec<UserId>, RepoError>;
}

#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait GroupRepository: Send + Sync {
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Corrupt`].
    async fn list(&self) -> Result<Vec<GroupSummary>, RepoError>;
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Corrupt`].
    async fn find_by_name(&self, name: &str) -> Result<Option<Group>, RepoError>;
    /// Returns `false` when the user already was a member.
    ///
    /// # Errors
    /// [`RepoError::MissingReference`] for an unknown group or user.
    async fn add_member(&self, group: GroupId, user: UserId) -> Result<bool, RepoError>;
    /// Returns `false` when the user was not a member.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`].
    async fn remove_member(&self, group: GroupId, user: UserId) -> Result<bool, RepoError>;
    /// The groups a user belongs to, with their permissions.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Corrupt`].
    async fn groups_of(&self, user: UserId) -> Result<Vec<Group>, RepoError>;
    /// The union of the permissions of a user's groups.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Corrupt`].
    async fn permissions_of(&self, user: UserId) -> Result<Vec<Permission>, RepoError>;
}

/// A server-side session. `key` is a digest of the cookie value, so a leaked table does
/// not hand out live sessions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub key: String,
    pub user_id: Option<UserId>,
    /// Opaque state owned by the web layer (CSRF secret, flash messages).
    pub data: String,
    pub expires_at: Timestamp,
}

#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait SessionRepository: Send + Sync {
    /// Inserts or replaces the session with this key.
    ///
    /// # Errors
    /// [`RepoError::MissingReference`] for an unknown user.
    async fn save(&self, session: SessionRecord) -> Result<(), RepoError>;
    /// Rewrites a session that still exists; returns `false` (and writes nothing) when
    /// it has been deleted meanwhile, so that a request which began before a sign-out
    /// or a password change cannot bring its session back when it finishes.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`].
    async fn update(&self, session: SessionRecord) -> Result<bool, RepoError>;
    /// Returns the session unless it is missing or expired at `now`.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`].
    async fn find(&self, key: &str, now: Timestamp) -> Result<Option<SessionRecord>, RepoError>;
    /// [`find`](Self::find), together with the session's user and their permissions
    /// (`None` for an anonymous session or a user who no longer exists), in one read.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Corrupt`].
    async fn find_with_user(
        &self,
        key: &str,
        now: Timestamp,
    ) -> Result<Option<(SessionRecord, Option<UserWithPermissions>)>, RepoError>;
    /// # Errors
    /// [`RepoError::Unavailable`].
    async fn delete(&self, key: &str) -> Result<(), RepoError>;
    /// Ends every session of a user but `keep`; returns how many ended.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`].
    async fn delete_for_user(&self, user: UserId, keep: Option<String>) -> Result<u64, RepoError>;
    /// # Errors
    /// [`RepoError::Unavailable`].
    async fn purge_expired(&self, now: Timestamp) -> Result<u64, RepoError>;
}

#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ApiTokenRepository: Send + Sync {
    /// Stores the digest of a new token.
    ///
    /// # Errors
    /// [`RepoError::MissingReference`] for an unknown user.
    async fn insert(&self, user: UserId, digest: String, at: Timestamp) -> Result<(), RepoError>;
    /// The holder of the token with their permissions, in one read.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Corrupt`].
    async fn find_holder(&self, digest: &str) -> Result<Option<UserWithPermissions>, RepoError>;
    /// Returns `false` when no such token existed.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`].
    async fn delete(&self, digest: &str) -> Result<bool, RepoError>;
    /// # Errors
    /// [`RepoError::Unavailable`].
    async fn delete_for_user(&self, user: UserId) -> Result<u64, RepoError>;
}
