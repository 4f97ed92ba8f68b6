//! The notification service: tells managers about messages while they are
//! away (e-mail, browser push). It consumes `dialog.message_created` and keeps,
//! per dialog, who spoke last, which is what decides whom to notify.
//!
//! # Layout
//! - [`config`]: its settings (`NOTIFICATION_*`).
//! - [`activity`]: the per-dialog record of who wrote last, fed by events.

pub mod activity;
pub mod config;

use anyhow::Context as _;
use chat_platform::{Shutdown, bus::Bus, db as database, ops};
use tokio::net::TcpListener;

pub use config::Config;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

pub struct Application {
    ops: TcpListener,
    pool: sqlx::PgPool,
    bus: Bus,
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let pool = database::connect(&config.common, "notification", &MIGRATOR).await?;
        let bus = Bus::connect(&config.common, "notification").await?;
        let ops = TcpListener::bind(&config.ops_addr)
            .await
            .with_context(|| format!("while binding ops on {}", config.ops_addr))?;
        Ok(Self { ops, pool, bus })
    }

    pub fn ops_port(&self) -> u16 {
        self.ops.local_addr().map(|a| a.port()).unwrap_or_default()
    }

    pub async fn run_until_stopped(self, shutdown: Shutdown) -> anyhow::Result<()> {
        let readiness = ops::Readiness::new(self.pool.clone(), self.bus.clone());
        let ops = tokio::spawn(ops::serve(self.ops, readiness, shutdown.clone()));
        activity::track(self.bus, self.pool, shutdown).await;
        ops.await??;
        tracing::info!("notification service stopped");
        Ok(())
    }
}

pub async fn run(config: Config, shutdown: Shutdown) -> anyhow::Result<()> {
    Application::build(config)
        .await?
        .run_until_stopped(shutdown)
        .await
}
