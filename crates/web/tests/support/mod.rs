//! Starts the real application on a loopback port against a test database, and a real
//! SMTP server for it to deliver to.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod accounts;
pub mod catalog;
pub mod interleave;
pub mod process;
pub mod proxy;
pub mod s3;
pub mod smtp;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;

use catalog_storage::testing::TestDatabase;
use catalog_web::app;
use catalog_web::settings::Settings;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub struct TestApp {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    _media: tempfile::TempDir,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    /// Stops the server and waits for it.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap();
        }
    }
}

pub fn settings_for(database_url: &str, extra: &[(&str, &str)], media: &Path) -> Settings {
    let mut env: HashMap<String, String> = [
        ("DATABASE_URL", database_url),
        ("CATALOG_BIND", "127.0.0.1:0"),
        (
            "CATALOG_SECRET_KEY",
            "test-secret-key-0123456789abcdef-0123456789",
        ),
        ("CATALOG_MEDIA_DIR", media.to_str().unwrap()),
        // Tests that read mail start a sink and point EMAIL_* at it; the rest write
        // files nobody reads instead of flooding the console.
        ("EMAIL_BACKEND", "file"),
        ("EMAIL_FILE_PATH", media.join("sent-mail").to_str().unwrap()),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    for (k, v) in extra {
        env.insert((*k).to_owned(), (*v).to_owned());
    }
    Settings::from_sources(Path::new("/nonexistent"), &env).unwrap()
}

pub async fn spawn_app(db: &TestDatabase, extra: &[(&str, &str)]) -> TestApp {
    spawn_app_at(&db.url, extra).await
}

pub async fn spawn_app_at(database_url: &str, extra: &[(&str, &str)]) -> TestApp {
    spawn_app_adapted(database_url, extra, |ports| ports).await
}

/// The app with its ports passed through `adapt` (see `app::build_with`).
pub async fn spawn_app_adapted(
    database_url: &str,
    extra: &[(&str, &str)],
    adapt: impl FnOnce(catalog_domain::services::Ports) -> catalog_domain::services::Ports,
) -> TestApp {
    let media = tempfile::tempdir().unwrap();
    let mut settings = settings_for(database_url, extra, media.path());
    settings.mail_poll_interval = std::time::Duration::from_millis(100);
    let state = app::build_with(settings, adapt).await.unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        app::serve(state, listener, async move {
            let _ = stopped.await;
        })
        .await
        .unwrap();
    });
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    TestApp {
        addr,
        client,
        stop: Some(stop),
        task: Some(task),
        _media: media,
    }
}

/// A browser-like client: keeps cookies, does not follow redirects.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A browser-like client whose preferred languages are `accept` (`Accept-Language`).
pub fn speaking(accept: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::ACCEPT_LANGUAGE,
        reqwest::header::HeaderValue::from_str(accept).unwrap(),
    );
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(headers)
        .build()
        .unwrap()
}

/// The CSRF token of the first form on a page.
pub fn csrf_of(html: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker).expect("a form with a CSRF token") + marker.len();
    let end = html[start..].find('"').unwrap();
    html[start..start + end].to_owned()
}

/// Undoes the quoted-printable soft line breaks and `=3D` escapes of a raw message.
pub fn decode_qp(raw: &str) -> String {
    raw.replace("=\r\n", "")
        .replace("=\n", "")
        .replace("=3D", "=")
}

/// The generated password in a reset mail (raw or already decoded): the line that is
/// exactly 16 letters and digits.
pub fn generated_password(raw: &str) -> String {
    decode_qp(raw)
        .lines()
        .map(str::trim)
        .find(|l| l.len() == 16 && l.chars().all(|c| c.is_ascii_alphanumeric()))
        .expect("the generated password is in the mail")
        .to_owned()
}

/// The path of the first link in `raw` that starts with `prefix` (after the host).
pub fn link_path(raw: &str, prefix: &str) -> String {
    let text = decode_qp(raw);
    let start = text.find(prefix).expect("the link is in the message");
    let rest = &text[start..];
    let end = rest
        .find(|c: char| c.is_whitespace() || c == '"' || c == '<')
        .unwrap_or(rest.len());
    rest[..end].to_owned()
}

impl TestApp {
    /// GETs a page with `client` and returns its status and body.
    pub async fn page(&self, client: &reqwest::Client, path: &str) -> (u16, String) {
        let r = client.get(self.url(path)).send().await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    /// Loads `form_page`, then POSTs `fields` plus its CSRF token to `action`.
    pub async fn submit(
        &self,
        client: &reqwest::Client,
        form_page: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let (_, html) = self.page(client, form_page).await;
        let token = csrf_of(&html);
        let mut form: Vec<(&str, &str)> = fields.to_vec();
        form.push(("csrf_token", &token));
        client
            .post(self.url(action))
            .form(&form)
            .send()
            .await
            .unwrap()
    }
}

pub fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}
