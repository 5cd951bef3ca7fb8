//! moto in server mode: a real S3-API server on a loopback port, for the media tests.
//! Found through `CATALOG_TEST_MOTO` (the `moto_server` executable) or on `PATH`; CI
//! installs it from `cluster/requirements.txt` and sets `CATALOG_REQUIRE_S3_TESTS=1` so
//! that a missing server fails instead of skipping.

use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::process::free_port;

pub struct Moto {
    pub endpoint: String,
    child: Child,
}

impl Moto {
    /// A fresh server with `bucket` created, or `None` (after saying so) when moto is
    /// not installed and not required.
    pub async fn start(bucket: &str) -> Option<Self> {
        let program = std::env::var("CATALOG_TEST_MOTO").unwrap_or_else(|_| "moto_server".into());
        let port = free_port();
        let child = match Command::new(&program)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
        {
            Ok(child) => child,
            Err(e) => {
                assert!(
                    std::env::var_os("CATALOG_REQUIRE_S3_TESTS").is_none(),
                    "CATALOG_REQUIRE_S3_TESTS is set but {program} cannot start: {e}"
                );
                eprintln!("skipped: no moto_server ({e}); see cluster/requirements.txt");
                return None;
            }
        };
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "moto did not start"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let endpoint = format!("http://127.0.0.1:{port}");
        let created = reqwest::Client::new()
            .put(format!("{endpoint}/{bucket}"))
            .send()
            .await
            .unwrap();
        assert!(
            created.status().is_success(),
            "create bucket: {}",
            created.status()
        );
        Some(Self { endpoint, child })
    }

    /// The settings that make the app keep its media in `bucket` on this server.
    pub fn env<'a>(&'a self, bucket: &'a str) -> Vec<(&'static str, &'a str)> {
        vec![
            ("CATALOG_MEDIA_BACKEND", "s3"),
            ("CATALOG_S3_BUCKET", bucket),
            ("CATALOG_S3_ENDPOINT", self.endpoint.as_str()),
            ("CATALOG_S3_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", "catalog-test"),
            ("AWS_SECRET_ACCESS_KEY", "catalog-test-secret"),
        ]
    }

    /// How many objects the bucket holds (moto's list, unauthenticated).
    pub async fn object_count(&self, bucket: &str) -> usize {
        let listing = reqwest::get(format!("{}/{bucket}?list-type=2", self.endpoint))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        listing.matches("<Key>").count()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
