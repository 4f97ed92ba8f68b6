//! What every request handler and socket shares.

use std::sync::Arc;

use chat_platform::bus::Bus;
use chat_platform::grpc::Traced;
use chat_proto::bridge::v1::bridge_service_client::BridgeServiceClient;
use chat_proto::contact::v1::contact_service_client::ContactServiceClient;
use chat_proto::dialog::v1::dialog_service_client::DialogServiceClient;
use chat_proto::notification::v1::notification_service_client::NotificationServiceClient;
use sqlx::PgPool;

use crate::auth::Passwords;
use crate::budgets::Budgets;
use crate::client_address::TrustedProxies;
use crate::config::Config;
use crate::hub::Hub;
use crate::limits::AuthLimits;
use crate::presence::Presence;

/// What every request handler and socket shares: one pointer, so the
/// many tasks and sockets that keep it cost eight bytes each, not a copy
/// of every client and handle (a kilobyte and more).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

pub struct Shared {
    pub pool: PgPool,
    pub config: Arc<Config>,
    pub dialogs: DialogServiceClient<Traced>,
    pub contacts: ContactServiceClient<Traced>,
    pub bridge: BridgeServiceClient<Traced>,
    /// Managers' e-mail and push choices.
    pub notifications: NotificationServiceClient<Traced>,
    pub hub: Arc<Hub>,
    /// Who is online, on every replica.
    pub presence: Arc<Presence>,
    /// For the live notices between replicas (logouts).
    pub bus: Bus,
    pub shutdown: chat_platform::Shutdown,
    /// The sockets and background tasks the gateway waits for when it stops.
    pub tasks: chat_platform::shutdown::Tasks,
    pub passwords: Passwords,
    pub auth_limits: Arc<AuthLimits>,
    /// Whose forwarding header names the client.
    pub trusted_proxies: Arc<TrustedProxies>,
    /// What anonymous traffic may spend, and the sockets' places.
    pub budgets: Arc<Budgets>,
    /// Offline photos are decoded whole within this memory budget.
    pub photo_decoding: crate::widget::photo::Decoding,
    /// Uploads of files for messages, per visitor's address and per manager.
    pub upload_limits: Arc<crate::limits::UploadLimits>,
}
