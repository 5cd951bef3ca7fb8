//! Server-side sessions in the database (shared by every `serve` process), through
//! tower-sessions with a store on the domain's `SessionRepository` port, plus the few
//! things the pages keep in a session: the signed-in user, the CSRF token, flash messages.
//!
//! The cookie carries a random 128-bit id; the table keeps only its keyed fingerprint.

use std::sync::Arc;

use async_trait::async_trait;
use catalog_domain::ports::{SessionRecord, SessionRepository, TokenSigner, UserWithPermissions};
use catalog_domain::user::UserId;
use tower_sessions::cookie::SameSite;
use tower_sessions::session::{Error as SessionError, Id, Record};
use tower_sessions::session_store::{Error as StoreError, Result as StoreResult};
use tower_sessions::{Expiry, Session, SessionManagerLayer, SessionStore};

use crate::settings::Settings;

const USER: &str = "uid";
const CSRF: &str = "csrf";
const FLASH: &str = "flash";
const SEEN: &str = "seen";

tokio::task_local! {
    /// Where a session load inside [`loading_the_user`] leaves the user it read.
    static LOADED_USER: std::cell::RefCell<Option<UserWithPermissions>>;
}

/// Runs `load` (which should load the session) and returns its output with the user the
/// session store read together with the session, if the session was loaded during it.
/// The slot belongs to this call alone, so nothing read for one request can reach another.
pub async fn loading_the_user<T>(
    load: impl Future<Output = T>,
) -> (T, Option<UserWithPermissions>) {
    LOADED_USER
        .scope(std::cell::RefCell::new(None), async {
            let out = load.await;
            let user = LOADED_USER.with(|slot| slot.borrow_mut().take());
            (out, user)
        })
        .await
}

/// Sessions end after two weeks without a visit.
pub const IDLE_EXPIRY_DAYS: i64 = 14;

#[derive(Clone)]
pub struct DbSessionStore {
    sessions: Arc<dyn SessionRepository>,
    signer: Arc<dyn TokenSigner>,
}

impl std::fmt::Debug for DbSessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DbSessionStore")
    }
}

impl DbSessionStore {
    pub fn new(sessions: Arc<dyn SessionRepository>, signer: Arc<dyn TokenSigner>) -> Self {
        Self { sessions, signer }
    }

    /// What the table stores for a session id.
    pub fn key(signer: &dyn TokenSigner, id: &Id) -> String {
        signer.fingerprint(&id.to_string())
    }
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

fn to_chrono(t: time::OffsetDateTime) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(t.unix_timestamp(), t.nanosecond()).unwrap_or_default()
}

fn to_time(t: chrono::DateTime<chrono::Utc>) -> StoreResult<time::OffsetDateTime> {
    time::OffsetDateTime::from_unix_timestamp(t.timestamp()).map_err(backend)
}

impl DbSessionStore {
    fn record(&self, record: &Record) -> StoreResult<SessionRecord> {
        let user_id = record
            .data
            .get(USER)
            .and_then(serde_json::Value::as_i64)
            .map(UserId);
        Ok(SessionRecord {
            key: Self::key(self.signer.as_ref(), &record.id),
            user_id,
            data: serde_json::to_string(&record.data).map_err(backend)?,
            expires_at: to_chrono(record.expiry_date),
        })
    }
}

#[async_trait]
impl SessionStore for DbSessionStore {
    /// A new session never takes over a live one: ids are 128 random bits, so this loop
    /// practically never turns, but it is the store's job to make sure.
    async fn create(&self, record: &mut Record) -> StoreResult<()> {
        loop {
            let key = Self::key(self.signer.as_ref(), &record.id);
            let taken = self
                .sessions
                .find(&key, chrono::Utc::now())
                .await
                .map_err(backend)?;
            if taken.is_none() {
                return self
                    .sessions
                    .save(self.record(record)?)
                    .await
                    .map_err(backend);
            }
            record.id = Id::default();
        }
    }

    /// Only ever rewrites a live session: one deleted meanwhile (signed out elsewhere,
    /// ended by a password change) stays deleted.
    async fn save(&self, record: &Record) -> StoreResult<()> {
        self.sessions
            .update(self.record(record)?)
            .await
            .map(|_| ())
            .map_err(backend)
    }

    async fn load(&self, id: &Id) -> StoreResult<Option<Record>> {
        let key = Self::key(self.signer.as_ref(), id);
        let Some((found, user)) = self
            .sessions
            .find_with_user(&key, chrono::Utc::now())
            .await
            .map_err(backend)?
        else {
            return Ok(None);
        };
        // A row that does not parse is treated as no session, not as an error page.
        let Ok(data) = serde_json::from_str(&found.data) else {
            return Ok(None);
        };
        // The user came in the same read; the request that asked can take it instead
        // of reading it again (see `loading_the_user`).
        let _ = LOADED_USER.try_with(|slot| *slot.borrow_mut() = user);
        Ok(Some(Record {
            id: *id,
            data,
            expiry_date: to_time(found.expires_at)?,
        }))
    }

    async fn delete(&self, id: &Id) -> StoreResult<()> {
        self.sessions
            .delete(&Self::key(self.signer.as_ref(), id))
            .await
            .map_err(backend)
    }
}

/// The cookie: `HttpOnly`, `SameSite=Lax`; under https also `Secure` with the `__Host-`
/// prefix (which browsers accept only for secure, host-only, path-`/` cookies).
pub fn layer(settings: &Settings, store: DbSessionStore) -> SessionManagerLayer<DbSessionStore> {
    let secure = settings.secure_cookies();
    SessionManagerLayer::new(store)
        .with_name(if secure {
            "__Host-catalog_session"
        } else {
            "catalog_session"
        })
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(secure)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(time::Duration::days(IDLE_EXPIRY_DAYS)))
}

/// Keeps an active session alive: its stored expiry moves forward when it is used on a
/// new day. Saving the session on every request instead would make every page view a
/// database write.
pub async fn touch(session: &Session, today: i64) {
    let seen: Option<i64> = session.get(SEEN).await.ok().flatten();
    if seen != Some(today) {
        let _ = session.insert(SEEN, today).await;
    }
}

/// The signed-in user's id, if any.
///
/// # Errors
/// [`SessionError`] when the session cannot be loaded (the database is down): the
/// caller must not mistake that for "signed out" and send the user to sign in.
pub async fn user_id(session: &Session) -> Result<Option<UserId>, SessionError> {
    Ok(session.get::<i64>(USER).await?.map(UserId))
}

/// Signs `user` in: a fresh session id (no fixation), a fresh CSRF token, nothing kept
/// from the anonymous session but its flash messages.
///
/// # Errors
/// [`SessionError`] when the session store fails.
pub async fn sign_in(session: &Session, user: UserId) -> Result<(), SessionError> {
    let flashes = take_flashes(session).await;
    session.clear().await;
    session.cycle_id().await?;
    session.insert(USER, user.0).await?;
    for flash in flashes {
        push_flash(session, &flash).await;
    }
    Ok(())
}

/// Signs out: the session is deleted server-side, so its cookie is worthless.
///
/// # Errors
/// [`SessionError`] when the session store fails.
pub async fn sign_out(session: &Session) -> Result<(), SessionError> {
    session.flush().await
}

/// The session's CSRF token, created on first use.
///
/// # Errors
/// [`SessionError`] when the session store fails.
pub async fn csrf_token(
    session: &Session,
    random: &dyn catalog_domain::ports::Random,
) -> Result<String, SessionError> {
    if let Some(token) = session.get::<String>(CSRF).await? {
        return Ok(token);
    }
    let token = random.token(32);
    session.insert(CSRF, &token).await?;
    Ok(token)
}

/// Whether `submitted` is this session's CSRF token (constant-time comparison).
///
/// # Errors
/// [`SessionError`] when the session cannot be loaded.
pub async fn csrf_matches(session: &Session, submitted: &str) -> Result<bool, SessionError> {
    use subtle::ConstantTimeEq;
    Ok(match session.get::<String>(CSRF).await? {
        Some(expected) if !submitted.is_empty() => {
            expected.as_bytes().ct_eq(submitted.as_bytes()).into()
        }
        _ => false,
    })
}

/// Flash messages kept for the next page at most.
const MAX_FLASHES: usize = 5;

/// Queues a message for the next page.
pub async fn push_flash(session: &Session, message: &str) {
    let mut flashes: Vec<String> = session.get(FLASH).await.ok().flatten().unwrap_or_default();
    flashes.push(message.to_owned());
    // A client that posts without ever reading a page (a script) must not grow its
    // session row without bound: only the latest few messages are worth showing.
    if flashes.len() > MAX_FLASHES {
        flashes.drain(..flashes.len() - MAX_FLASHES);
    }
    // Losing a flash message is better than failing the request that caused it.
    let _ = session.insert(FLASH, flashes).await;
}

/// Takes the queued messages (shown once). A session without messages is left untouched,
/// so that reading a page does not write the session back.
pub async fn take_flashes(session: &Session) -> Vec<String> {
    match session.get::<Vec<String>>(FLASH).await {
        Ok(Some(_)) => session
            .remove::<Vec<String>>(FLASH)
            .await
            .ok()
            .flatten()
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}
