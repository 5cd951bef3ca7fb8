//! Health, readiness and the headers every response carries, on each database.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use catalog_storage::db_test;
use catalog_storage::testing::TestDatabase;
use support::proxy::Relay;
use support::{spawn_app, spawn_app_at};

db_test!(
    health_and_readiness_answer_200_on_a_migrated_database,
    |db| {
        let app = spawn_app(&db, &[]).await;
        let health = app.get("/healthz").await;
        assert_eq!(health.status(), 200);
        assert_eq!(health.text().await.unwrap(), "ok");
        assert_eq!(app.get("/readyz").await.status(), 200);
        app.stop().await;
    }
);

db_test!(every_response_carries_the_security_headers, |db| {
    let app = spawn_app(&db, &[]).await;
    for path in ["/healthz", "/readyz", "/no-such-page"] {
        let response = app.get(path).await;
        let h = response.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{path}: {csp}"
        );
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert!(h.contains_key("referrer-policy"), "{path}");
        assert!(h.contains_key("x-request-id"), "{path}");
        assert_eq!(
            h["cache-control"], "no-store",
            "{path}: nothing dynamic is cached"
        );
    }
    // What is the same for everyone keeps its own caching.
    let css = app.get("/static/site.css").await;
    assert_eq!(css.status(), 200);
    assert_eq!(css.headers()["cache-control"], "public, max-age=3600");
    assert_eq!(app.get("/no-such-page").await.status(), 404);
    app.stop().await;
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_follows_the_database_without_a_restart() {
    let Some(db) = TestDatabase::postgres().await.unwrap() else {
        eprintln!("skipped: TEST_DATABASE_URL is not set");
        return;
    };
    let mut url = url::Url::parse(&db.url).unwrap();
    let host = url.host_str().unwrap().to_owned();
    let target = tokio::net::lookup_host((host.as_str(), url.port().unwrap_or(5432)))
        .await
        .unwrap()
        .next()
        .unwrap();
    let mut relay = Relay::start(target).await;
    url.set_host(Some("127.0.0.1")).unwrap();
    url.set_port(Some(relay.port)).unwrap();
    let app = spawn_app_at(url.as_str(), &[]).await;
    assert_eq!(app.get("/readyz").await.status(), 200);

    relay.cut();
    let started = std::time::Instant::now();
    let down = app.get("/readyz").await;
    assert_eq!(down.status(), 503);
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "fails fast: {:?}",
        started.elapsed()
    );
    assert_eq!(
        app.get("/healthz").await.status(),
        200,
        "the process itself is alive"
    );

    relay.restore().await;
    let mut ready = false;
    for _ in 0..50 {
        if app.get("/readyz").await.status() == 200 {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ready, "readyz recovers once the database is back");
    app.stop().await;
    db.drop_database().await.unwrap();
}

db_test!(the_session_cookie_is_locked_down, |db| {
    for (public_url, prefix, secure) in [
        ("http://127.0.0.1:8000", "", false),
        ("https://catalog.example", "__Host-", true),
    ] {
        let app = spawn_app(&db, &[("CATALOG_PUBLIC_URL", public_url)]).await;
        // The sign-in page's form sets the anonymous CSRF cookie, not a session.
        let r = app.get("/users/login").await;
        let csrf = r.headers()["set-cookie"].to_str().unwrap().to_owned();
        assert_eq!(r.headers().get_all("set-cookie").iter().count(), 1);
        let token = support::csrf_of(&r.text().await.unwrap());
        // A flash message stores a session: its cookie is locked down the same way.
        let pair = csrf.split(';').next().unwrap().to_owned();
        let r = app
            .client
            .post(app.url("/users/verify/resend"))
            .header("cookie", pair)
            .form(&[("email", "x@example.com"), ("csrf_token", token.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let session = r.headers()["set-cookie"].to_str().unwrap().to_owned();
        for (cookie, name) in [(csrf, "catalog_csrf="), (session, "catalog_session=")] {
            assert!(cookie.starts_with(&format!("{prefix}{name}")), "{cookie}");
            for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
                assert!(cookie.contains(attribute), "{attribute} in {cookie}");
            }
            assert_eq!(cookie.contains("Secure"), secure, "{cookie}");
            assert!(!cookie.contains("Domain="), "host-only: {cookie}");
        }
        app.stop().await;
    }
});
