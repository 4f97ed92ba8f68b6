//! Messengers (Settings, Integrations): `GET /api/v1/integrations` (every
//! manager sees them and their health, so the composer can warn before a
//! message goes into a broken one), `PUT` and `DELETE
//! /api/v1/integrations/{channel}` (owners and admins). Tokens go in
//! and never come out.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, put};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use chat_proto::bridge::v1 as pb;

use super::Json;
use crate::api::rfc3339;
use crate::auth::Manager;
use crate::error::{Error, ErrorOut, Result};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/integrations", get(list_integrations))
        .route(
            "/api/v1/integrations/{channel}",
            put(connect_integration).delete(disconnect_integration),
        )
}

/// A connected messenger, without its secrets.
#[derive(Serialize, ToSchema)]
pub struct IntegrationOut {
    pub id: String,
    /// `telegram`, `vk` or `facebook`.
    pub channel: String,
    /// The bot's `@username`, or the community's name.
    pub name: String,
    /// How its updates arrive: `webhook` or `polling`.
    pub mode: String,
    /// Where the platform must send updates, for a platform whose admin
    /// sets it by hand (VK's Callback API server address, in webhook mode);
    /// null otherwise.
    pub address: Option<String>,
    pub health: HealthOut,
    #[schema(format = DateTime)]
    pub connected_at: Option<String>,
}

/// What the bridge last saw of it.
#[derive(Serialize, ToSchema)]
pub struct HealthOut {
    /// The token is valid, updates can arrive, and no error since the last update.
    pub healthy: bool,
    pub token_valid: bool,
    #[schema(format = DateTime)]
    pub token_checked_at: Option<String>,
    /// The webhook is registered, or a poller is alive.
    pub receiving: bool,
    /// When the last message arrived through it; null: none yet.
    #[schema(format = DateTime)]
    pub last_update_at: Option<String>,
    /// What failed last, in the platform's words; null: nothing.
    pub last_error: Option<String>,
    #[schema(format = DateTime)]
    pub last_error_at: Option<String>,
}

impl From<pb::Integration> for IntegrationOut {
    fn from(i: pb::Integration) -> Self {
        let h = i.health.unwrap_or_default();
        Self {
            id: i.id,
            channel: i.channel,
            name: i.name,
            mode: i.mode,
            address: Some(i.address).filter(|a| !a.is_empty()),
            health: HealthOut {
                healthy: h.healthy,
                token_valid: h.token_valid,
                token_checked_at: rfc3339(h.token_checked_at.as_ref()),
                receiving: h.receiving,
                last_update_at: rfc3339(h.last_update_at.as_ref()),
                last_error: Some(h.last_error).filter(|e| !e.is_empty()),
                last_error_at: rfc3339(h.last_error_at.as_ref()),
            },
            connected_at: rfc3339(i.connected_at.as_ref()),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct IntegrationsOut {
    /// By channel.
    pub integrations: Vec<IntegrationOut>,
    /// The suite has a public address: platforms send updates to it
    /// (`webhook` mode; VK then needs `confirmation` and `secret`), else
    /// the bridge polls.
    pub webhooks: bool,
}

/// The account's messengers, each with its health.
#[utoipa::path(get, path = "/api/v1/integrations", tag = "integrations", security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, body = IntegrationsOut),
        (status = 401, description = "`unauthorized`", body = ErrorOut),
        (status = 503, description = "`unavailable`: the bridge cannot be reached", body = ErrorOut),
    ))]
async fn list_integrations(
    State(state): State<AppState>,
    manager: Manager,
) -> Result<axum::Json<IntegrationsOut>> {
    let request = pb::ListIntegrationsRequest {
        account_id: manager.account_id.to_string(),
    };
    let list = state
        .bridge
        .clone()
        .list_integrations(request)
        .await?
        .into_inner();
    Ok(axum::Json(IntegrationsOut {
        integrations: list.integrations.into_iter().map(Into::into).collect(),
        webhooks: list.webhooks,
    }))
}

/// The credentials of a messenger: Telegram's `bot_token`; VK's
/// `group_id` and `access_token`, and for the Callback API (webhook mode)
/// its `confirmation` and `secret`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectIn {
    /// Telegram: the bot's token from @BotFather (`123456:ABC...`).
    #[schema(max_length = 200)]
    pub bot_token: Option<String>,
    /// VK: the community's number (`123`, or as in its address, `club123`,
    /// or the whole address, `https://vk.com/club123`).
    #[schema(max_length = 64)]
    pub group_id: Option<String>,
    /// VK: the community's access token, with the right to its messages.
    #[schema(max_length = 512)]
    pub access_token: Option<String>,
    /// VK, webhook mode: the string VK's Callback API page says to return.
    #[schema(max_length = 64)]
    pub confirmation: Option<String>,
    /// VK, webhook mode: the secret key set on VK's Callback API page.
    #[schema(max_length = 50)]
    pub secret: Option<String>,
    /// Facebook: the page's number (Page ID).
    #[schema(max_length = 32)]
    pub page_id: Option<String>,
    /// Facebook: the page's access token.
    #[schema(max_length = 512)]
    pub page_access_token: Option<String>,
    /// Facebook: the app's secret, which signs the webhook's POSTs.
    #[schema(max_length = 128)]
    pub app_secret: Option<String>,
    /// Facebook: the word Meta's verification of the callback address must carry.
    #[schema(max_length = 128)]
    pub verify_token: Option<String>,
}

/// Connects a messenger, or connects it anew with new credentials. The
/// token is checked with the platform first and never shown again.
#[utoipa::path(put, path = "/api/v1/integrations/{channel}", tag = "integrations", request_body = ConnectIn,
    params(("channel" = String, Path, description = "`telegram`, `vk` or `facebook`")), security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, body = IntegrationOut),
        (status = 400, description = "`bad_request`", body = ErrorOut),
        (status = 401, description = "`unauthorized`", body = ErrorOut),
        (status = 403, description = "`forbidden` (not an owner or admin) or `csrf`", body = ErrorOut),
        (status = 415, description = "`unsupported_media_type`", body = ErrorOut),
        (status = 422, description = "`invalid`: no such channel, or a token the platform does not know (`fields`)", body = ErrorOut),
        (status = 503, description = "`unavailable`: the bridge or the platform cannot be reached", body = ErrorOut),
    ))]
async fn connect_integration(
    State(state): State<AppState>,
    manager: Manager,
    Path(channel): Path<String>,
    Json(body): Json<ConnectIn>,
) -> Result<axum::Json<IntegrationOut>> {
    manager.must_manage_settings()?;
    if !["telegram", "vk", "facebook"].contains(&channel.as_str()) {
        return Err(Error::field("channel", "must be telegram, vk or facebook"));
    }
    let given = [
        ("bot_token", body.bot_token),
        ("group_id", body.group_id),
        ("access_token", body.access_token),
        ("confirmation", body.confirmation),
        ("secret", body.secret),
        ("page_id", body.page_id),
        ("page_access_token", body.page_access_token),
        ("app_secret", body.app_secret),
        ("verify_token", body.verify_token),
    ];
    let credentials: HashMap<String, String> = given
        .into_iter()
        .filter_map(|(name, value)| Some((name.to_owned(), value?)))
        .collect();
    let request = pb::ConnectIntegrationRequest {
        account_id: manager.account_id.to_string(),
        channel,
        credentials,
    };
    let integration = state
        .bridge
        .clone()
        .connect_integration(request)
        .await?
        .into_inner();
    Ok(axum::Json(integration.into()))
}

/// Disconnects a messenger: nothing more arrives or leaves through it.
#[utoipa::path(delete, path = "/api/v1/integrations/{channel}", tag = "integrations",
    params(("channel" = String, Path, description = "`telegram`, `vk` or `facebook`")), security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 204, description = "Disconnected"),
        (status = 401, description = "`unauthorized`", body = ErrorOut),
        (status = 403, description = "`forbidden` (not an owner or admin) or `csrf`", body = ErrorOut),
        (status = 404, description = "`not_found`", body = ErrorOut),
    ))]
async fn disconnect_integration(
    State(state): State<AppState>,
    manager: Manager,
    Path(channel): Path<String>,
) -> Result<StatusCode> {
    manager.must_manage_settings()?;
    let request = pb::DisconnectIntegrationRequest {
        account_id: manager.account_id.to_string(),
        channel,
    };
    state.bridge.clone().disconnect_integration(request).await?;
    Ok(StatusCode::NO_CONTENT)
}
