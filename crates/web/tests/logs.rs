//! The server's own log output, captured from the real binary at debug level while
//! secrets pass through it, contains none of them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{browser, csrf_of, decode_qp, location};

const PASSWORD: &str = "velvet thunder 42";

fn read_mail(dir: &std::path::Path, count: usize) -> Vec<String> {
    let started = Instant::now();
    loop {
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        files.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
        let mails: Vec<String> = files
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .map(|p| decode_qp(&std::fs::read_to_string(p).unwrap()))
            .collect();
        if mails.len() >= count || started.elapsed() > Duration::from_secs(20) {
            return mails;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_log_line_carries_a_password_token_or_cookie() {
    let dir = tempfile::tempdir().unwrap();
    let mail_dir = dir.path().join("mail");
    let log_path = dir.path().join("server.log");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_catalog"))
        .current_dir(dir.path())
        .env("CATALOG_BIND", format!("127.0.0.1:{port}"))
        .env("EMAIL_BACKEND", "file")
        .env("EMAIL_FILE_PATH", &mail_dir)
        .env("RUST_LOG", "debug")
        .env_remove("DATABASE_URL")
        .env_remove("CATALOG_ENV")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = browser();
    let started = Instant::now();
    while client.get(format!("{base}/healthz")).send().await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "server did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut secrets: Vec<String> = vec![PASSWORD.to_owned()];

    // Register and confirm.
    let page = client
        .get(format!("{base}/users/register"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_of(&page);
    secrets.push(csrf.clone());
    let r = client
        .post(format!("{base}/users/register"))
        .form(&[
            ("email", "log@example.com"),
            ("password1", PASSWORD),
            ("password2", PASSWORD),
            ("csrf_token", &csrf),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&r), "/users/register/done");
    let mails = read_mail(&mail_dir, 1);
    let path = support::link_path(&mails[0], "/users/verify/");
    secrets.push(path.trim_start_matches("/users/verify/").to_owned());
    let page = client
        .get(format!("{base}{path}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r = client
        .post(format!("{base}{path}"))
        .form(&[("csrf_token", csrf_of(&page))])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&r), "/products");
    if let Some(cookie) = r.headers().get("set-cookie") {
        let value = cookie
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .split('=')
            .nth(1)
            .unwrap()
            .to_owned();
        secrets.push(value);
    }

    // A reset and the generated password.
    let page = client
        .get(format!("{base}/users/password-reset"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    client
        .post(format!("{base}/users/password-reset"))
        .form(&[
            ("email", "log@example.com"),
            ("csrf_token", &csrf_of(&page)),
        ])
        .send()
        .await
        .unwrap();
    let mails = read_mail(&mail_dir, 2);
    let generated = support::generated_password(&mails.concat());
    secrets.push(generated.clone());
    let other = browser();
    let page = other
        .get(format!("{base}/users/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r = other
        .post(format!("{base}/users/login"))
        .form(&[
            ("email", "log@example.com"),
            ("password", generated.as_str()),
            ("next", ""),
            ("csrf_token", &csrf_of(&page)),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&r), "/users/password-change");

    // An API token, presented in a header.
    let r = reqwest::Client::new()
        .post(format!("{base}/api/v1/auth/token"))
        .json(&json!({"email": "log@example.com", "password": generated}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let token = r.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    secrets.push(token.clone());
    let me = reqwest::Client::new()
        .get(format!("{base}/api/v1/users/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);

    assert!(
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    let _ = child.wait();
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        log.contains("request"),
        "the log was captured: {} bytes",
        log.len()
    );
    assert!(log.lines().count() > 20);
    assert!(
        log.contains("/users/verify/<token>"),
        "token paths are logged, redacted"
    );
    for secret in &secrets {
        assert!(secret.len() >= 8, "{secret:?} is too short to search for");
        assert!(
            !log.contains(secret.as_str()),
            "a secret leaked into the log"
        );
    }
    for header in ["authorization:", "cookie:", "Bearer "] {
        assert!(
            !log.to_lowercase().contains(&header.to_lowercase()),
            "{header} in the log"
        );
    }
}
