//! This replica's feed of the suite's events, from JetStream, without
//! gaps: an ordered consumer that picks up after the last event it saw when
//! the connection to NATS comes back (or is recreated from there), so a
//! replica that was cut off from NATS still pushes every event to its sockets.
//! Alongside, the live notices between replicas (logouts) on core NATS.

use std::time::Duration;

use async_nats::jetstream::consumer::{DeliverPolicy, pull};
use futures::StreamExt as _;
use prost::Message as _;
use uuid::Uuid;

use chat_platform::{Shutdown, bus::Bus};
use chat_proto::events::v1 as ev;

use crate::hub::{self, Hub};

/// Waiting between attempts to open the feed while NATS is away.
const REOPEN_DELAY_MS: u64 = 500;

/// Feeds `hub` until shutdown.
pub async fn run(hub: std::sync::Arc<Hub>, bus: Bus, shutdown: Shutdown) -> anyhow::Result<()> {
    let logouts = tokio::spawn(forward_logouts(hub.clone(), bus.clone(), shutdown.clone()));
    // The stream sequence to go on from; `None` until the feed first opens,
    // which starts after the last event stored then (earlier ones are history).
    let mut resume_at: Option<u64> = None;
    let mut connections = bus.connections();
    let mut watching = true;
    'feed: while !shutdown.is_cancelled() {
        connections.mark_unchanged();
        let mut events = match open(&bus, &mut resume_at).await {
            Ok(events) => events,
            Err(e) => {
                tracing::warn!(error = %e, "event feed not open yet; retrying");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(REOPEN_DELAY_MS)) => continue,
                    _ = shutdown.cancelled() => break,
                }
            }
        };
        loop {
            let next = tokio::select! {
                next = events.next() => next,
                // Reconnected: the server may have forgotten the consumer; reopen
                // at once rather than wait for missed heartbeats to tell.
                changed = connections.changed(), if watching => match changed {
                    Ok(()) => continue 'feed,
                    // The client is gone; the ordered consumer's heartbeats still tell.
                    Err(_) => { watching = false; continue }
                },
                _ = shutdown.cancelled() => break 'feed,
            };
            match next {
                Some(Ok(message)) => {
                    if let Ok(info) = message.info() {
                        resume_at = Some(info.stream_sequence + 1);
                    }
                    dispatch(&hub, message.message.payload);
                }
                Some(Err(e)) => {
                    tracing::debug!(error = %e, "event feed interrupted; reopening");
                    continue 'feed;
                }
                None => continue 'feed,
            }
        }
    }
    logouts.await?;
    Ok(())
}

/// An ordered consumer of the suite's events from `resume_at` on (set to the
/// stream's next sequence on the first open).
async fn open(bus: &Bus, resume_at: &mut Option<u64>) -> anyhow::Result<pull::Ordered> {
    let stream = bus.ensure_stream().await?;
    let start_sequence = *resume_at.get_or_insert(stream.cached_info().state.last_sequence + 1);
    let consumer = stream
        .create_consumer(pull::OrderedConfig {
            // Every service's events (one filter: nats-server 2.9 knows no
            // more); the hub keeps the ones sockets see.
            filter_subject: bus.subject(">"),
            deliver_policy: DeliverPolicy::ByStartSequence { start_sequence },
            ..Default::default()
        })
        .await
        .map_err(|e| anyhow::anyhow!("while creating the gateway's event feed: {e}"))?;
    consumer
        .messages()
        .await
        .map_err(|e| anyhow::anyhow!("while reading the gateway's event feed: {e}"))
}

fn dispatch(hub: &Hub, payload: bytes::Bytes) {
    let envelope = match ev::Envelope::decode(payload) {
        Ok(envelope) => envelope,
        Err(e) => {
            tracing::warn!(error = %e, "undecodable event on the bus");
            return;
        }
    };
    match hub::to_hub_event(envelope) {
        Ok(Some(event)) => hub.dispatch(std::sync::Arc::new(event)),
        Ok(None) => {}
        Err(e) => tracing::warn!(error = %e, "malformed event"),
    }
}

/// Closes the sockets of sessions that ended on another replica.
async fn forward_logouts(hub: std::sync::Arc<Hub>, bus: Bus, shutdown: Shutdown) {
    while !shutdown.is_cancelled() {
        let mut notices = match bus.client.subscribe(hub::session_ended_subject(&bus)).await {
            Ok(notices) => notices,
            Err(e) => {
                // Meanwhile sockets find ended sessions at their periodic check.
                tracing::warn!(error = %e, "cannot hear of logouts on other replicas yet");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(REOPEN_DELAY_MS)) => continue,
                    _ = shutdown.cancelled() => return,
                }
            }
        };
        loop {
            let notice = tokio::select! {
                notice = notices.next() => notice,
                _ = shutdown.cancelled() => return,
            };
            let Some(notice) = notice else { break }; // subscribe again
            match Uuid::from_slice(&notice.payload) {
                Ok(session_id) => hub.end_session(session_id),
                Err(_) => tracing::warn!("malformed logout notice"),
            }
        }
    }
}
