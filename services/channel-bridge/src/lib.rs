//! The channel bridge: brings Telegram, VK and Facebook Messenger into the
//! suite's dialogs. It consumes `dialog.messenger_reply_created` and queues,
//! in its delivery log, every manager reply that must leave through a
//! messenger; the adapters (one issue each) send them and record the outcome.
//!
//! People writing from a messenger arrive through its webhook (or, where
//! the suite has no public address, its long poll) and become messages of
//! their contact's dialog, once each.
//!
//! # Layout
//! - [`config`]: its settings (`BRIDGE_*`); [`grpc`]: its API, for the gateway.
//! - [`integrations`]: the messengers each account connected, and their health;
//!   [`polling`]: long polling shared out between replicas by [`leases`].
//! - [`inbound`]: a person's message into their contact's dialog.
//! - [`webhooks`]: the platforms' webhook routes; [`telegram`], [`vk`] and
//!   [`facebook`]: each platform's events, webhook, long poll and health check;
//!   [`health`]: the health checks' schedule.
//! - [`outbound`]: the delivery log, fed by events; [`sender`]: sends it
//!   through the messengers and reports each outcome.

pub mod config;
pub mod facebook;
pub mod grpc;
pub mod health;
pub mod http_errors;
pub mod inbound;
pub mod integrations;
pub mod leases;
pub mod outbound;
pub mod polling;
pub mod refusals;
pub mod sender;
pub mod telegram;
pub mod vk;
pub mod webhooks;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;

use chat_platform::grpc as platform_grpc;
use chat_platform::{Shutdown, worker::Worker};
use chat_proto::contact::v1::contact_service_client::ContactServiceClient;
use chat_proto::dialog::v1::dialog_service_client::DialogServiceClient;

pub use config::Config;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

pub struct Application {
    worker: Worker,
    health_check_every: Duration,
    webhooks: webhooks::Webhooks,
    grpc: tokio::net::TcpListener,
    api: grpc::BridgeApi,
    /// This replica's name in the polling leases.
    replica: String,
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let keys = config.secret_keys.ring()?;
        if keys.is_none() {
            tracing::warn!("BRIDGE_SECRET_KEYS is not set: no messenger can be connected");
        }
        let worker = Worker::build(
            "channel-bridge",
            "channel_bridge",
            &config.common,
            &MIGRATOR,
            &config.http_addr,
        )
        .await?;
        if let Some(keys) = &keys {
            let resealed = integrations::reseal_stale(&worker.pool, keys).await?;
            if resealed > 0 {
                tracing::info!(
                    resealed,
                    key = keys.current_id(),
                    "integrations' secrets sealed under the current key"
                );
            }
        }
        let call_timeout = Duration::from_secs(config.backend_timeout_secs);
        let inbound = inbound::Inbound {
            pool: worker.pool.clone(),
            contacts: ContactServiceClient::new(platform_grpc::traced(
                platform_grpc::lazy_channel(&config.contact_url, call_timeout)?,
            )),
            dialogs: DialogServiceClient::new(platform_grpc::traced(platform_grpc::lazy_channel(
                &config.dialog_url,
                call_timeout,
            )?)),
        };
        let public_url = Some(config.public_url.trim().to_owned()).filter(|u| !u.is_empty());
        let telegram = telegram::api::TelegramApi::new(
            config
                .telegram_api_url
                .parse()
                .with_context(|| format!("BRIDGE_TELEGRAM_API_URL {}", config.telegram_api_url))?,
            public_url.clone(),
        );
        let vk = vk::api::VkApi::new(&config.vk_api_url, public_url.clone());
        let facebook = facebook::api::FacebookApi::new(&config.facebook_api_url, public_url);
        let api = grpc::BridgeApi {
            pool: worker.pool.clone(),
            keys: keys.clone(),
            telegram,
            vk: vk.clone(),
            facebook: facebook.clone(),
        };
        let webhooks = webhooks::Webhooks {
            pool: worker.pool.clone(),
            keys,
            inbound,
            vk,
            facebook,
            refusals: Default::default(),
        };
        let grpc = tokio::net::TcpListener::bind(&config.grpc_addr)
            .await
            .with_context(|| format!("while binding gRPC on {}", config.grpc_addr))?;
        Ok(Self {
            worker,
            health_check_every: Duration::from_secs(config.health_check_secs.max(1)),
            webhooks,
            grpc,
            api,
            replica: format!("bridge-{}", uuid::Uuid::now_v7()),
        })
    }

    /// This replica's name, as the polling leases it holds give it.
    pub fn replica(&self) -> &str {
        &self.replica
    }

    pub fn grpc_port(&self) -> u16 {
        self.grpc.local_addr().map(|a| a.port()).unwrap_or_default()
    }

    /// The port of its HTTP server: ops endpoints and the messengers' webhooks.
    pub fn http_port(&self) -> u16 {
        self.worker.ops_port()
    }

    pub async fn run_until_stopped(self, shutdown: Shutdown) -> anyhow::Result<()> {
        let pollers = self.api.keys.clone().map(|keys| polling::Pollers {
            pool: self.api.pool.clone(),
            keys,
            holder: self.replica.clone(),
            pollers: vec![
                Arc::new(telegram::poller::TelegramPoller {
                    pool: self.api.pool.clone(),
                    api: self.api.telegram.clone(),
                    inbound: self.webhooks.inbound.clone(),
                }),
                Arc::new(vk::poller::VkPoller {
                    pool: self.api.pool.clone(),
                    api: self.api.vk.clone(),
                    inbound: self.webhooks.inbound.clone(),
                }),
            ],
        });
        let sender = self.api.keys.clone().map(|keys| sender::Sender {
            pool: self.api.pool.clone(),
            keys,
            telegram: self.api.telegram.clone(),
            vk: self.api.vk.clone(),
            facebook: self.api.facebook.clone(),
            dialogs: self.webhooks.inbound.dialogs.clone(),
        });
        let pollers = tokio::spawn({
            let shutdown = shutdown.clone();
            async move {
                if let Some(pollers) = pollers {
                    pollers.run(shutdown).await;
                }
            }
        });
        let health = self.api.keys.clone().map(|keys| health::HealthChecks {
            pool: self.api.pool.clone(),
            keys,
            every: self.health_check_every,
            checkers: vec![
                Arc::new(telegram::health::TelegramChecks {
                    pool: self.api.pool.clone(),
                    api: self.api.telegram.clone(),
                }),
                Arc::new(vk::health::VkChecks {
                    pool: self.api.pool.clone(),
                    api: self.api.vk.clone(),
                }),
                Arc::new(facebook::health::FacebookChecks {
                    pool: self.api.pool.clone(),
                    api: self.api.facebook.clone(),
                }),
            ],
        });
        let health = tokio::spawn({
            let shutdown = shutdown.clone();
            async move {
                if let Some(health) = health {
                    health.run(shutdown).await;
                }
            }
        });
        let sender = tokio::spawn({
            let shutdown = shutdown.clone();
            async move {
                if let Some(sender) = sender {
                    sender.run(shutdown).await;
                }
            }
        });
        let grpc = tokio::spawn(grpc::serve(self.grpc, self.api, shutdown.clone()));
        self.worker
            .run_with_routes(shutdown, self.webhooks.router(), outbound::queue_replies)
            .await?;
        grpc.await??;
        pollers.await?;
        sender.await?;
        health.await?;
        Ok(())
    }
}

pub async fn run(config: Config, shutdown: Shutdown) -> anyhow::Result<()> {
    Application::build(config)
        .await?
        .run_until_stopped(shutdown)
        .await
}
