//! English and Russian: which language a person gets (their saved choice, then the
//! switcher, then their browser, then the site's default), and that everything they
//! read — pages, messages beside fields, error pages, problem documents, mail — is in it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use catalog_i18n::Lang;
use catalog_storage::db_test;
use serde_json::{Value, json};
use support::accounts::{PASSWORD, WAIT, app_with_mail};
use support::catalog::{Admin, Role};
use support::{TestApp, csrf_of, location, spawn_app, speaking};

/// The `lang` of a page's `<html>`.
fn lang_of(html: &str) -> &str {
    let start = html.find("<html lang=\"").expect("an html element") + 12;
    let end = html[start..].find('"').unwrap();
    &html[start..start + end]
}

async fn page_lang(app: &TestApp, client: &reqwest::Client, path: &str) -> (String, String) {
    let (status, html) = app.page(client, path).await;
    assert!(status < 400, "{path}: {status}");
    (lang_of(&html).to_owned(), html)
}

/// Chooses `code` with the switcher shown on `from`, and expects to be sent back there.
async fn switch(app: &TestApp, client: &reqwest::Client, from: &str, code: &str) {
    let (_, html) = app.page(client, from).await;
    let r = client
        .post(app.url("/language"))
        .form(&[
            ("csrf_token", csrf_of(&html).as_str()),
            ("language", code),
            ("next", from),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!((r.status().as_u16(), location(&r)), (303, from.to_owned()));
}

async fn sign_in(app: &TestApp, client: &reqwest::Client, email: &str) {
    let r = app
        .submit(
            client,
            "/users/login",
            "/users/login",
            &[("email", email), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status(), 303, "sign-in of {email}");
}

db_test!(the_browser_language_applies_with_its_quality_values, |db| {
    let app = spawn_app(&db, &[]).await;
    for (accept, expected) in [
        ("", "en"),
        ("ru", "ru"),
        ("ru-RU,ru;q=0.9,en-US;q=0.8,en;q=0.7", "ru"),
        ("en;q=0.3, ru;q=0.8", "ru"),
        ("ru;q=0.2, en-GB;q=0.9", "en"),
        ("de-DE, fr;q=0.9", "en"),
        ("de, ru;q=0.5", "ru"),
        ("en;q=NaN, de;q=0.9, ru;q=0.5, en;q=inf", "ru"),
        ("ru;q=7, en;q=0.1", "en"),
    ] {
        let (lang, html) = page_lang(&app, &speaking(accept), "/users/login").await;
        assert_eq!(lang, expected, "Accept-Language: {accept}");
        let button = if expected == "ru" {
            ">Войти<"
        } else {
            ">Sign in<"
        };
        assert!(html.contains(button), "{accept}");
    }
    let r = speaking("ru")
        .get(app.url("/users/login"))
        .send()
        .await
        .unwrap();
    let vary: Vec<String> = r
        .headers()
        .get_all("vary")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert!(
        vary.iter()
            .any(|v| v.contains("Accept-Language") && v.contains("Cookie")),
        "a shared cache keeps languages apart: {vary:?}"
    );
    app.stop().await;
});

db_test!(the_site_default_applies_when_nothing_else_says, |db| {
    let app = spawn_app(&db, &[("CATALOG_DEFAULT_LANGUAGE", "ru")]).await;
    assert_eq!(page_lang(&app, &speaking(""), "/").await.0, "ru");
    assert_eq!(page_lang(&app, &speaking("de"), "/").await.0, "ru");
    assert_eq!(page_lang(&app, &speaking("en"), "/").await.0, "en");
    app.stop().await;
});

db_test!(the_switcher_beats_the_browser_and_keeps_the_page, |db| {
    let app = spawn_app(&db, &[]).await;
    let client = speaking("ru");
    assert_eq!(page_lang(&app, &client, "/users/register").await.0, "ru");
    switch(&app, &client, "/users/register?x=1", "en").await;
    assert_eq!(page_lang(&app, &client, "/users/register").await.0, "en");
    assert_eq!(page_lang(&app, &client, "/users/login").await.0, "en");
    switch(&app, &client, "/", "ru").await;
    assert_eq!(page_lang(&app, &client, "/").await.0, "ru");

    // Another site cannot switch it, an unknown language changes nothing, and `next`
    // never leads off the site.
    let r = client
        .post(app.url("/language"))
        .form(&[("csrf_token", "forged"), ("language", "en"), ("next", "/")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let (_, html) = app.page(&client, "/").await;
    let token = csrf_of(&html);
    let r = client
        .post(app.url("/language"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("language", "xx"),
            ("next", "/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body = r.text().await.unwrap();
    assert_eq!(lang_of(&body), "ru", "{body}");
    let r = client
        .post(app.url("/language"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("language", "en"),
            ("next", "https://evil.example/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&r), "/");
    assert_eq!(page_lang(&app, &client, "/").await.0, "en");
    app.stop().await;
});

db_test!(
    the_saved_language_beats_the_switcher_cookie_and_the_browser,
    |db| {
        let app = spawn_app(&db, &[]).await;
        let admin = Admin::connect(&db).await;
        admin.person("olga@example.com", Role::Plain).await;

        // An account from before languages learns the one its owner signs in with.
        let first = speaking("ru");
        sign_in(&app, &first, "olga@example.com").await;
        assert_eq!(page_lang(&app, &first, "/products").await.0, "ru");

        // Elsewhere, a browser that asks for English and chose English with the switcher
        // still shows her pages in her language once she signs in.
        let other = speaking("en");
        switch(&app, &other, "/", "en").await;
        assert_eq!(page_lang(&app, &other, "/").await.0, "en");
        sign_in(&app, &other, "olga@example.com").await;
        assert_eq!(page_lang(&app, &other, "/products").await.0, "ru");

        // The switcher, signed in, changes the saved language itself.
        switch(&app, &other, "/products", "en").await;
        assert_eq!(page_lang(&app, &first, "/products").await.0, "en");
        app.stop().await;
    }
);

db_test!(
    the_profile_changes_the_saved_language_and_refuses_others,
    |db| {
        let app = spawn_app(&db, &[]).await;
        let admin = Admin::connect(&db).await;
        admin.person("ivan@example.com", Role::Plain).await;
        let client = speaking("en");
        sign_in(&app, &client, "ivan@example.com").await;
        let (_, html) = page_lang(&app, &client, "/users/profile").await;
        assert!(html.contains("<option value=\"ru\" lang=\"ru\">Русский</option>"));
        let fields = |language: &'static str| {
            [
                ("first_name", "Иван"),
                ("last_name", ""),
                ("phone", ""),
                ("country", "RU"),
                ("language", language),
            ]
        };
        let r = app
            .post_multipart(
                &client,
                "/users/profile",
                "/users/profile",
                &fields("xx"),
                None,
            )
            .await;
        assert_eq!(r.status(), 422);
        let page = r.text().await.unwrap();
        assert!(page.contains("id=\"language-error\">Select one of the languages offered."));
        assert_eq!(
            page_lang(&app, &client, "/products").await.0,
            "en",
            "nothing saved"
        );
        let (_, profile) = app.page(&client, "/users/profile").await;
        assert!(!profile.contains("value=\"Иван\""), "nothing saved");

        let r = app
            .post_multipart(
                &client,
                "/users/profile",
                "/users/profile",
                &fields("ru"),
                None,
            )
            .await;
        assert_eq!(r.status(), 303);
        let (lang, profile) = page_lang(&app, &client, "/users/profile").await;
        assert_eq!(lang, "ru");
        assert!(
            profile.contains("Профиль сохранён."),
            "the notice speaks it too"
        );
        assert!(profile.contains("<option value=\"RU\" selected>Россия</option>"));
        app.stop().await;
    }
);

db_test!(
    russian_pages_show_russian_messages_plurals_prices_and_dates,
    |db| {
        let app = spawn_app(&db, &[]).await;
        let client = speaking("ru");

        // A validation error beside its field and in the summary.
        let r = app
            .submit(
                &client,
                "/users/register",
                "/users/register",
                &[
                    ("email", "not-an-address"),
                    ("password1", "12345678"),
                    ("password2", "different"),
                ],
            )
            .await;
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert!(html.contains("Исправьте, пожалуйста, ошибки ниже."));
        assert!(html.contains("id=\"email-error\">Введите правильный адрес электронной почты."));
        assert!(html.contains("Пароль не может состоять только из цифр."));
        assert!(html.contains("id=\"password2-error\">Пароли не совпадают."));

        // Counts, prices and dates as Russian writes them.
        let admin = Admin::connect(&db).await;
        admin.person("maria@example.com", Role::Plain).await;
        let category = admin.category("Лампы").await.to_string();
        sign_in(&app, &client, "maria@example.com").await;
        let first = app
            .create_product(
                &client,
                &[
                    ("name", "Лампа настольная"),
                    ("price", "1234,56"),
                    ("category", &category),
                    ("is_published", "true"),
                ],
            )
            .await;
        let (_, list) = page_lang(&app, &client, "/products").await;
        assert!(list.contains("1 товар, сначала новые."), "one");
        assert!(list.contains("1\u{a0}234,56"), "a Russian price");
        app.create_product(
            &client,
            &[
                ("name", "Лампа напольная"),
                ("price", "99.5"),
                ("category", &category),
            ],
        )
        .await;
        let (_, list) = page_lang(&app, &client, "/products").await;
        assert!(list.contains("2 товара, сначала новые."), "few");
        assert!(list.contains("Снят с публикации"), "the draft's status");
        let (_, detail) = page_lang(&app, &client, &format!("/products/{first}")).await;
        let today = chrono::Utc::now().date_naive();
        use chrono::Datelike;
        let ru = Lang::parse("ru").unwrap();
        assert!(detail.contains(&ru.date(today.year(), today.month(), today.day())));
        assert!(detail.contains(" г.</time>"), "{detail}");
        assert!(detail.contains(">Изменить</a>"));
        app.stop().await;
    }
);

db_test!(error_pages_speak_the_language_of_the_request, |db| {
    let app = spawn_app(&db, &[]).await;
    let client = speaking("ru");
    let (status, html) = app.page(&client, "/no/such/page").await;
    assert_eq!(status, 404);
    assert_eq!(lang_of(&html), "ru");
    assert!(html.contains("Страница не найдена") && html.contains("На главную"));

    // Verification resends: one per three minutes per address.
    for expected in [303, 429] {
        let r = app
            .submit(
                &client,
                "/users/login",
                "/users/verify/resend",
                &[("email", "nobody@example.com")],
            )
            .await;
        assert_eq!(r.status(), expected);
        if expected == 429 {
            assert!(r.headers().contains_key("retry-after"));
            let html = r.text().await.unwrap();
            assert_eq!(lang_of(&html), "ru");
            assert!(html.contains("Слишком много попыток"), "{html}");
        }
    }
    let r = client
        .post(app.url("/users/login"))
        .form(&[("csrf_token", "forged"), ("email", "a@b.c")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("Форма устарела"));
    app.stop().await;
});

db_test!(
    problem_documents_keep_their_type_and_say_the_rest_in_the_callers_language,
    |db| {
        let app = spawn_app(&db, &[]).await;
        let body = json!({"email": "not-an-address", "password": PASSWORD});
        let mut answers = Vec::new();
        for accept in ["ru-RU, ru;q=0.9", "en"] {
            let r = speaking(accept)
                .post(app.url("/api/v1/auth/register"))
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 422);
            assert!(
                r.headers()
                    .get_all("vary")
                    .iter()
                    .any(|v| v.to_str().unwrap().contains("Accept-Language"))
            );
            answers.push(r.json::<Value>().await.unwrap());
        }
        let (ru, en) = (&answers[0], &answers[1]);
        assert_eq!(ru["type"], "/problems/validation");
        assert_eq!(ru["type"], en["type"]);
        assert_eq!(ru["status"], en["status"]);
        assert_eq!(ru["title"], "Некорректные данные");
        assert_eq!(ru["detail"], "Одно или несколько полей заполнены неверно.");
        assert_eq!(
            ru["errors"]["email"][0],
            "Введите правильный адрес электронной почты."
        );
        assert_eq!(en["errors"]["email"][0], "Enter a valid email address.");
        assert_eq!(en["detail"], "One or more fields are invalid.");

        let r = speaking("ru")
            .get(app.url("/api/v1/users/me"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
        let problem: Value = r.json().await.unwrap();
        assert_eq!(problem["type"], "about:blank");
        assert_eq!(problem["title"], "Требуется авторизация");
        app.stop().await;
    }
);

/// Subject and text of a raw message, with encoded words and transfer encodings undone.
fn readable(raw: &str) -> String {
    use base64::Engine as _;
    let engine = base64::engine::general_purpose::STANDARD;
    let unfolded = raw.replace("\r\n ", " ").replace("\r\n\t", " ");
    let mut out = String::new();
    for line in unfolded.lines() {
        if let Some(subject) = line.strip_prefix("Subject: ") {
            for word in subject.split_whitespace() {
                match word
                    .strip_prefix("=?utf-8?b?")
                    .or_else(|| word.strip_prefix("=?UTF-8?B?"))
                    .and_then(|w| w.strip_suffix("?="))
                {
                    Some(b64) => {
                        out.push_str(&String::from_utf8(engine.decode(b64).unwrap()).unwrap())
                    }
                    None => out.push_str(word),
                }
            }
            out.push('\n');
        }
    }
    // Each part: base64 bodies decoded, quoted-printable ones unescaped.
    for part in raw.split("\r\n\r\n").collect::<Vec<_>>().windows(2) {
        let (head, body) = (part[0], part[1]);
        let body = body.split("\r\n--").next().unwrap_or_default();
        if head.contains("Content-Transfer-Encoding: base64") {
            let joined: String = body.split_whitespace().collect();
            if let Ok(bytes) = engine.decode(joined) {
                out.push_str(&String::from_utf8_lossy(&bytes));
            }
        } else if head.contains("Content-Transfer-Encoding: quoted-printable") {
            let soft = body.replace("=\r\n", "");
            let mut bytes = Vec::new();
            let mut rest = soft.as_bytes();
            while let Some((&b, tail)) = rest.split_first() {
                if b == b'='
                    && tail.len() >= 2
                    && let Ok(v) =
                        u8::from_str_radix(std::str::from_utf8(&tail[..2]).unwrap_or("zz"), 16)
                {
                    bytes.push(v);
                    rest = &tail[2..];
                    continue;
                }
                bytes.push(b);
                rest = tail;
            }
            out.push_str(&String::from_utf8_lossy(&bytes));
        } else if head.contains("Content-Transfer-Encoding") {
            out.push_str(body);
        }
        out.push('\n');
    }
    out
}

db_test!(mail_is_written_in_the_recipients_saved_language, |db| {
    let (app, sink) = app_with_mail(&db, &[]).await;

    // Registered in Russian: the confirmation link comes in Russian.
    let russian = speaking("ru");
    let r = app
        .submit(
            &russian,
            "/users/register",
            "/users/register",
            &[
                ("email", "pavel@example.com"),
                ("password1", PASSWORD),
                ("password2", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let mail = sink.wait_for(1, WAIT).await;
    let text = readable(&mail[0].raw);
    assert!(
        text.contains("Подтвердите адрес электронной почты"),
        "{text}"
    );
    assert!(text.contains("Спасибо за регистрацию!"), "{text}");
    assert!(text.contains("lang=\"ru\""), "{text}");

    // A reset asked for in English still writes to him in his language.
    let english = speaking("en");
    let r = app
        .submit(
            &english,
            "/users/password-reset",
            "/users/password-reset",
            &[("email", "pavel@example.com")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let (_, done) = app.page(&english, &location(&r)).await;
    assert_eq!(lang_of(&done), "en", "the page follows the request");

    // The account is not confirmed, so the reset resends the link; it is Russian too.
    // (Resends are limited to one per three minutes: the reset comes second.)
    let admin = Admin::connect(&db).await;
    admin.person("anna@example.com", Role::Plain).await;
    let client = speaking("ru");
    sign_in(&app, &client, "anna@example.com").await;
    let r = app
        .submit(
            &english,
            "/users/password-reset",
            "/users/password-reset",
            &[("email", "anna@example.com")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let deadline = std::time::Instant::now() + WAIT;
    let to_anna = loop {
        let found = sink
            .messages()
            .into_iter()
            .find(|m| m.to.iter().any(|to| to.contains("anna@example.com")));
        if let Some(found) = found {
            break found;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the reset mail arrives"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let text = readable(&to_anna.raw);
    assert!(text.contains("Ваш новый пароль"), "{text}");
    assert!(text.contains("Он действует один час."), "{text}");
    assert!(!text.contains("Your new password"), "{text}");
    app.stop().await;
});

db_test!(the_list_page_counts_in_each_languages_plural_forms, |db| {
    let app = spawn_app(&db, &[]).await;
    let admin = Admin::connect(&db).await;
    admin.person("counter@example.com", Role::Plain).await;
    let category = admin.category("Всякое").await.to_string();
    let client = speaking("ru");
    sign_in(&app, &client, "counter@example.com").await;
    let mut made = 0;
    for (n, ru_word, en_word) in [
        (1, "товар", "product"),
        (2, "товара", "products"),
        (5, "товаров", "products"),
        (11, "товаров", "products"),
        (21, "товар", "products"),
        (22, "товара", "products"),
        (25, "товаров", "products"),
        (111, "товаров", "products"),
    ] {
        while made < n {
            made += 1;
            app.create_product(
                &client,
                &[
                    ("name", &format!("Товар {made}")),
                    ("price", "1"),
                    ("category", &category),
                ],
            )
            .await;
        }
        let (_, ru) = page_lang(&app, &client, "/products").await;
        assert!(
            ru.contains(&format!(">{n} {ru_word}, сначала новые.<")),
            "ru {n}"
        );
        switch(&app, &client, "/products", "en").await;
        let (_, en) = page_lang(&app, &client, "/products").await;
        assert!(
            en.contains(&format!(">{n} {en_word}, newest first.<")),
            "en {n}"
        );
        switch(&app, &client, "/products", "ru").await;
        if n == 111 {
            assert!(ru.contains("Страница 1 из 6"), "pagination in Russian");
        }
    }
    switch(&app, &client, "/products", "en").await;
    let (_, en) = page_lang(&app, &client, "/products").await;
    assert!(en.contains(">111 products, newest first.<"));
    assert!(en.contains("Page 1 of 6"));
    app.stop().await;
});
