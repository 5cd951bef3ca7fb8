//! The `catalog` binary as an operator runs it, against each database.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use catalog_storage::db_test;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn catalog(database_url: &str, args: &[&str], stdin: Option<&str>) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_catalog"))
        .args(args)
        .current_dir(dir.path())
        .env("DATABASE_URL", database_url)
        .env_remove("RUST_LOG")
        .env_remove("CATALOG_ENV")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    let Output {
        status,
        stdout,
        stderr,
    } = child.wait_with_output().unwrap();
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8(stdout).unwrap(),
        stderr: String::from_utf8(stderr).unwrap(),
    }
}

/// A failed command says why on exactly one line of stderr.
fn assert_fails(run: &Run, needle: &str) {
    assert_ne!(run.code, 0, "should fail: {}", run.stdout);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line: {:?}", run.stderr);
    assert!(
        lines[0].starts_with("error: ") && lines[0].contains(needle),
        "{:?}",
        lines[0]
    );
}

fn ok(run: Run) -> String {
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    run.stdout
}

db_test!(
    createsuperuser_makes_an_active_verified_superuser_once,
    |db| {
        let out = ok(catalog(
            &db.url,
            &[
                "createsuperuser",
                "--email",
                "Root@Example.com",
                "--password-stdin",
            ],
            Some("a sturdy passphrase\n"),
        ));
        assert!(out.contains("created superuser Root@example.com"), "{out}");
        let users = ok(catalog(&db.url, &["users", "list"], None));
        assert!(
            users.contains("Root@example.com\tactive,verified,superuser"),
            "{users}"
        );
        let dup = catalog(
            &db.url,
            &[
                "createsuperuser",
                "--email",
                "root@example.COM",
                "--password-stdin",
            ],
            Some("another passphrase 9\n"),
        );
        assert_fails(&dup, "already exists");
        let weak = catalog(
            &db.url,
            &[
                "createsuperuser",
                "--email",
                "weak@example.com",
                "--password-stdin",
            ],
            Some("password\n"),
        );
        assert_fails(&weak, "too common");
        let bad = catalog(
            &db.url,
            &[
                "createsuperuser",
                "--email",
                "not-an-email",
                "--password-stdin",
            ],
            Some("a sturdy passphrase\n"),
        );
        assert_fails(&bad, "invalid email");
        assert_eq!(
            ok(catalog(&db.url, &["users", "list"], None))
                .lines()
                .count(),
            1,
            "nothing else was created"
        );
    }
);

db_test!(group_membership_is_managed_by_email_in_any_case, |db| {
    ok(catalog(
        &db.url,
        &[
            "createsuperuser",
            "--email",
            "mod@example.com",
            "--password-stdin",
        ],
        Some("a sturdy passphrase\n"),
    ));
    let listed = ok(catalog(&db.url, &["groups", "list"], None));
    assert!(listed.starts_with("moderators\t0 member(s)\t"), "{listed}");
    for codename in [
        "catalog.unpublish_product",
        "catalog.change_product_description",
        "catalog.change_product_category",
    ] {
        assert!(listed.contains(codename), "{listed}");
    }
    let added = ok(catalog(
        &db.url,
        &["groups", "add-member", "moderators", "MOD@example.com"],
        None,
    ));
    assert!(added.contains("added to moderators"), "{added}");
    let again = ok(catalog(
        &db.url,
        &["groups", "add-member", "moderators", "mod@example.com"],
        None,
    ));
    assert!(again.contains("was already in"), "{again}");
    assert!(ok(catalog(&db.url, &["groups", "list"], None)).starts_with("moderators\t1 member(s)"));
    assert_fails(
        &catalog(
            &db.url,
            &["groups", "add-member", "admins", "mod@example.com"],
            None,
        ),
        "no group named \"admins\"",
    );
    assert_fails(
        &catalog(
            &db.url,
            &["groups", "add-member", "moderators", "ghost@example.com"],
            None,
        ),
        "no user with email ghost@example.com",
    );
    let removed = ok(catalog(
        &db.url,
        &["groups", "remove-member", "moderators", "mod@example.com"],
        None,
    ));
    assert!(removed.contains("removed from moderators"), "{removed}");
    assert!(ok(catalog(&db.url, &["groups", "list"], None)).starts_with("moderators\t0 member(s)"));
});

db_test!(users_are_deactivated_and_activated, |db| {
    ok(catalog(
        &db.url,
        &[
            "createsuperuser",
            "--email",
            "ann@example.com",
            "--password-stdin",
        ],
        Some("a sturdy passphrase\n"),
    ));
    ok(catalog(
        &db.url,
        &["users", "deactivate", "ANN@example.com"],
        None,
    ));
    assert!(ok(catalog(&db.url, &["users", "list"], None)).contains("\tinactive,"));
    ok(catalog(
        &db.url,
        &["users", "activate", "ann@example.com"],
        None,
    ));
    assert!(ok(catalog(&db.url, &["users", "list"], None)).contains("\tactive,"));
    assert_fails(
        &catalog(
            &db.url,
            &["users", "deactivate", "nobody@example.com"],
            None,
        ),
        "no user with email",
    );
});

db_test!(
    categories_are_added_listed_and_removed_only_when_empty,
    |db| {
        ok(catalog(
            &db.url,
            &["categories", "add", "Lamps", "--description", "Light"],
            None,
        ));
        assert_fails(
            &catalog(&db.url, &["categories", "add", "Lamps"], None),
            "already exists",
        );
        assert_fails(
            &catalog(&db.url, &["categories", "add", &"x".repeat(101)], None),
            "at most 100",
        );
        assert!(ok(catalog(&db.url, &["categories", "list"], None)).contains("Lamps\tLight"));
        let demo = ok(catalog(
            &db.url,
            &["demo-data", "--users", "3", "--products", "2500"],
            None,
        ));
        assert!(
            demo.contains("created 3 user(s) and 2500 product(s)"),
            "{demo}"
        );
        if db.url.starts_with("postgres") {
            // The bulk load leaves PostgreSQL's statistics fresh (an explicit ANALYZE,
            // which autovacuum's own would record as last_autoanalyze instead).
            let analyzed = db
                .count(
                    "SELECT COUNT(*) AS n FROM pg_stat_user_tables \
                     WHERE relname = 'products' AND last_analyze IS NOT NULL",
                )
                .await
                .unwrap();
            assert_eq!(analyzed, 1, "demo-data analyzed the products table");
        }
        let busy = catalog(&db.url, &["categories", "remove", "Books"], None);
        assert_fails(&busy, "still has");
        ok(catalog(&db.url, &["categories", "remove", "Lamps"], None));
        assert!(!ok(catalog(&db.url, &["categories", "list"], None)).contains("Lamps"));
        assert_fails(
            &catalog(&db.url, &["categories", "remove", "Lamps"], None),
            "no category named",
        );
    }
);

db_test!(migrations_are_managed_from_the_command_line, |db| {
    let status = ok(catalog(&db.url, &["migrate", "status"], None));
    let migrations = status.lines().count();
    assert!(migrations >= 7, "{status}");
    assert_eq!(
        status.lines().filter(|l| l.starts_with("applied")).count(),
        migrations,
        "{status}"
    );
    ok(catalog(&db.url, &["migrate", "down", "--steps", "2"], None));
    let status = ok(catalog(&db.url, &["migrate", "status"], None));
    assert_eq!(
        status.lines().filter(|l| l.starts_with("pending")).count(),
        2,
        "{status}"
    );
    assert!(ok(catalog(&db.url, &["migrate"], None)).contains("applied 2 migration(s)"));
    ok(catalog(&db.url, &["categories", "add", "Gone"], None));
    ok(catalog(&db.url, &["migrate", "fresh"], None));
    assert!(
        ok(catalog(&db.url, &["categories", "list"], None)).is_empty(),
        "fresh empties the database"
    );
    assert!(
        ok(catalog(&db.url, &["groups", "list"], None)).starts_with("moderators"),
        "and seeds it again"
    );
});

#[test]
fn a_bad_database_url_is_reported_on_one_line() {
    assert_fails(
        &catalog("mysql://localhost/catalog", &["users", "list"], None),
        "DATABASE_URL",
    );
    let unreachable = catalog(
        "postgres://nobody:hunter2@127.0.0.1:1/catalog",
        &["users", "list"],
        None,
    );
    assert_fails(&unreachable, "cannot connect to the database");
    assert!(
        !unreachable.stderr.contains("hunter2"),
        "no password in the message"
    );
}

#[test]
fn production_without_a_secret_key_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_catalog"))
        .arg("serve")
        .current_dir(dir.path())
        .env("CATALOG_ENV", "production")
        .env_remove("CATALOG_SECRET_KEY")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.starts_with("error: CATALOG_SECRET_KEY"), "{stderr}");
}

#[test]
fn serve_starts_on_a_new_sqlite_file_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_catalog"))
        .current_dir(dir.path())
        .env("CATALOG_BIND", format!("127.0.0.1:{port}"))
        .env_remove("DATABASE_URL")
        .env_remove("CATALOG_ENV")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let mut answered = false;
    while started.elapsed() < Duration::from_secs(20) {
        if let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            use std::io::Read;
            stream
                .write_all(b"GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .unwrap();
            let mut response = String::new();
            stream.read_to_string(&mut response).unwrap();
            answered = response.starts_with("HTTP/1.1 200");
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(answered, "readyz answered 200");
    assert!(
        dir.path().join("catalog.db").exists(),
        "the default database file was created"
    );
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "serve did not stop after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "clean exit: {status:?}");
}
