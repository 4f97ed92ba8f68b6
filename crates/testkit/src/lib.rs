//! Support for the suite's tests: each test gets its own database and NATS
//! prefix and removes them afterwards; a test can run its own nats-server to
//! take it down; typed clients speak the public REST and socket protocols.
//!
//! # Layout
//! - [`env`]: a test's database and NATS prefix together, with the settings and events.
//! - [`database`]: a database per test.
//! - [`nats`]: a prefix per test, and a private nats-server.
//! - [`postgres`]: a private PostgreSQL server a test can crash and restart.
//! - [`process`]: a service as its own process, stopped with SIGTERM.
//! - [`InProcess`]: a service in a task of the test, stopped by its signal.
//! - [`clients`]: REST and WebSocket clients.
//! - [`mail`]: a real SMTP server (mailtutan) that tests read e-mails from.

pub mod clients;
pub mod database;
pub mod env;
pub mod mail;
pub mod nats;
pub mod postgres;
pub mod process;

use std::time::Duration;

/// How long a test waits for something that should happen; only a bound
/// against hanging, never a measure of speed.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// A unique lowercase name for this test's resources.
pub fn unique_name(kind: &str) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("{kind}_{}_{}", chrono_like_now_secs(), &id[..12])
}

fn chrono_like_now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// Polls `check` until it returns `Some`, or panics after [`PATIENCE`].
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "gave up waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A service running in a task of the test, with its own shutdown signal.
pub struct InProcess {
    shutdown: chat_platform::Shutdown,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl InProcess {
    /// Spawns `run` (a service's `run_until_stopped`) with a fresh shutdown signal.
    pub fn spawn<F, Fut>(run: F) -> InProcess
    where
        F: FnOnce(chat_platform::Shutdown) -> Fut,
        Fut: std::future::Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let shutdown = chat_platform::Shutdown::new();
        let task = tokio::spawn(run(shutdown.clone()));
        InProcess { shutdown, task }
    }

    /// Signals shutdown and waits; panics unless the service stops cleanly
    /// within [`PATIENCE`].
    pub async fn stop(self, what: &str) {
        self.shutdown.cancel();
        tokio::time::timeout(PATIENCE, self.task)
            .await
            .unwrap_or_else(|_| panic!("{what} did not stop in time"))
            .unwrap_or_else(|e| panic!("{what} panicked: {e}"))
            .unwrap_or_else(|e| panic!("{what} did not stop cleanly: {e:#}"));
    }
}
