use std::sync::Arc;

use mockall::predicate::{always, eq};

use super::*;
use crate::ports::*;
use crate::user::PasswordHash;

const URL: &str = "https://shop.example";

/// Mocks without expectations: any call a test did not ask for fails it.
struct Mocks {
    users: MockUserRepository,
    tokens: MockApiTokenRepository,
    groups: MockGroupRepository,
    hasher: MockPasswordHasher,
    signer: MockTokenSigner,
    random: MockRandom,
    media: MockMediaStore,
}

fn hash() -> PasswordHash {
    PasswordHash::from_phc("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()).unwrap()
}

fn other_hash() -> PasswordHash {
    PasswordHash::from_phc("$argon2id$v=19$m=19456,t=2,p=1$b3RoZXI$b3RoZXI".into()).unwrap()
}

fn t0() -> Timestamp {
    chrono::DateTime::UNIX_EPOCH + chrono::Duration::days(20_000)
}

fn user(email: &str, verified: bool, active: bool) -> User {
    User {
        id: UserId(7),
        email: Email::parse(email).unwrap(),
        password_hash: Some(hash()),
        first_name: PersonName::parse("Ann").unwrap(),
        last_name: PersonName::default(),
        avatar: None,
        phone: None,
        country: None,
        is_active: active,
        is_verified: verified,
        is_superuser: false,
        deactivated: false,
        password_change_required: false,
        pending_password: None,
        pending_email: None,
        date_joined: t0(),
        language: None,
        last_login: None,
    }
}

impl Mocks {
    fn new() -> Self {
        let mut signer = MockTokenSigner::new();
        signer
            .expect_sign()
            .returning(|purpose, subject, _| format!("{purpose}.{subject}.sig"));
        signer
            .expect_fingerprint()
            .returning(|v| format!("fp({v})"));
        Self {
            users: MockUserRepository::new(),
            tokens: MockApiTokenRepository::new(),
            groups: MockGroupRepository::new(),
            hasher: MockPasswordHasher::new(),
            signer,
            random: MockRandom::new(),
            media: MockMediaStore::new(),
        }
    }

    fn service(self) -> AccountsService {
        let mut clock = MockClock::new();
        clock.expect_now().return_const(t0());
        AccountsService::new(
            AccountsPorts {
                users: Arc::new(self.users),
                groups: Arc::new(self.groups),
                tokens: Arc::new(self.tokens),
                hasher: Arc::new(self.hasher),
                signer: Arc::new(self.signer),
                random: Arc::new(self.random),
                media: Arc::new(self.media),
                clock: Arc::new(clock),
            },
            AccountsConfig {
                public_url: format!("{URL}/"),
            },
        )
    }
}

/// A registration is parsed before the service sees it, each bad input named.
#[test]
fn a_registration_that_does_not_parse_names_each_input() {
    for (email, password, field) in [
        ("not-an-email", "velvet thunder 42", Input::Email),
        ("ann@example.com", "password", Input::Password),
        ("ann@example.com", "12345678901", Input::Password),
        // A password may not resemble the address it protects.
        (
            "velvet.thunder@example.com",
            "velvet.thunder",
            Input::Password,
        ),
    ] {
        match Registration::parse(email, password) {
            Err(errors) => assert!(!errors.of(field).is_empty(), "{field:?}: {errors}"),
            Ok(registration) => panic!("expected field errors, got {registration:?}"),
        }
    }
}

#[tokio::test]
async fn a_registration_stores_the_user_and_exactly_one_verification_mail_together() {
    let mut m = Mocks::new();
    m.hasher.expect_hash().times(1).returning(|_| Ok(hash()));
    m.users
        .expect_find_by_email()
        .times(1)
        .returning(|_| Ok(None));
    m.users
        .expect_release_stale_address()
        .times(1)
        .withf(|e, cutoff| {
            e.as_str() == "Ann@example.com"
                && *cutoff == t0() - chrono::Duration::from_std(LINK_MAX_AGE).unwrap()
        })
        .returning(|_, _| Ok(false));
    m.users
        .expect_insert_with_mail()
        .times(1)
        .withf(|u, _| !u.is_active && !u.is_verified && u.email.as_str() == "Ann@example.com")
        .returning(|u, mail| {
            let stored = user(u.email.as_str(), false, false);
            let mail = mail(&stored);
            // The link names the stored account (id 7) and the address it confirms.
            assert_eq!(mail.kind, MailKind::Verification);
            assert_eq!(mail.to.as_str(), "Ann@example.com");
            assert_eq!(
                mail.link.as_ref().map(|l| l.expose().to_owned()),
                Some(format!(
                    "{URL}/users/verify/verify-email.7:ann@example.com.sig"
                ))
            );
            Ok(stored)
        });
    m.users.expect_queue_throttled().times(0);
    m.service()
        .register(Registration::parse("Ann@EXAMPLE.com", "velvet thunder 42").unwrap())
        .await
        .unwrap();
}

#[tokio::test]
async fn registering_a_taken_address_answers_alike_and_tells_its_owner() {
    let mut m = Mocks::new();
    m.hasher.expect_hash().times(1).returning(|_| Ok(hash()));
    m.users
        .expect_release_stale_address()
        .times(1)
        .returning(|_, _| Ok(false));
    m.users
        .expect_find_by_email()
        .returning(|e| Ok(Some(user(e.as_str(), true, true))));
    m.users.expect_insert_with_mail().times(0);
    m.users
        .expect_queue_throttled()
        .times(1)
        .withf(|_, throttle, _, interval, mail| {
            *throttle == MailThrottle::RegistrationNotice
                && *interval == NOTICE_INTERVAL
                && mail.kind == MailKind::RegistrationAttempt
        })
        .returning(|_, _, _, _, _| Ok(true));
    m.service()
        .register(Registration::parse("ann@example.com", "velvet thunder 42").unwrap())
        .await
        .unwrap();
}

#[tokio::test]
async fn losing_the_race_for_an_address_is_not_an_error() {
    let mut m = Mocks::new();
    m.hasher.expect_hash().returning(|_| Ok(hash()));
    m.users
        .expect_release_stale_address()
        .returning(|_, _| Ok(false));
    m.users.expect_find_by_email().returning(|_| Ok(None));
    m.users
        .expect_insert_with_mail()
        .times(1)
        .returning(|_, _| Err(RepoError::EmailTaken));
    m.service()
        .register(Registration::parse("ann@example.com", "velvet thunder 42").unwrap())
        .await
        .unwrap();
}

#[tokio::test]
async fn an_unknown_email_costs_exactly_one_hash_at_sign_in() {
    let mut m = Mocks::new();
    m.users
        .expect_find_by_email()
        .times(1)
        .returning(|_| Ok(None));
    m.hasher
        .expect_verify()
        .with(always(), eq(None))
        .times(1)
        .returning(|_, _| Ok(PasswordCheck::Invalid));
    m.users.expect_record_login().times(0);
    let err = m
        .service()
        .sign_in("ghost@example.com", "whatever pw")
        .await
        .unwrap_err();
    assert!(matches!(err, SignInError::InvalidCredentials));
}

#[tokio::test]
async fn a_malformed_email_also_costs_one_hash() {
    let mut m = Mocks::new();
    m.users.expect_find_by_email().times(0);
    m.hasher
        .expect_verify()
        .times(1)
        .returning(|_, _| Ok(PasswordCheck::Invalid));
    let err = m
        .service()
        .sign_in("not an email", "whatever pw")
        .await
        .unwrap_err();
    assert!(matches!(err, SignInError::InvalidCredentials));
}

#[tokio::test]
async fn a_right_password_signs_in_and_records_the_login() {
    let mut m = Mocks::new();
    m.users
        .expect_find_by_email()
        .returning(|e| Ok(Some(user(e.as_str(), true, true))));
    m.hasher.expect_verify().times(1).returning(|_, _| {
        Ok(PasswordCheck::Valid {
            needs_rehash: false,
        })
    });
    m.users
        .expect_record_login()
        .with(eq(UserId(7)), eq(t0()))
        .times(1)
        .returning(|_, _| Ok(()));
    m.hasher.expect_hash().times(0);
    let signed = m
        .service()
        .sign_in("ann@example.com", "velvet thunder 42")
        .await
        .unwrap();
    assert!(!signed.password_change_required);
}

#[tokio::test]
async fn an_outdated_hash_is_upgraded_at_sign_in() {
    let mut m = Mocks::new();
    m.users
        .expect_find_by_email()
        .returning(|e| Ok(Some(user(e.as_str(), true, true))));
    m.hasher
        .expect_verify()
        .returning(|_, _| Ok(PasswordCheck::Valid { needs_rehash: true }));
    m.hasher
        .expect_hash()
        .times(1)
        .returning(|_| Ok(other_hash()));
    m.users
        .expect_set_password()
        .with(eq(UserId(7)), eq(other_hash()), eq(false))
        .times(1)
        .returning(|_, _, _| Ok(()));
    m.users.expect_record_login().returning(|_, _| Ok(()));
    m.service()
        .sign_in("ann@example.com", "velvet thunder 42")
        .await
        .unwrap();
}

#[tokio::test]
async fn a_deactivated_account_gets_the_generic_refusal() {
    let mut m = Mocks::new();
    m.users
        .expect_find_by_email()
        .returning(|e| Ok(Some(user(e.as_str(), true, false))));
    m.hasher.expect_verify().returning(|_, _| {
        Ok(PasswordCheck::Valid {
            needs_rehash: false,
        })
    });
    m.users.expect_record_login().times(0);
    let err = m
        .service()
        .sign_in("ann@example.com", "velvet thunder 42")
        .await
        .unwrap_err();
    assert!(matches!(err, SignInError::InvalidCredentials));
}

#[tokio::test]
async fn an_unverified_account_is_told_and_sent_the_link_again() {
    let mut m = Mocks::new();
    m.users
        .expect_find_by_email()
        .returning(|e| Ok(Some(user(e.as_str(), false, false))));
    m.hasher.expect_verify().returning(|_, _| {
        Ok(PasswordCheck::Valid {
            needs_rehash: false,
        })
    });
    m.users
        .expect_queue_throttled()
        .withf(|_, throttle, _, interval, mail| {
            *throttle == MailThrottle::Verification
                && *interval == RESEND_INTERVAL
                && mail.kind == MailKind::Verification
        })
        .times(1)
        .returning(|_, _, _, _, _| Ok(true));
    let err = m
        .service()
        .sign_in("ann@example.com", "velvet thunder 42")
        .await
        .unwrap_err();
    assert!(matches!(err, SignInError::Unverified { resent: true }));
}

#[tokio::test]
async fn the_first_sign_in_with_a_generated_password_adopts_it_and_requires_a_change() {
    let mut m = Mocks::new();
    m.users.expect_find_by_email().returning(|e| {
        let mut u = user(e.as_str(), true, true);
        u.pending_password = Some(PendingPassword {
            hash: other_hash(),
            expires_at: t0() + chrono::Duration::minutes(30),
        });
        Ok(Some(u))
    });
    m.hasher
        .expect_verify()
        .with(always(), eq(Some(hash())))
        .times(1)
        .returning(|_, _| Ok(PasswordCheck::Invalid));
    m.hasher
        .expect_verify()
        .with(always(), eq(Some(other_hash())))
        .times(1)
        .returning(|_, _| {
            Ok(PasswordCheck::Valid {
                needs_rehash: false,
            })
        });
    m.users
        .expect_adopt_pending_password()
        .withf(|id, expected, mail| {
            *id == UserId(7) && *expected == other_hash() && mail.kind == MailKind::PasswordChanged
        })
        .times(1)
        .returning(|_, _, _| Ok(true));
    m.users.expect_record_login().returning(|_, _| Ok(()));
    let signed = m
        .service()
        .sign_in("ann@example.com", "Gen3ratedPassw0rd")
        .await
        .unwrap();
    assert!(signed.password_change_required);
}

#[tokio::test]
async fn an_expired_generated_password_is_refused_without_touching_anything() {
    let mut m = Mocks::new();
    m.users.expect_find_by_email().returning(|e| {
        let mut u = user(e.as_str(), true, true);
        u.pending_password = Some(PendingPassword {
            hash: other_hash(),
            expires_at: t0() - chrono::Duration::seconds(1),
        });
        Ok(Some(u))
    });
    m.hasher
        .expect_verify()
        .times(1)
        .returning(|_, _| Ok(PasswordCheck::Invalid));
    m.users.expect_adopt_pending_password().times(0);
    let err = m
        .service()
        .sign_in("ann@example.com", "Gen3ratedPassw0rd")
        .await
        .unwrap_err();
    assert!(matches!(err, SignInError::InvalidCredentials));
}

#[tokio::test]
async fn a_reset_for_an_unknown_email_changes_nothing_and_sends_nothing() {
    let mut m = Mocks::new();
    m.random
        .expect_password()
        .returning(|_| "Kx7pQ2mW9rTz4hAb".into());
    m.hasher.expect_hash().times(1).returning(|_| Ok(hash()));
    m.users
        .expect_find_by_email()
        .times(1)
        .returning(|_| Ok(None));
    m.users.expect_set_pending_password().times(0);
    m.users.expect_queue_throttled().times(0);
    m.users.expect_set_password().times(0);
    m.service()
        .request_password_reset(&Email::parse("ghost@example.com").unwrap())
        .await
        .unwrap();
}

#[tokio::test]
async fn a_reset_stores_a_pending_password_and_leaves_the_current_one_alone() {
    let mut m = Mocks::new();
    m.random
        .expect_password()
        .returning(|_| "Kx7pQ2mW9rTz4hAb".into());
    m.hasher
        .expect_hash()
        .times(1)
        .returning(|_| Ok(other_hash()));
    m.users
        .expect_find_by_email()
        .returning(|e| Ok(Some(user(e.as_str(), true, true))));
    m.users
        .expect_set_pending_password()
        .withf(|id, pending, mail| {
            *id == UserId(7)
                && pending.hash == other_hash()
                && pending.expires_at == t0() + chrono::Duration::hours(1)
                && mail.kind == MailKind::GeneratedPassword
                && mail
                    .secret
                    .as_ref()
                    .is_some_and(|s| s.expose() == "Kx7pQ2mW9rTz4hAb")
        })
        .times(1)
        .returning(|_, _, _| Ok(()));
    m.users.expect_set_password().times(0);
    m.users.expect_change_password().times(0);
    m.service()
        .request_password_reset(&Email::parse("ann@example.com").unwrap())
        .await
        .unwrap();
}

#[tokio::test]
async fn a_reset_for_an_unverified_account_resends_the_link_instead() {
    let mut m = Mocks::new();
    m.random
        .expect_password()
        .returning(|_| "Kx7pQ2mW9rTz4hAb".into());
    m.hasher.expect_hash().returning(|_| Ok(hash()));
    m.users
        .expect_find_by_email()
        .returning(|e| Ok(Some(user(e.as_str(), false, false))));
    m.users.expect_set_pending_password().times(0);
    m.users
        .expect_queue_throttled()
        .withf(|_, throttle, _, _, _| *throttle == MailThrottle::Verification)
        .times(1)
        .returning(|_, _, _, _, _| Ok(true));
    m.service()
        .request_password_reset(&Email::parse("ann@example.com").unwrap())
        .await
        .unwrap();
}

#[tokio::test]
async fn a_wrong_old_password_changes_nothing() {
    let mut m = Mocks::new();
    m.users
        .expect_find_by_id()
        .returning(|_| Ok(Some(user("ann@example.com", true, true))));
    m.hasher
        .expect_verify()
        .returning(|_, _| Ok(PasswordCheck::Invalid));
    m.hasher.expect_hash().times(0);
    m.users.expect_change_password().times(0);
    let err = m
        .service()
        .change_password(UserId(7), "wrong", &chosen("velvet thunder 42"), None)
        .await
        .unwrap_err();
    let PasswordChangeError::Invalid(errors) = err else {
        panic!("{err:?}")
    };
    assert!(!errors.of(Input::OldPassword).is_empty());
}

#[tokio::test]
async fn a_password_change_ends_other_sessions_in_one_step() {
    let mut m = Mocks::new();
    m.users
        .expect_find_by_id()
        .returning(|_| Ok(Some(user("ann@example.com", true, true))));
    m.hasher.expect_verify().returning(|_, _| {
        Ok(PasswordCheck::Valid {
            needs_rehash: false,
        })
    });
    m.hasher
        .expect_hash()
        .times(1)
        .returning(|_| Ok(other_hash()));
    m.users
        .expect_change_password()
        .withf(|id, h, keep, mail| {
            *id == UserId(7)
                && *h == other_hash()
                && keep.as_deref() == Some("this-session")
                && mail.kind == MailKind::PasswordChanged
        })
        .times(1)
        .returning(|_, _, _, _| Ok(()));
    m.service()
        .change_password(
            UserId(7),
            "old password 1",
            &chosen("velvet thunder 42"),
            Some("this-session".into()),
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn api_tokens_are_stored_as_fingerprints() {
    let mut m = Mocks::new();
    m.random
        .expect_token()
        .with(eq(API_TOKEN_BYTES))
        .returning(|_| "raw-token".into());
    m.tokens
        .expect_insert()
        .with(eq(UserId(7)), eq("fp(raw-token)".to_owned()), eq(t0()))
        .times(1)
        .returning(|_, _, _| Ok(()));
    let token = m.service().issue_api_token(UserId(7)).await.unwrap();
    assert_eq!(token, "raw-token");
}

#[tokio::test]
async fn a_token_answers_for_an_active_verified_holder_with_their_permissions_in_one_read() {
    use crate::access::Permission;
    let holders = [
        ("on@example.com", true, true, true),
        ("unverified@example.com", false, true, false),
        ("deactivated@example.com", true, false, false),
    ];
    for (email, verified, active, accepted) in holders {
        let mut m = Mocks::new();
        let holder = user(email, verified, active);
        m.tokens
            .expect_find_holder()
            .with(eq("fp(tok)"))
            .times(1)
            .returning(move |_| {
                Ok(Some(UserWithPermissions {
                    user: holder.clone(),
                    permissions: vec![Permission::UnpublishProduct],
                }))
            });
        // Nothing is read twice: no separate look-up of the user or their groups.
        m.users.expect_find_by_id().times(0);
        m.groups.expect_permissions_of().times(0);
        let found = m.service().authenticate_api_token("tok").await.unwrap();
        assert_eq!(found.is_some(), accepted, "{email}");
        if let Some((user, actor)) = found {
            assert_eq!(user.email.as_str(), email);
            assert!(actor.has(Permission::UnpublishProduct));
            assert!(!actor.has(Permission::ChangeProductCategory));
        }
    }
}

#[test]
fn a_deactivated_user_read_with_their_session_is_not_signed_in() {
    let found = |active| UserWithPermissions {
        user: user("ann@example.com", true, active),
        permissions: Vec::new(),
    };
    assert!(AccountsService::signed_in(found(false)).is_none());
    let (user, actor) = AccountsService::signed_in(found(true)).unwrap();
    assert_eq!(actor.user_id(), user.id);
}

/// A profile that does not parse never reaches the service; each bad input is named.
#[test]
fn invalid_profile_input_is_named_before_anything_is_saved() {
    let errors = ProfileInput {
        first_name: "Ann",
        last_name: "Lee",
        phone: "12345",
        country: "",
    }
    .parse()
    .unwrap_err();
    assert!(!errors.of(Input::Phone).is_empty());
    let errors = ProfileInput {
        first_name: "Ann",
        last_name: "Lee",
        phone: "",
        country: "XX",
    }
    .parse()
    .unwrap_err();
    assert!(!errors.of(Input::Country).is_empty());
}

#[tokio::test]
async fn a_national_phone_number_is_read_in_the_chosen_country() {
    let mut m = Mocks::new();
    m.users
        .expect_update_profile()
        .withf(|_, p| {
            p.phone.as_ref().is_some_and(|p| p.e164() == "+79123456789")
                && p.country.map(|c| c.code()) == Some("RU")
        })
        .times(1)
        .returning(|_, _| Ok(user("ann@example.com", true, true)));
    let profile = ProfileInput {
        first_name: "Ann",
        last_name: "",
        phone: "8 912 345-67-89",
        country: "ru",
    }
    .parse()
    .unwrap();
    m.service()
        .update_profile(UserId(7), profile)
        .await
        .unwrap();
}

fn chosen(raw: &str) -> Password {
    new_password(raw, &user("ann@example.com", true, true)).unwrap()
}

/// A new password is judged knowing whose it is, before the service sees it.
#[test]
fn a_new_password_may_not_resemble_its_owner() {
    let ann = user("ann.lovelace@example.com", true, true);
    let errors = new_password("ann.lovelace", &ann).unwrap_err();
    assert!(!errors.of(Input::NewPassword).is_empty(), "{errors}");
    assert!(new_password("velvet thunder 42", &ann).is_ok());
}

#[tokio::test]
async fn the_same_password_again_is_not_a_change() {
    let mut m = Mocks::new();
    m.users
        .expect_find_by_id()
        .returning(|_| Ok(Some(user("ann@example.com", true, true))));
    m.hasher.expect_verify().returning(|_, _| {
        Ok(PasswordCheck::Valid {
            needs_rehash: false,
        })
    });
    m.hasher.expect_hash().times(0);
    m.users.expect_change_password().times(0);
    let same = chosen("velvet thunder 42");
    let err = m
        .service()
        .change_password(UserId(7), "velvet thunder 42", &same, None)
        .await
        .unwrap_err();
    let PasswordChangeError::Invalid(errors) = err else {
        panic!("{err:?}")
    };
    assert!(!errors.of(Input::NewPassword).is_empty());
}
