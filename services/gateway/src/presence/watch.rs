//! Following the bucket: every replica reads every entry into its picture
//! and tells its own sockets what changed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::jetstream::kv;
use chrono::{DateTime, Utc};
use futures::StreamExt as _;

use chat_platform::{Shutdown, bus::Bus};

use super::Presence;
use super::view::Change;
use crate::hub::{Hub, HubEvent};
use crate::ws::frames::ServerFrame;

/// The most time between sweeps of the picture for entries past their TTL.
pub(crate) const MAX_SWEEP: Duration = Duration::from_secs(5);

/// Follows the bucket from its current state on, into the view, and tells
/// this replica's sockets what changed; reopens the watch when it breaks.
pub(crate) async fn watch(presence: Arc<Presence>, bus: Bus, hub: Arc<Hub>, shutdown: Shutdown) {
    let ttl = presence.ttl;
    let mut sweep = tokio::time::interval(MAX_SWEEP.min(ttl / 4));
    loop {
        let watching = async {
            let store = super::store::bucket(&bus, ttl).await?;
            anyhow::Ok(store.watch_with_history(">").await?)
        };
        let mut entries = tokio::select! {
            opened = watching => match opened {
                Ok(entries) => entries,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot watch presence; retrying");
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
                        _ = shutdown.cancelled() => return,
                    }
                }
            },
            _ = shutdown.cancelled() => return,
        };
        loop {
            tokio::select! {
                entry = entries.next() => {
                    let Some(Ok(entry)) = entry else {
                        tracing::warn!("the presence watch ended; reopening");
                        break;
                    };
                    let age = (Utc::now() - DateTime::<Utc>::from(std::time::SystemTime::from(entry.created)))
                        .to_std()
                        .unwrap_or_default();
                    let at = Instant::now().checked_sub(age).unwrap_or_else(Instant::now);
                    let value = match entry.operation {
                        kv::Operation::Put => Some(entry.value.as_ref()),
                        kv::Operation::Delete | kv::Operation::Purge => None,
                    };
                    let changes = presence.view.write().expect("presence lock").apply(&entry.key, value, at);
                    tell(&hub, changes);
                }
                _ = sweep.tick() => {
                    let changes = presence.view.write().expect("presence lock").sweep(Instant::now(), ttl);
                    tell(&hub, changes);
                }
                _ = shutdown.cancelled() => return,
            }
        }
    }
}

fn tell(hub: &Hub, changes: Vec<Change>) {
    for change in changes {
        match change {
            Change::ManagersOnline(account_id, online) => {
                let frame = ServerFrame::Presence {
                    managers_online: online,
                };
                hub.dispatch_to_visitors(
                    account_id,
                    Arc::new(HubEvent::control(account_id, frame)),
                );
            }
            Change::Manager(account_id, manager_id, online) => {
                let frame = ServerFrame::ManagerPresence { manager_id, online };
                hub.dispatch(Arc::new(HubEvent::control(account_id, frame)));
            }
            Change::Visitor(account_id, contact_id, visitor) => {
                let frame = match &visitor {
                    Some(visitor) => ServerFrame::VisitorOnline { visitor },
                    None => ServerFrame::VisitorOffline { contact_id },
                };
                hub.dispatch(Arc::new(HubEvent::control(account_id, frame)));
            }
        }
    }
}
