//! Typed configuration, read in layers: `config/default.toml`, then
//! `config/$CATALOG_ENV.toml`, then the environment variables of SPEC §3, later layers
//! winning. Everything is checked at start-up and a bad value is reported with the name
//! of the variable (and file key) that holds it.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// The development secret: fine for a laptop, refused in production.
const DEV_SECRET_KEY: &str = "catalog-development-secret-key-do-not-use-in-production";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailBackend {
    Console,
    Smtp,
    File,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone)]
pub struct EmailSettings {
    pub backend: MailBackend,
    pub host: String,
    pub port: u16,
    pub user: Option<String>,
    pub password: Option<SecretString>,
    pub use_tls: bool,
    pub use_ssl: bool,
    pub from: String,
    pub file_path: PathBuf,
}

/// Where avatars and product images live.
#[derive(Debug, Clone)]
pub enum MediaBackend {
    /// Files under `CATALOG_MEDIA_DIR`: one node, or a shared volume.
    Local,
    /// An S3-compatible object store, so that every node sees every image.
    S3(S3Settings),
}

#[derive(Debug, Clone)]
pub struct S3Settings {
    pub bucket: String,
    /// For S3-compatible stores other than AWS (MinIO, Ceph, moto, ...).
    pub endpoint: Option<String>,
    pub region: String,
    /// From `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN`; when unset,
    /// the SDK's other sources (instance or container credentials) apply.
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<SecretString>,
    pub session_token: Option<SecretString>,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub env: String,
    pub bind: SocketAddr,
    pub database_url: SecretString,
    pub secret_key: SecretString,
    /// True when no key was configured and the development key is in use.
    pub using_dev_secret: bool,
    pub public_url: url::Url,
    pub media_dir: PathBuf,
    pub media: MediaBackend,
    pub auto_migrate: bool,
    pub redirect_after_verify: String,
    pub redirect_if_already_verified: String,
    pub public_browsing: bool,
    /// The language of pages and mail when nothing says which (`CATALOG_DEFAULT_LANGUAGE`).
    pub default_language: catalog_i18n::Lang,
    pub email: EmailSettings,
    pub trusted_proxies: Vec<ipnet::IpNet>,
    pub log_filter: String,
    pub log_format: LogFormat,
    /// How often the mail dispatcher looks for due messages (not a SPEC variable:
    /// tests shorten it).
    pub mail_poll_interval: std::time::Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("{variable}: {reason}")]
    Invalid { variable: String, reason: String },
    #[error("cannot read {path}: {reason}")]
    File { path: String, reason: String },
}

/// Every setting: the environment variable that sets it and its key in the TOML files.
const VARIABLES: [(&str, &str); 29] = [
    ("CATALOG_BIND", "bind"),
    ("DATABASE_URL", "database_url"),
    ("CATALOG_SECRET_KEY", "secret_key"),
    ("CATALOG_PUBLIC_URL", "public_url"),
    ("CATALOG_MEDIA_DIR", "media_dir"),
    ("CATALOG_AUTO_MIGRATE", "auto_migrate"),
    ("CATALOG_REDIRECT_AFTER_VERIFY", "redirect_after_verify"),
    (
        "CATALOG_REDIRECT_IF_ALREADY_VERIFIED",
        "redirect_if_already_verified",
    ),
    ("CATALOG_PUBLIC_BROWSING", "public_browsing"),
    ("CATALOG_DEFAULT_LANGUAGE", "default_language"),
    ("EMAIL_BACKEND", "email_backend"),
    ("EMAIL_HOST", "email_host"),
    ("EMAIL_PORT", "email_port"),
    ("EMAIL_HOST_USER", "email_host_user"),
    ("EMAIL_HOST_PASSWORD", "email_host_password"),
    ("EMAIL_USE_TLS", "email_use_tls"),
    ("EMAIL_USE_SSL", "email_use_ssl"),
    ("DEFAULT_FROM_EMAIL", "default_from_email"),
    ("EMAIL_FILE_PATH", "email_file_path"),
    ("CATALOG_TRUSTED_PROXIES", "trusted_proxies"),
    ("RUST_LOG", "log"),
    ("CATALOG_LOG_FORMAT", "log_format"),
    ("CATALOG_MEDIA_BACKEND", "media_backend"),
    ("CATALOG_S3_BUCKET", "s3_bucket"),
    ("CATALOG_S3_ENDPOINT", "s3_endpoint"),
    ("CATALOG_S3_REGION", "s3_region"),
    ("AWS_ACCESS_KEY_ID", "aws_access_key_id"),
    ("AWS_SECRET_ACCESS_KEY", "aws_secret_access_key"),
    ("AWS_SESSION_TOKEN", "aws_session_token"),
];

/// TOML values are accepted as strings, numbers or booleans and read like variables.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum FileValue {
    Text(String),
    Integer(i64),
    Bool(bool),
    List(Vec<String>),
}

impl FileValue {
    fn into_text(self) -> String {
        match self {
            Self::Text(s) => s,
            Self::Integer(i) => i.to_string(),
            Self::Bool(b) => b.to_string(),
            Self::List(items) => items.join(","),
        }
    }
}

/// Raw values by variable name, with where each came from for error messages.
struct Layers {
    values: HashMap<&'static str, (String, String)>,
}

impl Layers {
    fn get(&self, variable: &str) -> Option<&str> {
        self.values.get(variable).map(|(v, _)| v.as_str())
    }

    fn invalid(&self, variable: &str, reason: impl Into<String>) -> SettingsError {
        let source = self
            .values
            .get(variable)
            .map(|(_, s)| s.clone())
            .unwrap_or_default();
        SettingsError::Invalid {
            variable: if source.is_empty() {
                variable.to_owned()
            } else {
                format!("{variable} ({source})")
            },
            reason: reason.into(),
        }
    }

    fn text(&self, variable: &str, default: &str) -> String {
        self.get(variable).unwrap_or(default).to_owned()
    }

    fn flag(&self, variable: &str, default: bool) -> Result<bool, SettingsError> {
        match self.get(variable).map(|v| v.trim().to_ascii_lowercase()) {
            None => Ok(default),
            Some(v) if ["1", "true", "yes", "on"].contains(&v.as_str()) => Ok(true),
            Some(v) if ["0", "false", "no", "off", ""].contains(&v.as_str()) => Ok(false),
            Some(_) => Err(self.invalid(variable, "expected true or false")),
        }
    }
}

impl Settings {
    /// Loads the layers from `config_dir` and the process environment.
    ///
    /// # Errors
    /// [`SettingsError`] naming the first bad value.
    pub fn load(config_dir: &Path) -> Result<Self, SettingsError> {
        let env: HashMap<String, String> = std::env::vars().collect();
        Self::from_sources(config_dir, &env)
    }

    /// Loads the layers from `config_dir` and the given variables (tests pass their own).
    ///
    /// # Errors
    /// [`SettingsError`] naming the first bad value.
    pub fn from_sources(
        config_dir: &Path,
        env: &HashMap<String, String>,
    ) -> Result<Self, SettingsError> {
        let catalog_env = env
            .get("CATALOG_ENV")
            .cloned()
            .unwrap_or_else(|| "development".to_owned());
        if catalog_env.is_empty()
            || !catalog_env
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(SettingsError::Invalid {
                variable: "CATALOG_ENV".into(),
                reason: "use letters, digits, - and _ only".into(),
            });
        }
        let mut layers = Layers {
            values: HashMap::new(),
        };
        for file in ["default".to_owned(), catalog_env.clone()] {
            read_file(&config_dir.join(format!("{file}.toml")), &mut layers)?;
        }
        for (variable, _) in VARIABLES {
            if let Some(value) = env.get(variable) {
                layers
                    .values
                    .insert(variable, (value.clone(), String::new()));
            }
        }
        Self::validate(catalog_env, &layers)
    }

    fn validate(env: String, l: &Layers) -> Result<Self, SettingsError> {
        let production = env == "production";
        let bind = l
            .text("CATALOG_BIND", "127.0.0.1:8000")
            .parse::<SocketAddr>()
            .map_err(|_| l.invalid("CATALOG_BIND", "expected an address such as 127.0.0.1:8000"))?;

        let database_url = l.text("DATABASE_URL", "sqlite://catalog.db?mode=rwc");
        catalog_storage::Backend::of_url(&database_url)
            .map_err(|e| l.invalid("DATABASE_URL", e.to_string()))?;

        let (secret_key, using_dev_secret) = match l.get("CATALOG_SECRET_KEY") {
            Some(key) if key.len() >= 32 => (key.to_owned(), false),
            Some(_) => {
                return Err(l.invalid("CATALOG_SECRET_KEY", "must be at least 32 bytes long"));
            }
            None if production => {
                return Err(l.invalid(
                    "CATALOG_SECRET_KEY",
                    "must be set when CATALOG_ENV=production",
                ));
            }
            None => (DEV_SECRET_KEY.to_owned(), true),
        };

        let public_url = url::Url::parse(&l.text("CATALOG_PUBLIC_URL", "http://127.0.0.1:8000"))
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .ok_or_else(|| l.invalid("CATALOG_PUBLIC_URL", "expected an http(s) URL"))?;

        let redirect_after_verify = local_path(l, "CATALOG_REDIRECT_AFTER_VERIFY", "/products")?;
        let redirect_if_already_verified =
            local_path(l, "CATALOG_REDIRECT_IF_ALREADY_VERIFIED", "/users/login")?;

        let backend = match l.text("EMAIL_BACKEND", "console").as_str() {
            "console" => MailBackend::Console,
            "smtp" => MailBackend::Smtp,
            "file" => MailBackend::File,
            _ => return Err(l.invalid("EMAIL_BACKEND", "expected console, smtp or file")),
        };
        let use_tls = l.flag("EMAIL_USE_TLS", false)?;
        let use_ssl = l.flag("EMAIL_USE_SSL", false)?;
        if use_tls && use_ssl {
            return Err(l.invalid(
                "EMAIL_USE_SSL",
                "EMAIL_USE_TLS and EMAIL_USE_SSL are mutually exclusive",
            ));
        }
        let from = l.text("DEFAULT_FROM_EMAIL", "catalog@localhost");
        if from.contains(['\r', '\n']) || !from.contains('@') {
            return Err(l.invalid("DEFAULT_FROM_EMAIL", "expected an email address"));
        }
        let email = EmailSettings {
            backend,
            host: l.text("EMAIL_HOST", "localhost"),
            port: l
                .text("EMAIL_PORT", "25")
                .parse()
                .map_err(|_| l.invalid("EMAIL_PORT", "expected a port number"))?,
            user: l
                .get("EMAIL_HOST_USER")
                .filter(|u| !u.is_empty())
                .map(str::to_owned),
            password: l
                .get("EMAIL_HOST_PASSWORD")
                .filter(|p| !p.is_empty())
                .map(|p| SecretString::from(p.to_owned())),
            use_tls,
            use_ssl,
            from,
            file_path: PathBuf::from(l.text("EMAIL_FILE_PATH", "./sent-mail")),
        };

        let trusted_proxies = l
            .text("CATALOG_TRUSTED_PROXIES", "")
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<ipnet::IpNet>()
                    .or_else(|_| s.parse::<IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| {
                        l.invalid(
                            "CATALOG_TRUSTED_PROXIES",
                            format!("{s:?} is not an IP address or network"),
                        )
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;

        let media = match l.text("CATALOG_MEDIA_BACKEND", "local").as_str() {
            "local" => MediaBackend::Local,
            "s3" => {
                let bucket = l.text("CATALOG_S3_BUCKET", "");
                if bucket.is_empty() {
                    return Err(l.invalid(
                        "CATALOG_S3_BUCKET",
                        "must name a bucket when CATALOG_MEDIA_BACKEND=s3",
                    ));
                }
                let endpoint = l.get("CATALOG_S3_ENDPOINT").map(str::to_owned);
                if let Some(endpoint) = &endpoint
                    && !url::Url::parse(endpoint)
                        .is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
                {
                    return Err(l.invalid("CATALOG_S3_ENDPOINT", "expected an http(s) URL"));
                }
                let secret = |variable| l.get(variable).map(|v| SecretString::from(v.to_owned()));
                MediaBackend::S3(S3Settings {
                    bucket,
                    endpoint,
                    region: l.text("CATALOG_S3_REGION", "us-east-1"),
                    access_key_id: l.get("AWS_ACCESS_KEY_ID").map(str::to_owned),
                    secret_access_key: secret("AWS_SECRET_ACCESS_KEY"),
                    session_token: secret("AWS_SESSION_TOKEN"),
                })
            }
            _ => return Err(l.invalid("CATALOG_MEDIA_BACKEND", "expected local or s3")),
        };

        let log_format = match l.text("CATALOG_LOG_FORMAT", "text").as_str() {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            _ => return Err(l.invalid("CATALOG_LOG_FORMAT", "expected text or json")),
        };

        let default_language = l.text("CATALOG_DEFAULT_LANGUAGE", "en");
        let Some(default_language) = catalog_i18n::Lang::parse(&default_language) else {
            let known: Vec<&str> = catalog_i18n::Lang::all()
                .map(catalog_i18n::Lang::code)
                .collect();
            return Err(l.invalid(
                "CATALOG_DEFAULT_LANGUAGE",
                format!("expected one of {}", known.join(", ")),
            ));
        };

        Ok(Self {
            env,
            bind,
            database_url: SecretString::from(database_url),
            secret_key: SecretString::from(secret_key),
            using_dev_secret,
            public_url,
            media_dir: PathBuf::from(l.text("CATALOG_MEDIA_DIR", "./media")),
            media,
            auto_migrate: l.flag("CATALOG_AUTO_MIGRATE", true)?,
            redirect_after_verify,
            redirect_if_already_verified,
            public_browsing: l.flag("CATALOG_PUBLIC_BROWSING", false)?,
            default_language,
            email,
            trusted_proxies,
            log_filter: l.text("RUST_LOG", "info"),
            log_format,
            mail_poll_interval: std::time::Duration::from_secs(2),
        })
    }

    pub fn is_production(&self) -> bool {
        self.env == "production"
    }

    /// Cookies get `Secure` and the `__Host-` prefix when the public URL is https.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.scheme() == "https"
    }

    pub fn database_url(&self) -> &str {
        self.database_url.expose_secret()
    }

    /// Warnings to print at start-up.
    pub fn warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        if self.using_dev_secret {
            warnings.push(
                "CATALOG_SECRET_KEY is not set: using the built-in development key; \
                 tokens and cookies are forgeable by anyone who reads the source"
                    .to_owned(),
            );
        }
        if self.is_production() && self.email.backend == MailBackend::Console {
            warnings.push(
                "EMAIL_BACKEND=console in production: NO EMAIL WILL BE DELIVERED, \
                 users cannot confirm their addresses or reset passwords"
                    .to_owned(),
            );
        }
        warnings
    }
}

fn local_path(l: &Layers, variable: &str, default: &str) -> Result<String, SettingsError> {
    let value = l.text(variable, default);
    if value.starts_with('/') && !value.starts_with("//") && !value.contains(['\\', '\r', '\n']) {
        Ok(value)
    } else {
        Err(l.invalid(variable, "expected a path on this site, starting with /"))
    }
}

fn read_file(path: &Path, layers: &mut Layers) -> Result<(), SettingsError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            return Err(SettingsError::File {
                path: path.display().to_string(),
                reason: e.to_string(),
            });
        }
    };
    let table: HashMap<String, FileValue> =
        toml::from_str(&text).map_err(|e| SettingsError::File {
            path: path.display().to_string(),
            reason: e.message().to_owned(),
        })?;
    for (key, value) in table {
        let Some((variable, _)) = VARIABLES.iter().find(|(_, k)| *k == key) else {
            return Err(SettingsError::File {
                path: path.display().to_string(),
                reason: format!("unknown setting {key:?}"),
            });
        };
        layers.values.insert(
            variable,
            (value.into_text(), format!("{key} in {}", path.display())),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests;
