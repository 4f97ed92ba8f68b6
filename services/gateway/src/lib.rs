//! The gateway: the suite's edge. It serves the REST API (`/api/v1`), the
//! visitor and manager WebSockets, the managers' console (`/console/`), the
//! dev chat page, and its ops endpoints; it owns accounts, managers and
//! sessions; it asks the dialog and contact services over gRPC and pushes
//! their events to this replica's sockets.
//!
//! # Layout
//! - [`config`]: its settings (`GATEWAY_*`).
//! - [`error`]: errors and their HTTP responses.
//! - [`state`]: what handlers share.
//! - [`db`]: accounts, managers, invitations, sessions.
//! - [`auth`]: passwords, session secrets, cookies and CSRF, the signed-in [`auth::Manager`].
//! - [`team`]: who may add, edit and deactivate which managers.
//! - [`sessions`]: ended sessions told to every replica.
//! - [`directory`]: changed managers told to the other services (the outbox).
//! - [`limits`]: rate limits of logins and of socket sends.
//! - [`access_mail`]: invitation and password-reset e-mails, through the notification service.
//! - [`admin`]: creating accounts and their first managers; the demo seed.
//! - [`api`]: JSON shapes of dialogs and messages.
//! - [`http`]: the REST routes.
//! - [`ws`]: the two sockets.
//! - [`hub`]: this replica's sockets and the fan-out of events to them.
//! - [`feed`]: the suite's events from NATS, without gaps, into the hub.
//! - [`replies`]: a manager's reply, for REST and the socket alike.
//! - [`timeline`]: a contact's timeline, the contact service's entries and the dialog's messages merged.
//! - [`widget`]: the consultant's settings and the widget's public endpoints.
//! - [`presence`]: who is online (managers, visitors), shared by every replica.
//! - [`dev`]: the page for trying the suite by hand.

pub mod access_mail;
pub mod admin;
pub mod api;
pub mod auth;
pub mod blocks;
pub mod budgets;
pub mod catalogues;
pub mod client_address;
pub mod config;
pub mod credentials;
pub mod db;
pub mod dev;
pub mod directory;
pub mod error;
pub mod feed;
pub mod http;
pub mod hub;
pub mod limits;
pub mod presence;
pub mod replies;
pub mod sessions;
pub mod state;
pub mod system_lines;
pub mod team;
pub mod timeline;
pub mod widget;
pub mod ws;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use axum::serve::ListenerExt as _;
use chat_platform::files::MAX_FILE_MESSAGE_BYTES;
use chat_platform::{Shutdown, bus::Bus, db as database, grpc, ops};
use chat_proto::bridge::v1::bridge_service_client::BridgeServiceClient;
use chat_proto::contact::v1::contact_service_client::ContactServiceClient;
use chat_proto::dialog::v1::dialog_service_client::DialogServiceClient;
use chat_proto::notification::v1::notification_service_client::NotificationServiceClient;
use tokio::net::TcpListener;

pub use config::Config;
use state::{AppState, Shared};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The gateway bound to its port, ready to run.
pub struct Application {
    listener: TcpListener,
    ops: TcpListener,
    state: AppState,
    bus: Bus,
    shutdown: Shutdown,
}

impl Application {
    /// Connects to PostgreSQL (migrating the `gateway` schema) and NATS, sets up
    /// the gRPC clients (connected lazily), and binds its port.
    pub async fn build(config: Config, shutdown: Shutdown) -> anyhow::Result<Self> {
        let pool = database::connect(&config.common, "gateway", &MIGRATOR).await?;
        let bus = Bus::connect(&config.common, "gateway").await?;
        if config.seed_demo {
            admin::seed_demo(&pool)
                .await
                .map_err(|e| anyhow::anyhow!("while seeding the demo: {e}"))?;
        }
        let call_timeout = Duration::from_secs(config.backend_timeout_secs);
        // Files go to the dialog service and come back whole in one message.
        let dialogs = DialogServiceClient::new(grpc::traced(grpc::lazy_channel(
            &config.dialog_url,
            call_timeout,
        )?))
        .max_decoding_message_size(MAX_FILE_MESSAGE_BYTES)
        .max_encoding_message_size(MAX_FILE_MESSAGE_BYTES);
        let contacts = ContactServiceClient::new(grpc::traced(grpc::lazy_channel(
            &config.contact_url,
            call_timeout,
        )?));
        // Connecting a messenger waits for its platform: a longer timeout.
        let bridge = BridgeServiceClient::new(grpc::traced(grpc::lazy_channel(
            &config.bridge_url,
            call_timeout.max(Duration::from_secs(30)),
        )?));
        let notifications = NotificationServiceClient::new(grpc::traced(grpc::lazy_channel(
            &config.notification_url,
            call_timeout,
        )?));
        let listener = TcpListener::bind(&config.http_addr)
            .await
            .with_context(|| format!("while binding HTTP on {}", config.http_addr))?;
        let ops = TcpListener::bind(&config.ops_addr)
            .await
            .with_context(|| format!("while binding ops on {}", config.ops_addr))?;
        let auth_limits = Arc::new(limits::AuthLimits::new(&config));
        let trusted_proxies = client_address::TrustedProxies::parse(
            &config.trusted_proxies,
            &config.forwarded_header,
        )
        .map_err(|e| anyhow::anyhow!("GATEWAY_TRUSTED_PROXIES or GATEWAY_FORWARDED_HEADER: {e}"))?;
        let hub: Arc<hub::Hub> = Default::default();
        let tasks = chat_platform::shutdown::Tasks::new();
        let presence = presence::Presence::start(
            bus.clone(),
            hub.clone(),
            Duration::from_secs(config.presence_ttl_secs.max(1)),
            shutdown.clone(),
            &tasks,
        );
        let state = AppState::new(Shared {
            presence,
            pool,
            passwords: Default::default(),
            auth_limits,
            trusted_proxies: Arc::new(trusted_proxies),
            budgets: Arc::new(budgets::Budgets::new(&config)),
            photo_decoding: widget::photo::Decoding::new(widget::photo::DECODE_BUDGET_MIB),
            upload_limits: Arc::new(limits::UploadLimits::new()),
            config: Arc::new(config),
            dialogs,
            contacts,
            bridge,
            notifications,
            hub,
            bus: bus.clone(),
            shutdown: shutdown.clone(),
            tasks,
        });
        Ok(Self {
            listener,
            ops,
            state,
            bus,
            shutdown,
        })
    }

    pub fn port(&self) -> u16 {
        self.listener
            .local_addr()
            .map(|a| a.port())
            .unwrap_or_default()
    }

    /// The port of `/healthz`, `/readyz` and `/metrics`.
    pub fn ops_port(&self) -> u16 {
        self.ops.local_addr().map(|a| a.port()).unwrap_or_default()
    }

    /// The gateway's database, for tools and tests that create accounts.
    pub fn pool(&self) -> &sqlx::PgPool {
        &self.state.pool
    }

    /// The replica's budgets, whose open sockets tests count.
    pub fn budgets(&self) -> Arc<budgets::Budgets> {
        self.state.budgets.clone()
    }

    /// The replica's password hasher, whose runs tests count.
    pub fn passwords(&self) -> auth::Passwords {
        self.state.passwords.clone()
    }

    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let feed_open = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let feed = tokio::spawn(feed::run(
            self.state.hub.clone(),
            self.bus.clone(),
            feed_open.clone(),
            self.shutdown.clone(),
        ));
        let live_settings = tokio::spawn(widget::live::run(self.state.clone()));
        let outbox = chat_platform::outbox::Outbox::default();
        let relay = tokio::spawn(outbox.clone().relay(
            self.state.pool.clone(),
            self.bus.clone(),
            self.shutdown.clone(),
        ));
        let announcer = tokio::spawn(directory::announce(
            self.state.pool.clone(),
            outbox,
            self.shutdown.clone(),
        ));
        if self.state.config.dev_page && !self.state.config.demo_shop_addr.is_empty() {
            let gateway = match self.state.config.public_origin.as_str() {
                "" => format!("http://127.0.0.1:{}", self.port()),
                origin => origin.trim_end_matches('/').to_owned(),
            };
            let shop = dev::demo_shop(&self.state.config.demo_shop_addr, gateway).await?;
            self.state.tasks.spawn(shop.run(self.shutdown.clone()));
        }
        let readiness =
            ops::Readiness::new(self.state.pool.clone(), self.bus).with_check("feed", feed_open);
        let ops = tokio::spawn(ops::serve(self.ops, readiness, self.shutdown.clone()));
        let app = router(self.state.clone());
        let shutdown = self.shutdown.clone();
        // Small frames go out at once rather than wait for the peer's delayed ACK.
        let listener = self.listener.tap_io(|tcp| {
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::debug!(error = %e, "could not set TCP_NODELAY");
            }
        });
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await?;
        feed.await??;
        live_settings.await??;
        announcer.await?;
        relay.await?;
        ops.await??;
        // Sockets close at shutdown (going away); wait for them and the rest.
        self.state.tasks.close();
        self.state.tasks.wait().await;
        tracing::info!("gateway stopped");
        Ok(())
    }
}

pub fn router(state: AppState) -> Router {
    let mut app = Router::new()
        .merge(http::router())
        .route("/ws/visitor", get(ws::visitor::connect_visitor))
        .route("/ws/manager", get(ws::manager::connect_manager));
    if state.config.dev_page {
        app = app.merge(dev::router());
    }
    let timeout = Duration::from_secs(state.config.request_timeout_secs);
    app.layer(DefaultBodyLimit::max(http::MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(move |request, next| {
            http::with_timeout(timeout, request, next)
        }))
        .layer(axum::middleware::from_fn(ops::track_http))
        .layer(
            tower_http::trace::TraceLayer::new_for_http().make_span_with(
                chat_platform::telemetry::request_span::<axum::body::Body> as fn(&_) -> _,
            ),
        )
        .with_state(state)
}

pub async fn run(config: Config, shutdown: Shutdown) -> anyhow::Result<()> {
    Application::build(config, shutdown)
        .await?
        .run_until_stopped()
        .await
}
