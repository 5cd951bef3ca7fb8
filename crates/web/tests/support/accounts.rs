//! Account steps shared by the HTTP tests.

use std::time::Duration;

use catalog_storage::testing::TestDatabase;

use super::smtp::SmtpSink;
use super::{TestApp, browser, csrf_of, link_path, location, spawn_app};

pub const PASSWORD: &str = "velvet thunder 42";
pub const WAIT: Duration = Duration::from_secs(15);

/// The app delivering mail to a fresh SMTP sink, with `extra` settings.
pub async fn app_with_mail(db: &TestDatabase, extra: &[(&str, &str)]) -> (TestApp, SmtpSink) {
    let sink = SmtpSink::start();
    let env = sink.env();
    let mut all: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    all.extend_from_slice(extra);
    (spawn_app(db, &all).await, sink)
}

/// Submits the registration form with [`PASSWORD`].
pub async fn register(app: &TestApp, client: &reqwest::Client, email: &str) -> reqwest::Response {
    app.submit(
        client,
        "/users/register",
        "/users/register",
        &[
            ("email", email),
            ("password1", PASSWORD),
            ("password2", PASSWORD),
        ],
    )
    .await
}

/// Registers and confirms an account through the mailed link; returns a client signed
/// in as it. Any earlier mail must have arrived before this is called.
pub async fn verified_user(app: &TestApp, sink: &SmtpSink, email: &str) -> reqwest::Client {
    let client = browser();
    let before = sink.messages().len();
    assert_eq!(register(app, &client, email).await.status(), 303);
    let mail = sink.wait_for(before + 1, WAIT).await;
    let path = link_path(&mail[before].raw, "/users/verify/");
    let (_, page) = app.page(&client, &path).await;
    let token = csrf_of(&page);
    let r = client
        .post(app.url(&path))
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&r), "/products");
    client
}

/// Moves an account's creation and its latest link `days` into the past.
pub async fn age_account(db: &TestDatabase, email: &str, days: i64) {
    let sql = match db.backend {
        catalog_storage::Backend::Postgres => format!(
            "UPDATE users SET date_joined = date_joined - interval '{days} days', \
             verification_sent_at = verification_sent_at - interval '{days} days' \
             WHERE email_key = '{email}'"
        ),
        catalog_storage::Backend::Sqlite => format!(
            "UPDATE users SET date_joined = datetime(date_joined, '-{days} days'), \
             verification_sent_at = datetime(verification_sent_at, '-{days} days') \
             WHERE email_key = '{email}'"
        ),
    };
    db.store.execute_unprepared(&sql).await.unwrap();
}
