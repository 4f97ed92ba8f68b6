//! The gRPC server of the bridge (`chat.bridge.v1.BridgeService`): the
//! gateway connects, lists and disconnects an account's messengers through
//! it. Every call is scoped by the account.

use chat_platform::Shutdown;
use chat_platform::service_error::{Error, parse_id};
use chat_proto::bridge::v1::{self as pb, bridge_service_server as server};
use chat_proto::time::to_proto;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tonic::{Request, Response, Status};

use crate::integrations::{self, Connection, Integration};
use crate::secrets::KeyRing;
use crate::telegram::{self, api::CallError, api::TelegramApi};

#[derive(Clone)]
pub struct BridgeApi {
    pub pool: PgPool,
    pub keys: Option<KeyRing>,
    pub telegram: TelegramApi,
}

pub async fn serve(
    listener: TcpListener,
    api: BridgeApi,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    chat_platform::grpc::serve(listener, server::BridgeServiceServer::new(api), shutdown).await
}

impl BridgeApi {
    fn keys(&self) -> Result<&KeyRing, Status> {
        self.keys.as_ref().ok_or_else(|| {
            Status::failed_precondition(
                "the bridge has no secret key (BRIDGE_SECRET_KEYS): no messenger can be connected",
            )
        })
    }

    async fn connect_telegram(
        &self,
        account_id: uuid::Uuid,
        credentials: &std::collections::HashMap<String, String>,
    ) -> Result<Integration, Status> {
        let keys = self.keys()?;
        let token = credentials
            .get(telegram::BOT_TOKEN)
            .map(|t| t.trim())
            .unwrap_or_default();
        if telegram::bot_id(token).is_none() || token.len() > 200 {
            return Err(Error::field(
                "bot_token",
                "is not a bot token (the digits, a colon, then letters, from @BotFather)",
            )
            .into());
        }
        let me = self.telegram.me(token).await.map_err(|e| match e {
            CallError::BadToken => {
                Error::field("bot_token", "Telegram does not know this token").into()
            }
            CallError::Refused(reason) => Status::failed_precondition(reason),
            CallError::Unreachable(reason) => Status::unavailable(reason),
        })?;
        let bot_taken =
            integrations::bot_elsewhere(&self.pool, telegram::CHANNEL, me.id, account_id)
                .await
                .map_err(Error::from)?;
        if bot_taken {
            return Err(bot_of_another_account());
        }
        // Telegram learns the webhook (or that there is none) before the
        // token is stored: a refusal leaves the stored integration as it was.
        let id = integrations::id_for(&self.pool, account_id, telegram::CHANNEL)
            .await
            .map_err(Error::from)?;
        let secret = telegram::new_webhook_secret();
        let webhook = self.telegram.webhook_url(id);
        self.telegram
            .route_updates(token, webhook.as_deref(), &secret)
            .await
            .map_err(|e| match e {
                CallError::Unreachable(reason) => Status::unavailable(reason),
                other => Status::failed_precondition(other.to_string()),
            })?;
        let connection = Connection {
            account_id,
            channel: telegram::CHANNEL,
            settings: serde_json::json!({
                "bot_id": me.id,
                "username": me.username,
                "mode": if webhook.is_some() { "webhook" } else { "polling" },
            }),
            secrets: [
                (telegram::BOT_TOKEN.to_owned(), token.to_owned()),
                (telegram::WEBHOOK_SECRET.to_owned(), secret.clone()),
            ]
            .into(),
        };
        let stored = integrations::connect(&self.pool, keys, id, connection)
            .await
            .map_err(|e| match e.downcast_ref::<sqlx::Error>() {
                Some(sqlx::Error::Database(db))
                    if db.constraint() == Some(integrations::BOT_UNIQUE) =>
                {
                    bot_of_another_account()
                }
                _ => internal(e),
            })?;
        if stored.id != id && webhook.is_some() {
            // A concurrent connection stored first: point Telegram at its row.
            let webhook = self.telegram.webhook_url(stored.id);
            self.telegram
                .route_updates(
                    token,
                    webhook.as_deref(),
                    stored.secret(telegram::WEBHOOK_SECRET),
                )
                .await
                .map_err(|e| Status::unavailable(e.to_string()))?;
        }
        integrations::record_token_check(&self.pool, stored.id, true)
            .await
            .map_err(Error::from)?;
        if webhook.is_some() {
            integrations::record_receiving(&self.pool, stored.id, true)
                .await
                .map_err(Error::from)?;
        }
        integrations::get(&self.pool, keys, account_id, stored.id)
            .await
            .map_err(internal)?
            .ok_or_else(|| Status::internal("the integration just stored is gone"))
    }
}

fn bot_of_another_account() -> Status {
    Error::field("bot_token", "this bot is connected to another account").into()
}

fn internal(e: anyhow::Error) -> Status {
    tracing::error!(error = %e, "bridge error");
    Status::internal("internal error")
}

/// An integration as the API shows it: never its secrets.
fn to_proto_integration(i: &Integration) -> pb::Integration {
    let h = &i.health;
    let settings = &i.settings;
    let name = settings["username"]
        .as_str()
        .map(|u| format!("@{u}"))
        .unwrap_or_default();
    let token_valid = h.token_valid.unwrap_or(false);
    pb::Integration {
        id: i.id.to_string(),
        channel: i.channel.clone(),
        name,
        mode: settings["mode"].as_str().unwrap_or_default().to_owned(),
        health: Some(pb::Health {
            // An error counts until an update arrives after it.
            healthy: token_valid
                && h.receiving
                && h.last_error_at
                    .is_none_or(|error| h.last_update_at > Some(error)),
            token_valid,
            token_checked_at: h.token_checked_at.map(to_proto),
            last_update_at: h.last_update_at.map(to_proto),
            last_error: h.last_error.clone().unwrap_or_default(),
            last_error_at: h.last_error_at.map(to_proto),
            receiving: h.receiving,
        }),
        connected_at: Some(to_proto(i.connected_at)),
    }
}

#[tonic::async_trait]
impl server::BridgeService for BridgeApi {
    async fn connect_integration(
        &self,
        request: Request<pb::ConnectIntegrationRequest>,
    ) -> Result<Response<pb::Integration>, Status> {
        let req = request.get_ref();
        let account_id = parse_id("account_id", &req.account_id)?;
        let integration = match req.channel.as_str() {
            "telegram" => self.connect_telegram(account_id, &req.credentials).await?,
            "vk" | "facebook" => {
                return Err(
                    Error::field("channel", "VK and Facebook come in a later version").into(),
                );
            }
            _ => return Err(Error::field("channel", "must be telegram, vk or facebook").into()),
        };
        Ok(Response::new(to_proto_integration(&integration)))
    }

    async fn list_integrations(
        &self,
        request: Request<pb::ListIntegrationsRequest>,
    ) -> Result<Response<pb::ListIntegrationsResponse>, Status> {
        let account_id = parse_id("account_id", &request.get_ref().account_id)?;
        let keys = self.keys()?;
        let integrations = integrations::list(&self.pool, keys, account_id)
            .await
            .map_err(internal)?;
        Ok(Response::new(pb::ListIntegrationsResponse {
            integrations: integrations.iter().map(to_proto_integration).collect(),
        }))
    }

    async fn disconnect_integration(
        &self,
        request: Request<pb::DisconnectIntegrationRequest>,
    ) -> Result<Response<pb::DisconnectIntegrationResponse>, Status> {
        let req = request.get_ref();
        let account_id = parse_id("account_id", &req.account_id)?;
        let keys = self.keys()?;
        let integration = integrations::list(&self.pool, keys, account_id)
            .await
            .map_err(internal)?
            .into_iter()
            .find(|i| i.channel == req.channel)
            .ok_or(Error::NotFound("integration"))?;
        let id = integration.id;
        if integration.channel == telegram::CHANNEL
            && integration.settings["mode"] == "webhook"
            && let Err(e) = self
                .telegram
                .route_updates(integration.secret(telegram::BOT_TOKEN), None, "")
                .await
        {
            // The row goes anyway: deliveries to a removed integration get 404.
            tracing::warn!(integration = %id, error = %e, "the webhook was not removed");
        }
        integrations::delete(&self.pool, account_id, id)
            .await
            .map_err(Error::from)?;
        Ok(Response::new(pb::DisconnectIntegrationResponse {}))
    }
}
