//! The real `catalog serve` binary as a child process, for the tests that need several
//! processes, a `kill -9` or a SIGTERM: things an in-process server cannot show.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

pub struct Serve {
    pub port: u16,
    pub client: reqwest::Client,
    child: Child,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

/// A free loopback port (bound and released; the tiny race is acceptable in tests).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Serve {
    /// Starts `catalog serve` on `database_url` with `extra` variables and waits until
    /// `/healthz` answers. `media` is shared by processes that must see the same files.
    pub async fn start(database_url: &str, media: &Path, extra: &[(&str, String)]) -> Self {
        Self::start_on(free_port(), database_url, media, extra).await
    }

    pub async fn start_on(
        port: u16,
        database_url: &str,
        media: &Path,
        extra: &[(&str, String)],
    ) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("serve.log");
        let out = std::fs::File::create(&log).unwrap();
        let err = out.try_clone().unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_catalog"));
        command
            .arg("serve")
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("DATABASE_URL", database_url)
            .env("CATALOG_BIND", format!("127.0.0.1:{port}"))
            .env("CATALOG_PUBLIC_URL", format!("http://127.0.0.1:{port}"))
            .env(
                "CATALOG_SECRET_KEY",
                "test-secret-key-0123456789abcdef-0123456789",
            )
            .env("CATALOG_MEDIA_DIR", media)
            .env("EMAIL_BACKEND", "file")
            .env("EMAIL_FILE_PATH", dir.path().join("mail"))
            .env("RUST_LOG", "info")
            .env("CATALOG_LOG_FORMAT", "json")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        for (k, v) in extra {
            command.env(k, v);
        }
        let child = command.spawn().unwrap();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let mut serve = Self {
            port,
            client,
            child,
            log,
            _dir: dir,
        };
        serve.wait_healthy().await;
        serve
    }

    async fn wait_healthy(&mut self) {
        let started = Instant::now();
        loop {
            if let Ok(r) = self.client.get(self.url("/healthz")).send().await
                && r.status() == 200
            {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("serve exited with {status}:\n{}", self.log());
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "serve did not answer /healthz:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn pid(&self) -> i32 {
        i32::try_from(self.child.id()).unwrap()
    }

    /// `kill -9`: no chance to finish anything.
    pub fn kill9(mut self) -> String {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        self.log()
    }

    /// Sends SIGTERM without waiting.
    pub fn sigterm(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits up to `timeout` for the process to exit on its own.
    pub async fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let started = Instant::now();
        while started.elapsed() < timeout {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        None
    }

    /// SIGTERM and wait; returns the log. Panics if it does not exit cleanly.
    pub async fn stop(mut self) -> String {
        self.sigterm();
        let status = self.wait_exit(Duration::from_secs(20)).await;
        let log = self.log();
        assert!(
            status.is_some_and(|s| s.success()),
            "serve did not exit cleanly ({status:?}):\n{log}"
        );
        log
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Lines of a (JSON) serve log at ERROR level.
pub fn errors_in(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|l| l.contains("\"level\":\"ERROR\""))
        .collect()
}
