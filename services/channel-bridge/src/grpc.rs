//! The gRPC server of the bridge (`chat.bridge.v1.BridgeService`): the
//! gateway connects, lists and disconnects an account's messengers through
//! it, and fetches the files people sent through them. Every call is scoped
//! by the account.

use chat_platform::Shutdown;
use chat_platform::service_error::{Error, parse_id};
use chat_proto::bridge::v1::{self as pb, bridge_service_server as server};
use chat_proto::time::to_proto;
use futures::StreamExt as _;
use futures::stream::BoxStream;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tonic::{Request, Response, Status};

use crate::facebook::{self, api::FacebookApi};
use crate::integrations::{self, Connection, Integration};
use crate::telegram::files::FetchError;
use crate::telegram::{self, api::CallError, api::TelegramApi};
use crate::vk::{self, api::VkApi};
use chat_platform::secrets::KeyRing;

#[derive(Clone)]
pub struct BridgeApi {
    pub pool: PgPool,
    pub keys: Option<KeyRing>,
    pub telegram: TelegramApi,
    pub vk: VkApi,
    pub facebook: FacebookApi,
}

/// The longest token or secret taken.
const MAX_CREDENTIAL_BYTES: usize = 512;

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
            poll_cursor: None,
        };
        let stored = self
            .store(keys, id, connection, bot_of_another_account)
            .await?;
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
        if webhook.is_some() {
            integrations::record_receiving(&self.pool, stored.id, true)
                .await
                .map_err(Error::from)?;
        }
        self.checked(keys, account_id, stored.id).await
    }
}

impl BridgeApi {
    /// Stores a connection whose token the platform just took; `taken`: the
    /// refusal when another account has that bot, community or page.
    async fn store(
        &self,
        keys: &KeyRing,
        id: uuid::Uuid,
        connection: Connection<'_>,
        taken: impl FnOnce() -> Status,
    ) -> Result<Integration, Status> {
        integrations::connect(&self.pool, keys, id, connection)
            .await
            .map_err(|e| match e.downcast_ref::<sqlx::Error>() {
                Some(sqlx::Error::Database(db))
                    if db.constraint() == Some(integrations::BOT_UNIQUE) =>
                {
                    taken()
                }
                _ => internal(e),
            })
    }

    /// A connection just stored, its token recorded as checked, as the API shows it.
    async fn checked(
        &self,
        keys: &KeyRing,
        account_id: uuid::Uuid,
        id: uuid::Uuid,
    ) -> Result<Integration, Status> {
        integrations::record_token_check(&self.pool, id, true)
            .await
            .map_err(Error::from)?;
        integrations::get(&self.pool, keys, account_id, id)
            .await
            .map_err(internal)?
            .ok_or_else(|| Status::internal("the integration just stored is gone"))
    }
}

fn bot_of_another_account() -> Status {
    Error::field("bot_token", "this bot is connected to another account").into()
}

fn page_of_another_account() -> Status {
    Error::field("page_id", "this page is connected to another account").into()
}

fn community_of_another_account() -> Status {
    Error::field("group_id", "this community is connected to another account").into()
}

/// A credential by name, trimmed; empty when not given.
fn credential<'a>(
    credentials: &'a std::collections::HashMap<String, String>,
    name: &str,
) -> &'a str {
    credentials.get(name).map(|v| v.trim()).unwrap_or_default()
}

/// A VK community's id as people copy it: `123`, `-123`, `club123`,
/// `public123`, or its whole address (`https://vk.com/club123`).
fn community_id(text: &str) -> Option<i64> {
    let text = text.trim().trim_end_matches('/');
    let text = text.rsplit_once("vk.com/").map_or(text, |(_, name)| name);
    let digits = text
        .trim_start_matches("club")
        .trim_start_matches("public")
        .trim_start_matches('-');
    digits
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0 && digits.bytes().all(|b| b.is_ascii_digit()))
}

impl BridgeApi {
    async fn connect_vk(
        &self,
        account_id: uuid::Uuid,
        credentials: &std::collections::HashMap<String, String>,
    ) -> Result<Integration, Status> {
        let keys = self.keys()?;
        let callback = self.vk.public_url.is_some();
        let group = credential(credentials, "group_id");
        let token = credential(credentials, vk::ACCESS_TOKEN);
        let confirmation = credential(credentials, vk::CONFIRMATION);
        let secret = credential(credentials, vk::CALLBACK_SECRET);
        let mut problems = Vec::new();
        let group_id = community_id(group);
        if group_id.is_none() {
            problems.push((
                "group_id",
                "is the community's number (from its address, club123 is 123)".to_owned(),
            ));
        }
        if token.is_empty() || token.len() > MAX_CREDENTIAL_BYTES {
            problems.push((
                vk::ACCESS_TOKEN,
                "is the community's access token (Manage, API usage, Access tokens)".to_owned(),
            ));
        }
        if callback {
            if confirmation.is_empty() || confirmation.len() > 64 {
                problems.push((
                    vk::CONFIRMATION,
                    "is the string VK's Callback API page says the server must return".to_owned(),
                ));
            }
            if secret.is_empty()
                || secret.len() > 50
                || !secret.bytes().all(|b| b.is_ascii_alphanumeric())
            {
                problems.push((vk::CALLBACK_SECRET, "is the secret key set on VK's Callback API page: up to 50 Latin letters and digits".to_owned()));
            }
        }
        if !problems.is_empty() {
            return Err(Error::Fields(problems).into());
        }
        let group_id = group_id.unwrap_or_default();
        let community = self.vk.community(token).await.map_err(|e| match e {
            e if e.is_bad_token() => {
                Error::field(vk::ACCESS_TOKEN, "VK does not take this token").into()
            }
            vk::api::VkError::Api { message, .. } => Status::failed_precondition(message),
            other => Status::unavailable(other.to_string()),
        })?;
        if community.id != group_id {
            return Err(Error::field(
                vk::ACCESS_TOKEN,
                format!(
                    "is the token of another community (number {})",
                    community.id
                ),
            )
            .into());
        }
        // Polling goes on from the moment of connecting: nothing written
        // after it is missed, however soon a poller starts.
        let mut start = None;
        if !callback {
            let server = self
                .vk
                .long_poll_server(token, group_id)
                .await
                .map_err(|e| match e {
                    vk::api::VkError::Api { message, .. } => Error::field(
                        vk::ACCESS_TOKEN,
                        format!(
                            "cannot long poll: {message} (turn Bots Long Poll on in the community's \
                             Manage, API usage, with the message_new event)"
                        ),
                    )
                    .into(),
                    other => Status::unavailable(other.to_string()),
                })?;
            start = Some(server.ts);
        }
        let taken =
            integrations::bot_elsewhere(&self.pool, vk::CHANNEL, group_id as u64, account_id)
                .await
                .map_err(Error::from)?;
        if taken {
            return Err(community_of_another_account());
        }
        let id = integrations::id_for(&self.pool, account_id, vk::CHANNEL)
            .await
            .map_err(Error::from)?;
        let connection = Connection {
            account_id,
            channel: vk::CHANNEL,
            settings: serde_json::json!({
                "bot_id": group_id,
                "name": community.name,
                "mode": if callback { "webhook" } else { "polling" },
            }),
            secrets: [
                (vk::ACCESS_TOKEN.to_owned(), token.to_owned()),
                (vk::CONFIRMATION.to_owned(), confirmation.to_owned()),
                (vk::CALLBACK_SECRET.to_owned(), secret.to_owned()),
            ]
            .into(),
            // Polling goes on from the moment of connecting.
            poll_cursor: start,
        };
        let stored = self
            .store(keys, id, connection, community_of_another_account)
            .await?;
        self.checked(keys, account_id, stored.id).await
    }

    async fn connect_facebook(
        &self,
        account_id: uuid::Uuid,
        credentials: &std::collections::HashMap<String, String>,
    ) -> Result<Integration, Status> {
        let keys = self.keys()?;
        if self.facebook.public_url.is_none() {
            return Err(Status::failed_precondition(
                "Facebook reaches the suite only at a public address (BRIDGE_PUBLIC_URL), which this one has not",
            ));
        }
        let page = credential(credentials, "page_id");
        let token = credential(credentials, facebook::PAGE_TOKEN);
        let app_secret = credential(credentials, facebook::APP_SECRET);
        let verify_token = credential(credentials, facebook::VERIFY_TOKEN);
        let mut problems = Vec::new();
        if page.is_empty() || page.len() > 32 || !page.bytes().all(|b| b.is_ascii_digit()) {
            problems.push((
                "page_id",
                "is the page's number (its About section, Page ID)".to_owned(),
            ));
        }
        if token.is_empty() || token.len() > MAX_CREDENTIAL_BYTES {
            problems.push((
                facebook::PAGE_TOKEN,
                "is the page's access token (Meta's dashboard, Messenger API settings)".to_owned(),
            ));
        }
        if app_secret.is_empty() || app_secret.len() > 128 {
            problems.push((
                facebook::APP_SECRET,
                "is the app's secret (App settings, Basic)".to_owned(),
            ));
        }
        if verify_token.is_empty() || verify_token.len() > 128 {
            problems.push((
                facebook::VERIFY_TOKEN,
                "is a word you choose and give Meta beside the callback address".to_owned(),
            ));
        }
        if !problems.is_empty() {
            return Err(Error::Fields(problems).into());
        }
        let (id, name) = self.facebook.page(token).await.map_err(|e| match e {
            e if e.is_bad_token() => {
                Error::field(facebook::PAGE_TOKEN, "Facebook does not take this token").into()
            }
            facebook::api::GraphError::Api { message, .. } => Status::failed_precondition(message),
            other => Status::unavailable(other.to_string()),
        })?;
        if id != page {
            return Err(Error::field(
                facebook::PAGE_TOKEN,
                format!("is the token of another page (number {id})"),
            )
            .into());
        }
        let page_number: u64 = page.parse().unwrap_or_default();
        let taken =
            integrations::bot_elsewhere(&self.pool, facebook::CHANNEL, page_number, account_id)
                .await
                .map_err(Error::from)?;
        if taken {
            return Err(page_of_another_account());
        }
        let integration_id = integrations::id_for(&self.pool, account_id, facebook::CHANNEL)
            .await
            .map_err(Error::from)?;
        let connection = Connection {
            account_id,
            channel: facebook::CHANNEL,
            settings: serde_json::json!({
                "bot_id": page_number,
                "page_id": page,
                "name": name,
                "mode": "webhook",
            }),
            secrets: [
                (facebook::PAGE_TOKEN.to_owned(), token.to_owned()),
                (facebook::APP_SECRET.to_owned(), app_secret.to_owned()),
                (facebook::VERIFY_TOKEN.to_owned(), verify_token.to_owned()),
            ]
            .into(),
            poll_cursor: None,
        };
        let stored = self
            .store(keys, integration_id, connection, page_of_another_account)
            .await?;
        self.checked(keys, account_id, stored.id).await
    }

    /// The account's integration of `channel`, if it has one.
    async fn integration_of(
        &self,
        account_id: uuid::Uuid,
        channel: &str,
    ) -> Result<Option<Integration>, Status> {
        let found = integrations::list(&self.pool, self.keys()?, account_id)
            .await
            .map_err(internal)?;
        Ok(found.into_iter().find(|i| i.channel == channel))
    }

    /// An integration as the API shows it: never its secrets.
    fn shown(&self, i: &Integration) -> pb::Integration {
        let address = match (i.channel.as_str(), i.settings["mode"].as_str()) {
            (vk::CHANNEL, Some("webhook")) => self.vk.callback_url(i.id).unwrap_or_default(),
            (facebook::CHANNEL, _) => self.facebook.webhook_url(i.id).unwrap_or_default(),
            _ => String::new(),
        };
        pb::Integration {
            address,
            ..to_proto_integration(i)
        }
    }
}

fn internal(e: anyhow::Error) -> Status {
    tracing::error!(error = %e, "bridge error");
    Status::internal("internal error")
}

/// An integration as the API shows it: never its secrets.
fn to_proto_integration(i: &Integration) -> pb::Integration {
    let h = &i.health;
    let settings = &i.settings;
    let name = match settings["username"].as_str() {
        Some(username) => format!("@{username}"),
        None => settings["name"].as_str().unwrap_or_default().to_owned(),
    };
    let token_valid = h.token_valid.unwrap_or(false);
    pb::Integration {
        id: i.id.to_string(),
        channel: i.channel.clone(),
        name,
        mode: settings["mode"].as_str().unwrap_or_default().to_owned(),
        health: Some(pb::Health {
            healthy: h.healthy(),
            token_valid,
            token_checked_at: h.token_checked_at.map(to_proto),
            last_update_at: h.last_update_at.map(to_proto),
            last_error: h.last_error.clone().unwrap_or_default(),
            last_error_at: h.last_error_at.map(to_proto),
            receiving: h.receiving,
        }),
        connected_at: Some(to_proto(i.connected_at)),
        address: String::new(),
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
            "vk" => self.connect_vk(account_id, &req.credentials).await?,
            "facebook" => self.connect_facebook(account_id, &req.credentials).await?,
            _ => return Err(Error::field("channel", "must be telegram, vk or facebook").into()),
        };
        Ok(Response::new(self.shown(&integration)))
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
            integrations: integrations.iter().map(|i| self.shown(i)).collect(),
            webhooks: self.vk.public_url.is_some(),
        }))
    }

    async fn disconnect_integration(
        &self,
        request: Request<pb::DisconnectIntegrationRequest>,
    ) -> Result<Response<pb::DisconnectIntegrationResponse>, Status> {
        let req = request.get_ref();
        let account_id = parse_id("account_id", &req.account_id)?;
        let integration = self
            .integration_of(account_id, &req.channel)
            .await?
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

    type FetchFileStream = BoxStream<'static, Result<pb::FileChunk, Status>>;

    async fn fetch_file(
        &self,
        request: Request<pb::FetchFileRequest>,
    ) -> Result<Response<Self::FetchFileStream>, Status> {
        let req = request.get_ref();
        let account_id = parse_id("account_id", &req.account_id)?;
        // Only the account's own bot is asked: another's file ids mean nothing to it.
        let integration = self
            .integration_of(account_id, &req.channel)
            .await?
            .filter(|i| i.channel == telegram::CHANNEL)
            .ok_or(Error::NotFound("file"))?;
        let token = integration.secret(telegram::BOT_TOKEN);
        let fetched = telegram::files::fetch(&self.telegram, token, &req.file_id).await;
        if let Err(revoked @ FetchError::TokenRevoked) = &fetched {
            let _ = integrations::record_token_refused(
                &self.pool,
                integration.id,
                &revoked.to_string(),
            )
            .await;
        }
        let fetched = fetched.map_err(|e| match e {
            FetchError::NotFound => Status::not_found("file not found"),
            FetchError::TooBig | FetchError::TokenRevoked => {
                Status::failed_precondition(e.to_string())
            }
            FetchError::Unavailable(why) => Status::unavailable(why),
        })?;
        let first = pb::FileChunk {
            content_type: fetched.content_type.to_owned(),
            file_name: fetched.file_name,
            size: fetched.size,
            data: Vec::new(),
        };
        let data = fetched.bytes.map(|chunk| {
            chunk
                .map(|data| pb::FileChunk {
                    data,
                    ..Default::default()
                })
                .map_err(|e| {
                    let why = crate::http_errors::described(e);
                    Status::unavailable(format!("the download broke off: {why}"))
                })
        });
        Ok(Response::new(
            futures::stream::once(async { Ok(first) })
                .chain(data)
                .boxed(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::community_id;

    #[test]
    fn a_community_is_known_by_its_number_however_it_is_copied() {
        for text in [
            "123",
            "-123",
            "club123",
            "public123",
            " https://vk.com/club123/ ",
            "http://m.vk.com/public123",
            "vk.com/club123",
        ] {
            assert_eq!(community_id(text), Some(123), "{text:?}");
        }
        for text in [
            "",
            "club",
            "tea_shop",
            "https://vk.com/tea_shop",
            "12a",
            "0",
            "club-5x",
        ] {
            assert_eq!(community_id(text), None, "{text:?}");
        }
    }
}
