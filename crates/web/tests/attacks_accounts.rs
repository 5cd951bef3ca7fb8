//! Attacks on people's accounts that once got through (the hardening review), each
//! reproduced end to end on each database: the test fails where the hole is open.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use catalog_domain::user::Email;
use catalog_storage::db_test;
use catalog_storage::testing::TestDatabase;
use serde_json::{Value, json};
use support::accounts::{PASSWORD, WAIT, age_account, app_with_mail, register, verified_user};
use support::catalog::Admin;
use support::smtp::SmtpSink;
use support::{TestApp, browser, csrf_of, generated_password, link_path, location, spawn_app};

/// Signs in through the form with a fresh browser; returns it and the answer.
async fn sign_in_as(app: &TestApp, email: &str, password: &str) -> (reqwest::Client, u16) {
    let client = browser();
    let r = app
        .submit(
            &client,
            "/users/login",
            "/users/login",
            &[("email", email), ("password", password)],
        )
        .await;
    (client, r.status().as_u16())
}

/// The mail that arrives after the first `before`, addressed to `to`.
async fn next_mail_to(sink: &SmtpSink, before: usize, to: &str) -> String {
    let mail = sink.wait_for(before + 1, WAIT).await;
    mail[before..]
        .iter()
        .find(|m| m.to.iter().any(|t| t == to))
        .unwrap_or_else(|| panic!("a message to {to}"))
        .raw
        .clone()
}

/// Opens a mailed confirmation link with `client` and presses its button.
async fn press_link(app: &TestApp, client: &reqwest::Client, path: &str) -> reqwest::Response {
    let (status, page) = app.page(client, path).await;
    assert_eq!(status, 200, "{path}: {page}");
    client
        .post(app.url(path))
        .form(&[("csrf_token", csrf_of(&page).as_str())])
        .send()
        .await
        .unwrap()
}

/// Presses a link's button without opening its page first (a page that does not
/// show the button still cannot stop a POST).
async fn post_link(app: &TestApp, client: &reqwest::Client, path: &str) -> reqwest::Response {
    let (_, page) = app.page(client, "/users/login").await;
    client
        .post(app.url(path))
        .form(&[("csrf_token", csrf_of(&page).as_str())])
        .send()
        .await
        .unwrap()
}

async fn count(db: &TestDatabase, sql: &str) -> i64 {
    db.count(sql).await.unwrap()
}

async fn users(db: &catalog_storage::testing::TestDatabase) -> i64 {
    db.count("SELECT COUNT(*) AS n FROM users").await.unwrap()
}

/// A JSON body sent with a `Content-Type` of the caller's choosing.
async fn post_as(app: &TestApp, path: &str, content_type: &str, body: &Value) -> u16 {
    app.client
        .post(app.url(path))
        .header("content-type", content_type)
        .body(body.to_string())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

db_test!(
    a_cross_site_simple_request_cannot_reach_the_json_api,
    |db| {
        let app = spawn_app(&db, &[]).await;
        let body = json!({"email": "victim@example.com", "password": PASSWORD});
        // Types a page on another site can make a browser send without a preflight.
        for content_type in [
            "text/plain; x=+json",
            "text/plain;application/json",
            "application/x-www-form-urlencoded; y=application/json",
            "multipart/form-data; boundary=+json",
        ] {
            for path in ["/api/v1/auth/register", "/api/v1/auth/password-reset"] {
                assert_eq!(
                    post_as(&app, path, content_type, &body).await,
                    415,
                    "{path} with {content_type}"
                );
            }
        }
        assert_eq!(users(&db).await, 0, "nothing was registered");
        let outbox = db
            .count("SELECT COUNT(*) AS n FROM mail_outbox")
            .await
            .unwrap();
        assert_eq!(outbox, 0, "nothing was mailed");
        // JSON by its media type, parameters and case aside, is still accepted.
        for content_type in [
            "Application/JSON; charset=utf-8",
            "application/vnd.catalog+json",
        ] {
            assert_eq!(
                post_as(&app, "/api/v1/auth/register", content_type, &body).await,
                202,
                "{content_type}"
            );
        }
        assert_eq!(users(&db).await, 1);
        app.stop().await;
    }
);

db_test!(the_bearer_scheme_is_read_in_any_case, |db| {
    let (app, sink) = app_with_mail(&db, &[]).await;
    drop(verified_user(&app, &sink, "case@example.com").await);
    let r = app
        .client
        .post(app.url("/api/v1/auth/token"))
        .json(&json!({"email": "case@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let token = r.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let r = app
            .client
            .get(app.url("/api/v1/users/me"))
            .header("authorization", format!("{scheme} {token}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{scheme}");
    }
    let r = app
        .client
        .get(app.url("/api/v1/users/me"))
        .header("authorization", format!("Basic {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "another scheme is not a bearer token");
    app.stop().await;
});

db_test!(a_look_alike_address_cannot_squat_the_real_one, |db| {
    let (app, sink) = app_with_mail(&db, &[]).await;
    // U+212A KELVIN SIGN, which lowercases to a plain `k`.
    let squatter = "\u{212a}im@example.com";
    let r = register(&app, &browser(), squatter).await;
    assert_eq!(r.status(), 422, "refused beside the field");
    assert!(r.text().await.unwrap().contains("ordinary letters"));
    assert_eq!(users(&db).await, 0);
    let (status, problem) = {
        let r = app
            .client
            .post(app.url("/api/v1/auth/register"))
            .json(&json!({"email": squatter, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json::<Value>().await.unwrap())
    };
    assert_eq!(status, 422);
    assert!(problem["errors"]["email"].is_array(), "{problem}");
    assert_eq!(users(&db).await, 0);
    // The real owner registers, gets the link and is signed in by it.
    let client = verified_user(&app, &sink, "kim@example.com").await;
    let (status, _) = app.page(&client, "/users/profile").await;
    assert_eq!(status, 200);
    app.stop().await;
});

db_test!(
    an_unconfirmed_account_gives_up_its_address_when_its_links_expire,
    |db| {
        let (app, sink) = app_with_mail(&db, &[]).await;
        // A stranger registers someone else's address and never confirms it.
        assert_eq!(
            register(&app, &browser(), "pat@example.com").await.status(),
            303
        );
        let stale_link = link_path(
            &next_mail_to(&sink, 0, "pat@example.com").await,
            "/users/verify/",
        );
        let before = sink.messages().len();
        // Within the link's lifetime the address stays taken: the owner gets it again.
        assert_eq!(
            register(&app, &browser(), "pat@example.com").await.status(),
            303
        );
        next_mail_to(&sink, before, "pat@example.com").await;
        assert_eq!(users(&db).await, 1);
        age_account(&db, "pat@example.com", 4).await;
        // Three days later the owner registers it for good.
        let client = verified_user(&app, &sink, "pat@example.com").await;
        assert_eq!(app.page(&client, "/users/profile").await.0, 200);
        assert_eq!(users(&db).await, 1, "the stale account went");
        // The stranger's link named the account that went: it opens nothing now.
        let stranger = browser();
        let (status, _) = app.page(&stranger, &stale_link).await;
        assert_eq!(status, 400);
        let r = post_link(&app, &stranger, &stale_link).await;
        assert_eq!(r.status(), 400);
        assert_eq!(app.page(&stranger, "/users/profile").await.0, 303);
        app.stop().await;
    }
);

db_test!(
    a_confirmation_link_opens_only_the_account_it_was_sent_to,
    |db| {
        let (app, sink) = app_with_mail(&db, &[]).await;
        let ann = browser();
        assert_eq!(register(&app, &ann, "ann@example.com").await.status(), 303);
        let link = link_path(
            &next_mail_to(&sink, 0, "ann@example.com").await,
            "/users/verify/",
        );
        assert_eq!(location(&press_link(&app, &ann, &link).await), "/products");
        // Ann moves to another address.
        let before = sink.messages().len();
        let r = app
            .submit(
                &ann,
                "/users/email-change",
                "/users/email-change",
                &[
                    ("new_email", "ann@elsewhere.example"),
                    ("password", PASSWORD),
                ],
            )
            .await;
        assert_eq!(location(&r), "/users/profile");
        let change = link_path(
            &next_mail_to(&sink, before, "ann@elsewhere.example").await,
            "/users/email-change/",
        );
        assert_eq!(
            location(&press_link(&app, &ann, &change).await),
            "/users/profile"
        );
        // Someone registers the address Ann left, and opens Ann's old link.
        assert_eq!(
            register(&app, &browser(), "ann@example.com").await.status(),
            303
        );
        let stranger = browser();
        let (status, _) = app.page(&stranger, &link).await;
        assert_eq!(
            status, 303,
            "Ann's account is confirmed: nothing to confirm"
        );
        let r = post_link(&app, &stranger, &link).await;
        assert_eq!(
            location(&r),
            "/users/login",
            "already verified, and nobody signed in"
        );
        assert_eq!(
            app.page(&stranger, "/users/profile").await.0,
            303,
            "not signed in as anybody"
        );
        let confirmed = count(
            &db,
            "SELECT COUNT(*) AS n FROM users WHERE email_key = 'ann@example.com' AND is_verified",
        )
        .await;
        assert_eq!(confirmed, 0, "the new account is still unconfirmed");
        app.stop().await;
    }
);

db_test!(
    a_new_address_voids_the_generated_password_and_other_sign_ins,
    |db| {
        let (app, sink) = app_with_mail(&db, &[]).await;
        let here = verified_user(&app, &sink, "lee@example.com").await;
        let (elsewhere, status) = sign_in_as(&app, "lee@example.com", PASSWORD).await;
        assert_eq!(status, 303);
        let token = support::catalog::token(&app, "lee@example.com").await;
        // A reset mails a generated password to the current address.
        let before = sink.messages().len();
        let r = app
            .submit(
                &browser(),
                "/users/password-reset",
                "/users/password-reset",
                &[("email", "lee@example.com")],
            )
            .await;
        assert_eq!(r.status(), 303);
        let generated = generated_password(&next_mail_to(&sink, before, "lee@example.com").await);
        // The account moves to a new address.
        let before = sink.messages().len();
        app.submit(
            &here,
            "/users/email-change",
            "/users/email-change",
            &[("new_email", "lee@new.example"), ("password", PASSWORD)],
        )
        .await;
        let change = link_path(
            &next_mail_to(&sink, before, "lee@new.example").await,
            "/users/email-change/",
        );
        assert_eq!(
            location(&press_link(&app, &here, &change).await),
            "/users/profile"
        );
        // The password mailed to the old address opens nothing.
        let (_, status) = sign_in_as(&app, "lee@new.example", &generated).await;
        assert_eq!(status, 422);
        let (_, status) = sign_in_as(&app, "lee@example.com", &generated).await;
        assert_eq!(status, 422);
        // Only the session that confirmed is still signed in.
        assert_eq!(app.page(&here, "/users/profile").await.0, 200);
        assert_eq!(app.page(&elsewhere, "/users/profile").await.0, 303);
        let r = app.api_get(&token, "/api/v1/users/me").await;
        assert_eq!(r.status(), 401, "API tokens end too");
        let (_, status) = sign_in_as(&app, "lee@new.example", PASSWORD).await;
        assert_eq!(status, 303, "the real password still works");
        app.stop().await;
    }
);

db_test!(confirming_never_switches_on_a_deactivated_account, |db| {
    let (app, sink) = app_with_mail(&db, &[]).await;
    let client = browser();
    assert_eq!(
        register(&app, &client, "spam@example.com").await.status(),
        303
    );
    let link = link_path(
        &next_mail_to(&sink, 0, "spam@example.com").await,
        "/users/verify/",
    );
    let admin = Admin::connect(&db).await;
    let id = admin
        .ports
        .users
        .find_by_email(&Email::parse("spam@example.com").unwrap())
        .await
        .unwrap()
        .unwrap()
        .id;
    catalog_domain::services::admin::AdminService::new(admin.ports.for_admin())
        .set_active("spam@example.com", false)
        .await
        .unwrap();
    // The link does nothing now, on the page and in the API.
    let (status, _) = app.page(&client, &link).await;
    assert_eq!(status, 400);
    let r = post_link(&app, &client, &link).await;
    assert_eq!(r.status(), 400);
    assert_ne!(location(&r), "/products");
    let token = link.trim_start_matches("/users/verify/");
    let r = app
        .client
        .post(app.url("/api/v1/auth/verify"))
        .json(&json!({"token": token}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(app.page(&client, "/users/profile").await.0, 303);
    let user = admin.ports.users.find_by_id(id).await.unwrap().unwrap();
    assert!(!user.is_active && !user.is_verified);
    let (_, status) = sign_in_as(&app, "spam@example.com", PASSWORD).await;
    assert_eq!(status, 422, "still switched off");
    app.stop().await;
});

/// A browser (cookies kept, redirects not followed) whose requests come through the
/// trusted proxy from `ip`.
fn browser_at(ip: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("x-forwarded-for", ip.parse().unwrap());
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(headers)
        .build()
        .unwrap()
}

async fn try_sign_in(app: &TestApp, client: &reqwest::Client, email: &str, password: &str) -> u16 {
    app.submit(
        client,
        "/users/login",
        "/users/login",
        &[("email", email), ("password", password)],
    )
    .await
    .status()
    .as_u16()
}

async fn try_token(app: &TestApp, client: &reqwest::Client, email: &str, password: &str) -> u16 {
    client
        .post(app.url("/api/v1/auth/token"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

db_test!(
    a_stranger_guessing_an_address_cannot_lock_its_owner_out,
    |db| {
        let admin = Admin::connect(&db).await;
        let root = "root@example.com";
        admin.person(root, support::catalog::Role::Superuser).await;
        let app = spawn_app(&db, &[("CATALOG_TRUSTED_PROXIES", "127.0.0.1")]).await;
        // The owner signs in from their browser and their API client once.
        let owner = browser_at("198.51.100.7");
        assert_eq!(try_sign_in(&app, &owner, root, PASSWORD).await, 303);
        let owner_api = browser_at("198.51.100.7");
        assert_eq!(try_token(&app, &owner_api, root, PASSWORD).await, 201);
        let r = app.submit(&owner, "/products", "/users/logout", &[]).await;
        assert_eq!(
            r.status(),
            303,
            "signed out: the browser keeps only its device cookie"
        );

        // A stranger floods the address with guesses, a minute at a time forever.
        let stranger = "203.0.113.9";
        for _ in 0..5 {
            assert_eq!(
                try_sign_in(&app, &browser_at(stranger), root, "guess-1234").await,
                422
            );
        }
        assert_eq!(
            try_sign_in(&app, &browser_at(stranger), root, "guess-1234").await,
            429
        );
        assert_eq!(
            try_token(&app, &browser_at(stranger), root, "guess-1234").await,
            429
        );
        // Strangers stay limited: the right password does not get through either.
        assert_eq!(
            try_sign_in(&app, &browser_at("192.0.2.1"), root, PASSWORD).await,
            429
        );
        assert_eq!(
            try_token(&app, &browser_at("192.0.2.1"), root, PASSWORD).await,
            429
        );

        // The owner's own devices are not held to the account's limit.
        let owner_again = owner.clone();
        assert_eq!(try_sign_in(&app, &owner_again, root, PASSWORD).await, 303);
        assert_eq!(app.page(&owner_again, "/users/profile").await.0, 200);
        assert_eq!(try_token(&app, &owner_api, root, PASSWORD).await, 201);

        // A device's own failures are limited per device, so a copied cookie is no
        // licence to guess either.
        let api = browser_at("198.51.100.8");
        assert_eq!(
            try_token(&app, &api, root, PASSWORD).await,
            429,
            "a new device is a stranger"
        );
        for _ in 0..5 {
            assert_eq!(try_token(&app, &owner_api, root, "guess-5678").await, 401);
        }
        assert_eq!(try_token(&app, &owner_api, root, PASSWORD).await, 429);
        assert_eq!(
            try_sign_in(&app, &owner, root, PASSWORD).await,
            303,
            "another device of the owner is still fine"
        );
        app.stop().await;
    }
);

db_test!(page_views_without_a_session_store_nothing, |db| {
    let app = spawn_app(&db, &[("CATALOG_PUBLIC_BROWSING", "true")]).await;
    let sessions = || db.count("SELECT COUNT(*) AS n FROM sessions");
    for path in [
        "/",
        "/users/login",
        "/users/register",
        "/users/password-reset",
        "/products",
        "/users/login?next=%2Fproducts",
        "/",
        "/users/register",
        "/products",
        "/users/login",
    ] {
        // A client that keeps no cookies, as a crawler or a flood does.
        let (status, _) = app.page(&app.client, path).await;
        assert_eq!(status, 200, "{path}");
    }
    assert_eq!(sessions().await.unwrap(), 0, "ten views, no rows");

    // The anonymous forms are still protected: the token is good only with the cookie
    // of the browser it was shown to.
    let ann = browser();
    let (_, page) = app.page(&ann, "/users/login").await;
    let token = csrf_of(&page);
    let bob = browser();
    app.page(&bob, "/users/login").await;
    for (client, token) in [
        (&bob, token.as_str()),
        (&app.client, token.as_str()),
        (&ann, ""),
    ] {
        let r = client
            .post(app.url("/users/password-reset"))
            .form(&[("email", "ann@example.com"), ("csrf_token", token)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{token:?}");
    }
    let r = ann
        .post(app.url("/users/password-reset"))
        .form(&[("email", "ann@example.com"), ("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&r), "/users/password-reset/done");
    assert_eq!(
        sessions().await.unwrap(),
        0,
        "a reset needs no session either"
    );
    app.stop().await;
});
