use std::sync::{Arc, Mutex, PoisonError, mpsc};

use argon2::password_hash::{PasswordHash as Phc, SaltString};
use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, PasswordVerifier as _, Version};
use async_trait::async_trait;
use catalog_domain::ports::{HashError, PasswordCheck, PasswordHasher};
use catalog_domain::user::{Password, PasswordAttempt, PasswordHash};
use rand::RngCore;

/// argon2id with OWASP's recommended minimum (19 MiB, 2 passes, 1 lane).
pub const OWASP_PARAMS: (u32, u32, u32) = (19 * 1024, 2, 1);

/// argon2id password hashing. Hashes run on one dedicated thread per core, never on the
/// async reactor; a flood of sign-ins queues for them. Dedicated threads rather than
/// tokio's blocking pool: each hash allocates 19 MiB, and every pool thread that ever
/// ran one kept that much in its own allocator arena (a 60 s load test ended at 500 MiB
/// of RSS); a fixed set of threads keeps it to a fixed set of arenas.
#[derive(Clone)]
pub struct Argon2Hasher {
    inner: Arc<Inner>,
}

struct Inner {
    params: Params,
    /// Verified against when the account does not exist, so that the answer takes as
    /// long as for a real account.
    dummy: String,
    jobs: Mutex<mpsc::Sender<Job>>,
}

type Job = Box<dyn FnOnce() + Send>;

/// Starts `count` hashing threads that take jobs until every sender is gone.
fn start_workers(count: usize) -> Result<mpsc::Sender<Job>, HashError> {
    let (sender, receiver) = mpsc::channel::<Job>();
    let receiver = Arc::new(Mutex::new(receiver));
    for n in 0..count {
        let receiver = Arc::clone(&receiver);
        std::thread::Builder::new()
            .name(format!("argon2-{n}"))
            .spawn(move || {
                loop {
                    let job = receiver
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .recv();
                    let Ok(job) = job else { return };
                    // A panicking hash fails its own request (its result channel is
                    // dropped), not the worker.
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                }
            })
            .map_err(boxed)?;
    }
    Ok(sender)
}

impl std::fmt::Debug for Argon2Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Argon2Hasher")
            .field("m_cost", &self.inner.params.m_cost())
            .field("t_cost", &self.inner.params.t_cost())
            .finish_non_exhaustive()
    }
}

fn boxed(e: impl std::fmt::Display) -> HashError {
    HashError(e.to_string().into())
}

fn argon(params: &Params) -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
}

fn hash_with(params: &Params, secret: &[u8]) -> Result<String, HashError> {
    let mut salt = [0_u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(boxed)?;
    Ok(argon(params)
        .hash_password(secret, &salt)
        .map_err(boxed)?
        .to_string())
}

/// What an attempt for an account that does not exist is verified against. Only its
/// parameters matter — verifying costs one full hash whatever the stored output, and no
/// password yields all zeros — so it is written down rather than computed: computing it
/// cost every start a hash, and left its 19 MiB in the allocator.
fn dummy_phc(params: &Params) -> Result<String, HashError> {
    let salt = SaltString::encode_b64(&[0x5a; 16]).map_err(boxed)?;
    let output = argon2::password_hash::Output::new(&[0; 32]).map_err(boxed)?;
    let phc = format!(
        "$argon2id$v=19$m={},t={},p={}${}${output}",
        params.m_cost(),
        params.t_cost(),
        params.p_cost(),
        salt.as_str(),
    );
    // A dummy that did not parse would be refused at once: a timing oracle.
    Phc::new(&phc).map_err(boxed)?;
    Ok(phc)
}

fn verify_with(params: &Params, attempt: &[u8], phc: &str) -> Result<PasswordCheck, HashError> {
    let Ok(parsed) = Phc::new(phc) else {
        return Ok(PasswordCheck::Invalid);
    };
    if argon(params).verify_password(attempt, &parsed).is_err() {
        return Ok(PasswordCheck::Invalid);
    }
    let current = parsed.algorithm.as_str() == "argon2id"
        && Params::try_from(&parsed).is_ok_and(|p| {
            p.m_cost() >= params.m_cost()
                && p.t_cost() >= params.t_cost()
                && p.p_cost() >= params.p_cost()
        });
    Ok(PasswordCheck::Valid {
        needs_rehash: !current,
    })
}

impl Argon2Hasher {
    /// # Errors
    /// [`HashError`] for parameters argon2 refuses.
    pub fn new(m_cost: u32, t_cost: u32, p_cost: u32) -> Result<Self, HashError> {
        let params = Params::new(m_cost, t_cost, p_cost, None).map_err(boxed)?;
        let dummy = dummy_phc(&params)?;
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        Ok(Self {
            inner: Arc::new(Inner {
                params,
                dummy,
                jobs: Mutex::new(start_workers(cores)?),
            }),
        })
    }

    /// OWASP's parameters.
    ///
    /// # Errors
    /// [`HashError`] if argon2 refuses them (it does not).
    pub fn owasp() -> Result<Self, HashError> {
        let (m, t, p) = OWASP_PARAMS;
        Self::new(m, t, p)
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Inner) -> Result<T, HashError> + Send + 'static,
    ) -> Result<T, HashError> {
        let (done, result) = tokio::sync::oneshot::channel();
        let inner = Arc::clone(&self.inner);
        let job: Job = Box::new(move || {
            let _ = done.send(work(&inner));
        });
        self.inner
            .jobs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .send(job)
            .map_err(boxed)?;
        result.await.map_err(boxed)?
    }
}

#[async_trait]
impl PasswordHasher for Argon2Hasher {
    async fn hash(&self, password: &Password) -> Result<PasswordHash, HashError> {
        let secret = password.expose().as_bytes().to_vec();
        let phc = self
            .blocking(move |inner| hash_with(&inner.params, &secret))
            .await?;
        PasswordHash::from_phc(phc).ok_or_else(|| boxed("argon2 produced no PHC string"))
    }

    async fn verify(
        &self,
        attempt: &PasswordAttempt,
        hash: Option<PasswordHash>,
    ) -> Result<PasswordCheck, HashError> {
        let secret = attempt.expose().as_bytes().to_vec();
        self.blocking(move |inner| match hash {
            Some(hash) => verify_with(&inner.params, &secret, hash.as_str()),
            None => {
                verify_with(&inner.params, &secret, &inner.dummy)?;
                Ok(PasswordCheck::Invalid)
            }
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use catalog_domain::user::PasswordContext;

    use super::*;

    fn password(s: &str) -> Password {
        Password::parse(s, PasswordContext::default()).unwrap()
    }

    fn attempt(s: &str) -> PasswordAttempt {
        PasswordAttempt::new(s).unwrap()
    }

    #[tokio::test]
    async fn hashes_are_argon2id_with_owasp_parameters_and_verify() {
        let hasher = Argon2Hasher::owasp().unwrap();
        let hash = hasher.hash(&password("velvet thunder 42")).await.unwrap();
        assert!(
            hash.as_str().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{}",
            hash.as_str()
        );
        assert_eq!(
            hasher
                .verify(&attempt("velvet thunder 42"), Some(hash.clone()))
                .await
                .unwrap(),
            PasswordCheck::Valid {
                needs_rehash: false
            }
        );
        assert_eq!(
            hasher
                .verify(&attempt("velvet thunder 43"), Some(hash))
                .await
                .unwrap(),
            PasswordCheck::Invalid
        );
    }

    #[tokio::test]
    async fn two_hashes_of_one_password_differ_by_salt() {
        let hasher = Argon2Hasher::owasp().unwrap();
        let a = hasher.hash(&password("velvet thunder 42")).await.unwrap();
        let b = hasher.hash(&password("velvet thunder 42")).await.unwrap();
        assert_ne!(a, b);
    }

    #[tokio::test]
    async fn a_hash_with_weaker_parameters_asks_to_be_upgraded() {
        let weak = Argon2Hasher::new(8 * 1024, 1, 1).unwrap();
        let old = weak.hash(&password("velvet thunder 42")).await.unwrap();
        let current = Argon2Hasher::owasp().unwrap();
        assert_eq!(
            current
                .verify(&attempt("velvet thunder 42"), Some(old))
                .await
                .unwrap(),
            PasswordCheck::Valid { needs_rehash: true }
        );
    }

    #[tokio::test]
    async fn an_unknown_account_is_refused_after_a_real_hash() {
        let hasher = Argon2Hasher::owasp().unwrap();
        let known = hasher.hash(&password("velvet thunder 42")).await.unwrap();
        // The fastest of three runs each, so that other tests sharing the cores do
        // not decide the comparison.
        let fastest = |hash: Option<PasswordHash>| {
            let hasher = hasher.clone();
            async move {
                let mut best = std::time::Duration::MAX;
                for _ in 0..3 {
                    let started = std::time::Instant::now();
                    let check = hasher.verify(&attempt("anything"), hash.clone()).await;
                    assert_eq!(check.unwrap(), PasswordCheck::Invalid);
                    best = best.min(started.elapsed());
                }
                best
            }
        };
        let real = fastest(Some(known)).await;
        let dummy = fastest(None).await;
        // The dummy verification really ran argon2 with the same parameters: it takes
        // about as long as a wrong password for a real account (microseconds would
        // mean it was refused unparsed).
        assert!(
            dummy * 3 > real && real * 3 > dummy,
            "dummy {dummy:?}, real {real:?}"
        );
    }

    #[test]
    fn the_dummy_hash_has_the_hashers_parameters() {
        for (m, t, p) in [OWASP_PARAMS, (8 * 1024, 1, 1)] {
            let params = Params::new(m, t, p, None).unwrap();
            let dummy = dummy_phc(&params).unwrap();
            let parsed = Phc::new(&dummy).unwrap();
            assert_eq!(parsed.algorithm.as_str(), "argon2id");
            let read = Params::try_from(&parsed).unwrap();
            assert_eq!((read.m_cost(), read.t_cost(), read.p_cost()), (m, t, p));
        }
    }

    #[tokio::test]
    async fn a_malformed_stored_hash_is_a_refusal_not_an_error() {
        let hasher = Argon2Hasher::owasp().unwrap();
        let junk = PasswordHash::from_phc("$argon2id$garbage".into()).unwrap();
        assert_eq!(
            hasher.verify(&attempt("x"), Some(junk)).await.unwrap(),
            PasswordCheck::Invalid
        );
    }
}
