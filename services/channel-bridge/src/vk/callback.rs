//! VK's Callback API: `POST /webhooks/vk/<integration id>`, a JSON event
//! with the community's `secret` in it.
//!
//! Answers as VK expects: the `confirmation` event with the community's
//! confirmation string (plain text), which also shows that VK reaches the
//! bridge; every other event with `ok` (plain text, 200) once its message is
//! stored, or when it is none of ours or cannot be read (VK would otherwise
//! send it again and again); 403 for a wrong secret or community, changing
//! nothing; 404 for an integration that is not there; anything but `ok`
//! (503) when the message cannot be stored now, so VK sends it again.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use subtle::ConstantTimeEq as _;
use uuid::Uuid;

use super::{CALLBACK_SECRET, CHANNEL, CONFIRMATION, events, group_id};
use crate::inbound::InboundError;
use crate::integrations;
use crate::webhooks::Webhooks;

/// What VK takes as "received".
const OK: &str = "ok";
/// Shown on the integration when an event of its community has another secret.
const WRONG_SECRET: &str = "VK's events are refused: their secret key does not match the one \
     saved here. Save the secret key from the community's Callback API settings again.";

fn plain(status: StatusCode, text: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text,
    )
        .into_response()
}

pub async fn receive(
    State(hooks): State<Webhooks>,
    Path(integration_id): Path<Uuid>,
    body: Bytes,
) -> Response {
    let integration = match hooks.integration(CHANNEL, integration_id).await {
        Ok(Some(integration)) => integration,
        Ok(None) => return StatusCode::NOT_FOUND.into_response(),
        Err(status) => return status.into_response(),
    };
    let Ok(event) = serde_json::from_slice::<Value>(&body) else {
        tracing::warn!(integration = %integration.id, "unreadable VK event");
        metrics::counter!("bridge_inbound_unreadable_total", "channel" => CHANNEL).increment(1);
        return plain(StatusCode::OK, OK.into());
    };
    let expected = integration.secret(CALLBACK_SECRET).as_bytes();
    let given = event["secret"].as_str().unwrap_or_default().as_bytes();
    let ours = event["group_id"].as_i64() == Some(group_id(&integration));
    if expected.is_empty() || !bool::from(given.ct_eq(expected)) || !ours {
        metrics::counter!("bridge_webhook_refused_total", "channel" => CHANNEL).increment(1);
        // The community's own events with another secret: the shop saved a
        // wrong one, and its people's messages are all refused.
        if ours {
            hooks.refused(&integration, WRONG_SECRET).await;
        }
        return plain(StatusCode::FORBIDDEN, "forbidden".into());
    }
    if event["type"] == "confirmation" {
        // VK reaches the bridge: the address is set up right.
        if let Err(e) = integrations::record_receiving(&hooks.pool, integration.id, true).await {
            tracing::warn!(error = %e, "the integration's health was not recorded");
        }
        return plain(StatusCode::OK, integration.secret(CONFIRMATION).to_owned());
    }
    if !integration.health.receiving {
        // An event with the right secret: VK reaches the bridge.
        let _ = integrations::record_receiving(&hooks.pool, integration.id, true).await;
    }
    let Some(message) = events::person_message(&event) else {
        hooks.healthy(integration.id).await;
        return plain(StatusCode::OK, OK.into());
    };
    match super::store(&hooks.inbound, &hooks.vk, &integration, message).await {
        Ok(_) => {
            hooks.healthy(integration.id).await;
            plain(StatusCode::OK, OK.into())
        }
        Err(InboundError::Refused(reason)) => {
            tracing::warn!(integration = %integration.id, %reason, "a VK message was refused");
            let _ = integrations::record_error(&hooks.pool, integration.id, &reason).await;
            plain(StatusCode::OK, OK.into())
        }
        Err(e @ InboundError::Retry(_)) => {
            tracing::warn!(integration = %integration.id, error = %e, "a VK message waits for VK to send it again");
            plain(StatusCode::SERVICE_UNAVAILABLE, "not now".into())
        }
    }
}
