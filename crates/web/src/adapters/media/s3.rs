//! Media in an S3-compatible object store (AWS S3, MinIO, Ceph, ...), chosen with
//! `CATALOG_MEDIA_BACKEND=s3`: every node of a cluster reads and writes the same bucket,
//! and serves `/media/{key}` from it, so an image uploaded through one node is seen
//! through every other.

use std::sync::Arc;

use async_trait::async_trait;
use catalog_domain::ports::{MediaError, MediaStore, StoredMedia};
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;
use object_store::{Attribute, Attributes, ObjectStore, ObjectStoreExt, PutOptions, PutPayload};
use secrecy::ExposeSecret;

use catalog_domain::media::Variant;
use futures::TryStreamExt;

use super::{content_type, io, prepare, valid_key, variants_of};
use crate::settings::S3Settings;

#[derive(Debug, Clone)]
pub struct S3MediaStore {
    store: Arc<dyn ObjectStore>,
}

fn object_error(e: object_store::Error) -> MediaError {
    match e {
        object_store::Error::NotFound { .. } => MediaError::NotFound,
        other => io(other),
    }
}

impl S3MediaStore {
    /// # Errors
    /// [`MediaError::Io`] when the settings do not make a usable client (nothing is
    /// contacted yet).
    pub fn new(settings: &S3Settings) -> Result<Self, MediaError> {
        let mut builder = AmazonS3Builder::from_env()
            .with_bucket_name(&settings.bucket)
            .with_region(&settings.region);
        if let Some(endpoint) = &settings.endpoint {
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"));
        }
        if let Some(id) = &settings.access_key_id {
            builder = builder.with_access_key_id(id);
        }
        if let Some(secret) = &settings.secret_access_key {
            builder = builder.with_secret_access_key(secret.expose_secret());
        }
        if let Some(token) = &settings.session_token {
            builder = builder.with_token(token.expose_secret());
        }
        Ok(Self {
            store: Arc::new(builder.build().map_err(io)?),
        })
    }

    fn path(key: &str) -> Option<ObjectPath> {
        valid_key(key).then(|| ObjectPath::from(key))
    }
}

#[async_trait]
impl MediaStore for S3MediaStore {
    async fn save_image(&self, folder: &str, bytes: Vec<u8>) -> Result<String, MediaError> {
        let ((key, clean), resized) = prepare(folder, bytes).await?;
        // The variants first: a page may link them as soon as the original is there.
        for (variant, bytes) in resized {
            self.put(&variant, bytes).await?;
        }
        self.put(&key, clean).await?;
        Ok(key)
    }

    async fn open(&self, key: &str) -> Result<StoredMedia, MediaError> {
        let path = Self::path(key).ok_or(MediaError::NotFound)?;
        let found = self.store.get(&path).await.map_err(object_error)?;
        let bytes = found.bytes().await.map_err(object_error)?;
        Ok(StoredMedia {
            bytes: bytes.to_vec(),
            content_type: content_type(key),
        })
    }

    async fn delete(&self, key: &str) -> Result<(), MediaError> {
        if Variant::of_key(key).is_none() {
            for variant in Variant::ALL {
                self.delete_object(&variant.key(key)).await?;
            }
        }
        self.delete_object(key).await
    }

    async fn originals(&self) -> Result<Vec<String>, MediaError> {
        let objects: Vec<object_store::ObjectMeta> = self
            .store
            .list(None)
            .try_collect()
            .await
            .map_err(object_error)?;
        Ok(objects
            .into_iter()
            .map(|o| o.location.to_string())
            .filter(|key| valid_key(key) && Variant::of_key(key).is_none())
            .collect())
    }

    async fn make_variants(&self, key: &str) -> Result<bool, MediaError> {
        let mut missing = false;
        for variant in Variant::ALL {
            let path = Self::path(&variant.key(key)).ok_or(MediaError::NotFound)?;
            match self.store.head(&path).await {
                Ok(_) => {}
                Err(object_store::Error::NotFound { .. }) => missing = true,
                Err(e) => return Err(io(e)),
            }
        }
        if !missing {
            return Ok(false);
        }
        let original = self.open(key).await?;
        for (variant, bytes) in variants_of(key, original.bytes).await? {
            self.put(&variant, bytes).await?;
        }
        Ok(true)
    }
}

impl S3MediaStore {
    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), MediaError> {
        let path = Self::path(key).ok_or(MediaError::NotFound)?;
        let mut attributes = Attributes::new();
        attributes.insert(Attribute::ContentType, content_type(key).into());
        let options = PutOptions {
            attributes,
            ..PutOptions::default()
        };
        self.store
            .put_opts(&path, PutPayload::from(bytes), options)
            .await
            .map_err(object_error)?;
        Ok(())
    }

    async fn delete_object(&self, key: &str) -> Result<(), MediaError> {
        let Some(path) = Self::path(key) else {
            return Ok(());
        };
        match self.store.delete(&path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(io(e)),
        }
    }
}
