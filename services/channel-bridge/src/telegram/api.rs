//! Talking to the Bot API through teloxide: a bot for a token (pointed at
//! the configured API address, so tests and `make dev` use the fake), the
//! check of a token, and registering or removing the bridge's webhook.

use std::time::Duration;

use teloxide_core::prelude::*;
use teloxide_core::types::AllowedUpdate;
use teloxide_core::{ApiError, RequestError};

/// Where the Bot API is, and where Telegram reaches the bridge.
#[derive(Debug, Clone)]
pub struct TelegramApi {
    /// `https://api.telegram.org`, or a fake's address.
    pub api_url: reqwest::Url,
    /// The suite's public address for webhooks; `None`: long polling.
    pub public_url: Option<String>,
    /// One HTTP client (connections and TLS set up once) for every bot's calls.
    calls: reqwest::Client,
    /// And one for downloads: no limit on a whole download (a 20 MB file to
    /// a slow browser takes its time), only on connecting and on each wait
    /// for more bytes.
    downloads: reqwest::Client,
}

/// Why a call to Telegram failed, as the caller answers it.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// Telegram does not know the token.
    #[error("Telegram does not know this bot token")]
    BadToken,
    /// Telegram refused the call, saying why.
    #[error("Telegram refused: {0}")]
    Refused(String),
    /// Telegram could not be reached, or asked to wait.
    #[error("Telegram cannot be reached now: {0}")]
    Unreachable(String),
}

impl From<RequestError> for CallError {
    fn from(e: RequestError) -> Self {
        match e {
            RequestError::Api(ApiError::InvalidToken) => Self::BadToken,
            RequestError::Api(api) => Self::Refused(api.to_string()),
            other => Self::Unreachable(other.to_string()),
        }
    }
}

/// The bot's name, as getMe tells it.
pub struct Me {
    pub id: u64,
    pub username: String,
}

impl TelegramApi {
    pub fn new(api_url: reqwest::Url, public_url: Option<String>) -> Self {
        let calls = teloxide_core::net::default_reqwest_settings()
            .timeout(Duration::from_secs(17))
            .build()
            .expect("an HTTP client");
        let downloads = teloxide_core::net::default_reqwest_settings()
            .connect_timeout(Duration::from_secs(5))
            .read_timeout(Duration::from_secs(30))
            .build()
            .expect("an HTTP client");
        Self {
            api_url,
            public_url,
            calls,
            downloads,
        }
    }

    pub fn bot(&self, token: &str) -> Bot {
        Bot::with_client(token, self.calls.clone()).set_api_url(self.api_url.clone())
    }

    /// The bot for downloading a file (its client sets no limit on the whole).
    pub fn downloader(&self, token: &str) -> Bot {
        Bot::with_client(token, self.downloads.clone()).set_api_url(self.api_url.clone())
    }

    /// Checks the token: the bot it belongs to.
    pub async fn me(&self, token: &str) -> Result<Me, CallError> {
        let me = self.bot(token).get_me().await?;
        Ok(Me {
            id: me.id.0,
            username: me.username().to_owned(),
        })
    }

    /// The webhook address of an integration, where the suite has a public address.
    pub fn webhook_url(&self, integration_id: uuid::Uuid) -> Option<String> {
        self.public_url.as_ref().map(|base| {
            format!(
                "{}/webhooks/telegram/{integration_id}",
                base.trim_end_matches('/')
            )
        })
    }

    /// Points the bot's updates at `url` with the secret token, or (no url)
    /// removes the webhook so long polling can take them.
    pub async fn route_updates(
        &self,
        token: &str,
        url: Option<&str>,
        secret: &str,
    ) -> Result<(), CallError> {
        let bot = self.bot(token);
        match url {
            Some(url) => {
                let url = url
                    .parse()
                    .map_err(|e| CallError::Refused(format!("bad webhook address: {e}")))?;
                bot.set_webhook(url)
                    .secret_token(secret.to_owned())
                    .allowed_updates([AllowedUpdate::Message])
                    .await?;
            }
            None => {
                bot.delete_webhook().await?;
            }
        }
        Ok(())
    }
}
