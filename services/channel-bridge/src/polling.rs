//! Long polling, for integrations the platform cannot reach by webhook (the
//! suite has no public address): Telegram's getUpdates, VK's Bots Long Poll.
//! Exactly one replica polls an integration at a time: each round, every
//! replica tries to take or renew each polling integration's lease
//! ([`crate::leases`]) and polls those it holds. A replica that dies stops
//! renewing, and another takes its integrations within the lease's time.
//! Each platform's [`Poller`] keeps its own place in the updates so that
//! none is lost or doubled when polling moves.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::integrations::{self, Integration};
use crate::leases;
use chat_platform::secrets::KeyRing;

/// One platform's long polling.
pub trait Poller: Send + Sync + 'static {
    /// The channel whose polling integrations it polls.
    fn channel(&self) -> &'static str;
    /// What, once changed, makes polling start anew (the token).
    fn credentials<'a>(&self, integration: &'a Integration) -> &'a str;
    /// Polls the integration until `stop` is cancelled.
    fn poll(
        &self,
        integration: Integration,
        stop: CancellationToken,
    ) -> Pin<Box<dyn Future<Output = ()> + Send>>;
}

/// Shares out the polling integrations between replicas and polls this one's.
pub struct Pollers {
    pub pool: PgPool,
    pub keys: KeyRing,
    /// This replica's name in the leases.
    pub holder: String,
    pub pollers: Vec<Arc<dyn Poller>>,
}

/// An integration this replica polls: stopped when its lease is lost or its
/// credentials change.
struct Polling {
    channel: &'static str,
    credentials: String,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl Pollers {
    pub async fn run(self, shutdown: CancellationToken) {
        let mut polling: HashMap<Uuid, Polling> = HashMap::new();
        loop {
            for poller in &self.pollers {
                if let Err(e) = self.share_out(poller, &mut polling, &shutdown).await {
                    tracing::warn!(channel = poller.channel(), error = %e, "the pollers could not be shared out now");
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(leases::RENEW_EVERY) => {}
                _ = shutdown.cancelled() => break,
            }
        }
        for (id, polled) in polling.drain() {
            polled.stop.cancel();
            let _ = polled.task.await;
            let _ = leases::release(&self.pool, id, &self.holder).await;
        }
    }

    /// One round for one platform: renews or takes each polling
    /// integration's lease, starts polling the ones held, stops the ones
    /// lost, removed or given new credentials.
    async fn share_out(
        &self,
        poller: &Arc<dyn Poller>,
        polling: &mut HashMap<Uuid, Polling>,
        shutdown: &CancellationToken,
    ) -> anyhow::Result<()> {
        let wanted = integrations::polling(&self.pool, poller.channel()).await?;
        polling.retain(|id, polled| {
            // Integrations of other channels are their own pollers' business.
            let keep = polled.channel != poller.channel() || wanted.iter().any(|(_, w)| w == id);
            if !keep {
                polled.stop.cancel();
            }
            keep
        });
        for (account_id, id) in wanted {
            // Each on its own: one that cannot be read or leased now (a row
            // being disconnected, say) holds up none of the others.
            let integration = match integrations::get(&self.pool, &self.keys, account_id, id).await
            {
                Ok(Some(integration)) => integration,
                Ok(None) => continue,
                Err(e) => {
                    tracing::warn!(integration = %id, error = %e, "a polling integration cannot be read");
                    continue;
                }
            };
            let held = match leases::hold(&self.pool, id, &self.holder).await {
                Ok(held) => held,
                Err(e) => {
                    tracing::warn!(integration = %id, error = %e, "a polling lease cannot be renewed");
                    false
                }
            };
            let credentials = poller.credentials(&integration).to_owned();
            let current = polling.get(&id).is_some_and(|polled| {
                polled.credentials == credentials && !polled.task.is_finished()
            });
            if (!held || !current)
                && let Some(polled) = polling.remove(&id)
            {
                polled.stop.cancel();
            }
            if held && !current {
                tracing::info!(integration = %id, channel = poller.channel(), holder = %self.holder, "polling");
                let stop = shutdown.child_token();
                let task = tokio::spawn(poller.poll(integration, stop.clone()));
                polling.insert(
                    id,
                    Polling {
                        channel: poller.channel(),
                        credentials,
                        stop,
                        task,
                    },
                );
            }
        }
        Ok(())
    }
}
