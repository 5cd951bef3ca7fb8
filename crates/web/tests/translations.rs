//! No message left behind: every language has the same messages, every message the
//! code and the templates name exists in each, and a Russian page shows neither a raw
//! message id nor an English fallback.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use catalog_domain::user::Country;
use catalog_i18n::Lang;
use catalog_storage::db_test;
use support::catalog::{Admin, Role};
use support::{TestApp, location, spawn_app, speaking};

fn files(dir: &Path, ext: &[&str], found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, ext, found);
        } else if path
            .extension()
            .is_some_and(|e| ext.contains(&e.to_string_lossy().as_ref()))
        {
            found.push(path);
        }
    }
}

fn crates_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The string literals of a source text (escapes are not undone: ids have none).
fn literals(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find('"') {
        let after = &rest[start + 1..];
        let mut end = None;
        let mut escaped = false;
        for (i, c) in after.char_indices() {
            match c {
                '\\' if !escaped => escaped = true,
                '"' if !escaped => {
                    end = Some(i);
                    break;
                }
                _ => escaped = false,
            }
        }
        let Some(end) = end else { break };
        out.push(&after[..end]);
        rest = &after[end + 1..];
    }
    out
}

fn english() -> Lang {
    Lang::parse("en").unwrap()
}

fn russian() -> Lang {
    Lang::parse("ru").unwrap()
}

#[test]
fn every_language_has_the_same_messages_and_reads_cleanly() {
    let reference: BTreeSet<&String> = english().ids().iter().collect();
    assert!(reference.len() > 300, "the files were found");
    for lang in Lang::all() {
        assert!(
            lang.problems().is_empty(),
            "{lang:?}: {:?}",
            lang.problems()
        );
        let ids: BTreeSet<&String> = lang.ids().iter().collect();
        assert_eq!(ids.len(), lang.ids().len(), "{lang:?}: an id defined twice");
        let missing: Vec<_> = reference.difference(&ids).collect();
        let extra: Vec<_> = ids.difference(&reference).collect();
        assert!(missing.is_empty(), "{lang:?} lacks {missing:?}");
        assert!(
            extra.is_empty(),
            "{lang:?} has what English lacks: {extra:?}"
        );
    }
}

/// Literals of the source that look like message ids but name something else (element
/// ids and classes, form field names, test data).
const NOT_MESSAGES: &[&str] = &[
    "error-summary",
    "password-help",
    "phone-help",
    "price-help",
    "product-image",
    "versions-current",
    "email-change",
    "not-an-email",
    "verify-email",
    "versions-3-number",
    "versions-x-number",
];

#[test]
fn every_message_the_code_and_templates_name_exists_in_every_language() {
    // The families of ids: what code names with these prefixes is taken for a message.
    let prefixes: BTreeSet<&str> = english()
        .ids()
        .iter()
        .filter_map(|id| id.split_once('-').map(|(p, _)| p))
        .collect();
    let looks_like_id = |s: &str| {
        s.split_once('-').is_some_and(|(p, rest)| {
            prefixes.contains(p)
                && !rest.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        })
    };
    let root = crates_dir();
    let mut named: BTreeSet<(String, String)> = BTreeSet::new();
    let mut sources = Vec::new();
    for dir in ["web/src", "mail/src", "domain/src"] {
        files(&root.join(dir), &["rs"], &mut sources);
    }
    for file in &sources {
        let text = std::fs::read_to_string(file).unwrap();
        for literal in literals(&text) {
            if looks_like_id(literal) && !NOT_MESSAGES.contains(&literal) {
                named.insert((literal.to_owned(), file.display().to_string()));
            }
        }
    }
    let mut templates = Vec::new();
    for dir in ["web/templates", "mail/templates"] {
        files(&root.join(dir), &["html", "txt"], &mut templates);
    }
    for file in &templates {
        let text = std::fs::read_to_string(file).unwrap();
        for call in [".t(\"", ".h(\"", ".f(\""] {
            for (at, _) in text.match_indices(call) {
                let rest = &text[at + call.len()..];
                let id = &rest[..rest.find('"').unwrap()];
                named.insert((id.to_owned(), file.display().to_string()));
            }
        }
    }
    assert!(named.len() > 250, "the scan finds the code's messages");
    for lang in Lang::all() {
        let missing: Vec<_> = named.iter().filter(|(id, _)| !lang.has(id)).collect();
        assert!(missing.is_empty(), "{lang:?} lacks {missing:?}");
        // Ids made at run time.
        for other in Lang::all() {
            assert!(lang.has(&format!("language-name-{}", other.code())));
        }
        let countries: BTreeSet<&str> = lang.countries().iter().map(|(c, _)| c.as_str()).collect();
        for country in Country::all() {
            assert!(
                countries.contains(country.code()),
                "{lang:?}: {}",
                country.code()
            );
        }
        assert_eq!(
            countries.len(),
            Country::all().len(),
            "{lang:?}: no stray countries"
        );
    }
    // The scan itself can fail: a misspelt id would be caught.
    assert!(looks_like_id("flash-profile-saevd") && !english().has("flash-profile-saevd"));
}

#[test]
fn plural_forms_follow_each_language() {
    let (en, ru) = (english(), russian());
    let count = |lang: Lang, n: u64| lang.f("products-count", &[("count", n.into())]);
    for (n, ru_word, en_word) in [
        (1, "товар", "product"),
        (2, "товара", "products"),
        (5, "товаров", "products"),
        (11, "товаров", "products"),
        (21, "товар", "products"),
        (22, "товара", "products"),
        (25, "товаров", "products"),
        (111, "товаров", "products"),
        (112, "товаров", "products"),
        (0, "товаров", "products"),
    ] {
        assert_eq!(count(ru, n), format!("{n} {ru_word}"));
        assert_eq!(count(en, n), format!("{n} {en_word}"));
    }
    assert_eq!(
        ru.f(
            "products-page-of",
            &[("page", 3_u64.into()), ("pages", 12_u64.into())]
        ),
        "Страница 3 из 12"
    );
}

/// The words a person reads on a page: tags dropped, entities undone.
fn visible_text(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => {
                in_tag = true;
                out.push(' ');
            }
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&#39;", "'")
        .replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
        .replace("&#38;", "&")
}

/// The text between tags, each piece trimmed.
fn text_nodes(html: &str) -> Vec<String> {
    html.split('<')
        .filter_map(|piece| {
            piece
                .split_once('>')
                .map(|(_, text)| visible_text(text.trim()))
        })
        .filter(|text| !text.is_empty())
        .collect()
}

/// Fails when a Russian page shows a message id or an English message.
fn assert_all_russian(path: &str, html: &str) {
    assert!(html.contains("<html lang=\"ru\">"), "{path}");
    let nodes = text_nodes(html);
    let text = visible_text(html);
    let (en, ru) = (english(), russian());
    for id in en.ids() {
        assert!(
            !text.split_whitespace().any(|w| w == id),
            "{path} shows the id {id}"
        );
        // A piece of text that is an English message Russian says otherwise.
        let english = en.t(id);
        if english != ru.t(id)
            && en.f(id, &[]) == english
            && english.chars().any(char::is_alphabetic)
        {
            assert!(
                !nodes.iter().any(|node| node == english),
                "{path} shows English: {english:?}"
            );
        }
        // English sentences inside longer text.
        if english.contains(' ')
            && english.len() > 12
            && english != ru.t(id)
            && !en.f(id, &[]).is_empty()
        {
            assert!(!text.contains(english), "{path} shows English: {english:?}");
        }
    }
}

async fn russian_page(app: &TestApp, client: &reqwest::Client, path: &str) -> String {
    let r = client.get(app.url(path)).send().await.unwrap();
    let status = r.status().as_u16();
    assert!(matches!(status, 200 | 400 | 404), "{path}: {status}");
    let html = r.text().await.unwrap();
    assert_all_russian(path, &html);
    html
}

db_test!(russian_pages_show_no_message_id_and_no_english, |db| {
    let app = spawn_app(&db, &[]).await;
    let client = speaking("ru");
    for path in [
        "/",
        "/users/login",
        "/users/register",
        "/users/register/done",
        "/users/password-reset",
        "/users/password-reset/done",
        "/users/verify/not-a-token",
        "/no/such/page",
    ] {
        russian_page(&app, &client, path).await;
    }
    let admin = Admin::connect(&db).await;
    admin.person("moderator@example.com", Role::Moderator).await;
    admin.person("owner@example.com", Role::Plain).await;
    let category = admin.category("Светильники").await.to_string();
    let owner = speaking("ru");
    let r = app
        .submit(
            &owner,
            "/users/login",
            "/users/login",
            &[
                ("email", "owner@example.com"),
                ("password", support::accounts::PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let id = app
        .create_product(
            &owner,
            &[
                ("name", "Торшер"),
                ("description", "Высокий, с абажуром."),
                ("price", "4500"),
                ("category", &category),
                ("is_published", "true"),
            ],
        )
        .await;
    for path in [
        "/products".to_owned(),
        "/products/new".to_owned(),
        format!("/products/{id}"),
        format!("/products/{id}/edit"),
        format!("/products/{id}/delete"),
        "/users/profile".to_owned(),
        "/users/password-change".to_owned(),
        "/users/email-change".to_owned(),
    ] {
        russian_page(&app, &owner, &path).await;
    }
    // A form with errors, and the moderator's view of a locked product.
    let (_, form) = app.page(&owner, "/users/password-change").await;
    let r = owner
        .post(app.url("/users/password-change"))
        .form(&[
            ("csrf_token", support::csrf_of(&form).as_str()),
            ("old_password", "wrong"),
            ("new_password1", "123"),
            ("new_password2", "456"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert_all_russian("password change errors", &r.text().await.unwrap());
    let moderator = speaking("ru");
    let r = app
        .submit(
            &moderator,
            "/users/login",
            "/users/login",
            &[
                ("email", "moderator@example.com"),
                ("password", support::accounts::PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let r = app
        .post_multipart(
            &moderator,
            &format!("/products/{id}/edit"),
            &format!("/products/{id}/edit"),
            &[("is_published", "false")],
            None,
        )
        .await;
    assert_eq!(r.status(), 303, "{}", location(&r));
    let html = russian_page(&app, &owner, &format!("/products/{id}")).await;
    assert!(html.contains("Снят с публикации модератором"));
    assert!(html.contains("опубликовать его снова может только модератор"));
    russian_page(&app, &moderator, &format!("/products/{id}/edit")).await;
    app.stop().await;
});
