//! Telegram's webhook deliveries: `POST /webhooks/telegram/<integration id>`
//! with the secret token in `X-Telegram-Bot-Api-Secret-Token`.
//!
//! Answers as Telegram expects: 401 for a wrong secret (as teloxide's own
//! listener does), 404 for an integration that is not there; 200 once the
//! message is stored, or for an update that is none of ours or cannot be
//! read (Telegram would otherwise redeliver it for a day); 503 when the
//! message cannot be stored now, so Telegram delivers it again.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use subtle::ConstantTimeEq as _;
use teloxide_core::types::Update;
use uuid::Uuid;

use super::{BOT_TOKEN, CHANNEL, SECRET_HEADER, WEBHOOK_SECRET, bot_id, updates};
use crate::inbound::InboundError;
use crate::integrations;
use crate::webhooks::Webhooks;

pub async fn receive(
    State(hooks): State<Webhooks>,
    Path(integration_id): Path<Uuid>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let integration = match hooks.integration(CHANNEL, integration_id).await {
        Ok(Some(integration)) => integration,
        Ok(None) => return StatusCode::NOT_FOUND,
        Err(status) => return status,
    };
    let expected = integration.secret(WEBHOOK_SECRET).as_bytes();
    let given = headers
        .get(SECRET_HEADER)
        .map(|value| value.as_bytes())
        .unwrap_or_default();
    if expected.is_empty() || !bool::from(given.ct_eq(expected)) {
        metrics::counter!("bridge_webhook_refused_total", "channel" => CHANNEL).increment(1);
        return StatusCode::UNAUTHORIZED;
    }
    let update: Update = match serde_json::from_slice(&body) {
        Ok(update) => update,
        Err(e) => {
            tracing::warn!(integration = %integration.id, error = %e, "unreadable Telegram update");
            metrics::counter!("bridge_inbound_unreadable_total", "channel" => CHANNEL).increment(1);
            return StatusCode::OK;
        }
    };
    let Some(bot) = bot_id(integration.secret(BOT_TOKEN)) else {
        tracing::error!(integration = %integration.id, "a Telegram integration without a bot token");
        return StatusCode::SERVICE_UNAVAILABLE;
    };
    let Some(incoming) = updates::incoming(integration.account_id, bot, &update) else {
        hooks.healthy(integration.id).await;
        return StatusCode::OK;
    };
    match hooks.inbound.store(incoming).await {
        Ok(_) => {
            hooks.healthy(integration.id).await;
            StatusCode::OK
        }
        Err(InboundError::Refused(reason)) => {
            tracing::warn!(integration = %integration.id, %reason, "a Telegram message was refused");
            let _ = integrations::record_error(&hooks.pool, integration.id, &reason).await;
            StatusCode::OK
        }
        Err(e @ InboundError::Retry(_)) => {
            tracing::warn!(integration = %integration.id, error = %e, "a Telegram message waits for a redelivery");
            StatusCode::SERVICE_UNAVAILABLE
        }
    }
}
