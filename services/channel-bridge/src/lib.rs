//! The channel bridge: brings Telegram, VK and Facebook Messenger into the
//! suite's dialogs. It consumes `dialog.messenger_reply_created` and queues,
//! in its delivery log, every manager reply that must leave through a
//! messenger; the adapters (one issue each) send them and record the outcome.
//!
//! # Layout
//! - [`config`]: its settings (`BRIDGE_*`).
//! - [`outbound`]: the delivery log, fed by events.

pub mod config;
pub mod outbound;

use chat_platform::{Shutdown, worker::Worker};

pub use config::Config;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

pub struct Application(Worker);

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let worker = Worker::build(
            "channel-bridge",
            "channel_bridge",
            &config.common,
            &MIGRATOR,
            &config.http_addr,
        )
        .await?;
        Ok(Self(worker))
    }

    /// The port of its HTTP server: ops endpoints now, messenger webhooks later.
    pub fn http_port(&self) -> u16 {
        self.0.ops_port()
    }

    pub async fn run_until_stopped(self, shutdown: Shutdown) -> anyhow::Result<()> {
        self.0.run(shutdown, outbound::queue_replies).await
    }
}

pub async fn run(config: Config, shutdown: Shutdown) -> anyhow::Result<()> {
    Application::build(config)
        .await?
        .run_until_stopped(shutdown)
        .await
}
