//! Avatars and product images: on the local filesystem under `CATALOG_MEDIA_DIR`, or in
//! an S3-compatible object store ([`s3`]).
//!
//! Every upload is decoded under limits (type sniffed from the bytes, at most
//! 4096×4096 and 40 megapixels, checked from the header before pixels are allocated),
//! re-encoded (PNG, or JPEG for photographs that came as JPEG) so that the stored file is
//! a clean image without metadata or trailing payloads, and written under a random name.
//!
//! Each upload gets its resized variants ([`Variant`]) in the same turn, from the pixels
//! already decoded: the large one first, the squares from it.
//!
//! Memory is bounded twice: a decode may allocate at most [`DECODE_BUDGET`] (a
//! 4096×4096 image at 8 bits a channel; a 130 KB PNG of 16-bit pixels used to decode
//! into 134 MB and was converted again on top), and at most one decode per core runs at
//! a time, the rest waiting their turn; so uploads at once cost the server at most
//! cores × the budget, whatever arrives.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use catalog_domain::media::Variant;
use catalog_domain::ports::{MediaError, MediaStore, StoredMedia};
use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use image::{DynamicImage, ImageFormat, ImageReader, Limits};

pub const MAX_SIDE: u32 = 4096;
pub const MAX_PIXELS: u64 = 40_000_000;
/// What one decode may allocate: the largest image at 8 bits a channel (4096×4096×4
/// bytes) and room for the decoder's own buffers.
pub const DECODE_BUDGET: u64 = 4096 * 4096 * 4 + 8 * 1024 * 1024;

/// Decodes running at once: one per core (they are CPU-bound), process-wide.
fn decodes() -> std::sync::Arc<tokio::sync::Semaphore> {
    static DECODES: std::sync::OnceLock<std::sync::Arc<tokio::sync::Semaphore>> =
        std::sync::OnceLock::new();
    DECODES
        .get_or_init(|| {
            let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
            std::sync::Arc::new(tokio::sync::Semaphore::new(cores))
        })
        .clone()
}

pub mod s3;

#[derive(Debug, Clone)]
pub struct LocalMediaStore {
    root: PathBuf,
}

fn io(e: impl std::error::Error + Send + Sync + 'static) -> MediaError {
    MediaError::Io(Box::new(e))
}

fn too_large() -> MediaError {
    MediaError::TooLarge {
        max_side: MAX_SIDE,
        max_megapixels: (MAX_PIXELS / 1_000_000) as u32,
    }
}

/// Decodes, checks and re-encodes; returns the bytes and the extension to store.
pub fn clean_image(bytes: &[u8]) -> Result<(Vec<u8>, &'static str), MediaError> {
    let (image, format) = decode(bytes)?;
    encode_clean(image, format)
}

/// Decodes under the limits; returns the pixels and the format they came in.
fn decode(bytes: &[u8]) -> Result<(DynamicImage, ImageFormat), MediaError> {
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(io)?;
    let format = match reader.format() {
        Some(f @ (ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::Gif | ImageFormat::WebP)) => {
            f
        }
        _ => return Err(MediaError::NotAnImage),
    };
    let (width, height) = reader
        .into_dimensions()
        .map_err(|_| MediaError::NotAnImage)?;
    if width > MAX_SIDE || height > MAX_SIDE || u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(too_large());
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    // Checked against the decoded size before the pixels are allocated.
    limits.max_alloc = Some(DECODE_BUDGET);
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits);
    let image = reader.decode().map_err(|e| match e {
        image::ImageError::Limits(_) => MediaError::TooDeep {
            max_mib: (DECODE_BUDGET / (1024 * 1024)) as u32,
        },
        _ => MediaError::NotAnImage,
    })?;
    Ok((image, format))
}

fn encode_clean(
    image: DynamicImage,
    format: ImageFormat,
) -> Result<(Vec<u8>, &'static str), MediaError> {
    let mut out = Cursor::new(Vec::new());
    let ext = if format == ImageFormat::Jpeg {
        // Taken, not copied, when the decoder gave RGB already (as it does for colour).
        image
            .into_rgb8()
            .write_to(&mut out, ImageFormat::Jpeg)
            .map_err(io)?;
        "jpg"
    } else {
        image.write_to(&mut out, ImageFormat::Png).map_err(io)?;
        "png"
    };
    Ok((out.into_inner(), ext))
}

/// The quality of the variants: small files whose artefacts do not show at their size.
const VARIANT_QUALITY: u8 = 80;

/// The variants of `image`, each as JPEG: the large one resized from the original, the
/// squares from the large one (a twentieth of the pixels to read).
fn variants(image: &DynamicImage) -> Result<Vec<(Variant, Vec<u8>)>, MediaError> {
    let long = Variant::Large.size();
    let large = if image.width().max(image.height()) > long {
        image.resize(long, long, FilterType::Triangle)
    } else {
        image.clone()
    };
    let mut out = Vec::with_capacity(Variant::ALL.len());
    for variant in Variant::ALL {
        let resized = if variant.square() {
            large.resize_to_fill(variant.size(), variant.size(), FilterType::Triangle)
        } else {
            large.clone()
        };
        out.push((variant, jpeg(&resized)?));
    }
    Ok(out)
}

/// JPEG has no transparency: transparent pixels are laid on white, as pages show them.
fn jpeg(image: &DynamicImage) -> Result<Vec<u8>, MediaError> {
    let rgb = if image.color().has_alpha() {
        let mut rgba = image.to_rgba8();
        for pixel in rgba.pixels_mut() {
            let [r, g, b, a] = pixel.0;
            let over =
                |c: u8| ((u16::from(c) * u16::from(a) + 255 * (255 - u16::from(a))) / 255) as u8;
            pixel.0 = [over(r), over(g), over(b), 255];
        }
        DynamicImage::ImageRgba8(rgba).into_rgb8()
    } else {
        image.to_rgb8()
    };
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, VARIANT_QUALITY)
        .encode_image(&rgb)
        .map_err(io)?;
    Ok(out)
}

/// A stored file: its key and bytes.
type Stored = (String, Vec<u8>);

/// Cleans an upload off the async reactor (decoding and resizing are CPU-heavy) and
/// names it: the key to store it under and the bytes to store, then its variants.
async fn prepare(folder: &str, bytes: Vec<u8>) -> Result<(Stored, Vec<Stored>), MediaError> {
    // The turn goes with the decode, not with the request: a client that hangs up
    // does not free it while its image is still being decoded.
    let turn = decodes().acquire_owned().await.map_err(io)?;
    let (clean, ext, resized) = tokio::task::spawn_blocking(move || {
        let done = decode(&bytes).and_then(|(image, format)| {
            let resized = variants(&image)?;
            let (clean, ext) = encode_clean(image, format)?;
            Ok((clean, ext, resized))
        });
        drop(turn);
        done
    })
    .await
    .map_err(io)??;
    let key = format!("{folder}/{}.{ext}", super::random::OsRandom.token_hex(16));
    let resized = resized
        .into_iter()
        .map(|(variant, bytes)| (variant.key(&key), bytes))
        .collect();
    Ok(((key, clean), resized))
}

/// The variants of a stored original's bytes, made off the reactor in a decode's turn.
async fn variants_of(key: &str, bytes: Vec<u8>) -> Result<Vec<Stored>, MediaError> {
    let turn = decodes().acquire_owned().await.map_err(io)?;
    let resized = tokio::task::spawn_blocking(move || {
        let done = decode(&bytes).and_then(|(image, _)| variants(&image));
        drop(turn);
        done
    })
    .await
    .map_err(io)??;
    Ok(resized
        .into_iter()
        .map(|(variant, bytes)| (variant.key(key), bytes))
        .collect())
}

/// Keys are `folder/name.ext` with a fixed alphabet: nothing a request sends can climb
/// out of the media directory.
fn valid_key(key: &str) -> bool {
    let Some((folder, file)) = key.split_once('/') else {
        return false;
    };
    let Some((name, ext)) = file.rsplit_once('.') else {
        return false;
    };
    !folder.is_empty()
        && folder.len() <= 32
        && folder.bytes().all(|b| b.is_ascii_lowercase())
        && (16..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && matches!(ext, "png" | "jpg")
}

fn content_type(key: &str) -> &'static str {
    if key.ends_with(".jpg") {
        "image/jpeg"
    } else {
        "image/png"
    }
}

impl LocalMediaStore {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    fn path(&self, key: &str) -> Option<PathBuf> {
        valid_key(key).then(|| self.root.join(key))
    }
}

async fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), MediaError> {
    if let Some(dir) = path.parent() {
        tokio::fs::create_dir_all(dir).await.map_err(io)?;
    }
    let tmp = path.with_extension("part");
    tokio::fs::write(&tmp, bytes).await.map_err(io)?;
    tokio::fs::rename(&tmp, path).await.map_err(io)
}

#[async_trait]
impl MediaStore for LocalMediaStore {
    async fn save_image(&self, folder: &str, bytes: Vec<u8>) -> Result<String, MediaError> {
        let ((key, clean), resized) = prepare(folder, bytes).await?;
        // The variants first: a page may link them as soon as the original is there.
        for (variant, bytes) in &resized {
            let path = self.path(variant).ok_or(MediaError::NotFound)?;
            write_atomically(&path, bytes).await?;
        }
        let path = self.path(&key).ok_or(MediaError::NotFound)?;
        write_atomically(&path, &clean).await?;
        Ok(key)
    }

    async fn open(&self, key: &str) -> Result<StoredMedia, MediaError> {
        let path = self.path(key).ok_or(MediaError::NotFound)?;
        match tokio::fs::read(&path).await {
            Ok(bytes) => Ok(StoredMedia {
                bytes,
                content_type: content_type(key),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(MediaError::NotFound),
            Err(e) => Err(io(e)),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), MediaError> {
        if Variant::of_key(key).is_none() {
            for variant in Variant::ALL {
                self.delete_file(&variant.key(key)).await?;
            }
        }
        self.delete_file(key).await
    }

    async fn originals(&self) -> Result<Vec<String>, MediaError> {
        let mut keys = Vec::new();
        let mut folders = match tokio::fs::read_dir(&self.root).await {
            Ok(folders) => folders,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(keys),
            Err(e) => return Err(io(e)),
        };
        while let Some(folder) = folders.next_entry().await.map_err(io)? {
            if !folder.file_type().await.map_err(io)?.is_dir() {
                continue;
            }
            let folder_name = folder.file_name().to_string_lossy().into_owned();
            let mut files = tokio::fs::read_dir(folder.path()).await.map_err(io)?;
            while let Some(file) = files.next_entry().await.map_err(io)? {
                let key = format!("{folder_name}/{}", file.file_name().to_string_lossy());
                if valid_key(&key) && Variant::of_key(&key).is_none() {
                    keys.push(key);
                }
            }
        }
        Ok(keys)
    }

    async fn make_variants(&self, key: &str) -> Result<bool, MediaError> {
        let mut missing = false;
        for variant in Variant::ALL {
            let path = self.path(&variant.key(key)).ok_or(MediaError::NotFound)?;
            missing |= !tokio::fs::try_exists(&path).await.map_err(io)?;
        }
        if !missing {
            return Ok(false);
        }
        let original = self.open(key).await?;
        for (variant, bytes) in variants_of(key, original.bytes).await? {
            let path = self.path(&variant).ok_or(MediaError::NotFound)?;
            write_atomically(&path, &bytes).await?;
        }
        Ok(true)
    }
}

impl LocalMediaStore {
    async fn delete_file(&self, key: &str) -> Result<(), MediaError> {
        let Some(path) = self.path(key) else {
            return Ok(());
        };
        match tokio::fs::remove_file(path).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io(e)),
        }
    }
}

#[cfg(test)]
mod tests;
