//! The skeleton of a service that only consumes events (notification, the
//! channel bridge): its database schema, its connection to the bus, its ops
//! endpoints (`/healthz`, `/readyz`, `/metrics`), and its consumers, run
//! until shutdown.

use std::future::Future;

use anyhow::Context as _;
use sqlx::PgPool;
use sqlx::migrate::Migrator;
use tokio::net::TcpListener;

use crate::bus::Bus;
use crate::config::Common;
use crate::{Shutdown, db, ops};

/// A consumer-only service, bound to its ops port, ready to run.
pub struct Worker {
    pub pool: PgPool,
    pub bus: Bus,
    name: &'static str,
    ops: TcpListener,
}

impl Worker {
    /// Connects to PostgreSQL (migrating `schema`) and NATS, and binds
    /// `ops_addr` (port 0 picks a free one, for tests).
    pub async fn build(
        name: &'static str,
        schema: &str,
        common: &Common,
        migrator: &'static Migrator,
        ops_addr: &str,
    ) -> anyhow::Result<Self> {
        let pool = db::connect(common, schema, migrator).await?;
        let bus = Bus::connect(common, name).await?;
        let ops = TcpListener::bind(ops_addr)
            .await
            .with_context(|| format!("while binding {name}'s ops endpoints on {ops_addr}"))?;
        Ok(Self {
            pool,
            bus,
            name,
            ops,
        })
    }

    pub fn ops_port(&self) -> u16 {
        self.ops.local_addr().map(|a| a.port()).unwrap_or_default()
    }

    /// Serves the ops endpoints and runs `consumers` (given the bus, the
    /// pool and the shutdown signal) until shutdown; returns once both stopped.
    pub async fn run<F>(
        self,
        shutdown: Shutdown,
        consumers: impl FnOnce(Bus, PgPool, Shutdown) -> F,
    ) -> anyhow::Result<()>
    where
        F: Future<Output = ()>,
    {
        self.run_with_routes(shutdown, axum::Router::new(), consumers)
            .await
    }

    /// As [`Worker::run`], with `routes` of the service's own served beside
    /// the ops endpoints.
    pub async fn run_with_routes<F>(
        self,
        shutdown: Shutdown,
        routes: axum::Router,
        consumers: impl FnOnce(Bus, PgPool, Shutdown) -> F,
    ) -> anyhow::Result<()>
    where
        F: Future<Output = ()>,
    {
        let readiness = ops::Readiness::new(self.pool.clone(), self.bus.clone());
        let ops = tokio::spawn(ops::serve_with(
            self.ops,
            readiness,
            routes,
            shutdown.clone(),
        ));
        consumers(self.bus, self.pool, shutdown).await;
        ops.await??;
        tracing::info!(service = self.name, "stopped");
        Ok(())
    }
}
