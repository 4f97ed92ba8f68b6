//! Local fakes of the messengers' HTTP APIs, faithful to
//! `../shared/CHANNELS.md`: the bridge's tests run against them, and `make
//! dev` runs them with a page each where a person can play the messenger's
//! user and chat with a manager in the console.
//!
//! # Layout
//! - [`telegram`]: the Bot API (`/bot<token>/<method>`), long polling and
//!   webhook deliveries, and its control routes (`/_fake/telegram/...`).
//! - [`vk`]: VK's API methods (`/method/<name>`), Bots Long Poll, Callback
//!   API deliveries, and its control routes (`/_fake/vk/...`).
//! - [`facebook`]: the Messenger Platform's Send API and profiles
//!   (`/v21.0/...`), signed webhook deliveries, and its control routes
//!   (`/_fake/facebook/...`).

pub mod facebook;
pub mod telegram;
pub mod vk;

use tokio::net::TcpListener;

/// A fake serving on a port of 127.0.0.1 until dropped.
pub struct Running {
    pub port: u16,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Serves `router` on `addr` (port 0: a free one).
    pub async fn serve(addr: &str, router: axum::Router) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let port = listener.local_addr()?.port();
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, router).await {
                tracing::error!(error = %e, "a fake stopped");
            }
        });
        Ok(Self { port, task })
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}
