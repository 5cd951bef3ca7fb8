//! Attacks on people's accounts that once got through (the hardening review), each
//! reproduced end to end on each database: the test fails where the hole is open.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use catalog_storage::db_test;
use serde_json::{Value, json};
use support::accounts::{PASSWORD, app_with_mail, verified_user};
use support::{TestApp, spawn_app};

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
