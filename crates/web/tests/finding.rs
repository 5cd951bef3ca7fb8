//! Finding products over HTTP, on each database: search, every filter and order alone
//! and together, on the list page and in the API; invalid values answered with the
//! parameter named and nothing changed; drafts that stay hidden; links that keep the
//! filters; the categories page.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use catalog_storage::db_test;
use catalog_storage::testing::TestDatabase;
use reqwest::Method;
use serde_json::{Value, json};
use support::catalog::{Admin, Role, sign_in, token};
use support::{TestApp, browser, spawn_app, speaking};

const A: &str = "ann@example.com";
const B: &str = "bob@example.com";
const M: &str = "mod@example.com";

struct World {
    app: TestApp,
    lamps: i64,
    books: i64,
    a: String,
    b: String,
    m: String,
}

/// (name, description, in lamps, price, published, owned by B)
const PRODUCTS: [(&str, &str, bool, &str, bool, bool); 8] = [
    (
        "Лампа настольная",
        "Тёплый свет для чтения",
        true,
        "25.00",
        true,
        false,
    ),
    (
        "Desk lamp",
        "A warm light for reading",
        true,
        "19.99",
        true,
        false,
    ),
    (
        "Reading chair",
        "Pairs well with a desk lamp",
        false,
        "120.00",
        true,
        false,
    ),
    ("Floor lamp", "Tall brass lamp", true, "75.00", true, false),
    (
        "Secret prototype lamp",
        "Not yet public",
        true,
        "5.00",
        false,
        true,
    ),
    (
        "Book about lamps",
        "History of lighting",
        false,
        "12.00",
        true,
        true,
    ),
    (
        "Brass kettle",
        "Whistling kettle",
        false,
        "30.00",
        true,
        false,
    ),
    ("Ann's draft lamp", "Unfinished", true, "7.00", false, false),
];

async fn world(db: &TestDatabase, extra: &[(&str, &str)]) -> World {
    let admin = Admin::connect(db).await;
    admin.person(A, Role::Plain).await;
    admin.person(B, Role::Plain).await;
    admin.person(M, Role::Moderator).await;
    let lamps = admin.category("Lamps").await;
    let books = admin.category("Books").await;
    let app = spawn_app(db, extra).await;
    let (a, b, m) = (
        token(&app, A).await,
        token(&app, B).await,
        token(&app, M).await,
    );
    let w = World {
        app,
        lamps,
        books,
        a,
        b,
        m,
    };
    for (name, description, in_lamps, price, published, bobs) in PRODUCTS {
        let body = json!({"name": name, "description": description,
            "category_id": if in_lamps { lamps } else { books },
            "price": price, "is_published": published});
        let owner = if bobs { &w.b } else { &w.a };
        let r = w
            .app
            .api_send(Method::POST, owner, "/api/v1/products", &body)
            .await;
        assert_eq!(r.status(), 201, "{name}");
    }
    w
}

impl World {
    async fn get(&self, token: &str, path: &str) -> (u16, Value) {
        let r = self.app.api_get(token, path).await;
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// The names an API listing shows, checking its total.
    async fn names(&self, token: &str, query: &str) -> Vec<String> {
        let (status, body) = self
            .get(token, &format!("/api/v1/products?per_page=100&{query}"))
            .await;
        assert_eq!(status, 200, "{query}: {body}");
        let names: Vec<String> = body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(body["total"], names.len(), "{query}");
        names
    }

    async fn id_of(&self, token: &str, name: &str) -> i64 {
        let (_, body) = self
            .get(token, "/api/v1/products?per_page=100&mine=1")
            .await;
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap()["id"]
            .as_i64()
            .unwrap()
    }
}

fn q(text: &str) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("q", text)
        .finish()
}

db_test!(the_api_searches_in_both_languages_by_relevance, |db| {
    let w = world(&db, &[]).await;
    assert_eq!(w.names(&w.a, &q("лампы")).await, ["Лампа настольная"]);
    assert_eq!(
        w.names(&w.a, &q("lamps")).await,
        [
            "Ann's draft lamp",
            "Book about lamps",
            "Floor lamp",
            "Desk lamp",
            "Reading chair"
        ]
    );
    assert_eq!(w.names(&w.a, &q("ТЁПЛЫЙ")).await, ["Лампа настольная"]);
    assert_eq!(
        w.names(&w.a, &q("\"desk lamp\"")).await,
        ["Desk lamp", "Reading chair"]
    );
    assert_eq!(
        w.names(&w.a, &q("lamp -brass -draft")).await,
        ["Book about lamps", "Desk lamp", "Reading chair"]
    );
    // Anything typed is searched as words: never an error.
    for odd in ["\"", "-", "lamp' OR 1=1 --", "%_", "((lamp", "😀", "\u{0}"] {
        let (status, body) = w.get(&w.a, &format!("/api/v1/products?{}", q(odd))).await;
        assert_eq!(status, 200, "{odd:?}: {body}");
    }
    // Pages far past the end, searched or filtered: empty, never an error.
    for query in [
        "q=lamp&page=9223372036854775807&per_page=100",
        "q=lamp&page=18446744073709551615",
        "q=lamp&page=51",
        "sort=price&page=9223372036854775807&per_page=100",
        "category=1&page=18446744073709551615",
    ] {
        let (status, body) = w.get(&w.a, &format!("/api/v1/products?{query}")).await;
        assert_eq!(status, 200, "{query}: {body}");
        assert_eq!(body["items"], json!([]), "{query}");
    }
    let long = "lamp ".repeat(2000);
    let (status, _) = w.get(&w.a, &format!("/api/v1/products?{}", q(&long))).await;
    assert_eq!(status, 200);
});

db_test!(every_filter_and_order_alone_and_together, |db| {
    let w = world(&db, &[]).await;
    let (lamps, books) = (w.lamps, w.books);
    assert_eq!(
        w.names(&w.a, &format!("category={lamps}&sort=price")).await,
        [
            "Ann's draft lamp",
            "Desk lamp",
            "Лампа настольная",
            "Floor lamp"
        ]
    );
    assert_eq!(
        w.names(&w.a, "min_price=12&max_price=30.00&sort=-price")
            .await,
        [
            "Brass kettle",
            "Лампа настольная",
            "Desk lamp",
            "Book about lamps"
        ]
    );
    assert_eq!(
        w.names(&w.a, "sort=name&max_price=25").await,
        [
            "Ann's draft lamp",
            "Book about lamps",
            "Desk lamp",
            "Лампа настольная"
        ]
    );
    assert_eq!(
        w.names(&w.b, "mine=1").await,
        ["Book about lamps", "Secret prototype lamp"]
    );
    assert_eq!(
        w.names(&w.a, &format!("mine=1&category={books}&sort=new"))
            .await,
        ["Brass kettle", "Reading chair"]
    );
    assert_eq!(
        w.names(&w.a, &format!("{}&category={books}&sort=price", q("lamp")))
            .await,
        ["Book about lamps", "Reading chair"]
    );
    assert_eq!(
        w.names(&w.m, "status=unpublished&sort=name").await,
        ["Ann's draft lamp", "Secret prototype lamp"]
    );
    // A moderator unpublishes a product: it is locked.
    let kettle = w.id_of(&w.a, "Brass kettle").await;
    let r = w
        .app
        .api_send(
            Method::PATCH,
            &w.m,
            &format!("/api/v1/products/{kettle}"),
            &json!({"is_published": false}),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(w.names(&w.m, "status=locked").await, ["Brass kettle"]);
    assert_eq!(
        w.names(
            &w.m,
            &format!("status=published&category={lamps}&sort=name")
        )
        .await,
        ["Desk lamp", "Floor lamp", "Лампа настольная"]
    );
    // Paging keeps the order.
    let (_, page2) = w
        .get(&w.a, "/api/v1/products?sort=price&per_page=2&page=2")
        .await;
    let second: Vec<&str> = page2["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(second, ["Desk lamp", "Лампа настольная"]);
    assert_eq!(page2["total"], 7);
});

db_test!(a_filter_never_reveals_what_its_viewer_may_not_see, |db| {
    let w = world(&db, &[("CATALOG_PUBLIC_BROWSING", "true")]).await;
    let secret = q("Secret prototype lamp");
    for (who, token) in [("ann", &w.a), ("anonymous", &String::new())] {
        for extra in ["", "&status=unpublished", "&mine=1", "&sort=name"] {
            let path = format!("/api/v1/products?per_page=100&{secret}{extra}");
            let r = if token.is_empty() {
                w.app.client.get(w.app.url(&path)).send().await.unwrap()
            } else {
                w.app.api_get(token, &path).await
            };
            let status = r.status().as_u16();
            let body: Value = r.json().await.unwrap();
            let found = body["items"]
                .as_array()
                .map(|items| items.iter().any(|p| p["name"] == "Secret prototype lamp"))
                .unwrap_or(false);
            assert!(!found, "{who} found Bob's draft with {extra}: {body}");
            assert!(status == 200 || status == 422, "{who} {extra}: {status}");
        }
    }
    assert_eq!(
        w.names(&w.a, "status=unpublished").await,
        ["Ann's draft lamp"]
    );
    assert_eq!(w.names(&w.b, &secret).await, ["Secret prototype lamp"]);
    assert_eq!(w.names(&w.m, &secret).await, ["Secret prototype lamp"]);
    // The list page too.
    let ann = sign_in(&w.app, A).await;
    let (status, html) = w
        .app
        .page(&ann, &format!("/products?{secret}&status=unpublished"))
        .await;
    assert_eq!(status, 200);
    assert!(!html.contains(">Secret prototype lamp</a>"), "{html}");
    let (status, html) = w.app.page(&browser(), &format!("/products?{secret}")).await;
    assert_eq!(status, 200);
    assert!(!html.contains(">Secret prototype lamp</a>"));
    // Without public browsing, a search asks for a sign-in like the list.
    let closed = spawn_app(&db, &[]).await;
    let r = closed
        .client
        .get(closed.url(&format!("/api/v1/products?{secret}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    closed.stop().await;
});

db_test!(
    invalid_values_name_their_parameter_and_change_nothing,
    |db| {
        let w = world(&db, &[]).await;
        let products = db
            .count("SELECT COUNT(*) AS n FROM products")
            .await
            .unwrap();
        let terms = db
            .count("SELECT COUNT(*) AS n FROM search_terms")
            .await
            .unwrap();
        for (query, param) in [
            ("category=lamps", "category"),
            ("category=0", "category"),
            ("category=99999999999999999999", "category"),
            ("min_price=cheap", "min_price"),
            ("min_price=-1", "min_price"),
            ("max_price=1.234", "max_price"),
            ("max_price=1e9", "max_price"),
            ("min_price=10&max_price=9.99", "max_price"),
            ("mine=yes", "mine"),
            ("status=deleted", "status"),
            ("sort=price%20desc", "sort"),
            ("sort=relevance%3B%20DROP%20TABLE%20products", "sort"),
        ] {
            let (status, body) = w.get(&w.a, &format!("/api/v1/products?{query}")).await;
            assert_eq!(status, 422, "{query}: {body}");
            assert_eq!(body["type"], "/problems/validation", "{query}");
            assert!(body["errors"][param].is_array(), "{query}: {body}");
            let ann = sign_in(&w.app, A).await;
            let (status, html) = w.app.page(&ann, &format!("/products?{query}")).await;
            assert_eq!(status, 422, "{query}");
            assert!(
                html.contains(&format!("id=\"{param}-error\"")),
                "{query}: the error is beside its control"
            );
            assert!(html.contains("class=\"error-summary\""));
        }
        // Someone not signed in asking for their own products is told to sign in.
        let open = spawn_app(&db, &[("CATALOG_PUBLIC_BROWSING", "true")]).await;
        let r = open
            .client
            .get(open.url("/api/v1/products?mine=1"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422);
        let body: Value = r.json().await.unwrap();
        assert!(body["errors"]["mine"].is_array());
        open.stop().await;
        assert_eq!(
            db.count("SELECT COUNT(*) AS n FROM products")
                .await
                .unwrap(),
            products
        );
        assert_eq!(
            db.count("SELECT COUNT(*) AS n FROM search_terms")
                .await
                .unwrap(),
            terms
        );
    }
);

db_test!(
    the_list_page_searches_and_its_links_keep_the_filters,
    |db| {
        let w = world(&db, &[]).await;
        // Enough lamps for three pages.
        for i in 0..45 {
            let body = json!({"name": format!("Lamp number {i}"), "category_id": w.lamps,
            "price": format!("{}.00", 100 + i), "is_published": true});
            let r = w
                .app
                .api_send(Method::POST, &w.b, "/api/v1/products", &body)
                .await;
            assert_eq!(r.status(), 201);
        }
        let ann = sign_in(&w.app, A).await;
        let (status, html) = w.app.page(&ann, "/products").await;
        assert_eq!(status, 200);
        for control in [
            "type=\"search\" id=\"q\" name=\"q\"",
            "<select id=\"category\" name=\"category\">",
            "id=\"min_price\" name=\"min_price\"",
            "id=\"max_price\" name=\"max_price\"",
            "<select id=\"sort\" name=\"sort\">",
            "id=\"mine\" name=\"mine\"",
            "method=\"get\" action=\"/products\"",
        ] {
            assert!(html.contains(control), "{control}");
        }
        // The state filter is the moderators'.
        assert!(!html.contains("id=\"status\""));
        let moderator = sign_in(&w.app, M).await;
        let (_, html) = w.app.page(&moderator, "/products").await;
        assert!(html.contains("<select id=\"status\" name=\"status\">"));
        // A search with filters, page 2 of 3.
        let lamps = w.lamps;
        let (status, html) = w
            .app
            .page(
                &ann,
                &format!("/products?q=lamps&category={lamps}&sort=-price&min_price=1&page=2"),
            )
            .await;
        assert_eq!(status, 200);
        let kept = format!("q=lamps&#38;category={lamps}&#38;min_price=1&#38;sort=-price&#38;");
        assert!(
            html.contains(&format!("href=\"/products?{kept}page=1\" rel=\"prev\"")),
            "{html}"
        );
        assert!(html.contains(&format!("href=\"/products?{kept}page=3\" rel=\"next\"")));
        assert!(
            html.contains("value=\"lamps\""),
            "the search box keeps the words"
        );
        assert!(html.contains(&format!(
            "<option value=\"{lamps}\" selected>Lamps</option>"
        )));
        assert!(html.contains("<option value=\"-price\" selected>"));
        assert!(html.contains("48 products found"), "{html}");
        // Sorted by price, dearest first: page 2 starts at the 21st.
        let first = html.find("Lamp number 24").unwrap();
        let next = html.find("Lamp number 23").unwrap();
        assert!(first < next);
        // Past the last page of a search.
        let (status, _) = w
            .app
            .page(&ann, &format!("/products?q=lamps&category={lamps}&page=9"))
            .await;
        assert_eq!(status, 404);
        // Nothing matches: said so, with the filters kept.
        let (status, html) = w.app.page(&ann, "/products?q=zeppelin").await;
        assert_eq!(status, 200);
        assert!(html.contains("No product matches"));
        assert!(html.contains("value=\"zeppelin\""));
        // Every card and the product page link to their category's list.
        let (_, html) = w.app.page(&ann, "/products").await;
        assert!(html.contains(&format!("<a href=\"/products?category={lamps}\">Lamps</a>")));
        let desk = w.id_of(&w.a, "Desk lamp").await;
        let (_, html) = w.app.page(&ann, &format!("/products/{desk}")).await;
        assert!(html.contains(&format!("<a href=\"/products?category={lamps}\">Lamps</a>")));
        let (_, html) = w
            .app
            .page(&ann, &format!("/products?category={lamps}"))
            .await;
        assert!(html.contains("Products in Lamps"));
        // In Russian.
        let russian = speaking("ru");
        let open = spawn_app(&db, &[("CATALOG_PUBLIC_BROWSING", "true")]).await;
        let (status, html) = open
            .page(&russian, "/products?q=%D0%BB%D0%B0%D0%BC%D0%BF%D1%8B")
            .await;
        assert_eq!(status, 200);
        assert!(html.contains("Найден 1 товар."), "{html}");
        assert!(html.contains("Лампа настольная"));
        assert!(html.contains("Сначала самые подходящие"));
        open.stop().await;
    }
);

db_test!(the_categories_page_counts_what_each_viewer_sees, |db| {
    let w = world(&db, &[("CATALOG_PUBLIC_BROWSING", "true")]).await;
    let count = |html: &str, category: i64| -> String {
        let link = format!("<a href=\"/products?category={category}\">");
        let at = html.find(&link).unwrap();
        let rest = &html[at..];
        let meta = rest.find("<p class=\"meta\">").unwrap() + "<p class=\"meta\">".len();
        rest[meta..meta + rest[meta..].find('<').unwrap()].to_owned()
    };
    let (status, html) = w.app.page(&browser(), "/categories").await;
    assert_eq!(status, 200);
    assert_eq!(count(&html, w.lamps), "3 products");
    assert_eq!(count(&html, w.books), "3 products");
    let ann = sign_in(&w.app, A).await;
    let (_, html) = w.app.page(&ann, "/categories").await;
    assert_eq!(count(&html, w.lamps), "4 products", "with her draft");
    let moderator = sign_in(&w.app, M).await;
    let (_, html) = w.app.page(&moderator, "/categories").await;
    assert_eq!(count(&html, w.lamps), "5 products");
    assert!(html.contains("href=\"/categories\""), "the menu links it");
    let (status, html) = w.app.page(&speaking("ru"), "/categories").await;
    assert_eq!(status, 200);
    assert!(html.contains("3 товара"), "{html}");
    // Without public browsing it asks for a sign-in, as the list does.
    let closed = spawn_app(&db, &[]).await;
    let r = browser()
        .get(closed.url("/categories"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    closed.stop().await;
});
