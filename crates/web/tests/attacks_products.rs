//! Attacks on products and on the moderators' authority that once got through (the
//! hardening review), each reproduced end to end on each database. Races are driven by
//! a hook between a service's read and its write, never by sleeping and hoping.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use catalog_storage::db_test;
use catalog_storage::testing::TestDatabase;
use reqwest::Method;
use serde_json::{Value, json};
use support::catalog::{Admin, Role, product_form, sign_in, token};
use support::interleave::Hook;
use support::{TestApp, csrf_of, location, spawn_app_adapted};

const OWNER: &str = "owner@example.com";
const MODERATOR: &str = "mod@example.com";
const STRANGER: &str = "stranger@example.com";

struct World {
    app: TestApp,
    hook: Hook,
    owner: reqwest::Client,
    owner_token: String,
    moderator_token: String,
    stranger: reqwest::Client,
    stranger_token: String,
    lamps: i64,
}

async fn world(db: &TestDatabase) -> World {
    let admin = Admin::connect(db).await;
    admin.person(OWNER, Role::Plain).await;
    admin.person(MODERATOR, Role::Moderator).await;
    admin.person(STRANGER, Role::Plain).await;
    let lamps = admin.category("Lamps").await;
    let hook = Hook::default();
    let around = hook.clone();
    let app = spawn_app_adapted(&db.url, &[], move |mut ports| {
        ports.products = around.around(ports.products);
        ports
    })
    .await;
    World {
        owner: sign_in(&app, OWNER).await,
        owner_token: token(&app, OWNER).await,
        moderator_token: token(&app, MODERATOR).await,
        stranger: sign_in(&app, STRANGER).await,
        stranger_token: token(&app, STRANGER).await,
        app,
        hook,
        lamps,
    }
}

impl World {
    async fn product(&self, published: bool) -> i64 {
        let r = self
            .app
            .api_send(
                Method::POST,
                &self.owner_token,
                "/api/v1/products",
                &json!({"name": "Desk lamp", "description": "Bright", "price": "19.99",
                        "category_id": self.lamps, "is_published": published}),
            )
            .await;
        assert_eq!(r.status(), 201);
        r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
    }

    async fn read(&self, id: i64) -> Value {
        let r = self
            .app
            .api_get(&self.owner_token, &format!("/api/v1/products/{id}"))
            .await;
        r.json().await.unwrap()
    }

    /// Arms the hook: before the next write, a moderator unpublishes `id` (through the
    /// API, as in the attack) and is answered as a moderator would be.
    fn moderator_unpublishes_meanwhile(&self, id: i64) {
        let (client, url, token) = (
            self.app.client.clone(),
            self.app.url(&format!("/api/v1/products/{id}")),
            self.moderator_token.clone(),
        );
        self.hook.before_next_write(move || async move {
            let r = client
                .patch(url)
                .bearer_auth(token)
                .json(&json!({"is_published": false}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "the moderator's unpublish goes through");
            let body: Value = r.json().await.unwrap();
            assert_eq!(body["moderation_locked"], true);
        });
    }
}

/// The revision an edit form shows.
fn revision_of(page: &str) -> String {
    page.split("name=\"revision\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the form says what it shows")
        .to_owned()
}

/// An image of `side`×`side` pixels with some variety, as a PNG.
fn picture(side: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(side, side, |x, y| {
        image::Rgb([(x % 251) as u8, (y % 241) as u8, ((x * y) % 239) as u8])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

db_test!(
    an_owners_slow_edit_cannot_undo_a_moderators_unpublish,
    |db| {
        let w = world(&db).await;
        let id = w.product(true).await;
        let edit = format!("/products/{id}/edit");
        let (status, page) = w.app.page(&w.owner, &edit).await;
        assert_eq!(status, 200);
        assert!(
            page.contains("name=\"revision\""),
            "the form says what it shows"
        );
        // The owner saves the whole form with a large image; while it is on its way,
        // a moderator unpublishes the product.
        w.moderator_unpublishes_meanwhile(id);
        let mut form = product_form(
            &csrf_of(&page),
            &[
                ("name", "Desk lamp, renamed"),
                ("description", "Bright"),
                ("category", &w.lamps.to_string()),
                ("price", "19.99"),
                ("is_published", "false"),
                ("is_published", "true"),
            ],
            Some(picture(1024)),
        );
        let revision = revision_of(&page);
        form = form.text("revision", revision);
        let r = w
            .owner
            .post(w.app.url(&edit))
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert!(!w.hook.is_armed(), "the moderator came in between");
        assert_eq!(r.status(), 409, "refused, not silently written over");
        let again = r.text().await.unwrap();
        assert!(again.contains("Someone changed this product"), "{again}");
        assert!(
            again.contains("Desk lamp, renamed"),
            "what was typed is kept"
        );
        let now = w.read(id).await;
        assert_eq!(now["is_published"], false);
        assert_eq!(now["moderation_locked"], true);
        assert_eq!(
            now["name"], "Desk lamp",
            "nothing of the stale edit was stored"
        );
        assert_eq!(now["image_url"], Value::Null);
        w.app.stop().await;
    }
);

db_test!(
    an_owners_api_patch_racing_an_unpublish_is_a_conflict,
    |db| {
        let w = world(&db).await;
        let id = w.product(true).await;
        w.moderator_unpublishes_meanwhile(id);
        let r = w
            .app
            .api_send(
                Method::PATCH,
                &w.owner_token,
                &format!("/api/v1/products/{id}"),
                &json!({"name": "Renamed", "is_published": true}),
            )
            .await;
        assert_eq!(r.status(), 409);
        let problem: Value = r.json().await.unwrap();
        assert_eq!(problem["status"], 409);
        let now = w.read(id).await;
        assert_eq!(
            (
                &now["is_published"],
                &now["moderation_locked"],
                &now["name"]
            ),
            (&json!(false), &json!(true), &json!("Desk lamp"))
        );
        w.app.stop().await;
    }
);

db_test!(
    a_moderators_stale_write_cannot_undo_an_owners_change,
    |db| {
        let w = world(&db).await;
        let id = w.product(true).await;
        // While the moderator's description change is on its way, the owner rewrites
        // the description through the page.
        let (app, owner, lamps) = (w.app.url(""), w.owner.clone(), w.lamps);
        w.hook.before_next_write(move || async move {
            let edit = format!("{app}/products/{id}/edit");
            let page = owner.get(&edit).send().await.unwrap().text().await.unwrap();
            let form = product_form(
                &csrf_of(&page),
                &[
                    ("name", "Desk lamp"),
                    ("description", "The owner's own words"),
                    ("category", &lamps.to_string()),
                    ("price", "19.99"),
                    ("is_published", "true"),
                ],
                None,
            );
            let r = owner.post(&edit).multipart(form).send().await.unwrap();
            assert_eq!(r.status(), 303, "the owner's edit is saved");
        });
        let r = w
            .app
            .api_send(
                Method::PATCH,
                &w.moderator_token,
                &format!("/api/v1/products/{id}"),
                &json!({"description": "Moderated"}),
            )
            .await;
        assert_eq!(r.status(), 409);
        assert_eq!(w.read(id).await["description"], "The owner's own words");
        w.app.stop().await;
    }
);

db_test!(
    a_form_opened_before_an_unpublish_is_not_saved_over_it,
    |db| {
        let w = world(&db).await;
        let id = w.product(true).await;
        let edit = format!("/products/{id}/edit");
        let (_, page) = w.app.page(&w.owner, &edit).await;
        let r = w
            .app
            .api_send(
                Method::PATCH,
                &w.moderator_token,
                &format!("/api/v1/products/{id}"),
                &json!({"is_published": false}),
            )
            .await;
        assert_eq!(r.status(), 200);
        let revision = revision_of(&page);
        let form = product_form(
            &csrf_of(&page),
            &[
                ("name", "Desk lamp"),
                ("description", "Bright"),
                ("category", &w.lamps.to_string()),
                ("price", "25.00"),
                ("is_published", "true"),
                ("revision", &revision),
            ],
            None,
        );
        let r = w
            .owner
            .post(w.app.url(&edit))
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 409);
        let again = r.text().await.unwrap();
        assert!(again.contains("Someone changed this product"));
        assert!(
            again.contains("disabled aria-describedby=\"publish-note\""),
            "the form now shows the lock"
        );
        let now = w.read(id).await;
        assert_eq!(
            (now["price"].as_str(), now["is_published"].as_bool()),
            (Some("19.99"), Some(false))
        );
        // Saved again from the form as it is now, the owner's change goes through and the
        // moderator's decision stays.
        let r = w
            .owner
            .post(w.app.url(&edit))
            .multipart(product_form(
                &csrf_of(&again),
                &[
                    ("price", "25.00"),
                    ("is_published", "false"),
                    ("revision", &revision_of(&again)),
                ],
                None,
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(location(&r), format!("/products/{id}"));
        let now = w.read(id).await;
        assert_eq!(now["price"], "25.00");
        assert_eq!(
            (&now["is_published"], &now["moderation_locked"]),
            (&json!(false), &json!(true))
        );
        w.app.stop().await;
    }
);

/// A body that sends a first chunk and then nothing, for ever: a server that reads it
/// before deciding never answers.
fn endless(first: &'static [u8]) -> reqwest::Body {
    let stream = futures::StreamExt::chain(
        futures::stream::once(async move { Ok::<_, std::io::Error>(first.to_vec()) }),
        futures::stream::pending(),
    );
    reqwest::Body::wrap_stream(stream)
}

async fn status_within(request: reqwest::RequestBuilder) -> u16 {
    tokio::time::timeout(Duration::from_secs(10), request.send())
        .await
        .expect("answered without reading the body")
        .unwrap()
        .status()
        .as_u16()
}

db_test!(
    who_may_act_is_decided_before_anything_they_sent_is_read,
    |db| {
        let w = world(&db).await;
        let public = w.product(true).await;
        let draft = w.product(false).await;
        let edit = |id| w.app.url(&format!("/products/{id}/edit"));
        // Not multipart at all: a stranger is refused as a stranger.
        for (id, expected) in [(public, 403), (draft, 404)] {
            let request = w
                .stranger
                .post(edit(id))
                .header("content-type", "text/plain")
                .body("not a form");
            assert_eq!(status_within(request).await, expected, "edit {id}");
            let request = w
                .stranger
                .post(w.app.url(&format!("/products/{id}/delete")))
                .header("content-type", "application/json")
                .body("{}");
            assert_eq!(status_within(request).await, expected, "delete {id}");
        }
        // An upload that never ends is never read.
        let request = w
            .stranger
            .post(edit(public))
            .header("content-type", "multipart/form-data; boundary=x")
            .body(endless(
                b"--x\r\nContent-Disposition: form-data; name=\"image\"\r\n\r\n",
            ));
        assert_eq!(status_within(request).await, 403);
        let image = w.app.url(&format!("/api/v1/products/{public}/image"));
        for token in [&w.stranger_token, &w.moderator_token] {
            let request = w
                .app
                .client
                .put(&image)
                .bearer_auth(token)
                .header("content-type", "image/png")
                .body(endless(b"\x89PNG"));
            assert_eq!(status_within(request).await, 403, "image");
        }
        // The API decides the same way for every body.
        let api = |id| w.app.url(&format!("/api/v1/products/{id}"));
        for (id, expected) in [(public, 403), (draft, 404)] {
            for (content_type, body) in [("text/plain", "x"), ("application/json", "{not json")] {
                let request = w
                    .app
                    .client
                    .patch(api(id))
                    .bearer_auth(&w.stranger_token)
                    .header("content-type", content_type)
                    .body(body);
                assert_eq!(
                    status_within(request).await,
                    expected,
                    "PATCH {id} {content_type}"
                );
                let request = w
                    .app
                    .client
                    .post(format!("{}/versions", api(id)))
                    .bearer_auth(&w.moderator_token)
                    .header("content-type", content_type)
                    .body(body);
                assert_eq!(
                    status_within(request).await,
                    403,
                    "versions {id} {content_type}"
                );
            }
        }
        let unchanged = w.read(public).await;
        assert_eq!(
            (&unchanged["name"], &unchanged["image_url"]),
            (&json!("Desk lamp"), &Value::Null)
        );
        w.app.stop().await;
    }
);

db_test!(owners_addresses_are_not_shown_to_everybody, |db| {
    let admin = Admin::connect(&db).await;
    for (email, role) in [
        (OWNER, Role::Plain),
        (STRANGER, Role::Plain),
        (MODERATOR, Role::Moderator),
        ("root@example.com", Role::Superuser),
    ] {
        admin.person(email, role).await;
    }
    let lamps = admin.category("Lamps").await;
    let app = support::spawn_app(&db, &[("CATALOG_PUBLIC_BROWSING", "true")]).await;
    let owner = token(&app, OWNER).await;
    let r = app
        .api_send(
            Method::PATCH,
            &owner,
            "/api/v1/users/me",
            &json!({"first_name": "Olga", "last_name": "Owen"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let r = app
        .api_send(
            Method::POST,
            &owner,
            "/api/v1/products",
            &json!({"name": "Desk lamp", "price": "1.00", "category_id": lamps, "is_published": true}),
        )
        .await;
    let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let documents = [
        format!("/api/v1/products/{id}"),
        "/api/v1/products".to_owned(),
    ];
    let pages = ["/products".to_owned(), format!("/products/{id}")];
    let anonymous = reqwest::Client::new();
    let stranger = sign_in(&app, STRANGER).await;
    // Strangers, signed in or not, see the name and never the address.
    for path in &documents {
        for request in [
            anonymous.get(app.url(path)),
            app.client
                .get(app.url(path))
                .bearer_auth(token(&app, STRANGER).await),
        ] {
            let body = request.send().await.unwrap().text().await.unwrap();
            assert!(!body.contains(OWNER), "{path}: {body}");
            assert!(body.contains(r#""name":"Olga Owen""#), "{path}: {body}");
        }
    }
    for path in &pages {
        for client in [&anonymous, &stranger] {
            let (status, html) = app.page(client, path).await;
            assert_eq!(status, 200, "{path}");
            assert!(
                !html.contains(OWNER) && html.contains("Olga Owen"),
                "{path}"
            );
        }
    }
    // The owner, moderators and superusers see it.
    for who in [OWNER, MODERATOR, "root@example.com"] {
        let token = token(&app, who).await;
        for path in &documents {
            let body = app.api_get(&token, path).await.text().await.unwrap();
            assert!(
                body.contains(&format!(r#""email":"{OWNER}""#)),
                "{who} {path}"
            );
        }
        let browser = sign_in(&app, who).await;
        for path in &pages {
            assert!(
                app.page(&browser, path).await.1.contains(OWNER),
                "{who} {path}"
            );
        }
    }
    app.stop().await;
});

db_test!(a_drafts_image_is_as_private_as_the_draft, |db| {
    let admin = Admin::connect(&db).await;
    for (email, role) in [
        (OWNER, Role::Plain),
        (STRANGER, Role::Plain),
        (MODERATOR, Role::Moderator),
    ] {
        admin.person(email, role).await;
    }
    let lamps = admin.category("Lamps").await;
    let app = support::spawn_app(&db, &[("CATALOG_PUBLIC_BROWSING", "true")]).await;
    let owner = token(&app, OWNER).await;
    let mut images = Vec::new();
    for published in [false, true] {
        let r = app
            .api_send(
                Method::POST,
                &owner,
                "/api/v1/products",
                &json!({"name": "Lamp", "price": "1.00", "category_id": lamps, "is_published": published}),
            )
            .await;
        let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
        let r = app
            .client
            .put(app.url(&format!("/api/v1/products/{id}/image")))
            .bearer_auth(&owner)
            .header("content-type", "image/png")
            .body(support::catalog::png())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let url = r.json::<Value>().await.unwrap()["image_url"]
            .as_str()
            .unwrap()
            .to_owned();
        images.push((id, url.split_once("/media/").unwrap().1.to_owned()));
    }
    let (draft, draft_key) = &images[0];
    let (_, public_key) = &images[1];
    let get = |client: &reqwest::Client, key: &str, token: Option<&str>| {
        let mut request = client.get(app.url(&format!("/media/{key}")));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        async move {
            let r = request.send().await.unwrap();
            let cache = r
                .headers()
                .get("cache-control")
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default();
            (r.status().as_u16(), cache)
        }
    };
    let anonymous = reqwest::Client::new();
    let stranger = sign_in(&app, STRANGER).await;
    let stranger_token = token(&app, STRANGER).await;
    // Whoever may not see the draft may not see its image either.
    assert_eq!(get(&anonymous, draft_key, None).await.0, 404);
    assert_eq!(get(&stranger, draft_key, None).await.0, 404);
    assert_eq!(
        get(&anonymous, draft_key, Some(&stranger_token)).await.0,
        404
    );
    // Its owner and moderators see it, and no shared cache may keep it.
    let moderator = sign_in(&app, MODERATOR).await;
    for (status, cache) in [
        get(&anonymous, draft_key, Some(&owner)).await,
        get(&sign_in(&app, OWNER).await, draft_key, None).await,
        get(&moderator, draft_key, None).await,
    ] {
        assert_eq!(status, 200);
        assert!(cache.starts_with("private"), "{cache}");
    }
    // A published product's image is everybody's, and cacheable as such.
    let (status, cache) = get(&anonymous, public_key, None).await;
    assert_eq!(status, 200);
    assert!(cache.starts_with("public"), "{cache}");
    // Unpublished by a moderator, it is private again at once.
    let r = app
        .api_send(
            Method::PATCH,
            &token(&app, MODERATOR).await,
            &format!("/api/v1/products/{}", images[1].0),
            &json!({"is_published": false}),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(get(&anonymous, public_key, None).await.0, 404);
    assert_eq!(get(&stranger, public_key, None).await.0, 404);
    // A key no product has (a replaced image) is not found for anybody.
    let r = app
        .client
        .put(app.url(&format!("/api/v1/products/{draft}/image")))
        .bearer_auth(&owner)
        .header("content-type", "image/png")
        .body(support::catalog::png())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(get(&anonymous, draft_key, Some(&owner)).await.0, 404);
    app.stop().await;
});
