//! Resized variants of every image: made at upload, served to exactly those who may see
//! the original, standing in for each other before `catalog media thumbnails` has made
//! an old image's, and made by that command, on the local store and on S3.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;
use std::process::Command;

use catalog_domain::ports::MediaStore;
use catalog_storage::db_test;
use catalog_storage::testing::TestDatabase;
use catalog_web::adapters::media::s3::S3MediaStore;
use catalog_web::settings::MediaBackend;
use support::catalog::{Admin, Role, sign_in};
use support::s3::Moto;
use support::{TestApp, location, spawn_app};

const A: &str = "ann@example.com";
const B: &str = "bob@example.com";
const BUCKET: &str = "catalog-thumbs";

/// A 1600×1200 photograph-like PNG (a gradient: it does not compress to nothing).
fn photo() -> Vec<u8> {
    let image = image::RgbImage::from_fn(1600, 1200, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x + y) % 256) as u8])
    });
    let mut png = Vec::new();
    image
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    png
}

/// The attribute `name` of the first `<img` after `after` in `html`.
fn img_attribute(html: &str, after: &str, name: &str) -> String {
    let from = html.find(after).unwrap();
    let img = from + html[from..].find("<img").unwrap();
    let at = img + html[img..].find(&format!("{name}=\"")).unwrap() + name.len() + 2;
    html[at..at + html[at..].find('"').unwrap()].to_owned()
}

async fn fetch(app: &TestApp, client: &reqwest::Client, path: &str) -> (u16, String, Vec<u8>) {
    let r = client.get(app.url(path)).send().await.unwrap();
    let status = r.status().as_u16();
    let kind = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, kind, r.bytes().await.unwrap().to_vec())
}

fn size(bytes: &[u8]) -> (u32, u32) {
    let image = image::load_from_memory(bytes).unwrap();
    (image.width(), image.height())
}

/// Ann's product with a photo; returns its path and its image's original key.
async fn product_with_photo(
    app: &TestApp,
    ann: &reqwest::Client,
    category: &str,
    published: bool,
) -> (String, String) {
    let mut fields = vec![("name", "Lamp"), ("category", category), ("price", "10.00")];
    if published {
        fields.push(("is_published", "true"));
    }
    let r = app
        .post_multipart(
            ann,
            "/products/new",
            "/products/new",
            &fields,
            Some(photo()),
        )
        .await;
    assert_eq!(r.status(), 303);
    let product = location(&r);
    let (_, html) = app.page(ann, &product).await;
    let start = html.find("href=\"/media/products/").unwrap() + "href=\"/media/".len();
    let key = html[start..start + html[start..].find('"').unwrap()].to_owned();
    (product, key)
}

fn thumbnails(database_url: &str, env: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_catalog"))
        .args(["media", "thumbnails"])
        .current_dir(dir.path())
        .env("DATABASE_URL", database_url)
        .envs(env.iter().copied())
        .env_remove("RUST_LOG")
        .env_remove("CATALOG_ENV")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

async fn people(db: &TestDatabase) -> String {
    let admin = Admin::connect(db).await;
    admin.person(A, Role::Plain).await;
    admin.person(B, Role::Plain).await;
    admin.category("Lamps").await.to_string()
}

db_test!(
    variants_are_made_at_upload_and_shown_to_whom_the_original_is,
    |db| {
        let lamps = people(&db).await;
        let app = spawn_app(&db, &[]).await;
        let ann = sign_in(&app, A).await;
        let bob = sign_in(&app, B).await;
        let (product, key) = product_with_photo(&app, &ann, &lamps, true).await;
        let stem = key.trim_end_matches(".png");
        // The card: the small square, its 2× sibling for sharper screens.
        let (_, list) = app.page(&ann, "/products").await;
        let src = img_attribute(&list, "class=\"cards\"", "src");
        assert_eq!(src, format!("/media/{stem}-96.jpg"));
        assert_eq!(
            img_attribute(&list, "class=\"cards\"", "srcset"),
            format!("/media/{stem}-192.jpg 2x")
        );
        let (status, kind, bytes) = fetch(&app, &bob, &src).await;
        assert_eq!((status, kind.as_str()), (200, "image/jpeg"));
        assert_eq!(size(&bytes), (96, 96));
        assert!(
            bytes.len() < 12_000,
            "a card's image is small: {}",
            bytes.len()
        );
        let (_, _, bytes) = fetch(&app, &bob, &format!("/media/{stem}-192.jpg")).await;
        assert_eq!(size(&bytes), (192, 192));
        // The product page: the large one, the original a link away.
        let (_, page) = app.page(&bob, &product).await;
        let large = img_attribute(&page, "<h1", "src");
        assert_eq!(large, format!("/media/{stem}-768.jpg"));
        let (_, _, bytes) = fetch(&app, &bob, &large).await;
        assert_eq!(size(&bytes), (768, 576));
        let (status, kind, bytes) = fetch(&app, &bob, &format!("/media/{key}")).await;
        assert_eq!((status, kind.as_str()), (200, "image/png"));
        assert_eq!(size(&bytes), (1600, 1200));
        // A draft's variants are as private as its original.
        let (_, draft_key) = product_with_photo(&app, &ann, &lamps, false).await;
        let draft_stem = draft_key.trim_end_matches(".png");
        for variant in ["-96.jpg", "-192.jpg", "-768.jpg"] {
            let path = format!("/media/{draft_stem}{variant}");
            assert_eq!(fetch(&app, &bob, &path).await.0, 404, "{path}");
            assert_eq!(fetch(&app, &ann, &path).await.0, 200, "{path}");
        }
        // Look-alike keys find nothing.
        for path in [
            format!("/media/{stem}-97.jpg"),
            format!("/media/{stem}-96.png"),
            format!("/media/{stem}-96-96.jpg"),
            format!("/media/{stem}.jpg"),
        ] {
            assert_eq!(fetch(&app, &ann, &path).await.0, 404, "{path}");
        }
        app.stop().await;
    }
);

db_test!(
    old_images_get_their_variants_from_the_command_on_the_local_store,
    |db| {
        let lamps = people(&db).await;
        let media = tempfile::tempdir().unwrap();
        let dir = media.path().to_str().unwrap().to_owned();
        let env = [("CATALOG_MEDIA_DIR", dir.as_str())];
        let app = spawn_app(&db, &env).await;
        let ann = sign_in(&app, A).await;
        let (product, key) = product_with_photo(&app, &ann, &lamps, true).await;
        let stem = key.trim_end_matches(".png");
        let variant = |suffix: &str| media.path().join(format!("{stem}{suffix}"));
        // As if it had been stored before variants existed.
        for suffix in ["-96.jpg", "-192.jpg", "-768.jpg"] {
            std::fs::remove_file(variant(suffix)).unwrap();
        }
        // Meanwhile the original stands in for them.
        let (status, kind, _) = fetch(&app, &ann, &format!("/media/{stem}-96.jpg")).await;
        assert_eq!((status, kind.as_str()), (200, "image/png"));
        let said = thumbnails(&db.url, &env);
        assert!(
            said.starts_with("made the variants of 1 image(s), 0 had them"),
            "{said}"
        );
        for suffix in ["-96.jpg", "-192.jpg", "-768.jpg"] {
            assert!(Path::new(&variant(suffix)).exists(), "{suffix}");
        }
        let (status, kind, bytes) = fetch(&app, &ann, &format!("/media/{stem}-96.jpg")).await;
        assert_eq!((status, kind.as_str()), (200, "image/jpeg"));
        assert_eq!(size(&bytes), (96, 96));
        // A second run finds nothing to do; a file that is no image is left alone.
        std::fs::write(
            media.path().join("products/0123456789abcdef0123.png"),
            b"not an image",
        )
        .unwrap();
        let said = thumbnails(&db.url, &env);
        assert!(
            said.starts_with("made the variants of 0 image(s), 1 had them, 1 not acceptable"),
            "{said}"
        );
        // Deleting the product removes the original and its variants.
        let r = app
            .submit(
                &ann,
                &format!("{product}/delete"),
                &format!("{product}/delete"),
                &[],
            )
            .await;
        assert_eq!(r.status(), 303);
        assert!(!media.path().join(&key).exists());
        for suffix in ["-96.jpg", "-192.jpg", "-768.jpg"] {
            assert!(!Path::new(&variant(suffix)).exists(), "{suffix}");
        }
        app.stop().await;
    }
);

db_test!(old_images_get_their_variants_from_the_command_on_s3, |db| {
    let Some(moto) = Moto::start(BUCKET).await else {
        return db;
    };
    let lamps = people(&db).await;
    let env = moto.env(BUCKET);
    let app = spawn_app(&db, &env).await;
    let ann = sign_in(&app, A).await;
    let (_, key) = product_with_photo(&app, &ann, &lamps, true).await;
    assert_eq!(moto.object_count(BUCKET).await, 4);
    let stem = key.trim_end_matches(".png");
    // The bucket as another client sees it: the variants removed, the original kept.
    let settings = support::settings_for(&db.url, &env, Path::new("/nonexistent"));
    let MediaBackend::S3(s3) = &settings.media else {
        panic!("not the S3 store");
    };
    let bucket = S3MediaStore::new(s3).unwrap();
    for suffix in ["-96.jpg", "-192.jpg", "-768.jpg"] {
        bucket.delete(&format!("{stem}{suffix}")).await.unwrap();
    }
    assert_eq!(moto.object_count(BUCKET).await, 1);
    let said = thumbnails(&db.url, &env);
    assert!(
        said.starts_with("made the variants of 1 image(s)"),
        "{said}"
    );
    assert_eq!(moto.object_count(BUCKET).await, 4);
    let (status, kind, bytes) = fetch(&app, &ann, &format!("/media/{stem}-192.jpg")).await;
    assert_eq!((status, kind.as_str()), (200, "image/jpeg"));
    assert_eq!(size(&bytes), (192, 192));
    app.stop().await;
});
