//! The account API end to end, on each database, with a real SMTP server.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use catalog_storage::db_test;
use serde_json::{Value, json};
use support::accounts::{PASSWORD, WAIT, app_with_mail};
use support::smtp::SmtpSink;
use support::{TestApp, link_path, spawn_app};

async fn post(
    app: &TestApp,
    path: &str,
    body: Value,
    token: Option<&str>,
) -> (u16, Value, reqwest::header::HeaderMap) {
    let mut request = app.client.post(app.url(path)).json(&body);
    if let Some(t) = token {
        request = request.bearer_auth(t);
    }
    let r = request.send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let body = r.json::<Value>().await.unwrap_or(Value::Null);
    (status, body, headers)
}

async fn get(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
) -> (u16, Value, reqwest::header::HeaderMap) {
    let mut request = app.client.get(app.url(path));
    if let Some(t) = token {
        request = request.bearer_auth(t);
    }
    let r = request.send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (
        status,
        r.json::<Value>().await.unwrap_or(Value::Null),
        headers,
    )
}

/// Registers and verifies through the API; returns a bearer token.
async fn api_user(app: &TestApp, sink: &SmtpSink, email: &str) -> String {
    let before = sink.messages().len();
    let (status, _, _) = post(
        app,
        "/api/v1/auth/register",
        json!({"email": email, "password": PASSWORD}),
        None,
    )
    .await;
    assert_eq!(status, 202);
    let mail = sink.wait_for(before + 1, WAIT).await;
    let path = link_path(&mail[before].raw, "/users/verify/");
    let token = path.trim_start_matches("/users/verify/");
    let (status, body, _) = post(app, "/api/v1/auth/verify", json!({"token": token}), None).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("verified")));
    let (status, body, _) = post(app, "/api/v1/auth/verify", json!({"token": token}), None).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("already_verified"))
    );
    let (status, body, _) = post(
        app,
        "/api/v1/auth/token",
        json!({"email": email, "password": PASSWORD}),
        None,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["password_change_required"], false);
    body["token"].as_str().unwrap().to_owned()
}

db_test!(
    the_api_registers_verifies_and_issues_revocable_tokens,
    |db| {
        let (app, sink) = app_with_mail(&db, &[]).await;
        let token = api_user(&app, &sink, "api@example.com").await;
        let (status, me, _) = get(&app, "/api/v1/users/me", Some(&token)).await;
        assert_eq!(status, 200);
        assert_eq!(me["email"], "api@example.com");
        assert_eq!(me["is_verified"], true);
        assert_eq!(me["groups"], json!([]));
        for key in [
            "id",
            "first_name",
            "last_name",
            "phone",
            "country",
            "avatar_url",
            "is_superuser",
            "password_change_required",
            "permissions",
        ] {
            assert!(me.get(key).is_some(), "{key}");
        }
        let r = app
            .client
            .delete(app.url("/api/v1/auth/token"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
        let (status, problem, headers) = get(&app, "/api/v1/users/me", Some(&token)).await;
        assert_eq!(status, 401, "revoked");
        assert_eq!(headers["www-authenticate"], "Bearer");
        assert_eq!(headers["content-type"], "application/problem+json");
        assert_eq!(problem["status"], 401);
        let (status, _, headers) = get(&app, "/api/v1/users/me", None).await;
        assert_eq!(
            (status, headers["www-authenticate"].to_str().unwrap()),
            (401, "Bearer")
        );
        let stored = db
            .count("SELECT COUNT(*) AS n FROM api_tokens")
            .await
            .unwrap();
        assert_eq!(stored, 0);
        app.stop().await;
    }
);

db_test!(
    the_api_answers_bad_input_with_problems_naming_the_field,
    |db| {
        let (app, sink) = app_with_mail(&db, &[]).await;
        let (status, p, headers) = post(
            &app,
            "/api/v1/auth/register",
            json!({"email": "nope", "password": "123"}),
            None,
        )
        .await;
        assert_eq!(status, 422);
        assert_eq!(headers["content-type"], "application/problem+json");
        assert!(
            p["errors"]["email"].is_array() && p["errors"]["password"].is_array(),
            "{p}"
        );
        let (status, p, _) = post(
            &app,
            "/api/v1/auth/register",
            json!({"email": 5, "password": PASSWORD}),
            None,
        )
        .await;
        assert_eq!(
            (status, p["errors"]["email"][0].as_str()),
            (422, Some("Expected a string."))
        );
        let r = app
            .client
            .post(app.url("/api/v1/auth/register"))
            .header("content-type", "application/json")
            .body("{not json")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        let (status, _, _) = post(
            &app,
            "/api/v1/auth/verify",
            json!({"token": "forged.token"}),
            None,
        )
        .await;
        assert_eq!(status, 400);
        assert_eq!(
            db.count("SELECT COUNT(*) AS n FROM users").await.unwrap(),
            0,
            "nothing stored"
        );

        let token = api_user(&app, &sink, "pat@example.com").await;
        let r = app.client.patch(app.url("/api/v1/users/me")).bearer_auth(&token)
        .json(&json!({"phone": "+7 912 345-67-89", "first_name": "Pat", "id": 999, "email": "evil@example.com"})).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let me: Value = r.json().await.unwrap();
        assert_eq!(
            (
                me["phone"].as_str(),
                me["first_name"].as_str(),
                me["email"].as_str()
            ),
            (Some("+79123456789"), Some("Pat"), Some("pat@example.com")),
            "read-only keys ignored"
        );
        let r = app
            .client
            .patch(app.url("/api/v1/users/me"))
            .bearer_auth(&token)
            .json(&json!({"country": "ZZ"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422);
        let p: Value = r.json().await.unwrap();
        assert!(p["errors"]["country"].is_array());
        let (_, me, _) = get(&app, "/api/v1/users/me", Some(&token)).await;
        assert_eq!(me["country"], Value::Null, "nothing saved");

        let (status, _, _) = post(
            &app,
            "/api/v1/auth/token",
            json!({"email": "pat@example.com", "password": "wrong"}),
            None,
        )
        .await;
        assert_eq!(status, 401);
        let (status, _, _) = post(
            &app,
            "/api/v1/auth/register",
            json!({"email": "unv@example.com", "password": PASSWORD}),
            None,
        )
        .await;
        assert_eq!(status, 202);
        let (status, _, _) = post(
            &app,
            "/api/v1/auth/token",
            json!({"email": "unv@example.com", "password": PASSWORD}),
            None,
        )
        .await;
        assert_eq!(status, 403, "unverified");
        app.stop().await;
    }
);

db_test!(the_api_changes_passwords_and_avatars, |db| {
    let (app, sink) = app_with_mail(&db, &[]).await;
    let token = api_user(&app, &sink, "ava@example.com").await;
    let mut png = Vec::new();
    image::RgbImage::from_pixel(8, 8, image::Rgb([1, 2, 3]))
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let put = |body: Vec<u8>, ct: &'static str| {
        app.client
            .put(app.url("/api/v1/users/me/avatar"))
            .bearer_auth(&token)
            .header("content-type", ct)
            .body(body)
            .send()
    };
    let r = put(png, "image/png").await.unwrap();
    assert_eq!(r.status(), 200);
    let me: Value = r.json().await.unwrap();
    let url = me["avatar_url"].as_str().unwrap().to_owned();
    assert!(
        url.starts_with("http://127.0.0.1:8000/media/avatars/"),
        "{url}"
    );
    let served = app
        .client
        .get(app.url(url.trim_start_matches("http://127.0.0.1:8000")))
        .send()
        .await
        .unwrap();
    assert_eq!(served.headers()["content-type"], "image/png");
    assert_eq!(
        put(b"hello".to_vec(), "text/plain").await.unwrap().status(),
        415
    );
    assert_eq!(
        put(b"not a png".to_vec(), "image/png")
            .await
            .unwrap()
            .status(),
        422
    );
    // The server answers 413 before reading the body and drops the connection, so the
    // oversized upload gets a client of its own instead of poisoning the shared pool.
    let oversized = reqwest::Client::new()
        .put(app.url("/api/v1/users/me/avatar"))
        .bearer_auth(&token)
        .header("content-type", "image/png")
        .body(vec![0; 6 * 1024 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(oversized.status(), 413);

    let (status, p, _) = post(
        &app,
        "/api/v1/users/me/password",
        json!({"old_password": "wrong", "new_password": "another passphrase 9"}),
        Some(&token),
    )
    .await;
    assert_eq!(status, 422);
    assert!(p["errors"]["old_password"].is_array());
    // A new password the policy refuses is named as the API calls it.
    let (status, p, _) = post(
        &app,
        "/api/v1/users/me/password",
        json!({"old_password": PASSWORD, "new_password": "12345678901"}),
        Some(&token),
    )
    .await;
    assert_eq!(status, 422);
    assert!(p["errors"]["new_password"].is_array(), "{p}");
    assert_eq!(get(&app, "/api/v1/users/me", Some(&token)).await.0, 200);
    let (status, _, _) = post(
        &app,
        "/api/v1/users/me/password",
        json!({"old_password": PASSWORD, "new_password": "another passphrase 9"}),
        Some(&token),
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(
        get(&app, "/api/v1/users/me", Some(&token)).await.0,
        401,
        "tokens are revoked by a password change"
    );
    let (status, _, _) = post(
        &app,
        "/api/v1/auth/token",
        json!({"email": "ava@example.com", "password": "another passphrase 9"}),
        None,
    )
    .await;
    assert_eq!(status, 201);
    let (status, _, _) = post(
        &app,
        "/api/v1/auth/password-reset",
        json!({"email": "ghost@example.com"}),
        None,
    )
    .await;
    assert_eq!(status, 202);
    app.stop().await;
});

db_test!(a_generated_password_opens_only_the_password_change, |db| {
    let (app, sink) = app_with_mail(&db, &[]).await;
    let first = api_user(&app, &sink, "gen@example.com").await;
    let before = sink.messages().len();
    let (status, _, _) = post(
        &app,
        "/api/v1/auth/password-reset",
        json!({"email": "gen@example.com"}),
        None,
    )
    .await;
    assert_eq!(status, 202);
    let mail = sink.wait_for(before + 1, WAIT).await;
    let generated = support::generated_password(&mail[before].raw);
    let (status, body, _) = post(
        &app,
        "/api/v1/auth/token",
        json!({"email": "gen@example.com", "password": generated}),
        None,
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(body["password_change_required"], true);
    let token = body["token"].as_str().unwrap().to_owned();
    assert_eq!(
        get(&app, "/api/v1/users/me", Some(&first)).await.0,
        401,
        "signing in with the generated password ended the other tokens"
    );
    // Nothing but the password change (and reading oneself, and signing out) until then.
    let (status, problem, _) = get(&app, "/api/v1/products", Some(&token)).await;
    assert_eq!(status, 403);
    assert_eq!(problem["title"], "Password change required");
    let (status, _, _) = post(
        &app,
        "/api/v1/products",
        json!({"name": "x", "price": "1.00", "category_id": 1}),
        Some(&token),
    )
    .await;
    assert_eq!(status, 403);
    let (status, me, _) = get(&app, "/api/v1/users/me", Some(&token)).await;
    assert_eq!(
        (status, me["password_change_required"].as_bool()),
        (200, Some(true))
    );
    let (status, _, _) = post(
        &app,
        "/api/v1/users/me/password",
        json!({"old_password": generated, "new_password": "chosen passphrase 5"}),
        Some(&token),
    )
    .await;
    assert_eq!(status, 204);
    let (status, body, _) = post(
        &app,
        "/api/v1/auth/token",
        json!({"email": "gen@example.com", "password": "chosen passphrase 5"}),
        None,
    )
    .await;
    assert_eq!(
        (status, body["password_change_required"].as_bool()),
        (201, Some(false))
    );
    let token = body["token"].as_str().unwrap();
    assert_eq!(get(&app, "/api/v1/products", Some(token)).await.0, 200);
    app.stop().await;
});

#[tokio::test]
async fn the_openapi_document_describes_the_api() {
    let db = catalog_storage::testing::TestDatabase::sqlite()
        .await
        .unwrap();
    let app = spawn_app(&db, &[]).await;
    let (status, doc, _) = get(&app, "/api/openapi.json", None).await;
    assert_eq!(status, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/api/v1/auth/register",
        "/api/v1/auth/verify",
        "/api/v1/auth/token",
        "/api/v1/auth/password-reset",
        "/api/v1/users/me",
        "/api/v1/users/me/password",
        "/api/v1/users/me/avatar",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path}");
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    // Every rate-limited operation says it may answer 429.
    for path in [
        "/api/v1/auth/register",
        "/api/v1/auth/token",
        "/api/v1/auth/password-reset",
        "/api/v1/users/me/password",
    ] {
        assert!(
            doc["paths"][path]["post"]["responses"].get("429").is_some(),
            "{path} documents 429"
        );
    }
    // Each request body is documented by the type that parses it.
    let schemas = &doc["components"]["schemas"];
    for (path, schema, required) in [
        (
            "/api/v1/auth/register",
            "Credentials",
            &["email", "password"][..],
        ),
        (
            "/api/v1/auth/token",
            "Credentials",
            &["email", "password"][..],
        ),
        ("/api/v1/auth/verify", "VerifyBody", &["token"][..]),
        ("/api/v1/auth/password-reset", "ResetBody", &["email"][..]),
        (
            "/api/v1/users/me/password",
            "PasswordChangeBody",
            &["old_password", "new_password"][..],
        ),
    ] {
        let body = &doc["paths"][path]["post"]["requestBody"]["content"]["application/json"];
        assert_eq!(
            body["schema"]["$ref"],
            format!("#/components/schemas/{schema}"),
            "{path}"
        );
        let mut listed: Vec<&str> = schemas[schema]["required"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        listed.sort_unstable();
        let mut expected = required.to_vec();
        expected.sort_unstable();
        assert_eq!(listed, expected, "{schema}");
        assert_eq!(
            schemas[schema]["properties"].as_object().unwrap().len(),
            required.len(),
            "{schema}"
        );
    }
    let profile = schemas["ProfileBody"]["properties"].as_object().unwrap();
    let mut keys: Vec<&str> = profile.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["country", "first_name", "last_name", "phone"]);
    let (status, _, headers) = get(&app, "/api/v1/nothing-here", None).await;
    assert_eq!(
        (status, headers["content-type"].to_str().unwrap()),
        (404, "application/problem+json")
    );
    app.stop().await;
}
