//! The product pages end to end, on each database: who sees and changes what (SPEC §6),
//! the versions formset, pagination, images and bad input.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use catalog_storage::db_test;
use catalog_storage::testing::TestDatabase;
use support::catalog::{Admin, Role, png, sign_in};
use support::{TestApp, browser, csrf_of, location, spawn_app};

const A: &str = "ann@example.com";
const B: &str = "bob@example.com";
const M: &str = "mod@example.com";
const S: &str = "root@example.com";

/// The cast: owner A, another user B, moderator M, superuser S, and two categories.
struct World {
    app: TestApp,
    admin: Admin,
    lamps: String,
    chairs: String,
}

async fn world(db: &TestDatabase, extra: &[(&str, &str)]) -> World {
    let admin = Admin::connect(db).await;
    admin.person(A, Role::Plain).await;
    admin.person(B, Role::Plain).await;
    admin.person(M, Role::Moderator).await;
    admin.person(S, Role::Superuser).await;
    let lamps = admin.category("Lamps").await.to_string();
    let chairs = admin.category("Chairs").await.to_string();
    World {
        app: spawn_app(db, extra).await,
        admin,
        lamps,
        chairs,
    }
}

impl World {
    async fn product(&self, client: &reqwest::Client, name: &str, published: bool) -> i64 {
        self.app
            .create_product(
                client,
                &[
                    ("name", name),
                    ("description", "Made by hand"),
                    ("category", &self.lamps),
                    ("price", "19.99"),
                    ("is_published", "false"),
                    ("is_published", if published { "true" } else { "false" }),
                ],
            )
            .await
    }
}

async fn count(db: &TestDatabase, sql: &str) -> i64 {
    db.count(sql).await.unwrap()
}

fn login_for(path: &str) -> String {
    let next: String = url::form_urlencoded::byte_serialize(path.as_bytes()).collect();
    format!("/users/login?next={next}")
}

db_test!(anonymous_visitors_are_sent_to_sign_in, |db| {
    let w = world(&db, &[]).await;
    let a = sign_in(&w.app, A).await;
    let id = w.product(&a, "Desk lamp", true).await;
    let anon = browser();
    for path in [
        "/products".to_owned(),
        "/products?page=2".to_owned(),
        "/products/new".to_owned(),
        format!("/products/{id}"),
        format!("/products/{id}/edit"),
        format!("/products/{id}/delete"),
    ] {
        let r = anon.get(w.app.url(&path)).send().await.unwrap();
        assert_eq!(r.status(), 303, "{path}");
        assert_eq!(location(&r), login_for(&path), "{path}");
    }
    for path in ["/products/new".to_owned(), format!("/products/{id}/edit")] {
        let form = reqwest::multipart::Form::new().text("name", "Sneaky");
        let r = anon
            .post(w.app.url(&path))
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "{path}");
        assert!(location(&r).starts_with("/users/login?next="), "{path}");
    }
    let r = anon
        .post(w.app.url(&format!("/products/{id}/delete")))
        .form(&[("csrf_token", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM products").await, 1);
    let r = anon
        .get(w.app.url("/api/v1/products"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    w.app.stop().await;
});

db_test!(public_browsing_shows_published_products_read_only, |db| {
    let w = world(&db, &[("CATALOG_PUBLIC_BROWSING", "true")]).await;
    let a = sign_in(&w.app, A).await;
    let shown = w.product(&a, "Shown lamp", true).await;
    let hidden = w.product(&a, "Hidden draft", false).await;
    let anon = browser();
    let (status, html) = w.app.page(&anon, "/products").await;
    assert_eq!(status, 200);
    assert!(html.contains("Shown lamp"));
    assert!(!html.contains("Hidden draft"));
    assert!(!html.contains("href=\"/products/new\""), "no create link");
    let (status, html) = w.app.page(&anon, &format!("/products/{shown}")).await;
    assert_eq!(status, 200);
    assert!(!html.contains("/edit\""), "read-only: no edit link");
    assert_eq!(
        w.app.page(&anon, &format!("/products/{hidden}")).await.0,
        404
    );
    for path in [
        format!("/products/{shown}/edit"),
        "/products/new".to_owned(),
    ] {
        let r = anon.get(w.app.url(&path)).send().await.unwrap();
        assert_eq!(r.status(), 303, "{path}");
    }
    let r = anon
        .get(w.app.url("/api/v1/products"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["total"], 1);
    assert_eq!(body["items"][0]["name"], "Shown lamp");
    let r = anon
        .get(w.app.url(&format!("/api/v1/products/{hidden}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = anon
        .post(w.app.url("/api/v1/products"))
        .json(&serde_json::json!({"name": "x", "price": "1.00", "category_id": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    w.app.stop().await;
});

db_test!(the_creator_owns_a_product_whatever_the_form_says, |db| {
    let w = world(&db, &[]).await;
    let a = sign_in(&w.app, A).await;
    let r = w
        .app
        .post_multipart(
            &a,
            "/products/new",
            "/products/new",
            &[
                ("name", "Floor lamp"),
                ("category", &w.lamps),
                ("price", "199.99"),
                ("owner", "2"),
                ("owner_id", "2"),
                ("is_published", "true"),
            ],
            Some(png()),
        )
        .await;
    assert_eq!(r.status(), 303);
    let path = location(&r);
    let (status, html) = w.app.page(&a, &path).await;
    assert_eq!(status, 200);
    assert!(html.contains("Product saved."), "flash after saving");
    assert!(html.contains(A), "owner shown");
    assert!(!html.contains(B));
    assert!(html.contains("199.99"));
    // The image is served from /media with its type and nosniff: the page shows the
    // large variant and links the original.
    let start = html.find("src=\"/media/").unwrap() + 5;
    let end = start + html[start..].find('"').unwrap();
    assert!(html[start..end].ends_with("-768.jpg"));
    let r = a.get(w.app.url(&html[start..end])).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/jpeg");
    let start = html.find("href=\"/media/").unwrap() + 6;
    let end = start + html[start..].find('"').unwrap();
    let r = a.get(w.app.url(&html[start..end])).send().await.unwrap();
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    let owners = count(
        &db,
        "SELECT COUNT(*) AS n FROM products p JOIN users u ON u.id = p.owner_id \
         WHERE u.email = 'ann@example.com'",
    )
    .await;
    assert_eq!(owners, 1);
    w.app.stop().await;
});

db_test!(others_cannot_see_edit_or_delete_what_is_not_theirs, |db| {
    let w = world(&db, &[]).await;
    let a = sign_in(&w.app, A).await;
    let b = sign_in(&w.app, B).await;
    let public = w.product(&a, "Public lamp", true).await;
    let draft = w.product(&a, "Secret draft", false).await;
    let (_, list) = w.app.page(&b, "/products").await;
    assert!(list.contains("Public lamp"));
    assert!(!list.contains("Secret draft"));
    for path in [
        format!("/products/{draft}"),
        format!("/products/{draft}/edit"),
        format!("/products/{draft}/delete"),
        "/products/999999".to_owned(),
        "/products/abc".to_owned(),
    ] {
        assert_eq!(w.app.page(&b, &path).await.0, 404, "{path}");
    }
    assert_eq!(
        w.app.page(&b, &format!("/products/{public}/edit")).await.0,
        403
    );
    assert_eq!(
        w.app
            .page(&b, &format!("/products/{public}/delete"))
            .await
            .0,
        403
    );
    // Forged posts with B's own valid CSRF token.
    let (_, page) = w.app.page(&b, "/products/new").await;
    let csrf = csrf_of(&page);
    let form = support::catalog::product_form(&csrf, &[("name", "Hijacked")], None);
    let r = b
        .post(w.app.url(&format!("/products/{public}/edit")))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let form = support::catalog::product_form(&csrf, &[("description", "Hijacked")], None);
    let r = b
        .post(w.app.url(&format!("/products/{draft}/edit")))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    for id in [public, draft] {
        let r = b
            .post(w.app.url(&format!("/products/{id}/delete")))
            .form(&[("csrf_token", csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert!(matches!(r.status().as_u16(), 403 | 404));
    }
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) AS n FROM products WHERE name IN ('Public lamp', 'Secret draft') \
             AND description = 'Made by hand'"
        )
        .await,
        2
    );
    // The owner deletes through the confirmation page.
    let r = w
        .app
        .submit(
            &a,
            &format!("/products/{public}/delete"),
            &format!("/products/{public}/delete"),
            &[],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/products");
    let (_, html) = w.app.page(&a, "/products").await;
    assert!(html.contains("Product deleted."));
    assert_eq!(w.app.page(&a, &format!("/products/{public}")).await.0, 404);
    // A superuser may delete anybody's product.
    let s = sign_in(&w.app, S).await;
    let r = w
        .app
        .submit(
            &s,
            &format!("/products/{draft}/delete"),
            &format!("/products/{draft}/delete"),
            &[],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM products").await, 0);
    w.app.stop().await;
});

db_test!(moderators_change_only_what_they_may, |db| {
    let w = world(&db, &[]).await;
    let a = sign_in(&w.app, A).await;
    let m = sign_in(&w.app, M).await;
    let id = w.product(&a, "Table lamp", true).await;
    let draft = w.product(&a, "Owner's draft", false).await;
    let (_, list) = w.app.page(&m, "/products").await;
    assert!(list.contains("Owner&#39;s draft") || list.contains("Owner's draft"));
    let edit = format!("/products/{id}/edit");
    let (status, html) = w.app.page(&m, &edit).await;
    assert_eq!(status, 200);
    assert!(html.contains("name=\"description\""));
    assert!(html.contains("name=\"category\""));
    assert!(html.contains("name=\"is_published\""));
    for absent in [
        "name=\"name\"",
        "name=\"price\"",
        "name=\"image\"",
        "versions-TOTAL_FORMS",
    ] {
        assert!(
            !html.contains(absent),
            "moderator form must not have {absent}"
        );
    }
    // Forbidden fields: 403 and nothing changes, even alongside allowed ones.
    for (field, value) in [
        ("name", "Renamed"),
        ("price", "0.01"),
        ("versions-0-number", "9.9"),
    ] {
        let r = w
            .app
            .post_multipart(
                &m,
                &edit,
                &edit,
                &[("description", "Changed"), (field, value)],
                None,
            )
            .await;
        assert_eq!(r.status(), 403, "{field}");
    }
    let r = w
        .app
        .post_multipart(&m, &edit, &edit, &[("description", "Changed")], Some(png()))
        .await;
    assert_eq!(r.status(), 403, "image");
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) AS n FROM products WHERE name = 'Table lamp' \
             AND description = 'Made by hand' AND price_cents = 1999 AND image IS NULL"
        )
        .await,
        1
    );
    assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM versions").await, 0);
    // What a moderator may do: description, category, unpublish.
    let r = w
        .app
        .post_multipart(
            &m,
            &edit,
            &edit,
            &[
                ("description", "Checked by a moderator"),
                ("category", &w.chairs),
                ("is_published", "false"),
            ],
            None,
        )
        .await;
    assert_eq!(r.status(), 303);
    let (_, html) = w.app.page(&a, &format!("/products/{id}")).await;
    assert!(html.contains("Checked by a moderator"));
    assert!(html.contains("Chairs"));
    assert!(html.contains("Unpublished by a moderator"));
    // No delete for moderators; no publishing of an owner's draft.
    let r = w
        .app
        .submit(
            &m,
            &format!("/products/{id}"),
            &format!("/products/{id}/delete"),
            &[],
        )
        .await;
    assert_eq!(r.status(), 403);
    let (_, html) = w.app.page(&m, &format!("/products/{draft}/edit")).await;
    assert!(!html.contains("name=\"is_published\""));
    let draft_edit = format!("/products/{draft}/edit");
    let r = w
        .app
        .post_multipart(
            &m,
            &draft_edit,
            &draft_edit,
            &[("is_published", "true")],
            None,
        )
        .await;
    assert_eq!(r.status(), 403);
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) AS n FROM products WHERE is_published = TRUE"
        )
        .await,
        0
    );
    w.app.stop().await;
});

db_test!(
    a_moderated_product_stays_unpublished_until_a_moderator_says,
    |db| {
        let w = world(&db, &[]).await;
        let a = sign_in(&w.app, A).await;
        let m = sign_in(&w.app, M).await;
        let id = w.product(&a, "Wall lamp", true).await;
        let edit = format!("/products/{id}/edit");
        let r = w
            .app
            .post_multipart(&m, &edit, &edit, &[("is_published", "false")], None)
            .await;
        assert_eq!(r.status(), 303);
        let reason = "only a moderator can publish it again";
        let (_, html) = w.app.page(&a, &format!("/products/{id}")).await;
        assert!(html.contains(reason), "the owner is told why");
        let (_, html) = w.app.page(&a, &edit).await;
        assert!(html.contains(reason));
        assert!(html.contains("disabled"));
        let full = |published: &'static str| {
            let lamps = w.lamps.clone();
            move || {
                vec![
                    ("name", "Wall lamp".to_owned()),
                    ("description", "Made by hand".to_owned()),
                    ("category", lamps.clone()),
                    ("price", "19.99".to_owned()),
                    ("is_published", "false".to_owned()),
                    ("is_published", published.to_owned()),
                ]
            }
        };
        let fields = full("true")();
        let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = w.app.post_multipart(&a, &edit, &edit, &refs, None).await;
        assert_eq!(r.status(), 403);
        assert!(r.text().await.unwrap().contains(reason));
        // The owner can still edit the rest while it is locked.
        let mut fields = full("false")();
        fields[0].1 = "Wall lamp II".into();
        let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = w.app.post_multipart(&a, &edit, &edit, &refs, None).await;
        assert_eq!(r.status(), 303);
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) AS n FROM products WHERE name = 'Wall lamp II' \
             AND is_published = FALSE AND moderation_locked = TRUE"
            )
            .await,
            1
        );
        let r = w
            .app
            .post_multipart(&m, &edit, &edit, &[("is_published", "true")], None)
            .await;
        assert_eq!(r.status(), 303);
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) AS n FROM products WHERE is_published = TRUE \
             AND moderation_locked = FALSE"
            )
            .await,
            1
        );
        w.app.stop().await;
    }
);

db_test!(losing_the_moderators_group_takes_effect_at_once, |db| {
    let w = world(&db, &[]).await;
    let a = sign_in(&w.app, A).await;
    let m = sign_in(&w.app, M).await;
    let draft = w.product(&a, "Draft lamp", false).await;
    let published = w.product(&a, "Seen lamp", true).await;
    assert_eq!(w.app.page(&m, &format!("/products/{draft}")).await.0, 200);
    assert_eq!(
        w.app
            .page(&m, &format!("/products/{published}/edit"))
            .await
            .0,
        200
    );
    w.admin.leave_moderators(M).await;
    assert_eq!(w.app.page(&m, &format!("/products/{draft}")).await.0, 404);
    assert_eq!(
        w.app
            .page(&m, &format!("/products/{published}/edit"))
            .await
            .0,
        403
    );
    let (_, list) = w.app.page(&m, "/products").await;
    assert!(!list.contains("Draft lamp"));
    w.app.stop().await;
});

db_test!(versions_formset_keeps_one_current_version, |db| {
    let w = world(&db, &[]).await;
    let a = sign_in(&w.app, A).await;
    let id = w.product(&a, "Lamp app", true).await;
    let edit = format!("/products/{id}/edit");
    let (_, html) = w.app.page(&a, &edit).await;
    assert!(
        html.contains("versions-TOTAL_FORMS"),
        "owner gets the formset"
    );
    // Add 1.0 as current through the blank row.
    let r = w
        .app
        .post_multipart(
            &a,
            &edit,
            &edit,
            &[
                ("versions-TOTAL_FORMS", "1"),
                ("versions-0-id", ""),
                ("versions-0-number", "1.0"),
                ("versions-0-name", "First"),
                ("versions-current", "0"),
            ],
            None,
        )
        .await;
    assert_eq!(r.status(), 303);
    let v1: i64 = {
        let (_, html) = w.app.page(&a, &edit).await;
        let marker = "name=\"versions-0-id\" value=\"";
        let start = html.find(marker).unwrap() + marker.len();
        html[start..start + html[start..].find('"').unwrap()]
            .parse()
            .unwrap()
    };
    let v1s = v1.to_string();
    // Add 2.0 and mark it current: 1.0 is demoted in the same save.
    let r = w
        .app
        .post_multipart(
            &a,
            &edit,
            &edit,
            &[
                ("versions-0-id", &v1s),
                ("versions-0-number", "1.0"),
                ("versions-0-name", "First"),
                ("versions-1-id", ""),
                ("versions-1-number", "2.0"),
                ("versions-1-name", "Second"),
                ("versions-current", "1"),
            ],
            None,
        )
        .await;
    assert_eq!(r.status(), 303);
    let current = "SELECT COUNT(*) AS n FROM versions WHERE is_current = TRUE";
    assert_eq!(count(&db, current).await, 1);
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) AS n FROM versions WHERE is_current = TRUE AND number = '2.0'"
        )
        .await,
        1
    );
    let (_, html) = w.app.page(&a, &format!("/products/{id}")).await;
    assert_eq!(html.matches("class=\"badge current\"").count(), 1);
    // A duplicate number is refused with the row's error; nothing changes.
    let r = w
        .app
        .post_multipart(
            &a,
            &edit,
            &edit,
            &[
                ("name", "Renamed meanwhile"),
                ("versions-0-id", &v1s),
                ("versions-0-number", "2.0"),
                ("versions-0-name", "First"),
            ],
            None,
        )
        .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("already has a version with this number"));
    assert!(html.contains("Renamed meanwhile"), "typed values are kept");
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) AS n FROM products WHERE name = 'Lamp app'"
        )
        .await,
        1
    );
    // Remove 1.0.
    let r = w
        .app
        .post_multipart(
            &a,
            &edit,
            &edit,
            &[
                ("versions-0-id", &v1s),
                ("versions-0-number", "1.0"),
                ("versions-0-DELETE", "on"),
            ],
            None,
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM versions").await, 1);
    w.app.stop().await;
});

db_test!(the_list_is_paginated_twenty_to_a_page, |db| {
    let w = world(&db, &[]).await;
    let a = sign_in(&w.app, A).await;
    for i in 0..45 {
        w.product(&a, &format!("Item {i:02}"), true).await;
    }
    let (status, html) = w.app.page(&a, "/products").await;
    assert_eq!(status, 200);
    assert_eq!(html.matches("class=\"card\"").count(), 20);
    assert!(html.contains("Item 44"), "newest first");
    assert!(html.contains("Page 1 of 3"));
    assert!(html.contains("href=\"/products?page=2\""));
    let (status, html) = w.app.page(&a, "/products?page=3").await;
    assert_eq!(status, 200);
    assert_eq!(html.matches("class=\"card\"").count(), 5);
    assert!(html.contains("Item 00"));
    assert!(!html.contains("rel=\"next\""));
    for bad in ["4", "0", "-1", "abc", "1.5", "99999999999999999999"] {
        assert_eq!(
            w.app.page(&a, &format!("/products?page={bad}")).await.0,
            404,
            "page={bad}"
        );
    }
    w.app.stop().await;
});

db_test!(bad_product_input_is_refused_and_changes_nothing, |db| {
    let w = world(&db, &[]).await;
    let a = sign_in(&w.app, A).await;
    let long = "x".repeat(101);
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            vec![("name", &long), ("category", &w.lamps), ("price", "1.00")],
            "at most 100",
        ),
        (
            vec![("name", "Lamp"), ("category", "999999"), ("price", "1.00")],
            "valid category",
        ),
        (
            vec![("name", "Lamp"), ("category", "lamps"), ("price", "1.00")],
            "valid category",
        ),
        (
            vec![("name", "Lamp"), ("category", &w.lamps), ("price", "-1.00")],
            "price",
        ),
        (
            vec![("name", "Lamp"), ("category", &w.lamps), ("price", "1.999")],
            "price",
        ),
        (
            vec![("name", "Lamp"), ("category", &w.lamps), ("price", "ten")],
            "price",
        ),
        (
            vec![("name", ""), ("category", &w.lamps), ("price", "1.00")],
            "required",
        ),
    ];
    for (fields, expected) in cases {
        let r = w
            .app
            .post_multipart(&a, "/products/new", "/products/new", &fields, None)
            .await;
        assert_eq!(r.status(), 422, "{fields:?}");
        let html = r.text().await.unwrap();
        assert!(html.contains("class=\"error\""), "{fields:?}");
        assert!(
            html.to_lowercase().contains(expected),
            "{fields:?}: {expected}"
        );
    }
    // Not an image.
    let r = w
        .app
        .post_multipart(
            &a,
            "/products/new",
            "/products/new",
            &[("name", "Lamp"), ("category", &w.lamps), ("price", "1.00")],
            Some(b"GIF89a but not really".to_vec()),
        )
        .await;
    assert_eq!(r.status(), 422);
    // A published flag that is neither yes nor no.
    let r = w
        .app
        .post_multipart(
            &a,
            "/products/new",
            "/products/new",
            &[
                ("name", "Lamp"),
                ("category", &w.lamps),
                ("price", "1.00"),
                ("is_published", "perhaps"),
            ],
            None,
        )
        .await;
    assert_eq!(r.status(), 400);
    assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM products").await, 0);
    // A forged CSRF token.
    let form = support::catalog::product_form(
        "forged",
        &[("name", "Lamp"), ("category", &w.lamps), ("price", "1.00")],
        None,
    );
    let r = a
        .post(w.app.url("/products/new"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM products").await, 0);
    // Markup is shown escaped; SQL-looking text is stored verbatim.
    let script = "<script>alert(1)</script>";
    let id = w.product(&a, script, true).await;
    let (_, html) = w.app.page(&a, &format!("/products/{id}")).await;
    assert!(!html.contains(script));
    assert!(
        html.contains("<h1>&#60;script&#62;alert(1)&#60;/script&#62;</h1>"),
        "the name is shown, escaped"
    );
    let (_, html) = w.app.page(&a, "/products").await;
    assert!(!html.contains(script));
    let sql = "Robert'); DROP TABLE products;--";
    w.product(&a, sql, true).await;
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) AS n FROM products WHERE name = 'Robert''); DROP TABLE products;--'"
        )
        .await,
        1
    );
    w.app.stop().await;
});

db_test!(reading_pages_does_not_write_the_session, |db| {
    let w = world(&db, &[]).await;
    let a = sign_in(&w.app, A).await;
    // The first page after signing in shows the flash and marks the day: writes.
    assert_eq!(w.app.page(&a, "/products").await.0, 200);
    let far = "2100-01-01T00:00:00Z";
    db.store
        .execute_unprepared(&format!("UPDATE sessions SET expires_at = '{far}'"))
        .await
        .unwrap();
    for path in ["/products", "/products/new", "/users/profile"] {
        assert_eq!(w.app.page(&a, path).await.0, 200, "{path}");
    }
    assert_eq!(
        count(
            &db,
            &format!("SELECT COUNT(*) AS n FROM sessions WHERE expires_at = '{far}'")
        )
        .await,
        1,
        "page views left the stored session alone"
    );
    w.app.stop().await;
});

db_test!(
    posting_without_reading_pages_keeps_only_the_latest_flashes,
    |db| {
        let w = world(&db, &[]).await;
        let a = sign_in(&w.app, A).await;
        let (_, html) = w.app.page(&a, "/products/new").await;
        let csrf = support::csrf_of(&html);
        // A script posting form after form never reads the pages that show the messages.
        for i in 0..12 {
            let form = support::catalog::product_form(
                &csrf,
                &[
                    ("name", &format!("Lamp {i}")),
                    ("category", &w.lamps),
                    ("price", "1.00"),
                ],
                None,
            );
            let r = a
                .post(w.app.url("/products/new"))
                .multipart(form)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 303);
        }
        let (_, html) = w.app.page(&a, "/products").await;
        assert_eq!(html.matches("Product saved.").count(), 5, "the latest five");
        let longest = db
            .count("SELECT CAST(COALESCE(MAX(LENGTH(data)), 0) AS BIGINT) AS n FROM sessions")
            .await
            .unwrap();
        assert!(longest < 1024, "session rows stay small: {longest} bytes");
        w.app.stop().await;
    }
);
