//! Checks every Telegram bot now and then, so a broken one shows in the
//! console before anyone writes into it: its token (getMe; a revoked token
//! is `token_valid: false`) and, in webhook mode, that Telegram still has
//! the bridge's webhook (getWebhookInfo), with the last error Telegram met
//! delivering to it. Every replica checks (a getMe is cheap and harmless).

use std::time::Duration;

use chat_platform::Shutdown;
use sqlx::PgPool;
use teloxide_core::prelude::*;

use super::api::{CallError, TelegramApi};
use super::{BOT_TOKEN, CHANNEL};
use crate::integrations::{self, Integration};
use crate::secrets::KeyRing;

pub struct HealthChecks {
    pub pool: PgPool,
    pub keys: KeyRing,
    pub api: TelegramApi,
    pub every: Duration,
}

impl HealthChecks {
    pub async fn run(self, shutdown: Shutdown) {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(self.every) => {}
                _ = shutdown.cancelled() => break,
            }
            match integrations::of_channel(&self.pool, &self.keys, CHANNEL).await {
                Ok(bots) => {
                    for bot in bots {
                        if let Err(e) = self.check(&bot).await {
                            tracing::warn!(integration = %bot.id, error = %e, "a health check was not recorded");
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "the bots cannot be listed for their health checks")
                }
            }
        }
    }

    async fn check(&self, integration: &Integration) -> sqlx::Result<()> {
        let token = integration.secret(BOT_TOKEN);
        match self.api.me(token).await {
            Ok(_) => integrations::record_token_check(&self.pool, integration.id, true).await?,
            Err(CallError::BadToken) => {
                integrations::record_token_check(&self.pool, integration.id, false).await?;
                let why = "Telegram no longer knows this bot token (revoked?): connect it anew";
                return integrations::record_error(&self.pool, integration.id, why).await;
            }
            // Telegram away: nothing learnt about the bot.
            Err(_) => return Ok(()),
        }
        let Some(expected) = self.api.webhook_url(integration.id) else {
            return Ok(());
        };
        if integration.settings["mode"] != "webhook" {
            return Ok(());
        }
        let Ok(info) = self.api.bot(token).get_webhook_info().await else {
            return Ok(());
        };
        let registered = info
            .url
            .as_ref()
            .is_some_and(|url| url.as_str() == expected);
        integrations::record_receiving(&self.pool, integration.id, registered).await?;
        if !registered {
            let why = "Telegram no longer has this bot's webhook: connect it anew";
            integrations::record_error(&self.pool, integration.id, why).await?;
        } else if let (Some(message), Some(at)) = (info.last_error_message, info.last_error_date)
            // Only an error newer than what the bridge knows: an old one
            // would mark a bot that works again as broken.
            && Some(at) > integration.health.last_update_at
            && Some(at) > integration.health.last_error_at
        {
            let why = format!("Telegram could not deliver to the webhook: {message}");
            integrations::record_error(&self.pool, integration.id, &why).await?;
        }
        Ok(())
    }
}
