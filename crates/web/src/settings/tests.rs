use std::collections::HashMap;

use super::*;

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn load(pairs: &[(&str, &str)]) -> Result<Settings, SettingsError> {
    Settings::from_sources(Path::new("/nonexistent-config-dir"), &env(pairs))
}

fn message(pairs: &[(&str, &str)]) -> String {
    load(pairs).unwrap_err().to_string()
}

#[test]
fn defaults_match_the_specification() {
    let s = load(&[]).unwrap();
    assert_eq!(s.bind.to_string(), "127.0.0.1:8000");
    assert_eq!(s.database_url(), "sqlite://catalog.db?mode=rwc");
    assert_eq!(s.public_url.as_str(), "http://127.0.0.1:8000/");
    assert_eq!(s.media_dir, PathBuf::from("./media"));
    assert!(s.auto_migrate);
    assert!(!s.public_browsing);
    assert_eq!(s.redirect_after_verify, "/products");
    assert_eq!(s.redirect_if_already_verified, "/users/login");
    assert_eq!(s.email.backend, MailBackend::Console);
    assert_eq!((s.email.host.as_str(), s.email.port), ("localhost", 25));
    assert_eq!(s.email.from, "catalog@localhost");
    assert_eq!(s.email.file_path, PathBuf::from("./sent-mail"));
    assert!(s.trusted_proxies.is_empty());
    assert!(s.using_dev_secret);
    assert!(!s.secure_cookies());
    assert_eq!(s.warnings().len(), 1, "the development key is announced");
}

#[test]
fn production_refuses_to_start_without_a_secret_key() {
    let text = message(&[("CATALOG_ENV", "production")]);
    assert!(text.starts_with("CATALOG_SECRET_KEY"), "{text}");
}

#[test]
fn production_with_the_console_mailer_warns_loudly() {
    let s = load(&[
        ("CATALOG_ENV", "production"),
        ("CATALOG_SECRET_KEY", &"k".repeat(32)),
    ])
    .unwrap();
    assert!(
        s.warnings()
            .iter()
            .any(|w| w.contains("NO EMAIL WILL BE DELIVERED"))
    );
}

#[test]
fn a_short_secret_key_is_refused() {
    assert!(message(&[("CATALOG_SECRET_KEY", "short")]).contains("at least 32 bytes"));
}

#[test]
fn each_bad_value_names_its_variable() {
    for (variable, value) in [
        ("CATALOG_BIND", "localhost"),
        ("DATABASE_URL", "mysql://x"),
        ("CATALOG_PUBLIC_URL", "ftp://example.com"),
        ("CATALOG_AUTO_MIGRATE", "maybe"),
        ("CATALOG_PUBLIC_BROWSING", "2"),
        ("CATALOG_REDIRECT_AFTER_VERIFY", "https://evil.example/"),
        ("CATALOG_REDIRECT_IF_ALREADY_VERIFIED", "//evil.example"),
        ("EMAIL_BACKEND", "pigeon"),
        ("EMAIL_PORT", "99999"),
        ("EMAIL_USE_TLS", "sometimes"),
        ("DEFAULT_FROM_EMAIL", "nobody"),
        ("CATALOG_TRUSTED_PROXIES", "10.0.0.1, not-an-ip"),
        ("CATALOG_LOG_FORMAT", "xml"),
        ("CATALOG_DEFAULT_LANGUAGE", "de"),
        ("CATALOG_DEFAULT_LANGUAGE", "russian"),
    ] {
        let text = message(&[(variable, value)]);
        assert!(text.starts_with(variable), "{variable}: {text}");
    }
    let both = message(&[("EMAIL_USE_TLS", "true"), ("EMAIL_USE_SSL", "true")]);
    assert!(both.contains("mutually exclusive"), "{both}");
}

#[test]
fn the_default_language_is_english_unless_set() {
    assert_eq!(load(&[]).unwrap().default_language.code(), "en");
    let ru = load(&[("CATALOG_DEFAULT_LANGUAGE", "ru")]).unwrap();
    assert_eq!(ru.default_language.code(), "ru");
    assert!(message(&[("CATALOG_DEFAULT_LANGUAGE", "xx")]).contains("expected one of en, ru"));
}

#[test]
fn https_public_urls_turn_on_secure_cookies() {
    let s = load(&[("CATALOG_PUBLIC_URL", "https://shop.example.com")]).unwrap();
    assert!(s.secure_cookies());
}

#[test]
fn trusted_proxies_accept_addresses_and_networks() {
    let s = load(&[("CATALOG_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8,::1")]).unwrap();
    assert_eq!(s.trusted_proxies.len(), 3);
    assert!(s.trusted_proxies[1].contains(&"10.1.2.3".parse::<IpAddr>().unwrap()));
}

#[test]
fn files_are_layered_and_variables_win() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("default.toml"),
        "bind = \"0.0.0.0:9000\"\npublic_browsing = true\nemail_port = 2525\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("staging.toml"), "bind = \"0.0.0.0:9100\"\n").unwrap();
    let s = Settings::from_sources(
        dir.path(),
        &env(&[("CATALOG_ENV", "staging"), ("EMAIL_PORT", "587")]),
    )
    .unwrap();
    assert_eq!(
        s.bind.port(),
        9100,
        "the environment's file beats default.toml"
    );
    assert!(
        s.public_browsing,
        "default.toml applies where nothing overrides it"
    );
    assert_eq!(s.email.port, 587, "variables beat files");
}

#[test]
fn a_bad_file_value_names_key_and_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("default.toml"), "bind = \"nowhere\"\n").unwrap();
    let text = Settings::from_sources(dir.path(), &env(&[]))
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("CATALOG_BIND") && text.contains("default.toml"),
        "{text}"
    );
    std::fs::write(dir.path().join("default.toml"), "colour = \"blue\"\n").unwrap();
    let text = Settings::from_sources(dir.path(), &env(&[]))
        .unwrap_err()
        .to_string();
    assert!(text.contains("unknown setting \"colour\""), "{text}");
}

#[test]
fn secrets_do_not_show_in_debug_output() {
    let s = load(&[
        ("CATALOG_SECRET_KEY", "super-secret-key-material-0123456789"),
        ("DATABASE_URL", "postgres://app:db-password@db/catalog"),
        ("EMAIL_HOST_PASSWORD", "smtp-password"),
    ])
    .unwrap();
    let debug = format!("{s:?}");
    for secret in ["super-secret-key-material", "db-password", "smtp-password"] {
        assert!(!debug.contains(secret), "{secret} leaked");
    }
}

#[test]
fn media_goes_to_s3_only_with_a_bucket_and_a_proper_endpoint() {
    assert!(matches!(load(&[]).unwrap().media, MediaBackend::Local));
    let s = load(&[
        ("CATALOG_MEDIA_BACKEND", "s3"),
        ("CATALOG_S3_BUCKET", "media"),
        ("CATALOG_S3_ENDPOINT", "http://127.0.0.1:9000"),
        ("AWS_ACCESS_KEY_ID", "key-id"),
        ("AWS_SECRET_ACCESS_KEY", "s3-secret-value"),
    ])
    .unwrap();
    let MediaBackend::S3(s3) = &s.media else {
        panic!("expected S3");
    };
    assert_eq!(s3.bucket, "media");
    assert_eq!(s3.region, "us-east-1");
    assert_eq!(s3.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
    assert!(
        !format!("{s:?}").contains("s3-secret-value"),
        "the secret stays secret"
    );
    assert!(message(&[("CATALOG_MEDIA_BACKEND", "s3")]).starts_with("CATALOG_S3_BUCKET"));
    assert!(
        message(&[
            ("CATALOG_MEDIA_BACKEND", "s3"),
            ("CATALOG_S3_BUCKET", "media"),
            ("CATALOG_S3_ENDPOINT", "ftp://x"),
        ])
        .starts_with("CATALOG_S3_ENDPOINT")
    );
    assert!(message(&[("CATALOG_MEDIA_BACKEND", "nfs")]).starts_with("CATALOG_MEDIA_BACKEND"));
}

/// The shipped files are read as an operator would use them: `default.toml` as is, the
/// production example copied to `production.toml`.
#[test]
fn the_shipped_configuration_files_load() {
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config");
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        shipped.join("default.toml"),
        dir.path().join("default.toml"),
    )
    .unwrap();
    let development = Settings::from_sources(dir.path(), &env(&[])).unwrap();
    assert_eq!(development.bind.port(), 8000);
    std::fs::copy(
        shipped.join("production.example.toml"),
        dir.path().join("production.toml"),
    )
    .unwrap();
    let secret = (
        "CATALOG_SECRET_KEY",
        "an-operator-secret-of-more-than-32-bytes!",
    );
    let production =
        Settings::from_sources(dir.path(), &env(&[("CATALOG_ENV", "production"), secret])).unwrap();
    assert!(production.secure_cookies(), "https public URL");
    assert!(!production.auto_migrate, "migrations are a release step");
    assert_eq!(production.email.port, 587);
    assert_eq!(production.trusted_proxies.len(), 1);
    assert!(matches!(production.log_format, LogFormat::Json));
    assert!(
        Settings::from_sources(dir.path(), &env(&[("CATALOG_ENV", "production")])).is_err(),
        "and it still needs its secret"
    );
}
