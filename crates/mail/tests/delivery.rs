//! Delivery through a real SMTP server listening on a loopback port, and to files.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use catalog_domain::Timestamp;
use catalog_domain::mail::{MailKind, MailSecret, OutboxId, OutboxMessage, OutgoingMail};
use catalog_domain::ports::Mailer;
use catalog_domain::user::Email;
use catalog_mail::{MailAdapter, MailConfig, SmtpConfig, SmtpSecurity, TransportKind};
use mailin_embedded::{Handler, Response, Server, response};

/// Recipients and raw bytes of each message received.
type Inbox = Arc<Mutex<Vec<(Vec<String>, Vec<u8>)>>>;

/// Collects every message the sink receives.
#[derive(Clone, Default)]
struct Sink {
    messages: Inbox,
    current: Vec<u8>,
    to: Vec<String>,
}

impl Handler for Sink {
    fn data_start(&mut self, _domain: &str, _from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.to = to.to_vec();
        self.current.clear();
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.current.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        self.messages.lock().unwrap().push((
            std::mem::take(&mut self.to),
            std::mem::take(&mut self.current),
        ));
        response::OK
    }
}

fn start_sink() -> (u16, Inbox) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let sink = Sink::default();
    let messages = sink.messages.clone();
    let mut server = Server::new(sink);
    server.with_name("sink.test").with_tcp_listener(listener);
    std::thread::spawn(move || {
        let _ = server.serve();
    });
    (port, messages)
}

fn message(kind: MailKind) -> OutboxMessage {
    OutboxMessage {
        id: OutboxId(1),
        mail: OutgoingMail {
            to: Email::parse("Ann@Example.com").unwrap(),
            kind,
            recipient_name: "Ann".into(),
            link: Some(MailSecret::new(
                "http://127.0.0.1:8000/users/verify/abc.def".into(),
            )),
            secret: None,
            detail: None,
            language: None,
        },
        attempts: 0,
        created_at: Timestamp::UNIX_EPOCH,
    }
}

fn smtp(port: u16) -> MailAdapter {
    MailAdapter::new(MailConfig {
        transport: TransportKind::Smtp(SmtpConfig {
            host: "127.0.0.1".into(),
            port,
            user: None,
            password: None,
            security: SmtpSecurity::None,
            timeout: Duration::from_secs(5),
        }),
        from: "Catalog <catalog@localhost>".into(),
        site_url: "http://127.0.0.1:8000".into(),
        default_language: catalog_i18n::Lang::english(),
    })
    .unwrap()
}

#[tokio::test]
async fn a_message_reaches_a_real_smtp_server_with_both_parts() {
    let (port, messages) = start_sink();
    smtp(port)
        .deliver(&message(MailKind::Verification))
        .await
        .unwrap();
    let received = messages.lock().unwrap().clone();
    assert_eq!(received.len(), 1);
    let (to, raw) = &received[0];
    assert_eq!(to, &vec!["Ann@example.com".to_owned()]);
    let raw = String::from_utf8_lossy(raw);
    assert!(raw.contains("Subject: Confirm your email address"), "{raw}");
    assert!(raw.contains("From: Catalog <catalog@localhost>"), "{raw}");
    assert!(raw.contains("multipart/alternative"), "{raw}");
    assert!(
        raw.contains("text/plain") && raw.contains("text/html"),
        "{raw}"
    );
    assert!(raw.contains("/users/verify/abc.def"), "{raw}");
}

fn message_id(raw: &[u8]) -> String {
    String::from_utf8_lossy(raw)
        .lines()
        .find_map(|l| l.strip_prefix("Message-ID: "))
        .expect("a Message-ID header")
        .trim()
        .to_owned()
}

#[tokio::test]
async fn a_retried_row_repeats_its_message_id_and_other_rows_do_not() {
    let (port, messages) = start_sink();
    let mailer = smtp(port);
    let first = message(MailKind::Verification);
    let mut second = message(MailKind::Verification);
    second.id = OutboxId(2);
    mailer.deliver(&first).await.unwrap();
    mailer.deliver(&first).await.unwrap();
    mailer.deliver(&second).await.unwrap();
    let received = messages.lock().unwrap().clone();
    let ids: Vec<String> = received.iter().map(|(_, raw)| message_id(raw)).collect();
    assert_eq!(ids.len(), 3);
    assert_eq!(ids[0], ids[1], "the same row is the same message");
    assert_ne!(ids[0], ids[2]);
    assert!(
        ids[0].starts_with("<outbox.1.") && ids[0].ends_with("@127.0.0.1>"),
        "{}",
        ids[0]
    );
}

#[tokio::test]
async fn an_unreachable_server_is_an_error_within_the_timeout() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let started = std::time::Instant::now();
    let result = smtp(port).deliver(&message(MailKind::Verification)).await;
    assert!(result.is_err());
    assert!(started.elapsed() < Duration::from_secs(6));
}

#[tokio::test]
async fn the_file_backend_writes_one_eml_per_message() {
    let dir = tempfile::tempdir().unwrap();
    let adapter = MailAdapter::new(MailConfig {
        transport: TransportKind::File(dir.path().join("outbox")),
        from: "catalog@localhost".into(),
        site_url: "http://127.0.0.1:8000".into(),
        default_language: catalog_i18n::Lang::english(),
    })
    .unwrap();
    adapter
        .deliver(&message(MailKind::Verification))
        .await
        .unwrap();
    adapter
        .deliver(&message(MailKind::PasswordChanged))
        .await
        .unwrap();
    let files: Vec<_> = std::fs::read_dir(dir.path().join("outbox"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    assert_eq!(files.len(), 2);
    let all: String = files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect();
    assert!(all.contains("Subject: Your password was changed"));
}

#[test]
fn a_bad_sender_is_refused_at_start() {
    let err = MailAdapter::new(MailConfig {
        transport: TransportKind::Console,
        from: "not a mailbox".into(),
        site_url: "http://x".into(),
        default_language: catalog_i18n::Lang::english(),
    })
    .unwrap_err();
    assert!(err.to_string().starts_with("DEFAULT_FROM_EMAIL"));
}
