//! The notification service: tells managers about messages while they are
//! away, and visitors about replies they were not there to read. It keeps
//! its own copy of the managers (from the gateway's events), the contacts
//! (the contact service's) and what alerts and replies need (the dialog
//! service's), writes each e-mail to its log before sending it through
//! SMTP, tells the dialog service what became of replies, and answers gRPC
//! (`chat.notification.v1`) for managers' choices.
//!
//! # Layout
//! - [`config`]: its settings (`NOTIFICATION_*`).
//! - [`directory`]: the managers, from `gateway.manager_changed`.
//! - [`contacts`]: the contacts' names and addresses, from `contact.contact_updated`.
//! - [`alerts`]: e-mails to managers who are away, one per window.
//! - [`replies`]: managers' replies to visitors who left, by e-mail.
//! - [`delivery`]: what became of e-mailed replies, told to the dialog service.
//! - [`inbound`]: answers by e-mail, back into their dialogs (SMTP listener, webhook).
//! - [`push`]: browser push (Web Push with VAPID).
//! - [`queue`]: the loop the e-mail sender and the pusher share.
//! - [`sweep`]: the loop the alert digest and the reply settler share.
//! - [`presence`]: whether a manager has the console open.
//! - [`mail`]: templates, and the sender with its retries.
//! - [`db`]: the SQL.
//! - [`grpc`]: the gRPC server.

pub mod alerts;
pub mod config;
pub mod contacts;
pub mod db;
pub mod delivery;
pub mod directory;
pub mod grpc;
pub mod inbound;
pub mod mail;
pub mod presence;
pub mod push;
pub mod queue;
pub mod replies;
pub mod sweep;

use std::time::Duration;

use anyhow::Context as _;
use tokio::net::TcpListener;

use chat_platform::{Shutdown, grpc as rpc, worker::Worker};
use chat_proto::dialog::v1::dialog_service_client::DialogServiceClient;

pub use config::Config;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

pub struct Application {
    worker: Worker,
    grpc: TcpListener,
    /// The SMTP listener for answers, and the inbound webhook's, when set.
    smtp_in: Option<TcpListener>,
    webhook_in: Option<TcpListener>,
    config: Config,
}

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
        let grpc = TcpListener::bind(&config.grpc_addr)
            .await
            .with_context(|| format!("while binding gRPC on {}", config.grpc_addr))?;
        inbound::ReplyAddresses::new(&config.inbound_domain, &config.inbound_secret)?;
        let smtp_in = bind_optional(&config.smtp_listen_addr, "the SMTP listener").await?;
        let webhook_in = bind_optional(&config.inbound_http_addr, "the inbound webhook").await?;
        if webhook_in.is_some() && config.inbound_webhook_token.len() < 16 {
            anyhow::bail!("NOTIFICATION_INBOUND_WEBHOOK_TOKEN must be 16 characters or more");
        }
        Ok(Self {
            worker,
            grpc,
            smtp_in,
            webhook_in,
            config,
        })
    }

    pub fn ops_port(&self) -> u16 {
        self.worker.ops_port()
    }

    /// Where e-mails send managers, when known only once the gateway bound.
    pub fn set_console_url(&mut self, url: String) {
        self.config.console_url = url;
    }

    /// The SMTP listener's port (0: none).
    pub fn smtp_in_port(&self) -> u16 {
        port_of(&self.smtp_in)
    }

    /// The inbound webhook's port (0: none).
    pub fn webhook_in_port(&self) -> u16 {
        port_of(&self.webhook_in)
    }

    pub fn grpc_port(&self) -> u16 {
        self.grpc.local_addr().map(|a| a.port()).unwrap_or_default()
    }

    pub async fn run_until_stopped(self, shutdown: Shutdown) -> anyhow::Result<()> {
        let Self {
            worker,
            grpc,
            smtp_in,
            webhook_in,
            config,
        } = self;
        let reply_addresses =
            inbound::ReplyAddresses::new(&config.inbound_domain, &config.inbound_secret)?;
        let vapid = push::Vapid::load(&config, &worker.pool).await?;
        let push_hosts = push::PushHosts::parse(&config.push_hosts);
        let push_wake = std::sync::Arc::new(tokio::sync::Notify::new());
        let pusher = push::Pusher {
            pool: worker.pool.clone(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(config.smtp_timeout_secs))
                .build()?,
            vapid: vapid.clone(),
            contact: format!("mailto:{}", config.mail_from),
            max_attempts: config.send_attempts.max(1),
            retry_base: Duration::from_millis(config.retry_base_ms.max(1)),
            wake: push_wake.clone(),
        };
        let postbox = mail::Postbox::new(&config.mail_from);
        let shop_servers = mail::shop_server::ShopServers::new(
            config.secret_keys.ring()?,
            config.shop_smtp_any_host,
            Duration::from_secs(config.smtp_timeout_secs),
        );
        let resealed = shop_servers.reseal_stale(&worker.pool).await?;
        if resealed > 0 {
            tracing::info!(
                resealed,
                "shops' SMTP passwords sealed under the current key"
            );
        }
        let sender = mail::sender::Sender::new(
            &config,
            worker.pool.clone(),
            shop_servers.clone(),
            postbox.woken(),
        )?;
        let waits = alerts::watch::Waits {
            alert_window: Duration::from_secs(config.alert_window_secs),
            reply_grace: Duration::from_secs(config.visitor_grace_secs),
        };
        let dialogs = DialogServiceClient::new(rpc::traced(rpc::lazy_channel(
            &config.dialog_url,
            Duration::from_secs(config.backend_timeout_secs),
        )?));
        let mut console_url = config.console_url.clone();
        if !console_url.ends_with('/') {
            console_url.push('/');
        }
        worker
            .run(shutdown, move |bus, pool, shutdown| async move {
                // Its events were read by the alerts consumer, then by nobody.
                tokio::spawn({
                    let (bus, shutdown) = (bus.clone(), shutdown.clone());
                    async move {
                        bus.keep_consumer_retired(
                            alerts::watch::RETIRED_ACTIVITY_CONSUMER,
                            shutdown,
                        )
                        .await
                    }
                });
                let presence = presence::Presence::new(bus.clone());
                let digest = alerts::digest::Digest {
                    pool: pool.clone(),
                    presence: presence.clone(),
                    postbox: postbox.clone(),
                    console_url,
                    push_wake,
                };
                let settler = replies::Settler {
                    pool: pool.clone(),
                    presence,
                    postbox: postbox.clone(),
                    dialogs: dialogs.clone(),
                    reply_addresses: reply_addresses.clone(),
                };
                let receiver = reply_addresses.map(|addresses| inbound::Receiver {
                    pool: pool.clone(),
                    dialogs: dialogs.clone(),
                    addresses,
                });
                let inbound_doors = inbound_doors(
                    receiver,
                    smtp_in,
                    webhook_in,
                    &config.inbound_domain,
                    &config.inbound_webhook_token,
                    &shutdown,
                );
                let api = grpc::NotificationApi {
                    pool: pool.clone(),
                    postbox,
                    vapid,
                    push_hosts,
                    shop_servers,
                    dialogs: dialogs.clone(),
                };
                let served = async {
                    if let Err(e) = grpc::serve(grpc, api, shutdown.clone()).await {
                        tracing::error!(error = %e, "the gRPC server stopped");
                    }
                };
                tokio::join!(
                    directory::follow(bus.clone(), pool.clone(), shutdown.clone()),
                    contacts::follow(bus.clone(), pool.clone(), shutdown.clone()),
                    alerts::watch::follow(bus, pool.clone(), waits, shutdown.clone()),
                    digest.run(shutdown.clone()),
                    settler.run(shutdown.clone()),
                    delivery::tell(pool, dialogs, shutdown.clone()),
                    sender.run(shutdown.clone()),
                    pusher.run(shutdown.clone()),
                    served,
                    inbound_doors,
                );
            })
            .await
    }
}

/// Binds `addr` unless it is empty.
async fn bind_optional(addr: &str, what: &str) -> anyhow::Result<Option<TcpListener>> {
    if addr.is_empty() {
        return Ok(None);
    }
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("while binding {what} on {addr}"))?;
    Ok(Some(listener))
}

fn port_of(listener: &Option<TcpListener>) -> u16 {
    listener
        .as_ref()
        .and_then(|l| l.local_addr().ok())
        .map_or(0, |a| a.port())
}

/// Serves the SMTP listener and the webhook for answers, those that are set.
async fn inbound_doors(
    receiver: Option<inbound::Receiver>,
    smtp_in: Option<TcpListener>,
    webhook_in: Option<TcpListener>,
    domain: &str,
    token: &str,
    shutdown: &Shutdown,
) {
    let Some(receiver) = receiver else {
        if smtp_in.is_some() || webhook_in.is_some() {
            tracing::warn!(
                "answers by e-mail need NOTIFICATION_INBOUND_DOMAIN; the listeners are idle"
            );
        }
        return;
    };
    let smtp = async {
        if let Some(listener) = smtp_in {
            inbound::smtp::serve(
                listener,
                receiver.clone(),
                domain.to_owned(),
                shutdown.clone(),
            )
            .await;
        }
    };
    let webhook = async {
        if let Some(listener) = webhook_in {
            let router = inbound::webhook::router(inbound::webhook::Webhook {
                receiver: receiver.clone(),
                token: token.to_owned(),
            });
            let stopping = shutdown.clone();
            if let Err(e) = axum::serve(listener, router)
                .with_graceful_shutdown(async move { stopping.cancelled().await })
                .await
            {
                tracing::error!(error = %e, "the inbound webhook stopped");
            }
        }
    };
    tokio::join!(smtp, webhook);
}

pub async fn run(config: Config, shutdown: Shutdown) -> anyhow::Result<()> {
    Application::build(config)
        .await?
        .run_until_stopped(shutdown)
        .await
}
