//! Checks every Telegram bot now and then, so a broken one shows in the
//! console before anyone writes into it: its token (getMe; a revoked token
//! is `token_valid: false`) and, in webhook mode, that Telegram still has
//! the bridge's webhook (getWebhookInfo), with the last error Telegram met
//! delivering to it ([`crate::health`] runs it for every bot).

use std::future::Future;
use std::pin::Pin;

use sqlx::PgPool;
use teloxide_core::prelude::*;

use super::api::{CallError, TelegramApi};
use super::{BOT_TOKEN, CHANNEL};
use crate::health::Checker;
use crate::integrations::{self, Integration};

/// Checks Telegram bots.
pub struct TelegramChecks {
    pub pool: PgPool,
    pub api: TelegramApi,
}

impl Checker for TelegramChecks {
    fn channel(&self) -> &'static str {
        CHANNEL
    }

    fn check<'a>(
        &'a self,
        integration: &'a Integration,
    ) -> Pin<Box<dyn Future<Output = sqlx::Result<()>> + Send + 'a>> {
        Box::pin(self.check_bot(integration))
    }
}

impl TelegramChecks {
    async fn check_bot(&self, integration: &Integration) -> sqlx::Result<()> {
        let token = integration.secret(BOT_TOKEN);
        match self.api.me(token).await {
            Ok(_) => integrations::record_token_check(&self.pool, integration.id, true).await?,
            Err(CallError::BadToken) => {
                let why = "Telegram no longer knows this bot token (revoked?): connect it anew";
                return integrations::record_token_refused(&self.pool, integration.id, why).await;
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
