//! Media on an S3-compatible store (moto, a real S3-API server): what one node stores,
//! every node serves, and what is replaced is removed from the bucket.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use catalog_storage::db_test;
use support::catalog::{Admin, Role, png, sign_in};
use support::s3::Moto;
use support::spawn_app;

const BUCKET: &str = "catalog-media";

db_test!(
    an_image_stored_through_one_node_is_served_by_another,
    |db| {
        let Some(moto) = Moto::start(BUCKET).await else {
            return db;
        };
        let admin = Admin::connect(&db).await;
        admin.person("ann@example.com", Role::Plain).await;
        let lamps = admin.category("Lamps").await.to_string();
        // Two nodes, each with a media directory of its own: only the bucket is shared.
        let env = moto.env(BUCKET);
        let a = spawn_app(&db, &env).await;
        let b = spawn_app(&db, &env).await;
        let ann = sign_in(&a, "ann@example.com").await;
        let fields = [
            ("name", "Lamp"),
            ("category", lamps.as_str()),
            ("price", "10.00"),
        ];
        let r = a
            .post_multipart(&ann, "/products/new", "/products/new", &fields, Some(png()))
            .await;
        assert_eq!(r.status(), 303);
        let product = support::location(&r);
        let (_, page) = b.page(&ann, &product).await;
        let start = page
            .find("/media/products/")
            .expect("the page shows the image");
        let end = start + page[start..].find('"').unwrap();
        let media = page[start..end].to_owned();
        // The original and its three variants.
        assert_eq!(moto.object_count(BUCKET).await, 4);

        let served = ann.get(b.url(&media)).send().await.unwrap();
        assert_eq!(served.status(), 200, "node B serves what node A stored");
        assert_eq!(served.headers()["content-type"], "image/png");
        let bytes = served.bytes().await.unwrap();
        assert!(image::load_from_memory(&bytes).is_ok());

        // Replacing the image through B removes the old object from the bucket.
        let edit = format!("{product}/edit");
        let r = b
            .post_multipart(&ann, &edit, &edit, &fields, Some(png()))
            .await;
        assert_eq!(r.status(), 303);
        assert_eq!(
            ann.get(a.url(&media)).send().await.unwrap().status(),
            404,
            "the old image is gone for A"
        );
        // The original and its three variants.
        assert_eq!(moto.object_count(BUCKET).await, 4);
        // Unknown and malformed keys are 404, never a request the bucket would mistake.
        assert_eq!(a.get("/media/products/nothing.png").await.status(), 404);
        assert_eq!(a.get("/media/..%2f..%2fetc/passwd.png").await.status(), 404);
        a.stop().await;
        b.stop().await;
    }
);

db_test!(local_media_is_not_shared_between_nodes, |db| {
    // The control: without the bucket, node B cannot serve what node A stored.
    let admin = Admin::connect(&db).await;
    admin.person("ann@example.com", Role::Plain).await;
    let lamps = admin.category("Lamps").await.to_string();
    let a = spawn_app(&db, &[]).await;
    let b = spawn_app(&db, &[]).await;
    let ann = sign_in(&a, "ann@example.com").await;
    let fields = [
        ("name", "Lamp"),
        ("category", lamps.as_str()),
        ("price", "10.00"),
    ];
    let r = a
        .post_multipart(&ann, "/products/new", "/products/new", &fields, Some(png()))
        .await;
    let product = support::location(&r);
    let (_, page) = a.page(&ann, &product).await;
    let start = page.find("/media/products/").unwrap();
    let end = start + page[start..].find('"').unwrap();
    let media = &page[start..end];
    assert_eq!(ann.get(a.url(media)).send().await.unwrap().status(), 200);
    assert_eq!(ann.get(b.url(media)).send().await.unwrap().status(), 404);
    a.stop().await;
    b.stop().await;
});
