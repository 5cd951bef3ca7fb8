//! The account pages end to end: real server, real database, real SMTP server.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use catalog_storage::db_test;
use support::accounts::{PASSWORD, WAIT, app_with_mail, register, verified_user};
use support::{TestApp, browser, link_path, location};

async fn sign_in(
    app: &TestApp,
    client: &reqwest::Client,
    email: &str,
    password: &str,
) -> reqwest::Response {
    app.submit(
        client,
        "/users/login",
        "/users/login",
        &[("email", email), ("password", password), ("next", "")],
    )
    .await
}

db_test!(
    registration_is_confirmed_by_a_post_from_the_mailed_link,
    |db| {
        let (app, sink) = app_with_mail(&db, &[]).await;
        let client = browser();
        let r = register(&app, &client, "Ann@Example.com").await;
        assert_eq!(
            (r.status().as_u16(), location(&r).as_str()),
            (303, "/users/register/done")
        );
        let mail = sink.wait_for(1, WAIT).await;
        assert_eq!(mail.len(), 1, "one verification mail");
        assert!(mail[0].raw.contains("Subject: Confirm your email address"));
        let path = link_path(&mail[0].raw, "/users/verify/");

        // Opening the link changes nothing.
        let r = client.get(app.url(&path)).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["referrer-policy"], "no-referrer");
        let page = r.text().await.unwrap();
        assert!(page.contains("Confirm my email"));
        let refused = sign_in(&app, &browser(), "ann@example.com", PASSWORD).await;
        assert_eq!(refused.status(), 422, "still unverified after the GET");

        // The POST confirms and signs in.
        let token = support::csrf_of(&page);
        let r = client
            .post(app.url(&path))
            .form(&[("csrf_token", token.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(
            (r.status().as_u16(), location(&r).as_str()),
            (303, "/products")
        );
        let (status, profile) = app.page(&client, "/users/profile").await;
        assert_eq!(status, 200);
        assert!(
            profile.contains("Ann@example.com"),
            "signed in as the new user"
        );

        // The link again: already verified, not signed in.
        let stranger = browser();
        let r = stranger.get(app.url(&path)).send().await.unwrap();
        assert_eq!(
            (r.status().as_u16(), location(&r).as_str()),
            (303, "/users/login")
        );
        let (_, page) = app.page(&stranger, "/users/register").await;
        let token = support::csrf_of(&page);
        let r = stranger
            .post(app.url(&path))
            .form(&[("csrf_token", token.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(
            (r.status().as_u16(), location(&r).as_str()),
            (303, "/users/login")
        );
        assert_eq!(
            location(
                &stranger
                    .get(app.url("/users/profile"))
                    .send()
                    .await
                    .unwrap()
            ),
            "/users/login?next=%2Fusers%2Fprofile"
        );

        // Tampered links answer 400 with a resend form.
        let mut tampered = path.clone();
        tampered.push('x');
        let (status, page) = app.page(&stranger, &tampered).await;
        assert_eq!(status, 400);
        assert!(page.contains("/users/verify/resend"));
        app.stop().await;
    }
);

db_test!(
    registering_a_taken_address_answers_alike_and_tells_the_owner,
    |db| {
        let (app, sink) = app_with_mail(&db, &[]).await;
        verified_user(&app, &sink, "bob@example.com").await;
        let r = register(&app, &browser(), "BOB@example.com").await;
        assert_eq!(
            (r.status().as_u16(), location(&r).as_str()),
            (303, "/users/register/done")
        );
        let mail = sink.wait_for(2, WAIT).await;
        assert_eq!(mail.len(), 2);
        assert!(
            mail[1]
                .raw
                .contains("Subject: Someone tried to sign up with your email address")
        );
        assert_eq!(mail[1].to, vec!["bob@example.com".to_owned()]);
        let users = db.count("SELECT COUNT(*) AS n FROM users").await.unwrap();
        assert_eq!(users, 1);
        app.stop().await;
    }
);

db_test!(
    twenty_concurrent_registrations_of_one_address_make_one_account,
    |db| {
        let (app, _sink) = app_with_mail(&db, &[]).await;
        let mut clients = Vec::new();
        for _ in 0..20 {
            let client = browser();
            let (_, page) = app.page(&client, "/users/register").await;
            clients.push((client, support::csrf_of(&page)));
        }
        let url = app.url("/users/register");
        let tasks: Vec<_> = clients
            .into_iter()
            .map(|(client, token)| {
                let url = url.clone();
                tokio::spawn(async move {
                    let form = [
                        ("email", "race@example.com"),
                        ("password1", PASSWORD),
                        ("password2", PASSWORD),
                        ("csrf_token", token.as_str()),
                    ];
                    client
                        .post(url)
                        .form(&form)
                        .send()
                        .await
                        .unwrap()
                        .status()
                        .as_u16()
                })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.unwrap(), 303);
        }
        assert_eq!(
            db.count("SELECT COUNT(*) AS n FROM users").await.unwrap(),
            1
        );
        app.stop().await;
    }
);

db_test!(
    sign_in_rotates_the_session_and_sign_out_ends_it_on_the_server,
    |db| {
        let (app, sink) = app_with_mail(&db, &[]).await;
        verified_user(&app, &sink, "cy@example.com").await;
        let client = browser();
        let wrong = sign_in(&app, &client, "cy@example.com", "not the password").await;
        assert_eq!(wrong.status(), 422);
        let unknown_text = sign_in(&app, &client, "nobody@example.com", PASSWORD)
            .await
            .text()
            .await
            .unwrap();
        assert!(
            wrong.text().await.is_ok()
                && unknown_text.contains("Please enter a correct email and password")
        );

        let fresh = browser();
        let r = fresh.get(app.url("/users/login")).send().await.unwrap();
        assert_eq!(
            set_cookie_value(&r),
            None,
            "viewing a form stores no session"
        );
        let token = support::csrf_of(&r.text().await.unwrap());
        // A flash message is what gives a visitor a session before they sign in.
        let r = fresh
            .post(app.url("/users/verify/resend"))
            .form(&[
                ("email", "someone@example.com"),
                ("csrf_token", token.as_str()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(location(&r), "/users/register/done");
        let anonymous_cookie = set_cookie_value(&r).expect("an anonymous session for the flash");
        let client = fresh;
        let r = client
            .post(app.url("/users/login"))
            .form(&[
                ("email", "cy@example.com"),
                ("password", PASSWORD),
                ("next", "/users/profile"),
                ("csrf_token", token.as_str()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(location(&r), "/users/profile", "a safe next is followed");
        let signed_cookie = set_cookie_value(&r).expect("a new session cookie");
        assert_ne!(
            signed_cookie, anonymous_cookie,
            "the session id changes at sign-in"
        );

        // Replay the signed-in cookie from elsewhere: it works until sign-out.
        let replay = || async {
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap()
                .get(app.url("/users/profile"))
                .header("cookie", format!("catalog_session={signed_cookie}"))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        };
        assert_eq!(replay().await, 200);
        let (_, page) = app.page(&client, "/users/profile").await;
        let token = support::csrf_of(&page);
        let r = client
            .post(app.url("/users/logout"))
            .form(&[("csrf_token", token.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(location(&r), "/");
        assert_eq!(
            replay().await,
            303,
            "the old cookie no longer signs anybody in"
        );

        let evil = sign_in(&app, &browser(), "cy@example.com", PASSWORD).await;
        assert_eq!(location(&evil), "/products");
        let r = app
            .submit(
                &browser(),
                "/users/login",
                "/users/login",
                &[
                    ("email", "cy@example.com"),
                    ("password", PASSWORD),
                    ("next", "https://evil.example/"),
                ],
            )
            .await;
        assert_eq!(location(&r), "/products", "an unsafe next is ignored");
        app.stop().await;
    }
);

fn set_cookie_value(r: &reqwest::Response) -> Option<String> {
    r.headers().get_all("set-cookie").iter().find_map(|v| {
        let v = v.to_str().ok()?;
        let v = v.strip_prefix("catalog_session=")?;
        Some(v.split(';').next()?.to_owned())
    })
}

db_test!(
    a_password_reset_mails_a_password_that_works_once_and_forces_a_change,
    |db| {
        let (app, sink) = app_with_mail(&db, &[]).await;
        let first = verified_user(&app, &sink, "dee@example.com").await;
        let unknown = app
            .submit(
                &browser(),
                "/users/password-reset",
                "/users/password-reset",
                &[("email", "ghost@example.com")],
            )
            .await;
        let known = app
            .submit(
                &browser(),
                "/users/password-reset",
                "/users/password-reset",
                &[("email", "DEE@example.com")],
            )
            .await;
        assert_eq!(location(&unknown), "/users/password-reset/done");
        assert_eq!(location(&known), "/users/password-reset/done");
        let mail = sink.wait_for(2, WAIT).await;
        assert_eq!(mail.len(), 2, "only the known address got mail");
        let generated = support::generated_password(&mail[1].raw);

        // The old password still works.
        assert_eq!(
            location(&sign_in(&app, &browser(), "dee@example.com", PASSWORD).await),
            "/products"
        );
        assert_eq!(app.page(&first, "/users/profile").await.0, 200);

        // The generated one signs in, ends the other session and forces a change.
        let client = browser();
        let r = sign_in(&app, &client, "dee@example.com", &generated).await;
        assert_eq!(location(&r), "/users/password-change");
        assert_eq!(
            location(&first.get(app.url("/users/profile")).send().await.unwrap()),
            "/users/login?next=%2Fusers%2Fprofile",
            "other session ended"
        );
        assert_eq!(
            location(&client.get(app.url("/users/profile")).send().await.unwrap()),
            "/users/password-change",
            "kept on the change page"
        );
        assert_eq!(
            sign_in(&app, &browser(), "dee@example.com", PASSWORD)
                .await
                .status(),
            422,
            "the old password is gone"
        );
        let r = app
            .submit(
                &client,
                "/users/password-change",
                "/users/password-change",
                &[
                    ("old_password", &generated),
                    ("new_password1", "my own passphrase 7"),
                    ("new_password2", "my own passphrase 7"),
                ],
            )
            .await;
        assert_eq!(location(&r), "/users/profile");
        assert_eq!(
            app.page(&client, "/users/profile").await.0,
            200,
            "free to move again"
        );
        let notices = sink.wait_for(4, WAIT).await;
        assert!(
            notices
                .iter()
                .filter(|m| m.raw.contains("Subject: Your password was changed"))
                .count()
                >= 2
        );
        app.stop().await;
    }
);

db_test!(forged_or_missing_csrf_tokens_change_nothing, |db| {
    let (app, _sink) = app_with_mail(&db, &[]).await;
    let client = browser();
    let _ = app.page(&client, "/users/register").await;
    for token in [None, Some("forged-token")] {
        let mut form = vec![
            ("email", "eve@example.com"),
            ("password1", PASSWORD),
            ("password2", PASSWORD),
        ];
        if let Some(t) = token {
            form.push(("csrf_token", t));
        }
        let r = client
            .post(app.url("/users/register"))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        let body = r.text().await.unwrap();
        assert!(
            !body.contains("panicked") && !body.contains("src/"),
            "no internals"
        );
    }
    assert_eq!(
        db.count("SELECT COUNT(*) AS n FROM users").await.unwrap(),
        0
    );
    app.stop().await;
});

db_test!(
    the_profile_normalises_phones_and_refuses_bad_input_whole,
    |db| {
        let (app, sink) = app_with_mail(&db, &[]).await;
        let client = verified_user(&app, &sink, "fay@example.com").await;
        let save = |fields: Vec<(&'static str, String)>, avatar: Option<Vec<u8>>| {
            let client = client.clone();
            let app_url = app.url("/users/profile");
            async move {
                let page = client
                    .get(&app_url)
                    .send()
                    .await
                    .unwrap()
                    .text()
                    .await
                    .unwrap();
                let mut form =
                    reqwest::multipart::Form::new().text("csrf_token", support::csrf_of(&page));
                for (k, v) in fields {
                    form = form.text(k, v);
                }
                if let Some(bytes) = avatar {
                    form = form.part(
                        "avatar",
                        reqwest::multipart::Part::bytes(bytes)
                            .file_name("me.png")
                            .mime_str("image/png")
                            .unwrap(),
                    );
                }
                client.post(&app_url).multipart(form).send().await.unwrap()
            }
        };
        let fields = |phone: &str, country: &str| {
            vec![
                ("first_name", "Fay".to_owned()),
                ("last_name", "Lee".to_owned()),
                ("phone", phone.to_owned()),
                ("country", country.to_owned()),
            ]
        };
        let r = save(fields("8 912 345-67-89", "RU"), None).await;
        assert_eq!(location(&r), "/users/profile");
        let page = app.page(&client, "/users/profile").await.1;
        assert!(page.contains("+79123456789") && page.contains("Profile saved."));

        let r = save(fields("12345", ""), None).await;
        assert_eq!(r.status(), 422);
        assert!(r.text().await.unwrap().contains("international form"));
        let r = save(
            vec![
                ("first_name", "Changed".to_owned()),
                ("country", "XX".to_owned()),
                ("phone", String::new()),
                ("last_name", String::new()),
            ],
            None,
        )
        .await;
        assert_eq!(r.status(), 422);
        let page = app.page(&client, "/users/profile").await.1;
        assert!(page.contains("value=\"Fay\""), "nothing saved");

        let mut png = Vec::new();
        image::RgbImage::from_pixel(20, 20, image::Rgb([200, 30, 30]))
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        let r = save(fields("", ""), Some(png)).await;
        assert_eq!(location(&r), "/users/profile");
        let page = app.page(&client, "/users/profile").await.1;
        let start = page.find("src=\"/media/avatars/").unwrap() + 5;
        let url = &page[start..start + page[start..].find('"').unwrap()];
        // The header shows the small square variant; the original is served too.
        let served = client.get(app.url(url)).send().await.unwrap();
        assert_eq!(served.headers()["content-type"], "image/jpeg");
        assert_eq!(served.headers()["x-content-type-options"], "nosniff");
        let shown = image::load_from_memory(&served.bytes().await.unwrap()).unwrap();
        assert_eq!((shown.width(), shown.height()), (96, 96));
        assert!(
            page.contains(&url.replace("-96.jpg", "-192.jpg")),
            "and the larger one"
        );
        let original = url.replace("-96.jpg", ".png");
        let served = client.get(app.url(&original)).send().await.unwrap();
        assert_eq!(served.headers()["content-type"], "image/png");
        assert!(image::load_from_memory(&served.bytes().await.unwrap()).is_ok());

        let r = save(fields("", ""), Some(b"GIF89a but not really".to_vec())).await;
        assert_eq!(r.status(), 422);
        let r = save(fields("", ""), Some(vec![0_u8; 6 * 1024 * 1024])).await;
        assert_eq!(r.status(), 413);
        app.stop().await;
    }
);

db_test!(
    passwords_typed_differently_are_refused_by_the_form_and_change_nothing,
    |db| {
        let (app, sink) = app_with_mail(&db, &[]).await;
        let client = browser();
        let r = app
            .submit(
                &client,
                "/users/register",
                "/users/register",
                &[
                    ("email", "not an address"),
                    ("password1", PASSWORD),
                    ("password2", "velvet thunder 43"),
                ],
            )
            .await;
        assert_eq!(r.status(), 422);
        let page = r.text().await.unwrap();
        // The form's own check and the registration's are shown together.
        assert!(page.contains("id=\"password2-error\""), "{page}");
        assert!(page.contains("id=\"email-error\""), "{page}");
        assert!(page.contains("The two password fields didn"), "{page}");
        assert_eq!(
            db.count("SELECT COUNT(*) AS n FROM users").await.unwrap(),
            0
        );
        assert_eq!(
            db.count("SELECT COUNT(*) AS n FROM mail_outbox")
                .await
                .unwrap(),
            0
        );

        let client = verified_user(&app, &sink, "dee@example.com").await;
        let r = app
            .submit(
                &client,
                "/users/password-change",
                "/users/password-change",
                &[
                    ("old_password", PASSWORD),
                    ("new_password1", "my own passphrase 7"),
                    ("new_password2", "my own passphrase 8"),
                ],
            )
            .await;
        assert_eq!(r.status(), 422);
        let page = r.text().await.unwrap();
        assert!(page.contains("id=\"new_password2-error\""), "{page}");
        assert_eq!(
            sign_in(&app, &browser(), "dee@example.com", PASSWORD)
                .await
                .status(),
            303,
            "the password is unchanged"
        );
        app.stop().await;
    }
);
