//! The dialog service: dialogs, and their messages numbered by a per-dialog
//! sequence, their notes and the account's reply templates. It answers gRPC
//! (`chat.dialog.v1.DialogService`) and publishes `dialog.*` events through
//! its outbox.
//!
//! # Layout
//! - [`config`]: its settings (`DIALOG_*`).
//! - [`error`]: the service's errors and their gRPC status.
//! - [`db`]: the SQL, one small function per query.
//! - [`messages`]: posting a message: validation, idempotency, sequence, events.
//! - [`writer`]: group commit: posts that arrive together share a transaction.
//! - [`alone`]: a visitor's post that arrives alone, in one statement with its event.
//! - [`changes`]: assigning, closing and reopening, each with a system message.
//! - [`files`]: files messages carry: kept, checked, and given to who may see them.
//! - [`notes`]: managers' notes on a dialog.
//! - [`templates`]: reply templates.
//! - [`contacts`]: contacts' names on their dialogs, from the contact service's events.
//! - [`grpc`]: the gRPC server.
//! - [`events`]: the events it publishes.

pub mod alone;
pub mod changes;
pub mod config;
pub mod contacts;
pub mod db;
pub mod error;
pub mod events;
pub mod files;
pub mod grpc;
pub mod messages;
pub mod notes;
pub mod templates;
pub mod writer;

use anyhow::Context as _;
use chat_platform::{Shutdown, bus::Bus, db as database, ops, outbox::Outbox, shutdown::Tasks};
use tokio::net::TcpListener;

pub use config::Config;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The service bound to its ports, ready to run.
pub struct Application {
    grpc: TcpListener,
    ops: TcpListener,
    state: grpc::DialogApi,
    readiness: ops::Readiness,
    tasks: Tasks,
}

impl Application {
    /// Connects to PostgreSQL (migrating the `dialog` schema) and NATS, and binds
    /// its ports (port 0 picks a free one, for tests).
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let pool = database::connect(&config.common, "dialog", &MIGRATOR).await?;
        let bus = Bus::connect(&config.common, "dialog").await?;
        let grpc = TcpListener::bind(&config.grpc_addr)
            .await
            .with_context(|| format!("while binding gRPC on {}", config.grpc_addr))?;
        let ops = TcpListener::bind(&config.ops_addr)
            .await
            .with_context(|| format!("while binding ops on {}", config.ops_addr))?;
        // Lone visitors' posts write events that name their message.
        let outbox = Outbox::with_resolver(std::sync::Arc::new(alone::MessageEvents));
        let tasks = Tasks::new();
        let state = grpc::DialogApi {
            pool: pool.clone(),
            writer: writer::Writer::start(
                &pool,
                outbox.clone(),
                std::time::Duration::from_millis(config.post_max_wait_ms),
                &tasks,
            ),
            outbox,
            bus: bus.clone(),
            files: files::Files::new(pool.clone()),
        };
        Ok(Self {
            grpc,
            ops,
            state,
            readiness: ops::Readiness::new(pool, bus),
            tasks,
        })
    }

    pub fn grpc_port(&self) -> u16 {
        self.grpc.local_addr().map(|a| a.port()).unwrap_or_default()
    }

    pub fn ops_port(&self) -> u16 {
        self.ops.local_addr().map(|a| a.port()).unwrap_or_default()
    }

    /// Serves until `shutdown`, then lets in-flight calls and writes finish
    /// and the relay drain.
    pub async fn run_until_stopped(self, shutdown: Shutdown) -> anyhow::Result<()> {
        // The relay stops after the writers, so it publishes what they wrote last.
        let relay_stop = Shutdown::new();
        let relay = tokio::spawn(self.state.outbox.clone().relay(
            self.state.pool.clone(),
            self.state.bus.clone(),
            relay_stop.clone(),
        ));
        let names = tokio::spawn(contacts::keep_names(
            self.state.bus.clone(),
            self.state.pool.clone(),
            shutdown.clone(),
        ));
        let ops = tokio::spawn(ops::serve(self.ops, self.readiness, shutdown.clone()));
        grpc::serve(self.grpc, self.state, shutdown).await?;
        // The server is gone, and with it the writers' queue: they finish what they hold.
        self.tasks.close();
        self.tasks.wait().await;
        relay_stop.cancel();
        relay.await?;
        names.await?;
        ops.await??;
        tracing::info!("dialog service stopped");
        Ok(())
    }
}

/// Builds and runs the service until `shutdown`.
pub async fn run(config: Config, shutdown: Shutdown) -> anyhow::Result<()> {
    Application::build(config)
        .await?
        .run_until_stopped(shutdown)
        .await
}
