//! The contact service: contacts (the people behind dialogs), their details,
//! search, and their timelines (what they did: pages visited, widgets
//! shown, orders, mailings; their messages stay with the dialog service).
//! It answers gRPC (`chat.contact.v1.ContactService`) and publishes
//! `contact.contact_updated` through its outbox.
//!
//! # Layout
//! - [`config`]: its settings (`CONTACT_*`).
//! - [`error`]: the service's errors and their gRPC status.
//! - [`details`]: checking what managers write on a contact.
//! - [`db`]: the SQL.
//! - [`grpc`]: the gRPC server.
//! - [`events`]: the events it consumes and publishes.

pub mod config;
pub mod db;
pub mod details;
pub mod error;
pub mod events;
pub mod grpc;

use anyhow::Context as _;
use chat_platform::{Shutdown, bus::Bus, db as database, ops, outbox::Outbox};
use tokio::net::TcpListener;

pub use config::Config;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The service bound to its ports, ready to run.
pub struct Application {
    grpc: TcpListener,
    ops: TcpListener,
    pool: sqlx::PgPool,
    bus: Bus,
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let pool = database::connect(&config.common, "contact", &MIGRATOR).await?;
        let bus = Bus::connect(&config.common, "contact").await?;
        let grpc = TcpListener::bind(&config.grpc_addr)
            .await
            .with_context(|| format!("while binding gRPC on {}", config.grpc_addr))?;
        let ops = TcpListener::bind(&config.ops_addr)
            .await
            .with_context(|| format!("while binding ops on {}", config.ops_addr))?;
        Ok(Self {
            grpc,
            ops,
            pool,
            bus,
        })
    }

    pub fn grpc_port(&self) -> u16 {
        self.grpc.local_addr().map(|a| a.port()).unwrap_or_default()
    }

    pub fn ops_port(&self) -> u16 {
        self.ops.local_addr().map(|a| a.port()).unwrap_or_default()
    }

    pub async fn run_until_stopped(self, shutdown: Shutdown) -> anyhow::Result<()> {
        let readiness = ops::Readiness::new(self.pool.clone(), self.bus.clone());
        let ops = tokio::spawn(ops::serve(self.ops, readiness, shutdown.clone()));
        let retire = tokio::spawn({
            let (bus, shutdown) = (self.bus.clone(), shutdown.clone());
            async move {
                bus.keep_consumer_retired(events::RETIRED_TIMELINE_CONSUMER, shutdown)
                    .await
            }
        });
        let outbox = Outbox::default();
        let relay = tokio::spawn(outbox.clone().relay(
            self.pool.clone(),
            self.bus.clone(),
            shutdown.clone(),
        ));
        let api = grpc::ContactApi {
            pool: self.pool,
            outbox,
        };
        grpc::serve(self.grpc, api, shutdown).await?;
        retire.await?;
        relay.await?;
        ops.await??;
        tracing::info!("contact service stopped");
        Ok(())
    }
}

pub async fn run(config: Config, shutdown: Shutdown) -> anyhow::Result<()> {
    Application::build(config)
        .await?
        .run_until_stopped(shutdown)
        .await
}
