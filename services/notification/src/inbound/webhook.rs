//! The inbound webhook, for shops whose mail a host receives: Postmark's
//! inbound format (`POST /inbound/postmark`, JSON with `FromFull`,
//! `ToFull`, `OriginalRecipient`, `MessageID`, `TextBody`, `Attachments`), authenticated by
//! HTTP Basic with the user `inbound` and `NOTIFICATION_INBOUND_WEBHOOK_TOKEN`
//! as the password (Postmark puts them in the webhook's URL). 200 once the
//! answer is stored or found not ours (so the host stops); 503 to try again.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::post;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use subtle::ConstantTimeEq as _;

use super::{Attachment, Incoming, MAX_EMAIL_BYTES, Outcome, Receiver, Refusal};

#[derive(Clone)]
pub struct Webhook {
    pub receiver: Receiver,
    pub token: String,
}

pub fn router(webhook: Webhook) -> axum::Router {
    axum::Router::new()
        .route("/inbound/postmark", post(postmark))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_EMAIL_BYTES * 2))
        .with_state(webhook)
}

/// The fields of Postmark's inbound JSON the suite reads.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PostmarkInbound {
    #[serde(default)]
    pub from_full: Option<Address>,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to_full: Vec<Address>,
    #[serde(default)]
    pub original_recipient: String,
    #[serde(rename = "MessageID", default)]
    pub message_id: String,
    #[serde(default)]
    pub text_body: String,
    #[serde(default)]
    pub attachments: Vec<PostmarkAttachment>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PostmarkAttachment {
    #[serde(default)]
    pub name: String,
    /// Base64.
    pub content: String,
    #[serde(default)]
    pub content_type: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Address {
    pub email: String,
}

async fn postmark(
    State(webhook): State<Webhook>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> (StatusCode, Json<serde_json::Value>) {
    if !authorized(&headers, &webhook.token) {
        return answer(StatusCode::UNAUTHORIZED, "unauthorized");
    }
    let inbound: PostmarkInbound = match serde_json::from_slice(&body) {
        Ok(inbound) => inbound,
        Err(e) => {
            return answer(
                StatusCode::UNPROCESSABLE_ENTITY,
                &format!("not Postmark's inbound JSON: {e}"),
            );
        }
    };
    let mut recipients: Vec<String> = inbound.to_full.into_iter().map(|a| a.email).collect();
    if !inbound.original_recipient.is_empty() {
        recipients.push(inbound.original_recipient);
    }
    let from = inbound.from_full.map(|a| a.email).unwrap_or(inbound.from);
    if inbound.message_id.is_empty() {
        return answer(StatusCode::UNPROCESSABLE_ENTITY, "MessageID is required");
    }
    let mut attachments = Vec::with_capacity(inbound.attachments.len());
    for attachment in inbound.attachments {
        let Ok(bytes) = STANDARD.decode(attachment.content.as_bytes()) else {
            return answer(
                StatusCode::UNPROCESSABLE_ENTITY,
                "an attachment's Content is not base64",
            );
        };
        let content_type = match attachment.content_type.trim() {
            "" => "application/octet-stream".to_owned(),
            kind => kind.to_ascii_lowercase(),
        };
        attachments.push(Attachment {
            name: attachment.name,
            content_type,
            bytes,
        });
    }
    let incoming = Incoming {
        recipients,
        from,
        message_id: inbound.message_id,
        text: inbound.text_body,
        // Bounces come by the SMTP listener (a host that receives for the
        // shop handles its own sending's bounces).
        delivery_failure: None,
        attachments,
    };
    match webhook.receiver.receive(&incoming).await {
        Ok(Outcome::Posted) => answer(StatusCode::OK, "posted"),
        Ok(Outcome::Held) => answer(StatusCode::OK, "held"),
        Ok(Outcome::Empty) => answer(StatusCode::OK, "empty"),
        Ok(Outcome::Bounced) => answer(StatusCode::OK, "bounced"),
        Err(Refusal::NotOurs) => answer(StatusCode::OK, "ignored: not a reply address of ours"),
        Err(e) => {
            tracing::warn!(error = %e, "an answer by webhook was not stored; the host will try again");
            answer(StatusCode::SERVICE_UNAVAILABLE, "try again later")
        }
    }
}

fn answer(status: StatusCode, text: &str) -> (StatusCode, Json<serde_json::Value>) {
    (status, Json(serde_json::json!({ "status": text })))
}

/// HTTP Basic `inbound:<token>`, compared in constant time.
fn authorized(headers: &HeaderMap, token: &str) -> bool {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let Some(encoded) = value.strip_prefix("Basic ") else {
        return false;
    };
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else {
        return false;
    };
    let expected = format!("inbound:{token}");
    !token.is_empty() && bool::from(decoded.as_slice().ct_eq(expected.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(credentials: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let encoded = base64::engine::general_purpose::STANDARD.encode(credentials);
        headers.insert(
            header::AUTHORIZATION,
            format!("Basic {encoded}").parse().unwrap(),
        );
        headers
    }

    #[test]
    fn only_the_token_as_the_inbound_users_password_passes() {
        assert!(authorized(&basic("inbound:s3cret-token"), "s3cret-token"));
        assert!(!authorized(&basic("inbound:wrong"), "s3cret-token"));
        assert!(!authorized(&basic("admin:s3cret-token"), "s3cret-token"));
        assert!(!authorized(&basic("inbound:"), ""));
        assert!(!authorized(&HeaderMap::new(), "s3cret-token"));
    }
}
