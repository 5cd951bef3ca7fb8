//! The product API end to end, on each database: the JSON shapes of SPEC §10, the rules of
//! SPEC §6, pagination, versions, images and bad input.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use catalog_storage::db_test;
use catalog_storage::testing::TestDatabase;
use reqwest::Method;
use serde_json::{Value, json};
use support::catalog::{Admin, Role, png, token};
use support::{TestApp, spawn_app};

const A: &str = "ann@example.com";
const B: &str = "bob@example.com";
const M: &str = "mod@example.com";
const S: &str = "root@example.com";

struct World {
    app: TestApp,
    admin: Admin,
    lamps: i64,
    chairs: i64,
    a: String,
    b: String,
    m: String,
}

async fn world(db: &TestDatabase) -> World {
    let admin = Admin::connect(db).await;
    admin.person(A, Role::Plain).await;
    admin.person(B, Role::Plain).await;
    admin.person(M, Role::Moderator).await;
    admin.person(S, Role::Superuser).await;
    let lamps = admin.category("Lamps").await;
    let chairs = admin.category("Chairs").await;
    let app = spawn_app(db, &[]).await;
    let (a, b, m) = (
        token(&app, A).await,
        token(&app, B).await,
        token(&app, M).await,
    );
    World {
        app,
        admin,
        lamps,
        chairs,
        a,
        b,
        m,
    }
}

impl World {
    async fn create(&self, token: &str, body: Value) -> (u16, Value, String) {
        let r = self
            .app
            .api_send(Method::POST, token, "/api/v1/products", &body)
            .await;
        let status = r.status().as_u16();
        let location = support::location(&r);
        (status, r.json().await.unwrap_or(Value::Null), location)
    }

    async fn product(&self, name: &str, published: bool) -> i64 {
        let (status, body, _) = self
            .create(
                &self.a,
                json!({"name": name, "description": "Made by hand", "category_id": self.lamps,
                       "price": "19.99", "is_published": published}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        body["id"].as_i64().unwrap()
    }

    async fn send(&self, method: Method, token: &str, path: &str, body: Value) -> (u16, Value) {
        let r = self.app.api_send(method, token, path, &body).await;
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, token: &str, path: &str) -> (u16, Value) {
        let r = self.app.api_get(token, path).await;
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }
}

async fn count(db: &TestDatabase, sql: &str) -> i64 {
    db.count(sql).await.unwrap()
}

db_test!(
    a_product_round_trips_exactly_and_belongs_to_its_creator,
    |db| {
        let w = world(&db).await;
        let (status, created, location) = w
        .create(
            &w.a,
            json!({"name": "Desk lamp", "description": "Bright", "category_id": w.lamps,
                   "price": "199.99", "is_published": true,
                   "id": 4242, "owner": {"id": 999, "email": "bob@example.com"}, "owner_id": 2,
                   "created_at": "2000-01-01T00:00:00Z", "moderation_locked": true, "colour": "red"}),
        )
        .await;
        assert_eq!(status, 201);
        let id = created["id"].as_i64().unwrap();
        assert_ne!(id, 4242);
        assert_eq!(location, format!("/api/v1/products/{id}"));
        let (status, got) = w.get(&w.a, &location).await;
        assert_eq!(status, 200);
        assert_eq!(got, created, "the document read back is the one created");
        assert_eq!(got["name"], "Desk lamp");
        assert_eq!(got["price"], "199.99");
        assert_eq!(got["is_published"], true);
        assert_eq!(got["moderation_locked"], false);
        assert_eq!(got["owner"]["email"], A, "the owner sees their own address");
        // Someone else sees the same document but for the owner's address.
        let (_, seen) = w.get(&w.b, &location).await;
        assert_eq!(
            seen["owner"],
            json!({"id": created["owner"]["id"], "name": got["owner"]["name"]})
        );
        let mut without = created.clone();
        without["owner"].as_object_mut().unwrap().remove("email");
        assert_eq!(seen, without);
        assert_eq!(got["category"], json!({"id": w.lamps, "name": "Lamps"}));
        assert_eq!(got["versions"], json!([]));
        assert_eq!(got["image_url"], Value::Null);
        let created_at = got["created_at"].as_str().unwrap();
        assert!(created_at.ends_with('Z') && !created_at.starts_with("2000"));
        assert!(chrono::DateTime::parse_from_rfc3339(created_at).is_ok());
        for price in ["0.00", "0.10", "12345678.90", "5"] {
            let (status, body, _) = w
                .create(
                    &w.a,
                    json!({"name": "P", "category_id": w.lamps, "price": price}),
                )
                .await;
            assert_eq!(status, 201, "{price}: {body}");
            let expected = if price == "5" { "5.00" } else { price };
            assert_eq!(body["price"], expected);
            assert_eq!(body["is_published"], false, "a draft unless said otherwise");
        }
        // The image goes through the media pipeline and is served with its type.
        let r = w
            .app
            .client
            .put(w.app.url(&format!("/api/v1/products/{id}/image")))
            .bearer_auth(&w.a)
            .body(png())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let body: Value = r.json().await.unwrap();
        let url = body["image_url"].as_str().unwrap();
        let path = &url[url.find("/media/").unwrap()..];
        // Served to whoever may see the product, as the product is.
        assert_eq!(w.app.get(path).await.status(), 404, "not to strangers");
        let r = w.app.api_get(&w.b, path).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "image/png");
        assert_eq!(r.headers()["x-content-type-options"], "nosniff");
        let r = w
            .app
            .client
            .put(w.app.url(&format!("/api/v1/products/{id}/image")))
            .bearer_auth(&w.a)
            .body(b"<svg onload=alert(1)>".to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422);
        let body: Value = r.json().await.unwrap();
        assert!(body["errors"]["image"].is_array());
        w.app.stop().await;
    }
);

db_test!(
    others_cannot_see_change_or_delete_what_is_not_theirs,
    |db| {
        let w = world(&db).await;
        let public = w.product("Public", true).await;
        let draft = w.product("Draft", false).await;
        let (_, list) = w.get(&w.b, "/api/v1/products").await;
        assert_eq!(list["total"], 1);
        assert_eq!(list["items"][0]["id"], public);
        for path in [
            format!("/api/v1/products/{draft}"),
            "/api/v1/products/999999".to_owned(),
            "/api/v1/products/abc".to_owned(),
        ] {
            let (status, body) = w.get(&w.b, &path).await;
            assert_eq!(status, 404, "{path}");
            assert_eq!(body["status"], 404);
        }
        let (status, body) = w
            .send(
                Method::PATCH,
                &w.b,
                &format!("/api/v1/products/{public}"),
                json!({"name": "Mine now", "price": "0.01", "description": "x"}),
            )
            .await;
        assert_eq!(status, 403);
        assert_eq!(
            body["forbidden_fields"],
            json!(["name", "description", "price"])
        );
        let (status, _) = w
            .send(
                Method::PATCH,
                &w.b,
                &format!("/api/v1/products/{draft}"),
                json!({"name": "Mine now"}),
            )
            .await;
        assert_eq!(
            status, 404,
            "an invisible product is not found, not forbidden"
        );
        let (status, _) = w
            .send(
                Method::DELETE,
                &w.b,
                &format!("/api/v1/products/{public}"),
                json!({}),
            )
            .await;
        assert_eq!(status, 403);
        let (status, _) = w
            .send(
                Method::DELETE,
                &w.b,
                &format!("/api/v1/products/{draft}"),
                json!({}),
            )
            .await;
        assert_eq!(status, 404);
        let (status, _) = w
            .send(
                Method::POST,
                &w.b,
                &format!("/api/v1/products/{public}/versions"),
                json!({"number": "6.6.6"}),
            )
            .await;
        assert_eq!(status, 403);
        let r = w
            .app
            .client
            .put(w.app.url(&format!("/api/v1/products/{public}/image")))
            .bearer_auth(&w.b)
            .body(png())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        assert_eq!(
            count(
                &db,
                "SELECT COUNT(*) AS n FROM products WHERE description = 'Made by hand' \
             AND price_cents = 1999 AND image IS NULL"
            )
            .await,
            2
        );
        assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM versions").await, 0);
        // Superusers may delete anybody's product; owners their own.
        let s = token(&w.app, S).await;
        let (status, _) = w
            .send(
                Method::DELETE,
                &s,
                &format!("/api/v1/products/{public}"),
                json!({}),
            )
            .await;
        assert_eq!(status, 204);
        let (status, _) = w
            .send(
                Method::DELETE,
                &w.a,
                &format!("/api/v1/products/{draft}"),
                json!({}),
            )
            .await;
        assert_eq!(status, 204);
        assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM products").await, 0);
        w.app.stop().await;
    }
);

db_test!(
    moderators_unpublish_and_recategorise_but_nothing_else,
    |db| {
        let w = world(&db).await;
        let id = w.product("Lamp", true).await;
        let draft = w.product("Draft", false).await;
        let path = format!("/api/v1/products/{id}");
        let (_, list) = w.get(&w.m, "/api/v1/products").await;
        assert_eq!(list["total"], 2, "moderators see unpublished products");
        for (body, forbidden) in [
            (json!({"name": "Renamed"}), json!(["name"])),
            (
                json!({"price": "0.01", "description": "ok"}),
                json!(["price"]),
            ),
            (json!({"name": 7}), json!(["name"])),
        ] {
            let (status, problem) = w.send(Method::PATCH, &w.m, &path, body.clone()).await;
            if body["name"] == 7 {
                assert_eq!(status, 422, "a wrong type is a 422 before any rule");
                continue;
            }
            assert_eq!(status, 403, "{body}");
            assert_eq!(problem["forbidden_fields"], forbidden);
            assert_eq!(problem["status"], 403);
        }
        let (status, _) = w
            .send(
                Method::POST,
                &w.m,
                &format!("{path}/versions"),
                json!({"number": "1.0"}),
            )
            .await;
        assert_eq!(status, 403);
        let (status, _) = w.send(Method::DELETE, &w.m, &path, json!({})).await;
        assert_eq!(status, 403);
        assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) AS n FROM products WHERE name = 'Lamp' AND description = 'Made by hand' \
             AND price_cents = 1999"
        )
        .await,
        1
    );
        // Sending the current representation back is not a change.
        let (_, current) = w.get(&w.m, &path).await;
        let (status, changed) = w
        .send(
            Method::PATCH,
            &w.m,
            &path,
            json!({"name": current["name"], "price": current["price"], "description": "Moderated",
                   "category_id": w.chairs, "is_published": false}),
        )
        .await;
        assert_eq!(status, 200, "{changed}");
        assert_eq!(changed["description"], "Moderated");
        assert_eq!(changed["category"]["name"], "Chairs");
        assert_eq!(changed["is_published"], false);
        assert_eq!(changed["moderation_locked"], true);
        // A draft its owner never published is not the moderator's to publish.
        let (status, problem) = w
            .send(
                Method::PATCH,
                &w.m,
                &format!("/api/v1/products/{draft}"),
                json!({"is_published": true}),
            )
            .await;
        assert_eq!(status, 403);
        assert_eq!(problem["forbidden_fields"], json!(["is_published"]));
        w.app.stop().await;
    }
);

db_test!(
    a_moderated_product_is_republished_only_by_a_moderator,
    |db| {
        let w = world(&db).await;
        let id = w.product("Lamp", true).await;
        let path = format!("/api/v1/products/{id}");
        let (status, _) = w
            .send(Method::PATCH, &w.m, &path, json!({"is_published": false}))
            .await;
        assert_eq!(status, 200);
        let (status, problem) = w
            .send(Method::PATCH, &w.a, &path, json!({"is_published": true}))
            .await;
        assert_eq!(status, 403);
        assert_eq!(problem["forbidden_fields"], json!(["is_published"]));
        assert!(problem["detail"].as_str().unwrap().contains("moderator"));
        let (status, body) = w
            .send(Method::PATCH, &w.a, &path, json!({"name": "Lamp 2"}))
            .await;
        assert_eq!(status, 200, "the owner still edits the rest");
        assert_eq!(body["is_published"], false);
        let (status, body) = w
            .send(Method::PATCH, &w.m, &path, json!({"is_published": true}))
            .await;
        assert_eq!(status, 200);
        assert_eq!(body["is_published"], true);
        assert_eq!(body["moderation_locked"], false);
        // The owner may unpublish and republish their own product freely.
        for published in [false, true] {
            let (status, body) = w
                .send(
                    Method::PATCH,
                    &w.a,
                    &path,
                    json!({"is_published": published}),
                )
                .await;
            assert_eq!(status, 200);
            assert_eq!(body["moderation_locked"], false);
        }
        // Losing the group takes effect on the next request.
        w.admin.leave_moderators(M).await;
        let (status, _) = w
            .send(Method::PATCH, &w.m, &path, json!({"is_published": false}))
            .await;
        assert_eq!(status, 403);
        w.app.stop().await;
    }
);

db_test!(versions_are_managed_by_the_owner_with_one_current, |db| {
    let w = world(&db).await;
    let id = w.product("App", true).await;
    let versions = format!("/api/v1/products/{id}/versions");
    let r = w
        .app
        .api_send(
            Method::POST,
            &w.a,
            &versions,
            &json!({"number": "1.0.0", "name": "First", "is_current": true}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let location = support::location(&r);
    let v1: Value = r.json().await.unwrap();
    assert_eq!(location, format!("{versions}/{}", v1["id"]));
    assert_eq!(v1["is_current"], true);
    let (status, v2) = w
        .send(
            Method::POST,
            &w.a,
            &versions,
            json!({"number": "1.1.0", "name": "Second", "is_current": true}),
        )
        .await;
    assert_eq!(status, 201);
    let (_, product) = w.get(&w.a, &format!("/api/v1/products/{id}")).await;
    let current: Vec<&Value> = product["versions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["is_current"] == true)
        .collect();
    assert_eq!(current.len(), 1, "marking one current demoted the other");
    assert_eq!(current[0]["id"], v2["id"]);
    let (status, problem) = w
        .send(Method::POST, &w.a, &versions, json!({"number": "1.1.0"}))
        .await;
    assert_eq!(status, 422);
    assert!(problem["errors"]["number"].is_array());
    let v1_path = format!("{versions}/{}", v1["id"]);
    let (status, changed) = w
        .send(Method::PATCH, &w.a, &v1_path, json!({"is_current": true}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        changed["number"], "1.0.0",
        "keys not sent keep their values"
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) AS n FROM versions WHERE is_current = TRUE"
        )
        .await,
        1
    );
    for bad in [
        json!({"number": ""}),
        json!({"number": "1".repeat(21)}),
        json!({"number": 1}),
    ] {
        let (status, _) = w.send(Method::POST, &w.a, &versions, bad.clone()).await;
        assert_eq!(status, 422, "{bad}");
    }
    let other = w.product("Other", true).await;
    let (status, _) = w
        .send(
            Method::DELETE,
            &w.a,
            &format!("/api/v1/products/{other}/versions/{}", v1["id"]),
            json!({}),
        )
        .await;
    assert_eq!(status, 404, "a version is reached through its own product");
    let (status, _) = w.send(Method::DELETE, &w.a, &v1_path, json!({})).await;
    assert_eq!(status, 204);
    assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM versions").await, 1);
    w.app.stop().await;
});

db_test!(pages_are_capped_and_checked, |db| {
    let w = world(&db).await;
    let owner = w
        .admin
        .ports
        .users
        .find_by_email(&catalog_domain::user::Email::parse(A).unwrap())
        .await
        .unwrap()
        .unwrap();
    let now = chrono::Utc::now();
    let products = (0..130)
        .map(|i| catalog_domain::product::NewProduct {
            name: catalog_domain::product::ProductName::parse(&format!("Item {i:03}")).unwrap(),
            description: catalog_domain::product::Description::empty(),
            category_id: catalog_domain::product::CategoryId(w.lamps),
            price: catalog_domain::product::Money::parse("1.00").unwrap(),
            is_published: true,
            owner_id: owner.id,
            image: None,
            created_at: now + chrono::Duration::seconds(i),
        })
        .collect();
    w.admin.ports.products.insert_many(products).await.unwrap();
    let (status, page) = w.get(&w.b, "/api/v1/products").await;
    assert_eq!(status, 200);
    assert_eq!(page["per_page"], 20);
    assert_eq!(page["page"], 1);
    assert_eq!(page["total"], 130);
    assert_eq!(page["items"].as_array().unwrap().len(), 20);
    assert_eq!(page["items"][0]["name"], "Item 129", "newest first");
    let (_, page) = w.get(&w.b, "/api/v1/products?per_page=500").await;
    assert_eq!(page["per_page"], 100);
    assert_eq!(page["items"].as_array().unwrap().len(), 100);
    let (_, page) = w.get(&w.b, "/api/v1/products?per_page=100&page=2").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 30);
    assert_eq!(page["items"][29]["name"], "Item 000");
    let (status, page) = w.get(&w.b, "/api/v1/products?page=99").await;
    assert_eq!(status, 200);
    assert_eq!(page["items"], json!([]));
    assert_eq!(page["total"], 130);
    for (query, field) in [
        ("page=0", "page"),
        ("page=-1", "page"),
        ("page=abc", "page"),
        ("per_page=0", "per_page"),
        ("per_page=1.5", "per_page"),
        ("page=99999999999999999999", "page"),
    ] {
        let (status, problem) = w.get(&w.b, &format!("/api/v1/products?{query}")).await;
        assert_eq!(status, 422, "{query}");
        assert!(problem["errors"][field].is_array(), "{query}: {problem}");
    }
    w.app.stop().await;
});

db_test!(bad_product_bodies_are_refused_and_change_nothing, |db| {
    let w = world(&db).await;
    let ok = |extra: Value| {
        let mut body = json!({"name": "Lamp", "category_id": w.lamps, "price": "1.00"});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    for (body, field) in [
        (ok(json!({"name": "x".repeat(101)})), "name"),
        (ok(json!({"name": ""})), "name"),
        (ok(json!({"name": 5})), "name"),
        (
            ok(json!({"description": "d".repeat(10_001)})),
            "description",
        ),
        (ok(json!({"description": ["a"]})), "description"),
        (ok(json!({"category_id": 999_999})), "category_id"),
        (ok(json!({"category_id": "1"})), "category_id"),
        (ok(json!({"category_id": 1.5})), "category_id"),
        (ok(json!({"price": 19.99})), "price"),
        (ok(json!({"price": "-1.00"})), "price"),
        (ok(json!({"price": "1.999"})), "price"),
        (ok(json!({"price": "abc"})), "price"),
        (ok(json!({"price": "1e3"})), "price"),
        (ok(json!({"is_published": "yes"})), "is_published"),
        (json!({"category_id": w.lamps, "price": "1.00"}), "name"),
        (json!({"name": "Lamp", "price": "1.00"}), "category_id"),
        (json!({"name": "Lamp", "category_id": w.lamps}), "price"),
    ] {
        let (status, problem, _) = w.create(&w.a, body.clone()).await;
        assert_eq!(status, 422, "{body}");
        assert!(problem["errors"][field].is_array(), "{body}: {problem}");
    }
    for (raw, status) in [("not json", 400), ("[1, 2]", 422), ("\"lamp\"", 422)] {
        let r = w
            .app
            .client
            .post(w.app.url("/api/v1/products"))
            .bearer_auth(&w.a)
            .header("content-type", "application/json")
            .body(raw)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), status, "{raw}");
        assert_eq!(r.headers()["content-type"], "application/problem+json");
    }
    let r = w
        .app
        .client
        .post(w.app.url("/api/v1/products"))
        .bearer_auth(&w.a)
        .body(ok(json!({})).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415, "JSON must say so");
    let r = w
        .app
        .client
        .post(w.app.url("/api/v1/products"))
        .bearer_auth("not-a-token")
        .json(&ok(json!({})))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM products").await, 0);
    // A PATCH with one bad value changes none of the good ones.
    let id = w.product("Lamp", true).await;
    let (status, _) = w
        .send(
            Method::PATCH,
            &w.a,
            &format!("/api/v1/products/{id}"),
            json!({"name": "Better lamp", "price": "-5"}),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) AS n FROM products WHERE name = 'Lamp'"
        )
        .await,
        1
    );
    // Markup and SQL-looking text are data.
    for name in [
        "<script>alert(1)</script>",
        "Robert'); DROP TABLE products;--",
    ] {
        let (status, body, _) = w.create(&w.a, ok(json!({"name": name}))).await;
        assert_eq!(status, 201);
        assert_eq!(body["name"], name);
    }
    assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM products").await, 3);
    // Categories are listed for clients to choose from.
    let (status, categories) = w.get(&w.b, "/api/v1/categories").await;
    assert_eq!(status, 200);
    let names: Vec<&str> = categories
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Chairs", "Lamps"]);
    w.app.stop().await;
});

#[tokio::test]
async fn the_openapi_document_describes_the_product_endpoints() {
    let db = catalog_storage::testing::TestDatabase::sqlite()
        .await
        .unwrap();
    let app = spawn_app(&db, &[]).await;
    let doc: Value = app.get("/api/openapi.json").await.json().await.unwrap();
    for path in [
        "/api/v1/products",
        "/api/v1/products/{id}",
        "/api/v1/products/{id}/image",
        "/api/v1/products/{id}/versions",
        "/api/v1/products/{id}/versions/{vid}",
        "/api/v1/categories",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} documented");
    }
    let product = &doc["components"]["schemas"]["ProductDoc"]["properties"];
    for key in [
        "id",
        "name",
        "description",
        "price",
        "is_published",
        "moderation_locked",
        "category",
        "owner",
        "image_url",
        "versions",
        "created_at",
        "updated_at",
    ] {
        assert!(product[key].is_object(), "ProductDoc.{key}");
    }
    // Errors are declared as the problem documents they are, including those that come
    // from the shared extractors rather than the handlers.
    let patch = &doc["paths"]["/api/v1/products/{id}"]["patch"]["responses"];
    for status in ["400", "401", "403", "404", "415", "422", "503"] {
        assert!(
            patch[status]["content"]["application/problem+json"].is_object(),
            "PATCH declares {status} as a problem: {patch}"
        );
    }
    assert!(patch["200"]["content"]["application/json"].is_object());
    assert!(patch["404"]["content"]["application/json"].is_null());
    let page = &doc["paths"]["/api/v1/products"]["get"]["parameters"][0];
    assert_eq!(page["schema"]["minimum"], 1, "{page}");
    // The request bodies are documented by the types that parse them: every key the
    // endpoints read, with its JSON type, none required.
    let schemas = &doc["components"]["schemas"];
    for (schema, keys) in [
        (
            "ProductBody",
            &[
                ("name", "string"),
                ("description", "string"),
                ("category_id", "integer"),
                ("price", "string"),
                ("is_published", "boolean"),
            ][..],
        ),
        (
            "VersionBody",
            &[
                ("number", "string"),
                ("name", "string"),
                ("is_current", "boolean"),
            ][..],
        ),
    ] {
        let properties = schemas[schema]["properties"].as_object().unwrap();
        assert_eq!(properties.len(), keys.len(), "{schema}: {properties:?}");
        for (key, kind) in keys {
            let types = &properties[*key]["type"];
            assert_eq!(types[0], *kind, "{schema}.{key}: {types}");
        }
        assert!(
            schemas[schema]["required"]
                .as_array()
                .is_none_or(Vec::is_empty),
            "{schema}"
        );
    }
    for (path, method, schema) in [
        ("/api/v1/products", "post", "ProductBody"),
        ("/api/v1/products/{id}", "patch", "ProductBody"),
        ("/api/v1/products/{id}/versions", "post", "VersionBody"),
    ] {
        let body = &doc["paths"][path][method]["requestBody"]["content"]["application/json"];
        assert_eq!(
            body["schema"]["$ref"],
            format!("#/components/schemas/{schema}"),
            "{method} {path}"
        );
    }
    // A wrong method is a problem document too, and says what is allowed.
    let r = app
        .client
        .put(app.url("/api/v1/categories"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    assert!(r.headers()["allow"].to_str().unwrap().contains("GET"));
    app.stop().await;
}
