//! Long polling, for bots Telegram cannot reach by webhook (the suite has no
//! public address). Exactly one replica polls a bot at a time: each round,
//! every replica tries to take or renew the bot's lease ([`crate::leases`]),
//! and polls the bots it holds. A replica that dies stops renewing, and
//! another takes the bot within the lease's time.
//!
//! No update is lost or doubled on the way: Telegram keeps every update a
//! poll has not confirmed (a poll confirms the ones below its `offset`), and
//! a poller moves its offset past an update only once the update is stored.
//! A new poller therefore gets whatever the old one had not stored; one it
//! had stored but not yet confirmed is stored again as the same message
//! (its key is the message's client id), which changes nothing.

use std::collections::HashMap;
use std::time::Duration;

use sqlx::PgPool;
use teloxide_core::prelude::*;
use teloxide_core::types::AllowedUpdate;
use teloxide_core::{ApiError, RequestError};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::api::TelegramApi;
use super::{BOT_TOKEN, CHANNEL, bot_id, updates};
use crate::inbound::{Inbound, InboundError};
use crate::secrets::KeyRing;
use crate::{integrations, leases};

/// Seconds a long poll waits for updates (teloxide's own choice).
const POLL_TIMEOUT_SECS: u32 = 10;

/// Shares out the polling bots between replicas and polls this one's.
pub struct Pollers {
    pub pool: PgPool,
    pub keys: KeyRing,
    pub api: TelegramApi,
    pub inbound: Inbound,
    /// This replica's name in the leases.
    pub holder: String,
}

/// A bot this replica polls: stopped when its lease is lost or its token changes.
struct Polling {
    token: String,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl Pollers {
    pub async fn run(self, shutdown: CancellationToken) {
        let mut polling: HashMap<Uuid, Polling> = HashMap::new();
        loop {
            if let Err(e) = self.share_out(&mut polling, &shutdown).await {
                tracing::warn!(error = %e, "the pollers could not be shared out now");
            }
            tokio::select! {
                _ = tokio::time::sleep(leases::RENEW_EVERY) => {}
                _ = shutdown.cancelled() => break,
            }
        }
        for (id, bot) in polling.drain() {
            bot.stop.cancel();
            let _ = bot.task.await;
            let _ = leases::release(&self.pool, id, &self.holder).await;
        }
    }

    /// One round: renews or takes each polling bot's lease, starts polling
    /// the bots held, stops the ones lost, removed or given a new token.
    async fn share_out(
        &self,
        polling: &mut HashMap<Uuid, Polling>,
        shutdown: &CancellationToken,
    ) -> anyhow::Result<()> {
        let bots = integrations::polling(&self.pool, CHANNEL).await?;
        polling.retain(|id, bot| {
            let wanted = bots.iter().any(|(_, b)| b == id);
            if !wanted {
                bot.stop.cancel();
            }
            wanted
        });
        for (account_id, id) in bots {
            // Each bot on its own: one that cannot be read or leased now
            // (a row being disconnected, say) holds up none of the others.
            let integration = match integrations::get(&self.pool, &self.keys, account_id, id).await
            {
                Ok(Some(integration)) => integration,
                Ok(None) => continue,
                Err(e) => {
                    tracing::warn!(integration = %id, error = %e, "a polling bot cannot be read");
                    continue;
                }
            };
            let held = match leases::hold(&self.pool, id, &self.holder).await {
                Ok(held) => held,
                Err(e) => {
                    tracing::warn!(integration = %id, error = %e, "a bot's lease cannot be renewed");
                    false
                }
            };
            let token = integration.secret(BOT_TOKEN).to_owned();
            let current = polling
                .get(&id)
                .is_some_and(|bot| bot.token == token && !bot.task.is_finished());
            if (!held || !current)
                && let Some(bot) = polling.remove(&id)
            {
                bot.stop.cancel();
            }
            if held && !current {
                tracing::info!(integration = %id, holder = %self.holder, "polling a Telegram bot");
                let stop = shutdown.child_token();
                let task = tokio::spawn(poll(
                    self.pool.clone(),
                    self.api.clone(),
                    self.inbound.clone(),
                    integration,
                    stop.clone(),
                ));
                polling.insert(id, Polling { token, stop, task });
            }
        }
        Ok(())
    }
}

/// Polls one bot until stopped.
async fn poll(
    pool: PgPool,
    api: TelegramApi,
    inbound: Inbound,
    integration: integrations::Integration,
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
