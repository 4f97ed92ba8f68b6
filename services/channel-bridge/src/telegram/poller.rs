//! Telegram's long polling (getUpdates, through teloxide), for bots Telegram
//! cannot reach by webhook; [`crate::polling`] shares the bots out between
//! replicas.
//!
//! No update is lost or doubled on the way: Telegram keeps every update a
//! poll has not confirmed (a poll confirms the ones below its `offset`), and
//! a poller moves its offset past an update only once the update is stored.
//! A new poller therefore gets whatever the old one had not stored; one it
//! had stored but not yet confirmed is stored again as the same message
//! (its key is the message's client id), which changes nothing.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use sqlx::PgPool;
use teloxide_core::prelude::*;
use teloxide_core::types::AllowedUpdate;
use teloxide_core::{ApiError, RequestError};
use tokio_util::sync::CancellationToken;

use super::api::TelegramApi;
use super::{BOT_TOKEN, CHANNEL, bot_id, updates};
use crate::inbound::{Inbound, InboundError};
use crate::integrations::{self, Integration};
use crate::polling::Poller;

/// Seconds a long poll waits for updates (teloxide's own choice).
const POLL_TIMEOUT_SECS: u32 = 10;

/// Polls Telegram bots.
pub struct TelegramPoller {
    pub pool: PgPool,
    pub api: TelegramApi,
    pub inbound: Inbound,
}

impl Poller for TelegramPoller {
    fn channel(&self) -> &'static str {
        CHANNEL
    }

    fn credentials<'a>(&self, integration: &'a Integration) -> &'a str {
        integration.secret(BOT_TOKEN)
    }

    fn poll(
        &self,
        integration: Integration,
        stop: CancellationToken,
    ) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        Box::pin(poll(
            self.pool.clone(),
            self.api.clone(),
            self.inbound.clone(),
            integration,
            stop,
        ))
    }
}

/// Polls one bot until stopped.
async fn poll(
    pool: PgPool,
    api: TelegramApi,
    inbound: Inbound,
    integration: Integration,
    stop: CancellationToken,
) {
    let token = integration.secret(BOT_TOKEN);
    let Some(bot_number) = bot_id(token).map(str::to_owned) else {
        return;
    };
    let bot = api.bot(token);
    let mut offset: i32 = 0;
    let mut delay = Duration::from_secs(1);
    while !stop.is_cancelled() {
        let asked = bot
            .get_updates()
            .offset(offset)
            .timeout(POLL_TIMEOUT_SECS)
            .allowed_updates([AllowedUpdate::Message]);
        let answer = tokio::select! {
            answer = asked.send() => answer,
            _ = stop.cancelled() => break,
        };
        let updates = match answer {
            Ok(updates) => updates,
            Err(e) => {
                let why = match &e {
                    RequestError::Api(ApiError::TerminatedByOtherGetUpdates) => {
                        "another program polls this bot (Telegram allows one)".to_owned()
                    }
                    RequestError::Api(ApiError::InvalidToken) => {
                        let _ =
                            integrations::record_token_check(&pool, integration.id, false).await;
                        "Telegram no longer knows this bot token".to_owned()
                    }
                    other => other.to_string(),
                };
                tracing::warn!(integration = %integration.id, error = %why, "a long poll failed");
                let _ = integrations::record_error(&pool, integration.id, &why).await;
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = stop.cancelled() => break,
                }
                delay = (delay * 2).min(Duration::from_secs(30));
                continue;
            }
        };
        let _ = integrations::record_poll(&pool, integration.id).await;
        for update in &updates {
            if let Some(incoming) = updates::incoming(integration.account_id, &bot_number, update) {
                match inbound.store(incoming).await {
                    Ok(_) => {
                        delay = Duration::from_secs(1);
                        let _ = integrations::record_update(&pool, integration.id).await;
                    }
                    Err(InboundError::Refused(reason)) => {
                        tracing::warn!(integration = %integration.id, %reason, "a Telegram message was refused");
                        let _ = integrations::record_error(&pool, integration.id, &reason).await;
                    }
                    Err(e @ InboundError::Retry(_)) => {
                        // Not stored: the offset stays, and the next poll
                        // brings it again, after a growing pause.
                        tracing::warn!(integration = %integration.id, error = %e, "a Telegram message waits");
                        let _ =
                            integrations::record_error(&pool, integration.id, &e.to_string()).await;
                        tokio::select! {
                            _ = tokio::time::sleep(delay) => {}
                            _ = stop.cancelled() => {}
                        }
                        delay = (delay * 2).min(Duration::from_secs(30));
                        break;
                    }
                }
            }
            offset = update.id.0 as i32 + 1;
        }
    }
}
