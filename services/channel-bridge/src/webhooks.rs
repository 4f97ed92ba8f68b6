//! The platforms' webhooks, served beside the ops endpoints: one route per
//! platform, each naming the integration it is for, and what they share
//! (finding the integration, recording that it works).

use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::{get, post};
use sqlx::PgPool;
use uuid::Uuid;

use crate::facebook::{self, api::FacebookApi};
use crate::inbound::Inbound;
use crate::integrations::{self, Integration};
use crate::refusals::{self, Refusals};
use crate::telegram;
use crate::vk::{self, api::VkApi};
use chat_platform::secrets::KeyRing;

/// What every webhook handler needs.
#[derive(Clone)]
pub struct Webhooks {
    pub pool: PgPool,
    /// `None` when no secret key is configured: no integration can be read.
    pub keys: Option<KeyRing>,
    pub inbound: Inbound,
    /// VK's and Facebook's APIs, for the names of people who write for the
    /// first time.
    pub vk: VkApi,
    pub facebook: FacebookApi,
    /// Deliveries refused for a wrong signature or secret, per integration.
    pub refusals: Arc<Refusals>,
}

impl Webhooks {
    /// A delivery to the integration's address was refused for `problem` (a
    /// signature or secret that does not match the saved one): shown as the
    /// integration's error, at most once a minute, with how many.
    pub async fn refused(&self, integration: &Integration, problem: &str) {
        let Some(count) = self.refusals.refused(integration.id) else {
            return;
        };
        let error = refusals::alarm(problem, count);
        if let Err(e) = integrations::record_error(&self.pool, integration.id, &error).await {
            tracing::warn!(error = %e, "the integration's health was not recorded");
        }
    }

    pub fn router(self) -> Router {
        Router::new()
            .route(
                "/webhooks/telegram/{integration_id}",
                post(telegram::webhook::receive),
            )
            .route("/webhooks/vk/{integration_id}", post(vk::callback::receive))
            .route(
                "/webhooks/facebook/{integration_id}",
                get(facebook::webhook::verify).post(facebook::webhook::receive),
            )
            .with_state(self)
    }

    /// The integration a webhook's address names; an error status when it
    /// cannot be read now.
    pub async fn integration(
        &self,
        channel: &str,
        id: Uuid,
    ) -> Result<Option<Integration>, StatusCode> {
        let Some(keys) = &self.keys else {
            tracing::error!("a webhook arrived, but BRIDGE_SECRET_KEYS is not set");
            return Err(StatusCode::SERVICE_UNAVAILABLE);
        };
        integrations::for_webhook(&self.pool, keys, channel, id)
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "an integration cannot be read now");
                StatusCode::SERVICE_UNAVAILABLE
            })
    }

    /// Records that an update arrived through the integration.
    pub async fn healthy(&self, id: Uuid) {
        if let Err(e) = integrations::record_update(&self.pool, id).await {
            tracing::warn!(error = %e, "the integration's health was not recorded");
        }
    }
}
