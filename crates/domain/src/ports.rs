//! The ports: what the domain needs from the outside world. Adapters implement them;
//! services hold them as `Arc<dyn Port>` so the adapter is chosen at run time.

use std::time::Duration;

use async_trait::async_trait;

use crate::access::{Group, GroupId, GroupSummary, Permission, ProductFacts};
use crate::mail::{OutboxId, OutboxMessage, OutgoingMail};
use crate::product::{
    Category, CategoryId, NewCategory, NewProduct, NewVersion, Product, ProductId, ProductUpdate,
    Version, VersionId, VersionsEdit,
};
use crate::user::{
    Email, NewUser, Password, PasswordAttempt, PasswordHash, PendingPassword, User, UserId,
    UserWithGroups,
};
use crate::{Page, PageRequest, Timestamp};

pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What a repository can report. Conflicts are typed so that use cases can answer them;
/// everything the caller cannot act on is `Unavailable` or `Corrupt`.
#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    #[error("an account with this email already exists")]
    EmailTaken,
    #[error("a category with this name already exists")]
    CategoryNameTaken,
    #[error("this product already has a version with that number")]
    VersionNumberTaken,
    #[error("the category still has {0} products")]
    CategoryInUse(u64),
    #[error("a referenced row does not exist")]
    MissingReference,
    #[error("not found")]
    NotFound,
    /// The row was written by someone else since it was read: the write was not made.
    #[error("the row changed since it was read")]
    Conflict,
    #[error("a stored row is invalid: {0}")]
    Corrupt(String),
    #[error("the database is unavailable")]
    Unavailable(#[source] BoxError),
}

/// Which products a listing may show; derived from the access rules by the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProductScope {
    All,
    Published,
    PublishedOrOwnedBy(UserId),
}

/// Writes the mail of an account being created, from the stored account: a
/// verification link names the account's id, which exists only once it is stored.
pub type MailFor = Box<dyn FnOnce(&User) -> OutgoingMail + Send>;

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

#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait CategoryRepository: Send + Sync {
    /// # Errors
    /// [`RepoError::CategoryNameTaken`] when the name exists.
    async fn insert(&self, category: NewCategory) -> Result<Category, RepoError>;
    /// Ordered by name.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Corrupt`].
    async fn list(&self) -> Result<Vec<Category>, RepoError>;
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Corrupt`].
    async fn find_by_id(&self, id: CategoryId) -> Result<Option<Category>, RepoError>;
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Corrupt`].
    async fn find_by_name(&self, name: &str) -> Result<Option<Category>, RepoError>;
    /// # Errors
    /// [`RepoError::CategoryInUse`] with the product count while products use it,
    /// [`RepoError::NotFound`] for an unknown id.
    async fn delete(&self, id: CategoryId) -> Result<(), RepoError>;
}

#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ProductRepository: Send + Sync {
    /// # Errors
    /// [`RepoError::MissingReference`] for an unknown category or owner.
    async fn insert(&self, product: NewProduct) -> Result<Product, RepoError>;
    /// Inserts in batches inside one transaction; returns how many were stored.
    ///
    /// # Errors
    /// [`RepoError::MissingReference`] for an unknown category or owner.
    async fn insert_many(&self, products: Vec<NewProduct>) -> Result<u64, RepoError>;
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Corrupt`].
    async fn find(&self, id: ProductId) -> Result<Option<Product>, RepoError>;
    /// The product with its versions (in creation order), in one read.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Corrupt`].
    async fn find_with_versions(
        &self,
        id: ProductId,
    ) -> Result<Option<(Product, Vec<Version>)>, RepoError>;
    /// What the access rules need to know about the product whose image is stored
    /// under `key`; `None` when no product has that image (any more).
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Corrupt`].
    async fn image_owner(&self, key: &str) -> Result<Option<ProductFacts>, RepoError>;
    /// Newest first (`created_at`, then id, descending).
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Corrupt`].
    async fn list(
        &self,
        scope: ProductScope,
        page: PageRequest,
    ) -> Result<Page<Product>, RepoError>;
    /// A page as [`ProductRepository::list`] reads it, each product with its versions
    /// (ordered by id), read together.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Corrupt`].
    async fn list_with_versions(
        &self,
        scope: ProductScope,
        page: PageRequest,
    ) -> Result<Page<(Product, Vec<Version>)>, RepoError>;
    /// Writes the fields the update names (and no other), moving the product to its
    /// next revision, if the product is still at `update.revision`.
    ///
    /// # Errors
    /// [`RepoError::Conflict`] when the product was written since that revision (nothing
    /// is written then), [`RepoError::NotFound`] for an unknown product,
    /// [`RepoError::MissingReference`] for an unknown category.
    async fn update(&self, id: ProductId, update: ProductUpdate) -> Result<Product, RepoError>;
    /// The whole edit form in one transaction: the fields, a new image key (`None` keeps
    /// the image) and the versions, under the revision check of
    /// [`ProductRepository::update`]. Either all of it is stored or nothing.
    ///
    /// # Errors
    /// As [`ProductRepository::update`], and [`RepoError::NotFound`] for a version that
    /// does not belong to the product, [`RepoError::VersionNumberTaken`].
    async fn edit(
        &self,
        id: ProductId,
        update: ProductUpdate,
        image: Option<String>,
        versions: VersionsEdit,
    ) -> Result<Product, RepoError>;
    /// Replaces the image and moves the product to its next revision.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] for an unknown product.
    async fn set_image(
        &self,
        id: ProductId,
        image: Option<String>,
        at: Timestamp,
    ) -> Result<(), RepoError>;
    /// Deletes the product and its versions.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] for an unknown product.
    async fn delete(&self, id: ProductId) -> Result<(), RepoError>;
}

#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait VersionRepository: Send + Sync {
    /// Ordered by id.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Corrupt`].
    async fn list(&self, product: ProductId) -> Result<Vec<Version>, RepoError>;
    /// A current version demotes the previous current one in the same transaction.
    ///
    /// # Errors
    /// [`RepoError::VersionNumberTaken`], [`RepoError::MissingReference`].
    async fn insert(&self, product: ProductId, version: NewVersion) -> Result<Version, RepoError>;
    /// Replaces number, name and current flag; demotes as `insert` does.
    ///
    /// # Errors
    /// [`RepoError::NotFound`] unless the version belongs to the product,
    /// [`RepoError::VersionNumberTaken`].
    async fn update(
        &self,
        product: ProductId,
        id: VersionId,
        version: NewVersion,
    ) -> Result<Version, RepoError>;
    /// # Errors
    /// [`RepoError::NotFound`] unless the version belongs to the product.
    async fn delete(&self, product: ProductId, id: VersionId) -> Result<(), RepoError>;
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

#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait OutboxRepository: Send + Sync {
    /// # Errors
    /// [`RepoError::Unavailable`].
    async fn enqueue(&self, mail: OutgoingMail, at: Timestamp) -> Result<OutboxId, RepoError>;
    /// Claims up to `limit` due messages for `lease`: no other dispatcher gets them until
    /// the lease runs out, so several processes never send one message twice.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`] or [`RepoError::Corrupt`].
    async fn claim_due(
        &self,
        now: Timestamp,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<OutboxMessage>, RepoError>;
    /// Marks a message delivered and wipes its secrets.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`].
    async fn mark_sent(&self, id: OutboxId, at: Timestamp) -> Result<(), RepoError>;
    /// Records a failed attempt and when to try again.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`].
    async fn mark_failed(
        &self,
        id: OutboxId,
        error: String,
        retry_at: Timestamp,
    ) -> Result<(), RepoError>;
    /// Number of messages not yet delivered.
    ///
    /// # Errors
    /// [`RepoError::Unavailable`].
    async fn pending_count(&self) -> Result<u64, RepoError>;
}

/// Delivers one queued message (renders and sends it).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Mailer: Send + Sync {
    /// # Errors
    /// [`BoxError`] describing the transport failure; the dispatcher retries later.
    async fn deliver(&self, message: &OutboxMessage) -> Result<(), BoxError>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordCheck {
    Valid { needs_rehash: bool },
    Invalid,
}

#[derive(Debug, thiserror::Error)]
#[error("password hashing failed")]
pub struct HashError(#[source] pub BoxError);

/// Password hashing. Implementations run the expensive work off the async reactor.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PasswordHasher: Send + Sync {
    /// # Errors
    /// [`HashError`] when the hasher fails (it should not).
    async fn hash(&self, password: &Password) -> Result<PasswordHash, HashError>;
    /// Checks an attempt against a hash; with `None` it hashes anyway, so that an unknown
    /// account costs the same time as a known one.
    ///
    /// # Errors
    /// [`HashError`] when the hasher fails.
    async fn verify(
        &self,
        attempt: &PasswordAttempt,
        hash: Option<PasswordHash>,
    ) -> Result<PasswordCheck, HashError>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token is malformed or its signature is wrong")]
    Invalid,
    #[error("the token has expired")]
    Expired,
}

/// What a verified signed token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedClaims {
    /// Whom the token is for and the state it is bound to, as the use case wrote it
    /// (for example the address being confirmed): once that state changes, the token no
    /// longer matches and cannot be used again.
    pub subject: String,
    pub issued_at: Timestamp,
}

/// Signs and checks tokens (HMAC). `purpose` separates kinds of token, so a token made
/// for one use is worthless for another.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait TokenSigner: Send + Sync {
    fn sign(&self, purpose: &str, subject: &str, issued_at: Timestamp) -> String;
    /// Checks the signature first, then the age (`max_age` from `issued_at` to `now`).
    ///
    /// # Errors
    /// [`TokenError::Invalid`] or [`TokenError::Expired`]; an expired token still reports
    /// its claims through [`TokenSigner::verify_signature`].
    fn verify(
        &self,
        purpose: &str,
        token: &str,
        now: Timestamp,
        max_age: Duration,
    ) -> Result<SignedClaims, TokenError>;
    /// Checks only the signature, whatever the token's age.
    ///
    /// # Errors
    /// [`TokenError::Invalid`].
    fn verify_signature(&self, purpose: &str, token: &str) -> Result<SignedClaims, TokenError>;
    /// A keyed digest of a secret (API tokens, session ids) to store instead of the
    /// secret itself: a copy of the table hands out nothing usable.
    fn fingerprint(&self, secret: &str) -> String;
}

#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

/// Randomness from a cryptographically secure generator.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait Random: Send + Sync {
    /// `bytes` random bytes, URL-safe base64 without padding.
    fn token(&self, bytes: usize) -> String;
    /// A password of `len` characters without look-alike characters.
    fn password(&self, len: usize) -> String;
}

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("the file is not an image of a supported type")]
    NotAnImage,
    #[error("the image is larger than {max_side}×{max_side} pixels or {max_megapixels} megapixels")]
    TooLarge { max_side: u32, max_megapixels: u32 },
    /// Within the size limits, but more than the budget once decoded (16 bits a
    /// channel): a small file must not cost the server hundreds of megabytes.
    #[error(
        "the image takes more than {max_mib} MiB once decoded; save it with 8 bits per channel or make it smaller"
    )]
    TooDeep { max_mib: u32 },
    #[error("no such file")]
    NotFound,
    #[error("the media store failed")]
    Io(#[source] BoxError),
}

impl MediaError {
    /// Whether the upload itself is refused (a field error for its sender), rather than
    /// the store failing.
    pub fn refuses_the_file(&self) -> bool {
        matches!(
            self,
            Self::NotAnImage | Self::TooLarge { .. } | Self::TooDeep { .. }
        )
    }
}

/// A stored image, ready to serve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMedia {
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
}

/// Where avatars and product images live. `save_image` decodes, checks and re-encodes the
/// image and stores it under a fresh random key.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait MediaStore: Send + Sync {
    /// # Errors
    /// [`MediaError::NotAnImage`], [`MediaError::TooLarge`], [`MediaError::TooDeep`] or
    /// [`MediaError::Io`].
    async fn save_image(&self, folder: &str, bytes: Vec<u8>) -> Result<String, MediaError>;
    /// # Errors
    /// [`MediaError::NotFound`] or [`MediaError::Io`].
    async fn open(&self, key: &str) -> Result<StoredMedia, MediaError>;
    /// Deleting a missing file is not an error.
    ///
    /// # Errors
    /// [`MediaError::Io`].
    async fn delete(&self, key: &str) -> Result<(), MediaError>;
}
