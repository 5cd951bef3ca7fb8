//! The account-state operations of the user repository, each one transaction, on each
//! database.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use catalog_domain::Timestamp;
use catalog_domain::mail::{MailKind, OutgoingMail};
use catalog_domain::ports::*;
use catalog_domain::user::*;
use catalog_storage::db_test;
use chrono::{TimeZone, Utc};

fn t(secs: i64) -> Timestamp {
    Utc.timestamp_opt(1_800_000_000 + secs, 0).single().unwrap()
}

fn phc(salt: &str) -> PasswordHash {
    PasswordHash::from_phc(format!("$argon2id$v=19$m=19456,t=2,p=1${salt}$aGFzaA")).unwrap()
}

fn new_user(email: &str, verified: bool) -> NewUser {
    NewUser {
        email: Email::parse(email).unwrap(),
        password_hash: phc("b2xk"),
        is_active: verified,
        is_verified: verified,
        is_superuser: false,
        first_name: PersonName::default(),
        last_name: PersonName::default(),
        date_joined: t(0),
        language: None,
    }
}

fn mail(to: &str, kind: MailKind) -> OutgoingMail {
    OutgoingMail {
        to: Email::parse(to).unwrap(),
        kind,
        recipient_name: String::new(),
        link: None,
        secret: None,
        detail: Some("x@example.com".into()),
        language: None,
    }
}

async fn session(store: &catalog_storage::Store, key: &str, user: UserId) {
    store
        .save(SessionRecord {
            key: key.into(),
            user_id: Some(user),
            data: "{}".into(),
            expires_at: t(1_000_000),
        })
        .await
        .unwrap();
}

db_test!(throttled_mail_goes_out_at_most_once_per_interval, |db| {
    let u = UserRepository::insert(&db.store, new_user("ann@example.com", false))
        .await
        .unwrap();
    let minute = Duration::from_secs(180);
    let queue = |at| {
        db.store.queue_throttled(
            u.id,
            MailThrottle::Verification,
            at,
            minute,
            mail("ann@example.com", MailKind::Verification),
        )
    };
    assert!(queue(t(0)).await.unwrap());
    assert!(!queue(t(60)).await.unwrap(), "within three minutes");
    assert!(queue(t(181)).await.unwrap());
    // Another kind of mail has its own clock.
    assert!(
        db.store
            .queue_throttled(
                u.id,
                MailThrottle::RegistrationNotice,
                t(182),
                Duration::from_secs(3600),
                mail("ann@example.com", MailKind::RegistrationAttempt)
            )
            .await
            .unwrap()
    );
    assert_eq!(OutboxRepository::pending_count(&db.store).await.unwrap(), 3);
});

db_test!(an_account_is_verified_once, |db| {
    let u = UserRepository::insert(&db.store, new_user("bo@example.com", false))
        .await
        .unwrap();
    assert!(db.store.mark_verified(u.id).await.unwrap());
    assert!(!db.store.mark_verified(u.id).await.unwrap(), "single use");
    let u = UserRepository::find_by_id(&db.store, u.id)
        .await
        .unwrap()
        .unwrap();
    assert!(u.is_verified && u.is_active);
});

db_test!(a_deactivated_account_stays_off_when_it_is_verified, |db| {
    let u = UserRepository::insert(&db.store, new_user("off@example.com", false))
        .await
        .unwrap();
    db.store.set_active(u.id, false).await.unwrap();
    assert!(
        !db.store.mark_verified(u.id).await.unwrap(),
        "a deactivated account is not verified by its link"
    );
    let stored = UserRepository::find_by_id(&db.store, u.id)
        .await
        .unwrap()
        .unwrap();
    assert!(stored.deactivated && !stored.is_active && !stored.is_verified);
    db.store.set_active(u.id, true).await.unwrap();
    assert!(db.store.mark_verified(u.id).await.unwrap());
    let stored = UserRepository::find_by_id(&db.store, u.id)
        .await
        .unwrap()
        .unwrap();
    assert!(!stored.deactivated && stored.is_active && stored.is_verified);
});

db_test!(
    only_an_unverified_account_whose_links_expired_gives_up_its_address,
    |db| {
        let cutoff = t(10);
        let mut fresh = new_user("fresh@example.com", false);
        fresh.date_joined = t(20);
        let fresh = UserRepository::insert(&db.store, fresh).await.unwrap();
        let old = UserRepository::insert(&db.store, new_user("old@example.com", false))
            .await
            .unwrap();
        let verified = UserRepository::insert(&db.store, new_user("kept@example.com", true))
            .await
            .unwrap();
        let resent = UserRepository::insert(&db.store, new_user("resent@example.com", false))
            .await
            .unwrap();
        // A link sent after the cutoff is still good: the account keeps its address.
        assert!(
            db.store
                .queue_throttled(
                    resent.id,
                    MailThrottle::Verification,
                    t(15),
                    Duration::from_secs(60),
                    mail("resent@example.com", MailKind::Verification),
                )
                .await
                .unwrap()
        );
        for (user, gone) in [
            (&fresh, false),
            (&old, true),
            (&verified, false),
            (&resent, false),
        ] {
            assert_eq!(
                db.store
                    .release_stale_address(&user.email, cutoff)
                    .await
                    .unwrap(),
                gone,
                "{}",
                user.email
            );
            let found = UserRepository::find_by_id(&db.store, user.id)
                .await
                .unwrap();
            assert_eq!(found.is_none(), gone, "{}", user.email);
        }
        let again = UserRepository::insert(&db.store, new_user("OLD@example.com", false)).await;
        assert!(again.is_ok(), "the address is free again: {again:?}");
    }
);

db_test!(
    confirming_a_new_address_cancels_the_generated_password_and_other_sign_ins,
    |db| {
        let u = UserRepository::insert(&db.store, new_user("mv@example.com", true))
            .await
            .unwrap();
        session(&db.store, "mine", u.id).await;
        session(&db.store, "theirs", u.id).await;
        ApiTokenRepository::insert(&db.store, u.id, "tok".into(), t(0))
            .await
            .unwrap();
        let pending = PendingPassword {
            hash: phc("Z2Vu"),
            expires_at: t(3600),
        };
        db.store
            .set_pending_password(
                u.id,
                pending,
                mail("mv@example.com", MailKind::GeneratedPassword),
            )
            .await
            .unwrap();
        let new = Email::parse("mv.new@example.com").unwrap();
        db.store
            .set_pending_email(u.id, Some(new.clone()), vec![])
            .await
            .unwrap();
        assert!(
            db.store
                .adopt_pending_email(u.id, &new, Some("mine".into()))
                .await
                .unwrap()
        );
        let stored = UserRepository::find_by_id(&db.store, u.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.email, new);
        assert!(
            stored.pending_password.is_none(),
            "the password mailed to the old address is void"
        );
        assert!(
            !db.store
                .adopt_pending_password(
                    u.id,
                    phc("Z2Vu"),
                    mail("mv.new@example.com", MailKind::PasswordChanged)
                )
                .await
                .unwrap()
        );
        for (key, kept) in [("mine", true), ("theirs", false)] {
            let found = SessionRepository::find(&db.store, key, t(1)).await.unwrap();
            assert_eq!(found.is_some(), kept, "{key}");
        }
        assert!(db.store.find_holder("tok").await.unwrap().is_none());
    }
);

db_test!(
    a_pending_password_replaces_the_old_one_only_when_adopted,
    |db| {
        let u = UserRepository::insert(&db.store, new_user("cy@example.com", true))
            .await
            .unwrap();
        session(&db.store, "s1", u.id).await;
        ApiTokenRepository::insert(&db.store, u.id, "tok".into(), t(0))
            .await
            .unwrap();
        let pending = PendingPassword {
            hash: phc("bmV3"),
            expires_at: t(3600),
        };
        db.store
            .set_pending_password(
                u.id,
                pending.clone(),
                mail("cy@example.com", MailKind::GeneratedPassword),
            )
            .await
            .unwrap();
        let stored = UserRepository::find_by_id(&db.store, u.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            stored.password_hash,
            Some(phc("b2xk")),
            "the old password still works"
        );
        assert_eq!(stored.pending_password, Some(pending));
        assert!(
            SessionRepository::find(&db.store, "s1", t(1))
                .await
                .unwrap()
                .is_some(),
            "nobody is signed out yet"
        );

        assert!(
            !db.store
                .adopt_pending_password(
                    u.id,
                    phc("d3Jvbmc"),
                    mail("cy@example.com", MailKind::PasswordChanged)
                )
                .await
                .unwrap(),
            "only the stored pending hash"
        );
        assert!(
            db.store
                .adopt_pending_password(
                    u.id,
                    phc("bmV3"),
                    mail("cy@example.com", MailKind::PasswordChanged)
                )
                .await
                .unwrap()
        );
        let stored = UserRepository::find_by_id(&db.store, u.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.password_hash, Some(phc("bmV3")));
        assert!(stored.pending_password.is_none() && stored.password_change_required);
        assert!(
            SessionRepository::find(&db.store, "s1", t(1))
                .await
                .unwrap()
                .is_none(),
            "sessions ended"
        );
        assert!(
            db.store.find_holder("tok").await.unwrap().is_none(),
            "tokens revoked"
        );
        assert!(
            !db.store
                .adopt_pending_password(
                    u.id,
                    phc("bmV3"),
                    mail("cy@example.com", MailKind::PasswordChanged)
                )
                .await
                .unwrap(),
            "used once"
        );
        assert_eq!(OutboxRepository::pending_count(&db.store).await.unwrap(), 2);
    }
);

db_test!(a_password_change_keeps_only_the_current_session, |db| {
    let u = UserRepository::insert(&db.store, new_user("di@example.com", true))
        .await
        .unwrap();
    for key in ["mine", "laptop", "phone"] {
        session(&db.store, key, u.id).await;
    }
    ApiTokenRepository::insert(&db.store, u.id, "tok".into(), t(0))
        .await
        .unwrap();
    db.store
        .change_password(
            u.id,
            phc("bmV3"),
            Some("mine".into()),
            mail("di@example.com", MailKind::PasswordChanged),
        )
        .await
        .unwrap();
    assert!(
        SessionRepository::find(&db.store, "mine", t(1))
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        SessionRepository::find(&db.store, "laptop", t(1))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        SessionRepository::find(&db.store, "phone", t(1))
            .await
            .unwrap()
            .is_none()
    );
    assert!(db.store.find_holder("tok").await.unwrap().is_none());
    let stored = UserRepository::find_by_id(&db.store, u.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.password_hash, Some(phc("bmV3")));
    assert!(!stored.password_change_required);
    let missing = db
        .store
        .change_password(
            UserId(9999),
            phc("bmV3"),
            None,
            mail("di@example.com", MailKind::PasswordChanged),
        )
        .await;
    assert!(matches!(missing, Err(RepoError::NotFound)));
    assert_eq!(
        OutboxRepository::pending_count(&db.store).await.unwrap(),
        1,
        "no mail for the failed change"
    );
});

db_test!(
    an_email_change_is_adopted_once_and_never_onto_a_taken_address,
    |db| {
        let u = UserRepository::insert(&db.store, new_user("ed@example.com", true))
            .await
            .unwrap();
        let other = UserRepository::insert(&db.store, new_user("taken@example.com", true))
            .await
            .unwrap();
        let new = Email::parse("Ed.New@Example.com").unwrap();
        db.store
            .set_pending_email(
                u.id,
                Some(new.clone()),
                vec![
                    mail("ed.new@example.com", MailKind::EmailChangeConfirmation),
                    mail("ed@example.com", MailKind::EmailChangeNotice),
                ],
            )
            .await
            .unwrap();
        assert_eq!(OutboxRepository::pending_count(&db.store).await.unwrap(), 2);
        let stored = UserRepository::find_by_id(&db.store, u.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.pending_email, Some(new.clone()));
        assert_eq!(
            stored.email.as_str(),
            "ed@example.com",
            "nothing changes before confirmation"
        );
        assert!(
            db.store
                .adopt_pending_email(u.id, &new, None)
                .await
                .unwrap()
        );
        assert!(
            !db.store
                .adopt_pending_email(u.id, &new, None)
                .await
                .unwrap(),
            "single use"
        );
        let found = db
            .store
            .find_by_email(&Email::parse("ed.new@example.com").unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.id, u.id);
        let taken = Email::parse("TAKEN@example.com").unwrap();
        db.store
            .set_pending_email(other.id, None, vec![])
            .await
            .unwrap();
        db.store
            .set_pending_email(u.id, Some(taken.clone()), vec![])
            .await
            .unwrap();
        assert!(matches!(
            db.store.adopt_pending_email(u.id, &taken, None).await,
            Err(RepoError::EmailTaken)
        ));
    }
);
