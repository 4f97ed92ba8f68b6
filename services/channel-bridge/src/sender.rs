//! Sends what the delivery log holds through its messenger, and tells the
//! dialog service what became of each message (delivered, or failed with
//! the platform's reason), which the console shows live.
//!
//! Never twice: a delivery is marked `sending` (committed) before the call,
//! and only an answer that proves the platform did not take it (Telegram's
//! "retry after", VK's "too many requests", a connection that never opened)
//! sends it again, after the wait asked for or a growing pause. VK keeps one
//! message per `random_id` (derived from the message's id), so a VK call
//! whose outcome is unknown is simply made again; on Telegram, where nothing
//! like it exists, such a call (no answer in time, or the replica died
//! mid-call) ends `failed`, saying it may have arrived: the manager decides
//! whether to write again. Messages of one dialog go one at a time, in
//! order; any replica may send any of them.

use std::time::Duration;

use chat_platform::Shutdown;
use chat_platform::grpc::Traced;
use chat_proto::dialog::v1::{self as pb, dialog_service_client::DialogServiceClient};
use sqlx::PgPool;
use teloxide_core::prelude::*;
use teloxide_core::types::ChatId;
use teloxide_core::{ApiError, RequestError};
use uuid::Uuid;

use crate::facebook::{self, api::FacebookApi, api::Window};
use crate::integrations::{self, Integration};
use crate::telegram::{self, api::TelegramApi};
use crate::vk::{self, api::VkApi};
use chat_platform::secrets::KeyRing;

/// How often the sender looks for work.
const TICK: Duration = Duration::from_millis(300);
/// Deliveries one round claims at most.
const BATCH: i64 = 20;
/// A delivery still `sending` after this long was cut off mid-call.
const CUT_OFF_SECS: f64 = 60.0;
/// The longest pause before trying a delivery the platform did not take.
const MAX_RETRY_SECS: u64 = 300;
/// Tries after which a delivery the platform keeps not taking is failed
/// (about twenty minutes of growing pauses; VK keeps a `random_id` for
/// about an hour, so a repeated VK call stays the same message).
const MAX_ATTEMPTS: i32 = 12;

pub struct Sender {
    pub pool: PgPool,
    pub keys: KeyRing,
    pub telegram: TelegramApi,
    pub vk: VkApi,
    pub facebook: FacebookApi,
    pub dialogs: DialogServiceClient<Traced>,
}

/// A delivery claimed for sending.
struct Claimed {
    id: Uuid,
    message_id: Uuid,
    account_id: Uuid,
    channel: String,
    contact_id: Option<Uuid>,
    text: String,
    attempts: i32,
}

/// What a call to the platform came to.
enum Outcome {
    Sent,
    /// Not taken: try again after this long.
    Again(Duration),
    Failed(String),
}

impl Sender {
    pub async fn run(self, shutdown: Shutdown) {
        while !shutdown.is_cancelled() {
            if let Err(e) = self.round().await {
                tracing::warn!(error = %e, "the sender's round failed");
            }
            tokio::select! {
                _ = tokio::time::sleep(TICK) => {}
                _ = shutdown.cancelled() => {}
            }
        }
    }

    async fn round(&self) -> anyhow::Result<()> {
        self.fail_cut_off().await?;
        for delivery in self.claim().await? {
            // Claimed with the round; its own call starts now (the cut-off
            // counts from here, not from the claim).
            sqlx::query!(
                "update delivery set updated_at = now() where id = $1 and state = 'sending'",
                delivery.id
            )
            .execute(&self.pool)
            .await?;
            let outcome = match self.send(&delivery).await {
                Outcome::Again(_) if delivery.attempts >= MAX_ATTEMPTS => Outcome::Failed(format!(
                    "{} did not answer or asked to wait {MAX_ATTEMPTS} times: it may or may not have arrived",
                    name_of(&delivery.channel)
                )),
                outcome => outcome,
            };
            self.record(&delivery, outcome).await?;
        }
        self.report().await
    }

    /// Deliveries left `sending` by a replica that died mid-call.
    async fn fail_cut_off(&self) -> sqlx::Result<()> {
        sqlx::query!(
            "update delivery set state = 'failed', updated_at = now(), \
                 last_error = 'the bridge stopped while sending: it may or may not have arrived' \
             where state = 'sending' and updated_at < now() - make_interval(secs => $1)",
            CUT_OFF_SECS
        )
        .execute(&self.pool)
        .await
        .map(drop)
    }

    /// The oldest unsent delivery of each dialog whose time has come, marked
    /// `sending`; none of a dialog while an older one is still on its way.
    async fn claim(&self) -> sqlx::Result<Vec<Claimed>> {
        sqlx::query_as!(
            Claimed,
            "update delivery set state = 'sending', attempts = attempts + 1, updated_at = now() \
             where id in ( \
                 select d.id from delivery d \
                 where d.state = 'pending' and d.next_attempt_at <= now() \
                   and not exists (select 1 from delivery e \
                       where e.account_id = d.account_id and e.dialog_id = d.dialog_id \
                         and e.state in ('pending', 'sending') and e.created_at < d.created_at) \
                 order by d.created_at limit $1 for update skip locked) \
             returning id, message_id, account_id, channel, contact_id, text, attempts",
            BATCH
        )
        .fetch_all(&self.pool)
        .await
    }

    /// Sends the delivery through the account's integration of its channel,
    /// to the chat its contact writes from.
    async fn send(&self, delivery: &Claimed) -> Outcome {
        let channel = delivery.channel.as_str();
        let found = integrations::list(&self.pool, &self.keys, delivery.account_id).await;
        let integration = match found {
            Ok(list) => list.into_iter().find(|i| i.channel == channel),
            Err(e) => return Outcome::Again(pause(delivery, &e.to_string())),
        };
        let Some(integration) = integration else {
            return Outcome::Failed(format!("the shop has no {} connected", name_of(channel)));
        };
        let chat = match delivery.contact_id {
            Some(contact_id) => chat_of(&self.pool, delivery.account_id, contact_id, channel).await,
            None => Ok(None),
        };
        let chat_id = match chat {
            Ok(Some(chat)) => chat,
            Ok(None) => {
                return Outcome::Failed(format!(
                    "this person has not written to the shop's {}",
                    name_of(channel)
                ));
            }
            Err(e) => return Outcome::Again(pause(delivery, &e.to_string())),
        };
        if channel == facebook::CHANNEL {
            return self.send_facebook(delivery, &integration, &chat_id).await;
        }
        let Ok(chat_id) = chat_id.parse::<i64>() else {
            return Outcome::Failed(format!("not a chat of {channel}: {chat_id}"));
        };
        match channel {
            telegram::CHANNEL => self.send_telegram(delivery, &integration, chat_id).await,
            vk::CHANNEL => self.send_vk(delivery, &integration, chat_id).await,
            other => Outcome::Failed(format!("sending through {other} comes in a later version")),
        }
    }

    async fn send_vk(
        &self,
        delivery: &Claimed,
        integration: &Integration,
        peer_id: i64,
    ) -> Outcome {
        let token = integration.secret(vk::ACCESS_TOKEN);
        let random_id = vk::random_id(delivery.message_id);
        match self
            .vk
            .send(token, peer_id, random_id, &delivery.text)
            .await
        {
            Ok(_) => Outcome::Sent,
            // The same random_id again is the same message to VK: safe to repeat.
            Err(e @ vk::api::VkError::NoAnswer(_)) => {
                Outcome::Again(pause(delivery, &e.to_string()))
            }
            Err(e) if e.is_temporary() => Outcome::Again(pause(delivery, &e.to_string())),
            Err(e) => {
                self.failed(integration, e.to_string(), e.is_bad_token())
                    .await
            }
        }
    }

    /// Within 24 hours of the person's last message a reply is a response;
    /// Facebook refuses it after (code 10), and it goes again with the
    /// human agent tag, which Facebook takes for 7 days; after that it is
    /// failed, saying why. Facebook keeps nothing like VK's `random_id`, so a
    /// call without an answer is failed, as on Telegram.
    async fn send_facebook(
        &self,
        delivery: &Claimed,
        integration: &Integration,
        psid: &str,
    ) -> Outcome {
        if delivery.text.chars().count() > facebook::MAX_TEXT_CHARS {
            return Outcome::Failed(format!(
                "Facebook takes at most {} characters a message: send it in shorter parts",
                facebook::MAX_TEXT_CHARS
            ));
        }
        let token = integration.secret(facebook::PAGE_TOKEN);
        let mut sent = self
            .facebook
            .send(token, psid, &delivery.text, Window::Response)
            .await;
        if sent.as_ref().err().and_then(|e| e.code()) == Some(facebook::api::codes::OUTSIDE_WINDOW)
        {
            sent = self
                .facebook
                .send(token, psid, &delivery.text, Window::HumanAgent)
                .await;
            if let Err(e) = &sent
                && e.code() == Some(facebook::api::codes::OUTSIDE_WINDOW)
            {
                return Outcome::Failed(format!(
                    "Facebook takes answers only within 7 days of the person's last message, and this one is older ({e})"
                ));
            }
        }
        match sent {
            Ok(()) => Outcome::Sent,
            Err(e) if e.is_temporary() => Outcome::Again(pause(delivery, &e.to_string())),
            Err(e @ facebook::api::GraphError::NoAnswer(_)) => {
                Outcome::Failed(format!("{e}: it may or may not have arrived"))
            }
            Err(e) => {
                self.failed(integration, e.to_string(), e.is_bad_token())
                    .await
            }
        }
    }

    async fn send_telegram(
        &self,
        delivery: &Claimed,
        integration: &Integration,
        chat_id: i64,
    ) -> Outcome {
        let bot = self.telegram.bot(integration.secret(telegram::BOT_TOKEN));
        match bot.send_message(ChatId(chat_id), &delivery.text).await {
            Ok(_) => Outcome::Sent,
            Err(RequestError::RetryAfter(wait)) => Outcome::Again(wait.duration()),
            Err(RequestError::Network(e)) if e.is_connect() => {
                Outcome::Again(pause(delivery, &e.to_string()))
            }
            Err(RequestError::Network(e)) => Outcome::Failed(format!(
                "no answer from Telegram ({e}): it may or may not have arrived"
            )),
            Err(RequestError::Api(e)) => {
                let token_refused = matches!(e, ApiError::InvalidToken);
                self.failed(integration, e.to_string(), token_refused).await
            }
            Err(other) => Outcome::Failed(other.to_string()),
        }
    }

    /// Failed for good, saying `why`; where the platform refused the token,
    /// the integration shows it at once, not at the next periodic check.
    async fn failed(&self, integration: &Integration, why: String, token_refused: bool) -> Outcome {
        if token_refused {
            let _ = integrations::record_token_refused(&self.pool, integration.id, &why).await;
        }
        Outcome::Failed(why)
    }

    async fn record(&self, delivery: &Claimed, outcome: Outcome) -> sqlx::Result<()> {
        let (state, error, again) = match outcome {
            Outcome::Sent => ("sent", None, None),
            Outcome::Again(wait) => ("pending", None, Some(wait)),
            Outcome::Failed(reason) => ("failed", Some(reason), None),
        };
        metrics::counter!("bridge_outbound_total", "channel" => delivery.channel.clone(), "outcome" => state)
            .increment(1);
        sqlx::query!(
            "update delivery set state = $2, last_error = coalesce($3, last_error), \
                 next_attempt_at = now() + make_interval(secs => $4), \
                 sent_at = case when $2 = 'sent' then now() end, updated_at = now() \
             where id = $1 and state = 'sending'",
            delivery.id,
            state,
            error,
            again.unwrap_or_default().as_secs_f64()
        )
        .execute(&self.pool)
        .await
        .map(drop)
    }

    /// Tells the dialog service each outcome it does not know yet.
    async fn report(&self) -> anyhow::Result<()> {
        let finished = sqlx::query!(
            "select id, account_id, message_id, state, last_error from delivery \
             where state in ('sent', 'failed') and not reported order by updated_at limit 100"
        )
        .fetch_all(&self.pool)
        .await?;
        for row in finished {
            let state = match row.state.as_str() {
                "sent" => pb::DeliveryState::Delivered,
                _ => pb::DeliveryState::Failed,
            };
            let request = pb::SetDeliveryStateRequest {
                account_id: row.account_id.to_string(),
                message_id: row.message_id.to_string(),
                state: state as i32,
                error: row.last_error.unwrap_or_default(),
            };
            match self.dialogs.clone().set_delivery_state(request).await {
                Ok(_) => {}
                // A message the dialog service no longer has needs no report.
                Err(status) if status.code() == tonic::Code::NotFound => {}
                // The dialog service is away: the next round reports it.
                Err(status) => {
                    return Err(anyhow::anyhow!("the delivery was not reported: {status}"));
                }
            }
            sqlx::query!("update delivery set reported = true where id = $1", row.id)
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }
}

/// Where replies to the contact go on the channel.
async fn chat_of(
    pool: &PgPool,
    account_id: Uuid,
    contact_id: Uuid,
    channel: &str,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar!(
        "select chat_id from messenger_chat \
         where account_id = $1 and contact_id = $2 and channel = $3",
        account_id,
        contact_id,
        channel
    )
    .fetch_optional(pool)
    .await
}

/// The messenger's name as a manager reads it.
fn name_of(channel: &str) -> &'static str {
    match channel {
        telegram::CHANNEL => "Telegram bot",
        vk::CHANNEL => "VK community",
        _ => "Facebook page",
    }
}

/// A growing pause before the next try of a delivery that was not taken.
fn pause(delivery: &Claimed, why: &str) -> Duration {
    tracing::warn!(delivery = %delivery.id, attempts = delivery.attempts, error = %why, "a reply waits");
    let seconds = 2u64.saturating_pow(delivery.attempts.clamp(0, 16) as u32);
    Duration::from_secs(seconds.min(MAX_RETRY_SECS))
}
