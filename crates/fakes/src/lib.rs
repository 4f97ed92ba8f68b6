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
//! - [`LostAnswers`]: the bridge's answers lost on the way back, as when it
//!   dies between storing an update and answering for it.

pub mod facebook;
pub mod telegram;
pub mod vk;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use tokio::net::TcpListener;
use tokio::sync::watch;

/// While switched on, whatever the bridge answers to a platform for an
/// update (a webhook's status, a long poll's confirming offset) never gets
/// back to it: the call hangs until switched off, then counts as failed and
/// changes nothing. The platform then delivers the update again, as it does
/// after a bridge that stored the update died before answering for it.
#[derive(Clone)]
pub struct LostAnswers {
    on: watch::Sender<bool>,
    lost: Arc<AtomicU64>,
}

impl Default for LostAnswers {
    fn default() -> Self {
        Self {
            on: watch::Sender::new(false),
            lost: Arc::default(),
        }
    }
}

impl LostAnswers {
    /// From now on, answers are lost.
    pub fn start(&self) {
        self.on.send_replace(true);
    }

    /// Answers get through again; the calls held meanwhile end as failed.
    pub fn stop(&self) {
        self.on.send_replace(false);
    }

    /// How many answers were lost so far (counted as each is held).
    pub fn lost(&self) -> u64 {
        self.lost.load(Ordering::SeqCst)
    }

    /// Whether this answer is lost: if so, it is counted and held until
    /// answers get through again.
    pub(crate) async fn lose(&self) -> bool {
        let mut on = self.on.subscribe();
        if !*on.borrow_and_update() {
            return false;
        }
        self.lost.fetch_add(1, Ordering::SeqCst);
        let _ = on.wait_for(|on| !on).await;
        true
    }
}

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

/// Where a fake starts numbering what its platform never numbers twice
/// (message ids, update ids, long-poll positions): a thousand per second of
/// the clock, so a fake restarted against a database that outlived it (`make
/// dev`) does not hand out numbers the bridge has stored, and would rightly
/// drop as redeliveries. It wraps every 23 days and stays under `i32::MAX`
/// with room to spare, as Telegram's 32-bit ids need.
pub(crate) fn first_number() -> i64 {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    i64::try_from(seconds % 2_000_000).unwrap_or(0) * 1000
}
