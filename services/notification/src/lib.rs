//! The notification service: tells managers about messages while they are
//! away (e-mail, browser push). It consumes `dialog.message_created` and keeps,
//! per dialog, who spoke last, which is what decides whom to notify.
//!
//! # Layout
//! - [`config`]: its settings (`NOTIFICATION_*`).
//! - [`activity`]: the per-dialog record of who wrote last, fed by events.

pub mod activity;
pub mod config;

use chat_platform::{Shutdown, worker::Worker};

pub use config::Config;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

pub struct Application(Worker);

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let worker = Worker::build(
            "notification",
            "notification",
            &config.common,
            &MIGRATOR,
            &config.ops_addr,
        )
        .await?;
        Ok(Self(worker))
    }

    pub fn ops_port(&self) -> u16 {
        self.0.ops_port()
    }

    pub async fn run_until_stopped(self, shutdown: Shutdown) -> anyhow::Result<()> {
        self.0.run(shutdown, activity::track).await
    }
}

pub async fn run(config: Config, shutdown: Shutdown) -> anyhow::Result<()> {
    Application::build(config)
        .await?
        .run_until_stopped(shutdown)
        .await
}
