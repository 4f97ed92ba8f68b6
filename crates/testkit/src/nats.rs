//! NATS for tests: a prefix per test on the shared server (its stream and
//! consumers are deleted by [`remove_prefix`]), or a private nats-server on a
//! free port that a test can stop and start again with its data kept.

use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

pub const DEFAULT_URL: &str = "nats://127.0.0.1:4222";

/// The shared server's URL: `CHAT_TEST_NATS_URL`, or the local default.
pub fn shared_url() -> String {
    std::env::var("CHAT_TEST_NATS_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned())
}

/// A fresh prefix: letters, digits and `_`.
pub fn unique_prefix() -> String {
    crate::unique_name("t")
}

/// Deletes the streams (and with them the consumers) of a test's prefix:
/// the events and the presence bucket.
pub async fn remove_prefix(url: &str, prefix: &str) {
    if let Ok(client) = async_nats::connect(url).await {
        let js = async_nats::jetstream::new(client);
        let _ = js.delete_stream(format!("{prefix}_events")).await;
        let _ = js.delete_stream(format!("KV_{prefix}_presence")).await;
    }
}

/// A nats-server of the test's own, with JetStream, on a free port.
pub struct NatsServer {
    pub port: u16,
    store: std::path::PathBuf,
    child: Option<Child>,
}

impl NatsServer {
    pub async fn start() -> NatsServer {
        let port = free_port();
        let store = std::env::temp_dir().join(crate::unique_name("nats"));
        let mut server = NatsServer {
            port,
            store,
            child: None,
        };
        server.resume().await;
        server
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Kills the server (as a crash would); its stored streams stay on disk.
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
    }

    /// Kills the server and starts it again on the same port with an empty
    /// store: every stream and consumer it had is forgotten.
    pub async fn restart_empty(&mut self) {
        self.stop().await;
        let _ = std::fs::remove_dir_all(&self.store);
        self.resume().await;
    }

    /// Starts the server again on the same port and store.
    pub async fn resume(&mut self) {
        let child = Command::new(nats_server_binary())
            .args([
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-js",
                "-sd",
            ])
            .arg(&self.store)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("nats-server must be installed (deploy/dev/ensure-deps.sh)");
        self.child = Some(child);
        let deadline = tokio::time::Instant::now() + crate::PATIENCE;
        while tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .is_err()
        {
            assert!(
                tokio::time::Instant::now() < deadline,
                "nats-server did not start"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.start_kill();
        }
        let _ = std::fs::remove_dir_all(&self.store);
    }
}

fn nats_server_binary() -> String {
    for candidate in [
        "/usr/sbin/nats-server",
        "/usr/bin/nats-server",
        "/usr/local/bin/nats-server",
    ] {
        if std::path::Path::new(candidate).exists() {
            return candidate.to_owned();
        }
    }
    "nats-server".to_owned()
}

/// Where [`free_port`] looks: below Linux's ephemeral range (32768 and up),
/// from which the kernel picks the port of every socket bound to port 0.
const CHOSEN_PORTS: std::ops::Range<u16> = 20_000..32_000;

/// A port nothing listens on now, for a server to bind a moment later.
/// It is taken below the kernel's ephemeral range: a port the kernel had
/// just handed out (and this released) could go to any other test's
/// socket bound to port 0 before the server binds it. Each process walks
/// the range from its own offset, so parallel test binaries rarely meet.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let span = u32::from(CHOSEN_PORTS.end - CHOSEN_PORTS.start);
    let offset = std::process::id().wrapping_mul(7919) % span;
    for _ in 0..span {
        let n = (offset + NEXT.fetch_add(1, Ordering::Relaxed)) % span;
        let port = CHOSEN_PORTS.start + n as u16;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port in {CHOSEN_PORTS:?}")
}
