//! The channel bridge: brings Telegram, VK and Facebook Messenger into the
//! suite's dialogs. It consumes `dialog.message_created` and queues, in its
//! delivery log, every manager reply that must leave through a messenger;
//! the adapters (one issue each) send them and record the outcome.
//!
//! # Layout
//! - [`config`]: its settings (`BRIDGE_*`).
//! - [`outbound`]: the delivery log, fed by events.

pub mod config;
pub mod outbound;

use anyhow::Context as _;
use chat_platform::{Shutdown, bus::Bus, db as database, ops};
use tokio::net::TcpListener;

pub use config::Config;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

pub struct Application {
    http: TcpListener,
    pool: sqlx::PgPool,
    bus: Bus,
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let pool = database::connect(&config.common, "channel_bridge", &MIGRATOR).await?;
        let bus = Bus::connect(&config.common, "channel-bridge").await?;
        let http = TcpListener::bind(&config.http_addr)
            .await
            .with_context(|| format!("while binding HTTP on {}", config.http_addr))?;
        Ok(Self { http, pool, bus })
    }

    /// The port of its HTTP server: ops endpoints now, messenger webhooks later.
    pub fn http_port(&self) -> u16 {
        self.http.local_addr().map(|a| a.port()).unwrap_or_default()
    }

    pub async fn run_until_stopped(self, shutdown: Shutdown) -> anyhow::Result<()> {
        let readiness = ops::Readiness::new(self.pool.clone(), self.bus.clone());
        let http = tokio::spawn(ops::serve(self.http, readiness, shutdown.clone()));
        outbound::queue_replies(self.bus, self.pool, shutdown).await;
        http.await??;
        tracing::info!("channel bridge stopped");
        Ok(())
    }
}

pub async fn run(config: Config, shutdown: Shutdown) -> anyhow::Result<()> {
    Application::build(config)
        .await?
        .run_until_stopped(shutdown)
        .await
}
