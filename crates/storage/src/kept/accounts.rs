//! The account ports through the kept layer: who is asking (a session or an API token
//! with its user and permissions) is kept; every write forgets; the outbox, which no
//! kept answer reads, passes through.

use std::time::Duration;

use async_trait::async_trait;
use catalog_domain::Timestamp;
use catalog_domain::access::{Group, GroupId, GroupSummary, Permission};
use catalog_domain::mail::{OutboxId, OutboxMessage, OutgoingMail};
use catalog_domain::ports::{
    ApiTokenRepository, GroupRepository, MailFor, MailThrottle, OutboxRepository, ProfileUpdate,
    RepoError, SessionRecord, SessionRepository, UserRepository, UserWithPermissions,
};
use catalog_domain::user::{
    Email, NewUser, PasswordHash, PendingPassword, User, UserId, UserWithGroups,
};

use super::{Kept, always};

#[async_trait]
impl UserRepository for Kept {
    async fn insert(&self, user: NewUser) -> Result<User, RepoError> {
        self.write(UserRepository::insert(&self.store, user)).await
    }

    async fn insert_with_mail(&self, user: NewUser, mail: MailFor) -> Result<User, RepoError> {
        self.write(self.store.insert_with_mail(user, mail)).await
    }

    async fn release_stale_address(
        &self,
        email: &Email,
        cutoff: Timestamp,
    ) -> Result<bool, RepoError> {
        self.write(self.store.release_stale_address(email, cutoff))
            .await
    }

    async fn find_by_id(&self, id: UserId) -> Result<Option<User>, RepoError> {
        self.store.find_by_id(id).await
    }

    async fn find_with_permissions(
        &self,
        id: UserId,
    ) -> Result<Option<UserWithPermissions>, RepoError> {
        self.store.find_with_permissions(id).await
    }

    async fn find_by_email(&self, email: &Email) -> Result<Option<User>, RepoError> {
        self.store.find_by_email(email).await
    }

    async fn list(&self) -> Result<Vec<UserWithGroups>, RepoError> {
        UserRepository::list(&self.store).await
    }

    async fn set_active(&self, id: UserId, active: bool) -> Result<(), RepoError> {
        self.write(self.store.set_active(id, active)).await
    }

    async fn set_password(
        &self,
        id: UserId,
        hash: PasswordHash,
        change_required: bool,
    ) -> Result<(), RepoError> {
        self.write(self.store.set_password(id, hash, change_required))
            .await
    }

    async fn update_profile(&self, id: UserId, profile: ProfileUpdate) -> Result<User, RepoError> {
        self.write(self.store.update_profile(id, profile)).await
    }

    async fn set_avatar(&self, id: UserId, avatar: Option<String>) -> Result<(), RepoError> {
        self.write(self.store.set_avatar(id, avatar)).await
    }

    async fn set_language(&self, id: UserId, language: Option<String>) -> Result<(), RepoError> {
        self.write(self.store.set_language(id, language)).await
    }

    async fn record_login(&self, id: UserId, at: Timestamp) -> Result<(), RepoError> {
        self.write(self.store.record_login(id, at)).await
    }

    async fn mark_verified(&self, id: UserId) -> Result<bool, RepoError> {
        self.write(self.store.mark_verified(id)).await
    }

    async fn queue_throttled(
        &self,
        id: UserId,
        throttle: MailThrottle,
        now: Timestamp,
        min_interval: Duration,
        mail: OutgoingMail,
    ) -> Result<bool, RepoError> {
        let queued = self
            .store
            .queue_throttled(id, throttle, now, min_interval, mail);
        self.write(queued).await
    }

    async fn set_pending_password(
        &self,
        id: UserId,
        pending: PendingPassword,
        mail: OutgoingMail,
    ) -> Result<(), RepoError> {
        self.write(self.store.set_pending_password(id, pending, mail))
            .await
    }

    async fn adopt_pending_password(
        &self,
        id: UserId,
        expected: PasswordHash,
        mail: OutgoingMail,
    ) -> Result<bool, RepoError> {
        self.write(self.store.adopt_pending_password(id, expected, mail))
            .await
    }

    async fn change_password(
        &self,
        id: UserId,
        hash: PasswordHash,
        keep_session: Option<String>,
        mail: OutgoingMail,
    ) -> Result<(), RepoError> {
        let changed = self.store.change_password(id, hash, keep_session, mail);
        self.write(changed).await
    }

    async fn set_pending_email(
        &self,
        id: UserId,
        pending: Option<Email>,
        mails: Vec<OutgoingMail>,
    ) -> Result<(), RepoError> {
        self.write(self.store.set_pending_email(id, pending, mails))
            .await
    }

    async fn adopt_pending_email(
        &self,
        id: UserId,
        expected: &Email,
        keep_session: Option<String>,
    ) -> Result<bool, RepoError> {
        let adopted = self.store.adopt_pending_email(id, expected, keep_session);
        self.write(adopted).await
    }

    async fn insert_many(&self, users: Vec<NewUser>) -> Result<Vec<UserId>, RepoError> {
        self.write(UserRepository::insert_many(&self.store, users))
            .await
    }
}

#[async_trait]
impl GroupRepository for Kept {
    async fn list(&self) -> Result<Vec<GroupSummary>, RepoError> {
        GroupRepository::list(&self.store).await
    }

    async fn find_by_name(&self, name: &str) -> Result<Option<Group>, RepoError> {
        self.store.find_by_name(name).await
    }

    async fn add_member(&self, group: GroupId, user: UserId) -> Result<bool, RepoError> {
        self.write(self.store.add_member(group, user)).await
    }

    async fn remove_member(&self, group: GroupId, user: UserId) -> Result<bool, RepoError> {
        self.write(self.store.remove_member(group, user)).await
    }

    async fn groups_of(&self, user: UserId) -> Result<Vec<Group>, RepoError> {
        self.store.groups_of(user).await
    }

    async fn permissions_of(&self, user: UserId) -> Result<Vec<Permission>, RepoError> {
        self.store.permissions_of(user).await
    }
}

#[async_trait]
impl SessionRepository for Kept {
    async fn save(&self, session: SessionRecord) -> Result<(), RepoError> {
        self.write(self.store.save(session)).await
    }

    async fn update(&self, session: SessionRecord) -> Result<bool, RepoError> {
        self.write(SessionRepository::update(&self.store, session))
            .await
    }

    async fn find(&self, key: &str, now: Timestamp) -> Result<Option<SessionRecord>, RepoError> {
        SessionRepository::find(&self.store, key, now).await
    }

    /// Kept: every page reads it. A kept session still ends when it expires.
    async fn find_with_user(
        &self,
        key: &str,
        now: Timestamp,
    ) -> Result<Option<(SessionRecord, Option<UserWithPermissions>)>, RepoError> {
        let unexpired = |found: &Option<(SessionRecord, Option<UserWithPermissions>)>| {
            found.as_ref().is_some_and(|(s, _)| s.expires_at > now)
        };
        self.read(
            |m| &m.sessions,
            key.to_owned(),
            (unexpired, Option::is_some),
            || self.store.session_with_user(key, now),
        )
        .await
    }

    async fn delete(&self, key: &str) -> Result<(), RepoError> {
        self.write(SessionRepository::delete(&self.store, key))
            .await
    }

    async fn delete_for_user(&self, user: UserId, keep: Option<String>) -> Result<u64, RepoError> {
        self.write(SessionRepository::delete_for_user(&self.store, user, keep))
            .await
    }

    async fn purge_expired(&self, now: Timestamp) -> Result<u64, RepoError> {
        self.write(self.store.purge_expired(now)).await
    }
}

#[async_trait]
impl ApiTokenRepository for Kept {
    async fn insert(&self, user: UserId, digest: String, at: Timestamp) -> Result<(), RepoError> {
        self.write(ApiTokenRepository::insert(&self.store, user, digest, at))
            .await
    }

    /// Kept: every API request reads it.
    async fn find_holder(&self, digest: &str) -> Result<Option<UserWithPermissions>, RepoError> {
        self.read(
            |m| &m.tokens,
            digest.to_owned(),
            (always, Option::is_some),
            || self.store.token_holder(digest),
        )
        .await
    }

    async fn delete(&self, digest: &str) -> Result<bool, RepoError> {
        self.write(ApiTokenRepository::delete(&self.store, digest))
            .await
    }

    async fn delete_for_user(&self, user: UserId) -> Result<u64, RepoError> {
        self.write(ApiTokenRepository::delete_for_user(&self.store, user))
            .await
    }
}

/// No kept answer is read from the outbox, and the dispatcher writes it every few
/// seconds: its writes forget nothing.
#[async_trait]
impl OutboxRepository for Kept {
    async fn enqueue(&self, mail: OutgoingMail, at: Timestamp) -> Result<OutboxId, RepoError> {
        self.store.enqueue(mail, at).await
    }

    async fn claim_due(
        &self,
        now: Timestamp,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<OutboxMessage>, RepoError> {
        self.store.claim_due(now, limit, lease).await
    }

    async fn mark_sent(&self, id: OutboxId, at: Timestamp) -> Result<(), RepoError> {
        self.store.mark_sent(id, at).await
    }

    async fn mark_failed(
        &self,
        id: OutboxId,
        error: String,
        retry_at: Timestamp,
    ) -> Result<(), RepoError> {
        self.store.mark_failed(id, error, retry_at).await
    }

    async fn pending_count(&self) -> Result<u64, RepoError> {
        self.store.pending_count().await
    }
}
