use std::io::Cursor;

use image::{ImageFormat, RgbImage};

use super::*;

fn encoded(width: u32, height: u32, format: ImageFormat) -> Vec<u8> {
    let img = RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
    });
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

/// A valid PNG whose header claims other dimensions: a decompression bomb in miniature.
fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut png = encoded(8, 8, ImageFormat::Png);
    // IHDR data starts after the 8-byte signature, 4-byte length and 4-byte type.
    png[16..20].copy_from_slice(&width.to_be_bytes());
    png[20..24].copy_from_slice(&height.to_be_bytes());
    let crc = crc32fast::hash(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    png
}

#[tokio::test]
async fn a_png_is_stored_under_a_random_name_and_served_back() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalMediaStore::new(dir.path());
    let key = store
        .save_image("avatars", encoded(40, 30, ImageFormat::Png))
        .await
        .unwrap();
    assert!(
        key.starts_with("avatars/") && key.ends_with(".png"),
        "{key}"
    );
    let again = store
        .save_image("avatars", encoded(40, 30, ImageFormat::Png))
        .await
        .unwrap();
    assert_ne!(key, again, "names are random");
    let served = store.open(&key).await.unwrap();
    assert_eq!(served.content_type, "image/png");
    let decoded = image::load_from_memory(&served.bytes).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (40, 30));
    store.delete(&key).await.unwrap();
    assert!(matches!(store.open(&key).await, Err(MediaError::NotFound)));
    store.delete(&key).await.unwrap();
}

#[tokio::test]
async fn jpeg_stays_jpeg_and_gif_becomes_png() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalMediaStore::new(dir.path());
    let jpg = store
        .save_image("products", encoded(64, 64, ImageFormat::Jpeg))
        .await
        .unwrap();
    assert!(jpg.ends_with(".jpg"));
    assert_eq!(store.open(&jpg).await.unwrap().content_type, "image/jpeg");
    let gif = store
        .save_image("products", encoded(16, 16, ImageFormat::Gif))
        .await
        .unwrap();
    assert!(gif.ends_with(".png"));
}

#[tokio::test]
async fn trailing_bytes_after_an_image_do_not_survive_re_encoding() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalMediaStore::new(dir.path());
    let mut polyglot = encoded(10, 10, ImageFormat::Png);
    polyglot.extend_from_slice(b"<script>alert(1)</script>");
    let key = store.save_image("avatars", polyglot).await.unwrap();
    let stored = store.open(&key).await.unwrap().bytes;
    assert!(!stored.windows(8).any(|w| w == b"<script>"));
}

#[tokio::test]
async fn non_images_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalMediaStore::new(dir.path());
    for junk in [
        b"hello world".to_vec(),
        b"<svg xmlns='http://www.w3.org/2000/svg'/>".to_vec(),
        vec![],
        b"\x89PNG\r\n\x1a\nbroken".to_vec(),
    ] {
        assert!(matches!(
            store.save_image("avatars", junk).await,
            Err(MediaError::NotAnImage)
        ));
    }
    assert_eq!(
        std::fs::read_dir(dir.path())
            .map(|d| d.count())
            .unwrap_or(0),
        0,
        "nothing written"
    );
}

#[tokio::test]
async fn oversized_images_and_bombs_are_refused_before_decoding() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalMediaStore::new(dir.path());
    let wide = encoded(4097, 1, ImageFormat::Png);
    assert!(matches!(
        store.save_image("avatars", wide).await,
        Err(MediaError::TooLarge { .. })
    ));
    let bomb = png_claiming(100_000, 100_000);
    assert!(matches!(
        store.save_image("avatars", bomb).await,
        Err(MediaError::TooLarge { .. })
    ));
    let edge = encoded(4096, 16, ImageFormat::Png);
    assert!(
        store.save_image("avatars", edge).await.is_ok(),
        "4096 is allowed"
    );
}

#[tokio::test]
async fn keys_cannot_climb_out_of_the_media_directory() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalMediaStore::new(dir.path().join("media"));
    std::fs::write(dir.path().join("secret.png"), b"x").unwrap();
    for key in [
        "../secret.png",
        "avatars/../../secret.png",
        "/etc/passwd",
        "avatars/short.png",
        "AVATARS/0123456789abcdef.png",
        "avatars/0123456789abcdef.svg",
        "",
    ] {
        assert!(
            matches!(store.open(key).await, Err(MediaError::NotFound)),
            "{key}"
        );
    }
}

/// A 4096×4096 PNG of 16-bit RGBA pixels compresses to a few hundred kilobytes and
/// decodes into 128 MiB: it is refused before the pixels are allocated.
#[tokio::test]
async fn deep_images_are_refused_before_their_pixels_are_allocated() {
    let deep = image::ImageBuffer::<image::Rgba<u16>, Vec<u16>>::from_pixel(
        4096,
        4096,
        image::Rgba([1, 2, 3, 65535]),
    );
    let mut png = std::io::Cursor::new(Vec::new());
    deep.write_to(&mut png, ImageFormat::Png).unwrap();
    let png = png.into_inner();
    assert!(png.len() < 1024 * 1024, "a small file: {}", png.len());
    assert!(matches!(
        clean_image(&png),
        Err(MediaError::TooDeep { max_mib: 72 })
    ));
    // 8 bits a channel at the largest size is within the budget.
    let wide = image::RgbaImage::from_pixel(4096, 4096, image::Rgba([9, 8, 7, 255]));
    let mut png = std::io::Cursor::new(Vec::new());
    wide.write_to(&mut png, ImageFormat::Png).unwrap();
    assert!(clean_image(&png.into_inner()).is_ok());
}
