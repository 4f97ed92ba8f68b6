//! Facebook's webhook: `GET /webhooks/facebook/<integration id>` answers
//! Meta's verification (`hub.mode=subscribe`, the page's verify token: the
//! challenge back, else 403), which also shows that Facebook reaches the
//! bridge; `POST` carries the page's events, signed in
//! `X-Hub-Signature-256` (HMAC-SHA256 of the exact bytes with the app's
//! secret, compared in constant time). A missing or wrong signature is 403
//! and changes nothing; 200 once every message of the POST is stored, or for
//! one that is unreadable or none of ours; 503 when one cannot be stored
//! now, so Facebook sends the POST again (what was stored is stored once).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use subtle::ConstantTimeEq as _;
use uuid::Uuid;

use super::{APP_SECRET, CHANNEL, VERIFY_TOKEN, events, page_id};
use crate::inbound::InboundError;
use crate::integrations;
use crate::webhooks::Webhooks;

const SIGNATURE_HEADER: &str = "x-hub-signature-256";
/// Shown on the integration when a POST's signature is wrong.
const BAD_SIGNATURE: &str = "Facebook's deliveries are refused: their signature does not match \
     the app secret saved here. Save the app's secret again (Meta for Developers, the app's \
     settings, Basic).";

pub async fn verify(
    State(hooks): State<Webhooks>,
    Path(integration_id): Path<Uuid>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let integration = match hooks.integration(CHANNEL, integration_id).await {
        Ok(Some(integration)) => integration,
        Ok(None) => return StatusCode::NOT_FOUND.into_response(),
        Err(status) => return status.into_response(),
    };
    let expected = integration.secret(VERIFY_TOKEN).as_bytes();
    let given = query
        .get("hub.verify_token")
        .map(String::as_bytes)
        .unwrap_or_default();
    let subscribe = query
        .get("hub.mode")
        .is_some_and(|mode| mode == "subscribe");
    if !subscribe || expected.is_empty() || !bool::from(given.ct_eq(expected)) {
        metrics::counter!("bridge_webhook_refused_total", "channel" => CHANNEL).increment(1);
        return StatusCode::FORBIDDEN.into_response();
    }
    if let Err(e) = integrations::record_receiving(&hooks.pool, integration.id, true).await {
        tracing::warn!(error = %e, "the integration's health was not recorded");
    }
    query
        .get("hub.challenge")
        .cloned()
        .unwrap_or_default()
        .into_response()
}

/// Whether `header` is `sha256=<hex HMAC-SHA256 of body under secret>`.
fn signed(secret: &str, body: &[u8], header: Option<&str>) -> bool {
    let Some(given) = header.and_then(|h| h.strip_prefix("sha256=")) else {
        return false;
    };
    let Ok(given) = hex::decode(given) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body);
    !secret.is_empty() && mac.verify_slice(&given).is_ok()
}

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
    let header = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    if !signed(integration.secret(APP_SECRET), &body, header) {
        metrics::counter!("bridge_webhook_refused_total", "channel" => CHANNEL).increment(1);
        hooks.refused(&integration, BAD_SIGNATURE).await;
        return StatusCode::FORBIDDEN;
    }
    let Ok(event) = serde_json::from_slice::<Value>(&body) else {
        tracing::warn!(integration = %integration.id, "unreadable Facebook POST");
        metrics::counter!("bridge_inbound_unreadable_total", "channel" => CHANNEL).increment(1);
        return StatusCode::OK;
    };
    if !integration.health.receiving {
        let _ = integrations::record_receiving(&hooks.pool, integration.id, true).await;
    }
    let mut refused = false;
    for message in events::person_messages(&event, page_id(&integration)) {
        match super::store(&hooks.inbound, &hooks.facebook, &integration, message).await {
            Ok(_) => {}
            Err(InboundError::Refused(reason)) => {
                refused = true;
                tracing::warn!(integration = %integration.id, %reason, "a Facebook message was refused");
                let _ = integrations::record_error(&hooks.pool, integration.id, &reason).await;
            }
            Err(e @ InboundError::Retry(_)) => {
                tracing::warn!(integration = %integration.id, error = %e, "a Facebook POST waits for Facebook to send it again");
                return StatusCode::SERVICE_UNAVAILABLE;
            }
        }
    }
    if !refused {
        hooks.healthy(integration.id).await;
    }
    StatusCode::OK
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_apps_signature_of_the_exact_bytes_passes() {
        let body = br#"{"object":"page","entry":[{"messaging":[{"message":{"text":"\u041f"}}]}]}"#;
        let mut mac = Hmac::<Sha256>::new_from_slice(b"app-secret").unwrap();
        mac.update(body);
        let good = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
        assert!(signed("app-secret", body, Some(&good)));
        assert!(!signed("other-secret", body, Some(&good)));
        assert!(!signed("app-secret", &body[1..], Some(&good)));
        assert!(!signed("app-secret", body, None));
        assert!(!signed("app-secret", body, Some("sha256=zz")));
        assert!(!signed("", body, Some(&good)));
    }
}
