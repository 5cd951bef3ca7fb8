//! Every error a person can meet is a page in the site's layout with a way back, never
//! bare text or a stack trace.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use catalog_storage::testing::TestDatabase;
use support::{browser, spawn_app};

fn assert_error_page(status: u16, expected: u16, html: &str, what: &str) {
    assert_eq!(status, expected, "{what}");
    assert!(
        html.contains("<header class=\"site\">"),
        "{what}: in the layout"
    );
    assert!(html.contains("href=\"/\""), "{what}: a way back");
    assert!(!html.to_lowercase().contains("panicked"), "{what}");
}

#[tokio::test]
async fn errors_below_the_handlers_are_pages_in_the_layout() {
    let db = TestDatabase::sqlite().await.unwrap();
    let app = spawn_app(&db, &[]).await;
    let client = browser();

    let r = client.delete(app.url("/users/login")).send().await.unwrap();
    let allow = r.headers().get("allow").cloned();
    let status = r.status().as_u16();
    assert_error_page(status, 405, &r.text().await.unwrap(), "wrong method");
    assert!(allow.is_some(), "405 keeps its Allow header");

    let r = client
        .post(app.url("/users/login"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    assert_error_page(status, 415, &r.text().await.unwrap(), "not a form");

    let big = "x".repeat(100 * 1024);
    let r = browser()
        .post(app.url("/users/login"))
        .form(&[("email", big.as_str())])
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    assert_error_page(status, 413, &r.text().await.unwrap(), "over 64 KiB");

    let (status, html) = app.page(&client, "/no/such/page").await;
    assert_error_page(status, 404, &html, "unknown page");

    // The API keeps answering in problem documents.
    let r = client
        .delete(app.url("/api/v1/users/me/password"))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error());
    assert_ne!(
        r.headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default(),
        "text/html; charset=utf-8"
    );
    app.stop().await;
}
