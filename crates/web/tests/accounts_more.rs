//! Rate limits, email change, expired links and mail that waits for its server.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use catalog_domain::ports::{OutboxRepository, TokenSigner};
use catalog_storage::db_test;
use catalog_web::adapters::token::HmacSigner;
use support::accounts::{PASSWORD, WAIT, age_account, app_with_mail, register, verified_user};
use support::smtp::SmtpSink;
use support::{TestApp, browser, link_path, location, spawn_app};

/// The key `support::settings_for` configures.
const TEST_KEY: &[u8] = b"test-secret-key-0123456789abcdef-0123456789";

async fn sign_in_from(
    app: &TestApp,
    email: &str,
    password: &str,
    forwarded_for: Option<&str>,
) -> reqwest::Response {
    let client = browser();
    let (_, page) = app.page(&client, "/users/login").await;
    let token = support::csrf_of(&page);
    let mut request = client.post(app.url("/users/login")).form(&[
        ("email", email),
        ("password", password),
        ("next", ""),
        ("csrf_token", token.as_str()),
    ]);
    if let Some(xff) = forwarded_for {
        request = request.header("x-forwarded-for", xff);
    }
    request.send().await.unwrap()
}

db_test!(
    failed_sign_ins_are_limited_per_email_and_success_does_not_reset_them,
    |db| {
        let (app, sink) = app_with_mail(&db, &[]).await;
        verified_user(&app, &sink, "ann@example.com").await;
        for _ in 0..5 {
            assert_eq!(
                sign_in_from(&app, "ann@example.com", "wrong", None)
                    .await
                    .status(),
                422
            );
        }
        let limited = sign_in_from(&app, "ANN@example.com", PASSWORD, None).await;
        assert_eq!(limited.status(), 429, "even the right password waits");
        let retry: u64 = limited.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=300).contains(&retry), "{retry}");
        assert_eq!(
            sign_in_from(&app, "other@example.com", "wrong", None)
                .await
                .status(),
            422,
            "other emails are not blocked"
        );
        app.stop().await;
    }
);

db_test!(
    failed_sign_ins_are_limited_per_address_and_forwarding_is_believed_only_from_proxies,
    |db| {
        let (app, _sink) = app_with_mail(&db, &[]).await;
        for i in 0..10 {
            let r = sign_in_from(
                &app,
                &format!("u{i}@example.com"),
                "wrong",
                Some(&format!("203.0.113.{i}")),
            )
            .await;
            assert_eq!(r.status(), 422);
        }
        let r = sign_in_from(&app, "u99@example.com", "wrong", Some("198.51.100.1")).await;
        assert_eq!(
            r.status(),
            429,
            "X-Forwarded-For from an untrusted peer is ignored"
        );
        app.stop().await;

        let proxied = spawn_app(&db, &[("CATALOG_TRUSTED_PROXIES", "127.0.0.1")]).await;
        for i in 0..10 {
            let r = sign_in_from(
                &proxied,
                &format!("p{i}@example.com"),
                "wrong",
                Some("203.0.113.50"),
            )
            .await;
            assert_eq!(r.status(), 422);
        }
        assert_eq!(
            sign_in_from(&proxied, "p10@example.com", "wrong", Some("203.0.113.50"))
                .await
                .status(),
            429
        );
        assert_eq!(
            sign_in_from(&proxied, "p11@example.com", "wrong", Some("203.0.113.51"))
                .await
                .status(),
            422,
            "another client behind the proxy"
        );
        proxied.stop().await;
    }
);

db_test!(sign_ups_are_limited_per_address, |db| {
    let (app, _sink) = app_with_mail(&db, &[]).await;
    for i in 0..20 {
        assert_eq!(
            register(&app, &browser(), &format!("n{i}@example.com"))
                .await
                .status(),
            303
        );
    }
    let r = register(&app, &browser(), "n20@example.com").await;
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    assert_eq!(
        db.count("SELECT COUNT(*) AS n FROM users").await.unwrap(),
        20,
        "the refused one made nothing"
    );
    app.stop().await;
});

db_test!(
    an_expired_link_is_refused_unless_the_account_is_verified_already,
    |db| {
        let (app, sink) = app_with_mail(&db, &[]).await;
        assert_eq!(
            register(&app, &browser(), "late@example.com")
                .await
                .status(),
            303
        );
        assert_eq!(
            sink.wait_for(1, WAIT).await.len(),
            1,
            "late's link is out (and stays unused)"
        );
        verified_user(&app, &sink, "done@example.com").await;
        // Links name the account and its address; late's account is older than its link.
        age_account(&db, "late@example.com", 5).await;
        let id = |email: &str| {
            let sql = format!("SELECT id AS n FROM users WHERE email_key = '{email}'");
            let db = &db;
            async move { db.count(&sql).await.unwrap() }
        };
        let (late, done) = (id("late@example.com").await, id("done@example.com").await);
        let signer = HmacSigner::new(TEST_KEY).unwrap();
        let old = chrono::Utc::now() - chrono::Duration::days(4);
        let expired = signer.sign("verify-email", &format!("{late}:late@example.com"), old);
        let (status, page) = app
            .page(&browser(), &format!("/users/verify/{expired}"))
            .await;
        assert_eq!(status, 400);
        assert!(page.contains("expired") && page.contains("/users/verify/resend"));
        let used = signer.sign("verify-email", &format!("{done}:done@example.com"), old);
        let r = browser()
            .get(app.url(&format!("/users/verify/{used}")))
            .send()
            .await
            .unwrap();
        assert_eq!(
            (r.status().as_u16(), location(&r).as_str()),
            (303, "/users/login"),
            "already verified, whatever the age"
        );
        app.stop().await;
    }
);

db_test!(an_email_change_waits_for_the_new_address_to_confirm, |db| {
    let (app, sink) = app_with_mail(&db, &[]).await;
    let client = verified_user(&app, &sink, "old@example.com").await;
    let wrong = app
        .submit(
            &client,
            "/users/email-change",
            "/users/email-change",
            &[("new_email", "new@example.com"), ("password", "nope")],
        )
        .await;
    assert_eq!(wrong.status(), 422);
    let r = app
        .submit(
            &client,
            "/users/email-change",
            "/users/email-change",
            &[("new_email", "New@Example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(location(&r), "/users/profile");
    let mail = sink.wait_for(3, WAIT).await;
    let confirm = mail
        .iter()
        .find(|m| m.to == vec!["New@example.com".to_owned()])
        .expect("a link to the new address");
    let notice = mail
        .iter()
        .find(|m| {
            m.raw
                .contains("Subject: Your email address is being changed")
        })
        .expect("a notice");
    assert_eq!(notice.to, vec!["old@example.com".to_owned()]);
    assert!(
        app.page(&client, "/users/profile")
            .await
            .1
            .contains("old@example.com"),
        "nothing changed yet"
    );
    let path = link_path(&confirm.raw, "/users/email-change/");
    let (status, page) = app.page(&client, &path).await;
    assert_eq!(status, 200);
    let token = support::csrf_of(&page);
    let r = client
        .post(app.url(&path))
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&r), "/users/profile");
    assert!(
        app.page(&client, "/users/profile")
            .await
            .1
            .contains("New@example.com")
    );
    let again = client
        .post(app.url(&path))
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 400, "single use");
    assert_eq!(
        location(&sign_in_from(&app, "new@example.com", PASSWORD, None).await),
        "/products"
    );
    app.stop().await;
});

db_test!(
    registration_succeeds_while_smtp_is_down_and_the_mail_follows_later,
    |db| {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let port_text = port.to_string();
        let app = spawn_app(
            &db,
            &[
                ("EMAIL_BACKEND", "smtp"),
                ("EMAIL_HOST", "127.0.0.1"),
                ("EMAIL_PORT", &port_text),
            ],
        )
        .await;
        let r = register(&app, &browser(), "patient@example.com").await;
        assert_eq!(
            location(&r),
            "/users/register/done",
            "the request does not wait for SMTP"
        );
        tokio::time::sleep(Duration::from_millis(800)).await;
        assert_eq!(
            db.store.pending_count().await.unwrap(),
            1,
            "queued, not lost"
        );
        let attempts = db
            .count("SELECT CAST(MAX(attempts) AS BIGINT) AS n FROM mail_outbox")
            .await
            .unwrap();
        assert!(attempts >= 1, "a delivery was tried and failed");
        let sink = SmtpSink::on(std::net::TcpListener::bind(("127.0.0.1", port)).unwrap());
        let mail = sink.wait_for(1, Duration::from_secs(25)).await;
        assert_eq!(mail.len(), 1, "delivered once the server is back");
        assert!(mail[0].raw.contains("/users/verify/"));
        app.stop().await;
    }
);

db_test!(an_expired_generated_password_is_refused, |db| {
    let (app, sink) = app_with_mail(&db, &[]).await;
    verified_user(&app, &sink, "slow@example.com").await;
    let r = app
        .submit(
            &browser(),
            "/users/password-reset",
            "/users/password-reset",
            &[("email", "slow@example.com")],
        )
        .await;
    assert_eq!(location(&r), "/users/password-reset/done");
    let mail = sink.wait_for(2, WAIT).await;
    let generated = support::generated_password(&mail[1].raw);
    // An hour has passed: the pending password expires when the account was created.
    db.store
        .execute_unprepared("UPDATE users SET pending_password_expires_at = date_joined")
        .await
        .unwrap();
    assert_eq!(
        sign_in_from(&app, "slow@example.com", &generated, None)
            .await
            .status(),
        422
    );
    assert_eq!(
        location(&sign_in_from(&app, "slow@example.com", PASSWORD, None).await),
        "/products",
        "the old password still works"
    );
    app.stop().await;
});

db_test!(parallel_guesses_are_limited_like_sequential_ones, |db| {
    let (app, sink) = app_with_mail(&db, &[]).await;
    verified_user(&app, &sink, "kim@example.com").await;
    // Twenty wrong passwords at once: each is counted before its hash is checked, so
    // only the five the per-email limit allows are even tried.
    let guesses = (0..20).map(|i| {
        app.client
            .post(app.url("/api/v1/auth/token"))
            .json(
                &serde_json::json!({"email": "kim@example.com", "password": format!("guess {i}")}),
            )
            .send()
    });
    let mut statuses: Vec<u16> = futures::future::join_all(guesses)
        .await
        .into_iter()
        .map(|r| r.unwrap().status().as_u16())
        .collect();
    statuses.sort_unstable();
    assert_eq!(
        statuses.iter().filter(|s| **s == 401).count(),
        5,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        15,
        "{statuses:?}"
    );
    app.stop().await;
});

db_test!(a_stolen_session_cannot_guess_the_password_behind_it, |db| {
    let (app, sink) = app_with_mail(&db, &[]).await;
    let client = verified_user(&app, &sink, "lee@example.com").await;
    // Five wrong current passwords on the password-change form...
    for i in 0..5 {
        let r = app
            .submit(
                &client,
                "/users/password-change",
                "/users/password-change",
                &[
                    ("old_password", &format!("guess {i}")),
                    ("new_password1", "fresh passphrase 3"),
                    ("new_password2", "fresh passphrase 3"),
                ],
            )
            .await;
        assert_eq!(r.status(), 422);
    }
    // ...and the email-change form, which checks the same password, refuses too.
    let r = app
        .submit(
            &client,
            "/users/email-change",
            "/users/email-change",
            &[("new_email", "lee2@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status(), 429, "even the right password waits");
    assert!(r.headers().contains_key("retry-after"));
    let r = app
        .submit(
            &client,
            "/users/password-change",
            "/users/password-change",
            &[
                ("old_password", PASSWORD),
                ("new_password1", "fresh passphrase 3"),
                ("new_password2", "fresh passphrase 3"),
            ],
        )
        .await;
    assert_eq!(r.status(), 429);
    app.stop().await;
});
