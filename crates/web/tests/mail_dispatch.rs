//! The dispatcher inside `serve` empties the outbox into a real SMTP server, once per
//! message, and wipes secrets from delivered rows.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use catalog_domain::mail::{MailKind, MailSecret, OutgoingMail};
use catalog_domain::ports::OutboxRepository;
use catalog_domain::user::Email;
use catalog_storage::db_test;
use support::smtp::SmtpSink;
use support::spawn_app;

fn generated_password(to: &str) -> OutgoingMail {
    OutgoingMail {
        to: Email::parse(to).unwrap(),
        kind: MailKind::GeneratedPassword,
        recipient_name: "Ann".into(),
        link: None,
        secret: Some(MailSecret::new(format!("Gen3ratedPw-{to}"))),
        detail: None,
        language: None,
    }
}

db_test!(queued_mail_is_delivered_once_and_its_secrets_wiped, |db| {
    let sink = SmtpSink::start();
    for i in 0..5 {
        db.store
            .enqueue(
                generated_password(&format!("user{i}@example.com")),
                chrono::Utc::now(),
            )
            .await
            .unwrap();
    }
    let env = sink.env();
    let extra: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let app = spawn_app(&db, &extra).await;
    let received = sink.wait_for(5, Duration::from_secs(15)).await;
    assert_eq!(received.len(), 5, "every message arrived");
    // Give a duplicate the chance to appear before counting.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let received = sink.messages();
    assert_eq!(received.len(), 5, "and none twice");
    let mut to: Vec<String> = received.iter().map(|m| m.to[0].clone()).collect();
    to.sort();
    assert_eq!(
        to,
        (0..5)
            .map(|i| format!("user{i}@example.com"))
            .collect::<Vec<_>>()
    );
    assert!(
        received[0].raw.contains("Gen3ratedPw-"),
        "the password reached the user"
    );
    assert_eq!(db.store.pending_count().await.unwrap(), 0);
    let kept = db
        .count("SELECT COUNT(*) AS n FROM mail_outbox WHERE secret IS NOT NULL OR link IS NOT NULL")
        .await
        .unwrap();
    assert_eq!(kept, 0, "no delivered row keeps its secret");
    let sent = db
        .count("SELECT COUNT(*) AS n FROM mail_outbox WHERE sent_at IS NOT NULL")
        .await
        .unwrap();
    assert_eq!(sent, 5);
    app.stop().await;
});
