//! Catalog fixtures: people with roles, categories, and the requests the product tests
//! repeat. People are created through the domain services (as `catalog createsuperuser`
//! and `groups add-member` do) and then sign in through the real endpoints.

use catalog_domain::access::Group;
use catalog_domain::services::admin::AdminService;
use catalog_domain::user::{Email, NewUser, Password, PasswordContext, PersonName};
use catalog_storage::testing::TestDatabase;
use serde_json::{Value, json};

use super::accounts::PASSWORD;
use super::{TestApp, browser, csrf_of, location, settings_for};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Plain,
    Moderator,
    Superuser,
}

/// Direct access to the domain for setting up and checking state.
pub struct Admin {
    pub ports: catalog_domain::services::Ports,
    _dir: tempfile::TempDir,
}

impl Admin {
    pub async fn connect(db: &TestDatabase) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let settings = settings_for(&db.url, &[], dir.path());
        let (_, ports) = catalog_web::app::connect(&settings).await.unwrap();
        Self { ports, _dir: dir }
    }

    fn service(&self) -> AdminService {
        AdminService::new(self.ports.for_admin())
    }

    /// An active, verified account with [`PASSWORD`].
    pub async fn person(&self, email: &str, role: Role) {
        if role == Role::Superuser {
            self.service()
                .create_superuser(email, PASSWORD)
                .await
                .unwrap();
            return;
        }
        let email_v = Email::parse(email).unwrap();
        let password = Password::parse(PASSWORD, PasswordContext::default()).unwrap();
        let password_hash = self.ports.hasher.hash(&password).await.unwrap();
        self.ports
            .users
            .insert(NewUser {
                email: email_v,
                password_hash,
                is_active: true,
                is_verified: true,
                is_superuser: false,
                first_name: PersonName::default(),
                last_name: PersonName::default(),
                date_joined: chrono::Utc::now(),
                language: None,
            })
            .await
            .unwrap();
        if role == Role::Moderator {
            self.service()
                .add_member(Group::MODERATORS, email)
                .await
                .unwrap();
        }
    }

    pub async fn leave_moderators(&self, email: &str) {
        self.service()
            .remove_member(Group::MODERATORS, email)
            .await
            .unwrap();
    }

    pub async fn category(&self, name: &str) -> i64 {
        self.service().add_category(name, "").await.unwrap().id.0
    }
}

/// A signed-in browser.
pub async fn sign_in(app: &TestApp, email: &str) -> reqwest::Client {
    let client = browser();
    let r = app
        .submit(
            &client,
            "/users/login",
            "/users/login",
            &[("email", email), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status(), 303, "sign-in of {email}");
    client
}

/// An API token.
pub async fn token(app: &TestApp, email: &str) -> String {
    let r = app
        .client
        .post(app.url("/api/v1/auth/token"))
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "token for {email}");
    r.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A multipart product form; `fields` are text parts, `image` an optional file part.
pub fn product_form(
    csrf: &str,
    fields: &[(&str, &str)],
    image: Option<Vec<u8>>,
) -> reqwest::multipart::Form {
    let mut form = reqwest::multipart::Form::new().text("csrf_token", csrf.to_owned());
    for (k, v) in fields {
        form = form.text((*k).to_owned(), (*v).to_owned());
    }
    if let Some(bytes) = image {
        form = form.part(
            "image",
            reqwest::multipart::Part::bytes(bytes)
                .file_name("picture.png")
                .mime_str("image/png")
                .unwrap(),
        );
    }
    form
}

impl TestApp {
    /// Loads `form_page` for its CSRF token, then POSTs a multipart form to `action`.
    pub async fn post_multipart(
        &self,
        client: &reqwest::Client,
        form_page: &str,
        action: &str,
        fields: &[(&str, &str)],
        image: Option<Vec<u8>>,
    ) -> reqwest::Response {
        let (status, html) = self.page(client, form_page).await;
        assert_eq!(status, 200, "form page {form_page}");
        let form = product_form(&csrf_of(&html), fields, image);
        client
            .post(self.url(action))
            .multipart(form)
            .send()
            .await
            .unwrap()
    }

    /// Creates a product through the HTML form and returns its id.
    pub async fn create_product(&self, client: &reqwest::Client, fields: &[(&str, &str)]) -> i64 {
        let r = self
            .post_multipart(client, "/products/new", "/products/new", fields, None)
            .await;
        assert_eq!(r.status(), 303, "create product");
        location(&r)
            .strip_prefix("/products/")
            .unwrap()
            .parse()
            .unwrap()
    }

    /// GETs an API path with a bearer token.
    pub async fn api_get(&self, token: &str, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    /// Sends a JSON body with a bearer token.
    pub async fn api_send(
        &self,
        method: reqwest::Method,
        token: &str,
        path: &str,
        body: &Value,
    ) -> reqwest::Response {
        self.client
            .request(method, self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap()
    }
}

/// A small valid PNG.
pub fn png() -> Vec<u8> {
    let img = image::RgbImage::from_pixel(8, 8, image::Rgb([200, 30, 30]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}
