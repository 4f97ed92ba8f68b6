//! VK's Bots Long Poll, for communities VK cannot reach by the Callback API
//! (the suite has no public address); [`crate::polling`] shares them out
//! between replicas.
//!
//! No event is lost or doubled on the way: VK keeps a community's recent
//! events, and a check with an older `ts` returns them again. The poller
//! saves the `ts` after the events before it are stored
//! (`integration.poll_cursor`), so a poller that takes over (another
//! replica, or this one restarted) goes on from there; an event stored but
//! not yet behind the saved `ts` is stored again as the same message (its
//! key is the message's client id), which changes nothing.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use serde_json::Value;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use super::api::{LongPollServer, VkApi, VkError, text_of};
use super::{ACCESS_TOKEN, CHANNEL, events, group_id};
use crate::inbound::{Inbound, InboundError};
use crate::integrations::{self, Integration};
use crate::polling::Poller;

/// Seconds a check waits for events (VK's documented 25).
const WAIT_SECS: u64 = 25;
/// The longest pause between failed tries.
const MAX_PAUSE: Duration = Duration::from_secs(30);

/// Polls VK communities.
pub struct VkPoller {
    pub pool: PgPool,
    pub api: VkApi,
    pub inbound: Inbound,
}

impl Poller for VkPoller {
    fn channel(&self) -> &'static str {
        CHANNEL
    }

    fn credentials<'a>(&self, integration: &'a Integration) -> &'a str {
        integration.secret(ACCESS_TOKEN)
    }

    fn poll(
        &self,
        integration: Integration,
        stop: CancellationToken,
    ) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        let community = Community {
            pool: self.pool.clone(),
            api: self.api.clone(),
            inbound: self.inbound.clone(),
            integration,
        };
        Box::pin(async move { community.poll(stop).await })
    }
}

/// One community being polled.
struct Community {
    pool: PgPool,
    api: VkApi,
    inbound: Inbound,
    integration: Integration,
}

/// What a check's answer says to do next.
enum Next {
    /// Events to store, then go on from `ts`.
    Events(Vec<Value>, String),
    /// Go on from this `ts` (VK lost some events: `failed: 1`).
    Skip(String),
    /// The key expired (`failed: 2`), or VK says key and `ts` are both
    /// gone (`failed: 3`, or a code it may add): ask for a new key and go on
    /// from our own `ts`. Where VK no longer has its events it answers
    /// `failed: 1` with a `ts` to go on from; should the new key fail again
    /// at once, the poller goes on from VK's own `ts`. Either is recorded:
    /// nothing is skipped unsaid.
    NewKey,
}

impl Community {
    async fn poll(&self, stop: CancellationToken) {
        let mut pause = Duration::from_secs(1);
        let mut cursor = self.integration.poll_cursor.clone();
        // A new key was asked for since the last check that worked.
        let mut renewed = false;
        while !stop.is_cancelled() {
            let mut server = match self.server().await {
                Ok(server) => server,
                Err(e) => {
                    self.failed(&e.to_string()).await;
                    if !sleep(&stop, &mut pause).await {
                        return;
                    }
                    continue;
                }
            };
            if let Some(ts) = &cursor {
                server.ts = ts.clone();
            }
            // Checks with this key until it stops working.
            loop {
                let answer = tokio::select! {
                    answer = self.api.check(&server, WAIT_SECS) => answer,
                    _ = stop.cancelled() => return,
                };
                let next = match answer {
                    Ok(answer) => next(&answer),
                    Err(e) => {
                        self.failed(&e.to_string()).await;
                        if !sleep(&stop, &mut pause).await {
                            return;
                        }
                        continue;
                    }
                };
                let _ = integrations::record_poll(&self.pool, self.integration.id).await;
                match next {
                    Next::Events(updates, ts) => {
                        if !self.store_all(&updates, &stop, &mut pause).await {
                            // Not all stored: the same ts brings them again.
                            continue;
                        }
                        pause = Duration::from_secs(1);
                        renewed = false;
                        if !updates.is_empty() || cursor.is_none() {
                            self.save(&ts).await;
                        }
                        server.ts = ts.clone();
                        cursor = Some(ts);
                    }
                    Next::Skip(ts) => {
                        // Shown to the shop: what was written just then is on VK only.
                        self.failed(
                            "VK lost some of the community's events (long poll failed 1): \
                             a message written just then may be only on VK",
                        )
                        .await;
                        self.save(&ts).await;
                        renewed = false;
                        server.ts = ts.clone();
                        cursor = Some(ts);
                    }
                    Next::NewKey if !renewed => {
                        renewed = true;
                        cursor = Some(server.ts.clone());
                        break;
                    }
                    Next::NewKey => {
                        // A new key did not take our ts either: go on from
                        // VK's, after a pause, and say so.
                        self.failed(
                            "VK could not go on from where the long poll was: \
                             a message written just then may be only on VK",
                        )
                        .await;
                        renewed = false;
                        cursor = None;
                        if !sleep(&stop, &mut pause).await {
                            return;
                        }
                        break;
                    }
                }
            }
        }
    }

    async fn server(&self) -> Result<LongPollServer, VkError> {
        let token = self.integration.secret(ACCESS_TOKEN);
        let server = self
            .api
            .long_poll_server(token, group_id(&self.integration))
            .await;
        if let Err(e) = &server
            && e.is_bad_token()
        {
            let _ = integrations::record_token_check(&self.pool, self.integration.id, false).await;
        }
        server
    }

    /// Stores the events' messages in order; `false` (after a pause) when
    /// one cannot be stored now.
    async fn store_all(
        &self,
        updates: &[Value],
        stop: &CancellationToken,
        pause: &mut Duration,
    ) -> bool {
        for event in updates {
            let Some(message) = events::person_message(event) else {
                continue;
            };
            match super::store(&self.inbound, &self.api, &self.integration, message).await {
                Ok(_) => {
                    let _ = integrations::record_update(&self.pool, self.integration.id).await;
                }
                Err(InboundError::Refused(reason)) => {
                    tracing::warn!(integration = %self.integration.id, %reason, "a VK message was refused");
                    let _ =
                        integrations::record_error(&self.pool, self.integration.id, &reason).await;
                }
                Err(e @ InboundError::Retry(_)) => {
                    tracing::warn!(integration = %self.integration.id, error = %e, "a VK message waits");
                    let _ =
                        integrations::record_error(&self.pool, self.integration.id, &e.to_string())
                            .await;
                    sleep(stop, pause).await;
                    return false;
                }
            }
        }
        true
    }

    async fn save(&self, ts: &str) {
        if let Err(e) = integrations::save_cursor(&self.pool, &self.integration, ts).await {
            tracing::warn!(integration = %self.integration.id, error = %e, "the long poll's place was not saved");
        }
    }

    async fn failed(&self, why: &str) {
        tracing::warn!(integration = %self.integration.id, error = %why, "a VK long poll failed");
        let _ = integrations::record_error(&self.pool, self.integration.id, why).await;
    }
}

/// What to do after a check's answer (VK's `failed` codes, or events).
fn next(answer: &Value) -> Next {
    match answer["failed"].as_i64() {
        Some(1) => Next::Skip(text_of(&answer["ts"])),
        Some(_) => Next::NewKey,
        None => Next::Events(
            answer["updates"].as_array().cloned().unwrap_or_default(),
            text_of(&answer["ts"]),
        ),
    }
}

/// Waits the pause (doubling it for next time); `false` when stopped.
async fn sleep(stop: &CancellationToken, pause: &mut Duration) -> bool {
    let waited = tokio::select! {
        _ = tokio::time::sleep(*pause) => true,
        _ = stop.cancelled() => false,
    };
    *pause = (*pause * 2).min(MAX_PAUSE);
    waited
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn vks_failed_codes_say_what_to_ask_for_next() {
        assert!(matches!(next(&json!({"failed": 1, "ts": 30})), Next::Skip(ts) if ts == "30"));
        assert!(matches!(next(&json!({"failed": 2})), Next::NewKey));
        assert!(matches!(next(&json!({"failed": 3})), Next::NewKey));
        assert!(matches!(
            next(&json!({"ts": "31", "updates": [{"type": "message_new"}]})),
            Next::Events(updates, ts) if updates.len() == 1 && ts == "31"
        ));
    }
}
